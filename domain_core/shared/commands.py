"""Base of the command models that carry a mutating use case's input from the tool to the service."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class Command(BaseModel):
    """A frozen, closed set of inputs; its JSON form is what idempotency hashes, so nothing can be left out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def digest_source(self) -> dict[str, Any]:
        """The canonical arguments an idempotency digest is computed from."""
        return self.model_dump(mode="json")
