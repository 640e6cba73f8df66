"""Base of every frozen DTO a facade returns or accepts."""

from pydantic import BaseModel, ConfigDict


class Dto(BaseModel):
    """Immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
