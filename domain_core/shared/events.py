"""Domain events: facts a context records in its outbox for other contexts to react to."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from promptsales.domain_core.shared.clock import utc_now
from promptsales.domain_core.shared.ids import new_id


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One fact, e.g. ``crm.lead_captured``; ``id`` is the dedupe key for consumers."""

    type: str
    tenant_id: str
    payload: dict[str, Any]
    id: str = field(default_factory=lambda: new_id("evt"))
    occurred_at: datetime = field(default_factory=utc_now)
