"""The base of the connectors' typed views of platform answers (frozen, built by alias, unknown keys ignored)."""

from pydantic import BaseModel, ConfigDict


class FrozenView(BaseModel):
    """An immutable view of one platform object; fields may be filled by their wire alias or their name."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")
