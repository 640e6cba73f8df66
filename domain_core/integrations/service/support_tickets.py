"""A contact's support tickets, from the links the support sync keeps (the CRM 360 shows the open ones)."""

from datetime import datetime

from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import SupportTickets, SupportTicketView

# Ticket links per help desk: (platform, object type). Zendesk's support sync writes these.
TICKET_LINKS = (("zendesk", "ticket"),)
OPEN_STATUSES = frozenset({"new", "open", "pending", "hold"})
MAX_TICKETS = 50


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def open_tickets(uow: UnitOfWork, contact_id: str) -> SupportTickets:
    """The contact's unresolved tickets (new, open, pending, on hold) on every connected help desk."""
    items: list[SupportTicketView] = []
    for platform, object_type in TICKET_LINKS:
        links = await repo.links_with(
            uow,
            platform,
            object_type,
            fields={"contact_id": [contact_id], "status": sorted(OPEN_STATUSES)},
            limit=MAX_TICKETS,
        )
        for link in links:
            fields = link.fields
            items.append(
                SupportTicketView(
                    platform=platform,
                    ticket_id=link.external_id,
                    subject=fields.get("subject"),
                    status=fields.get("status"),
                    priority=fields.get("priority"),
                    channel=fields.get("channel"),
                    updated_at=_moment(fields.get("updated_at")) or link.remote_modified_at,
                )
            )
    items.sort(key=lambda t: (t.updated_at is not None, t.updated_at), reverse=True)
    return SupportTickets(contact_id=contact_id, open_count=len(items), items=items[:MAX_TICKETS])
