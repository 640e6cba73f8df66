"""Who is making a call, for which tenant and through which door: carried into every unit of work."""

from dataclasses import dataclass
from typing import Literal

ActorKind = Literal["agent", "human", "system"]
CallSource = Literal["mcp", "http", "cli", "webhook", "system"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated actor of one call."""

    tenant_id: str
    actor_id: str
    actor_kind: ActorKind = "agent"
    source: CallSource = "mcp"
    request_id: str | None = None
