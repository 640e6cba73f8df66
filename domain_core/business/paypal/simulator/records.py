"""What the simulator shows its users: the requests it received, the webhooks it sent and how they were answered."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request the simulator received, as it arrived (header names lower-cased)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class EmittedEvent:
    """A signed webhook transmission: the exact headers and bytes sent, and the event they carry."""

    headers: dict[str, str]
    raw_body: bytes
    event: dict[str, Any]

    @property
    def id(self) -> str:
        """The event id (``WH-…``)."""
        return str(self.event["id"])

    @property
    def event_type(self) -> str:
        """The event type, e.g. ``BILLING.SUBSCRIPTION.ACTIVATED``."""
        return str(self.event["event_type"])


@dataclass(frozen=True)
class DeliveryAttempt:
    """What the receiver answered to one delivery (``status`` None when ``deliver`` raised)."""

    event_id: str
    transmission_id: str
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the receiver acknowledged it with a 2xx."""
        return self.status is not None and 200 <= self.status < 300
