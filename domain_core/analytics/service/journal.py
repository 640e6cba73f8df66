"""Journeys from CRM events as they happen (an outbox consumer): each capture is a step, each stage reached a
conversion, so a lead captured now shows in its campaign's figures on the next call."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from promptsales.domain_core.analytics import repository as repo
from promptsales.domain_core.analytics.model.touch_channels import touch_channel
from promptsales.domain_core.analytics.tables import ConversionRecord, TouchpointRecord
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.events import DomainEvent
from promptsales.domain_core.shared.ids import new_id

CONSUMER = "analytics.journeys"
EVENTS = ("crm.lead_captured", "crm.lead_updated", "crm.lead_classified")
# The CRM's lifecycle in order (crm.model.vocabulary): reaching a stage means every earlier one but subscriber.
FUNNEL = ("lead", "mql", "sql", "opportunity", "customer")
STAGES = ("subscriber", *FUNNEL)


def _text(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _moment(payload: Mapping[str, Any], fallback: datetime) -> datetime:
    """When the capture happened (an import or a late form post says so), else when the event was emitted."""
    found = payload.get("occurred_at")
    if isinstance(found, str):
        try:
            moment = datetime.fromisoformat(found)
        except ValueError:
            return fallback
        return moment if moment.tzinfo else fallback
    return fallback


def stages_reached(stage: object) -> tuple[str, ...]:
    """The stage and every funnel stage before it (a lead captured as an MQL was a lead first)."""
    if stage not in STAGES:
        return ()
    if stage == "subscriber":
        return ("subscriber",)
    return FUNNEL[: FUNNEL.index(str(stage)) + 1]


def _value(payload: Mapping[str, Any]) -> tuple[Decimal | None, str | None]:
    try:
        amount = Decimal(str(payload["deal_value"])) if payload.get("deal_value") is not None else None
    except (InvalidOperation, ValueError):
        return None, None
    currency = _text(payload.get("deal_currency"), 3)
    return (amount, currency) if amount is not None and currency else (None, None)


async def _reach(uow: UnitOfWork, payload: Mapping[str, Any], at: datetime) -> None:
    lead_id, contact_id = _text(payload.get("lead_id"), 40), _text(payload.get("contact_id"), 40)
    if lead_id is None or contact_id is None:
        return
    value, currency = _value(payload)
    for stage in stages_reached(payload.get("stage")):
        won = stage == "customer"
        await repo.reach_stage(
            uow,
            ConversionRecord(
                id=new_id("acv"),
                tenant_id=uow.tenant_id,
                lead_id=lead_id,
                contact_id=contact_id,
                stage=stage,
                value=value if won else None,
                currency=currency if won else None,
                occurred_at=at,
            ),
        )


async def record(uow: UnitOfWork, event: DomainEvent) -> None:
    """Keep a capture as a journey step and every stage a lead reaches as a conversion (once per event/stage)."""
    payload = event.payload
    if event.type == "crm.lead_captured":
        found = payload.get("utm")
        utm: dict[str, str] = (
            {str(k): str(v) for k, v in found.items() if v is not None} if isinstance(found, dict) else {}
        )
        ref = CampaignsFacade.tracking_ref(utm)
        lead_id, contact_id = _text(payload.get("lead_id"), 40), _text(payload.get("contact_id"), 40)
        if lead_id is None or contact_id is None:
            return
        channel = touch_channel(
            campaign_channel=CampaignsFacade.channel_of(ref.source, ref.medium) if ref else None,
            utm=utm,
            landing_page=_text(payload.get("landing_page"), 2048),
            referrer=_text(payload.get("referrer"), 2048),
            source_channel=_text(payload.get("source_channel"), 40),
        )
        await repo.add_touchpoint(
            uow,
            TouchpointRecord(
                id=new_id("atp"),
                tenant_id=uow.tenant_id,
                event_id=event.id,
                contact_id=contact_id,
                lead_id=lead_id,
                channel=channel,
                campaign_id=ref.campaign_id if ref else None,
                ad_ref=_text(ref.content, 200) if ref else None,
                country=_text(payload.get("country"), 2),
                occurred_at=_moment(payload, event.occurred_at),
            ),
        )
    await _reach(uow, payload, _moment(payload, event.occurred_at))
