"""Leads captured through a campaign's tracking links, counted for that campaign (an outbox consumer of CRM)."""

from promptsales.domain_core.campaigns import repository as repo
from promptsales.domain_core.campaigns.model.channels import channel_catalogue
from promptsales.domain_core.campaigns.model.tracking import TrackingRef, read_back
from promptsales.domain_core.campaigns.tables import TouchRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.events import DomainEvent
from promptsales.domain_core.shared.ids import new_id

CONSUMER = "campaigns.touches"
EVENTS = ("crm.lead_captured",)


def channel_of(source: str | None, medium: str | None) -> str | None:
    """The campaign channel a link's utm_source/utm_medium name (the catalogue's values), if any."""
    for spec in channel_catalogue().values():
        if spec.utm_source == source and spec.utm_medium == medium:
            return spec.id
    return None


def _named_campaign(event: DomainEvent) -> TrackingRef | None:
    utm = event.payload.get("utm") or {}
    return read_back({str(k): str(v) for k, v in utm.items()}) if isinstance(utm, dict) else None


def names_a_campaign(event: DomainEvent) -> bool:
    """Whether a captured lead's UTM parameters name a campaign at all (only those can be counted)."""
    return _named_campaign(event) is not None


async def record(uow: UnitOfWork, event: DomainEvent) -> None:
    """Count a captured lead whose UTM parameters name one of the tenant's campaigns (once per event)."""
    payload = event.payload
    ref = _named_campaign(event)
    if ref is None or not await repo.campaign_exists(uow, ref.campaign_id):
        return
    await repo.add_touch(
        uow,
        TouchRecord(
            id=new_id("ctc"),
            tenant_id=uow.tenant_id,
            event_id=event.id,
            campaign_id=ref.campaign_id,
            channel=channel_of(ref.source, ref.medium),
            ad_ref=ref.content,
            lead_id=str(payload["lead_id"]),
            contact_id=str(payload["contact_id"]),
            new_person=bool(payload.get("new_person")),
            occurred_at=event.occurred_at,
        ),
    )
