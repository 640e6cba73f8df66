"""Campaign records: created from a plan, read with everything a person checks, edited while not live."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from promptsales.domain_core.campaigns import repository as repo
from promptsales.domain_core.campaigns.commands import PlanCampaign, UpdateCampaign
from promptsales.domain_core.campaigns.dto import CampaignPage, CampaignResults, CampaignView
from promptsales.domain_core.campaigns.model import lifecycle
from promptsales.domain_core.campaigns.model.lifecycle import Event, Status
from promptsales.domain_core.campaigns.model.plan import ChannelPlan, Forecast, PlanDraft, Schedule
from promptsales.domain_core.campaigns.model.tracking import template
from promptsales.domain_core.campaigns.service import views
from promptsales.domain_core.campaigns.tables import CampaignRecord, TransitionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Conflict, NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import decode_cursor, encode_cursor

LOOKUP = "campaigns_list_campaigns"
HISTORY = 10


@dataclass(frozen=True, slots=True)
class PreparedPlan:
    """What the planner worked out before the transaction (it reads other contexts)."""

    draft: PlanDraft
    segment_id: str | None


@dataclass(frozen=True, slots=True)
class CheckedUpdate:
    """An update whose creatives were checked and whose forecast was worked out again (None: unchanged plan)."""

    channels: tuple[ChannelPlan, ...] | None
    schedule: Schedule | None
    forecast: Forecast | None
    version: int


async def load(uow: UnitOfWork, campaign_id: str, *, for_update: bool = False) -> CampaignRecord:
    """The tenant's campaign, or NotFound naming the tool that lists them."""
    record = await repo.campaign(uow, campaign_id, for_update=for_update)
    if record is None:
        raise NotFound("Campaign", campaign_id, field="campaign_id", lookup=LOOKUP)
    return record


async def move(uow: UnitOfWork, record: CampaignRecord, event: Event, reason: str | None) -> Status:
    """Apply a lifecycle event to a locked campaign: the new status, a transition row and an audit entry."""
    source = cast(Status, record.status)
    target = lifecycle.next_status(source, event)
    caller = uow.caller
    record.status = target
    record.updated_at = uow.now
    await repo.add_transition(
        uow,
        TransitionRecord(
            id=new_id("ctr"),
            tenant_id=uow.tenant_id,
            campaign_id=record.id,
            event=event,
            from_status=source,
            to_status=target,
            actor_id=caller.actor_id,
            actor_kind=caller.actor_kind,
            reason=reason,
            at=uow.now,
        ),
    )
    uow.audit(
        f"campaigns.{event}",
        target_type="campaign",
        target_id=record.id,
        changes={"status": [source, target], "reason": reason, "actor_kind": caller.actor_kind},
    )
    uow.emit(f"campaigns.campaign_{target}", {"campaign_id": record.id, "from": source, "event": event})
    return target


async def create(uow: UnitOfWork, command: PlanCampaign, prepared: PreparedPlan) -> CampaignView:
    """Keep a planned campaign (draft → planned, recorded as one step)."""
    draft = prepared.draft
    record = CampaignRecord(
        id=new_id("cp"),
        tenant_id=uow.tenant_id,
        name=command.name,
        objective=command.objective,
        status="draft",
        owner=command.owner or uow.caller.actor_id,
        product=command.product,
        industry=command.industry,
        special_ad_category=command.special_ad_category,
        product_category=command.product_category,
        currency=draft.budget.currency,
        budget_total=draft.budget.total,
        budget_daily=draft.budget.daily,
        landing_url=command.landing_url,
        segment_id=prepared.segment_id,
        markets=[m.model_dump(mode="json") for m in command.markets],
        schedule=draft.schedule.model_dump(mode="json"),
        channels=[c.model_dump(mode="json") for c in draft.channels],
        kpis=[k.model_dump(mode="json") for k in draft.kpis],
        forecast=draft.forecast.model_dump(mode="json"),
        assumptions=list(draft.assumptions),
        influencers=[],
        created_by=uow.caller.actor_id,
        created_at=uow.now,
        updated_at=uow.now,
    )
    await repo.save(uow, record)
    uow.audit(
        "campaigns.plan_campaign",
        target_type="campaign",
        target_id=record.id,
        changes={
            "name": record.name,
            "channels": [c.channel for c in draft.channels],
            "budget": str(record.budget_total),
        },
    )
    await move(uow, record, "plan", "planned from a goal")
    return await view_of(uow, record)


async def view(uow: UnitOfWork, campaign_id: str) -> CampaignView:
    """One campaign with everything a person checks."""
    return await view_of(uow, await load(uow, campaign_id))


async def view_of(uow: UnitOfWork, record: CampaignRecord) -> CampaignView:
    """The view of a loaded campaign."""
    objects = await repo.objects(uow, record.id)
    history = await repo.transitions(uow, record.id, limit=HISTORY)
    changes = await repo.changes(uow, record.id, limit=HISTORY)
    counts = await repo.touch_counts(uow, record.id)
    results = CampaignResults(
        leads=sum(n for _, n, _ in counts),
        new_people=sum(new for _, _, new in counts),
        by_channel={channel or "unknown": n for channel, n, _ in counts},
    )
    fields: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "objective": record.objective,
        "status": record.status,
        "owner": record.owner,
        "product": record.product,
        "industry": record.industry,
        "special_ad_category": record.special_ad_category,
        "product_category": record.product_category,
        "markets": views.markets_of(record),
        "schedule": views.schedule_of(record),
        "budget": views.budget_of(record),
        "channels": views.channels_of(record),
        "kpis": views.kpis_of(record),
        "forecast": views.forecast_of(record),
        "assumptions": list(record.assumptions),
        "influencers": views.influencers_of(record),
        "segment_id": record.segment_id,
        "landing_url": record.landing_url,
        "tracking_template": template(record.landing_url),
        "version": record.version,
        "created_by": record.created_by,
        "submitted_by": record.submitted_by,
        "approved_by": record.approved_by,
        "activated_at": record.activated_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "objects": [views.object_view(o) for o in objects],
        "history": [views.transition_view(t) for t in history],
        "changes": [views.change_view(c) for c in changes],
        "results": results,
        "next_steps": next_steps(cast(Status, record.status)),
    }
    return CampaignView.model_validate(fields)


def next_steps(status: Status) -> list[str]:
    """What to do next from each status, in tool names."""
    return {
        "draft": ["campaigns_update_campaign"],
        "planned": [
            "Attach approved creatives per channel with campaigns_update_campaign (content_generate_copy, "
            "content_submit_asset, then a reviewer's content_approve_asset).",
            "campaigns_check_compliance, then campaigns_submit_for_review.",
        ],
        "in_review": ["A person with the campaigns:approve scope calls campaigns_approve_campaign."],
        "approved": ["campaigns_preview_activation, then campaigns_activate_campaign with its confirmation_token."],
        "scheduled": ["It starts on its start date; campaigns_pause_campaign / campaigns_end_campaign."],
        "active": ["campaigns_update_budget, campaigns_pause_campaign, campaigns_end_campaign."],
        "paused": ["campaigns_resume_campaign or campaigns_end_campaign."],
        "completed": ["campaigns_end_campaign with archive=true to archive it."],
        "archived": [],
    }[status]


async def page(uow: UnitOfWork, *, status: Status | None, cursor: str | None, limit: int) -> CampaignPage:
    """Campaigns newest first."""
    scope = {"status": status}
    position = decode_cursor(cursor, "campaigns", scope)
    rows = await repo.campaigns_page(
        uow, status=status, before_id=str(position[0]) if position else None, limit=limit + 1
    )
    items = [views.summary(r) for r in rows[:limit]]
    next_cursor = encode_cursor("campaigns", scope, [rows[limit - 1].id]) if len(rows) > limit else None
    return CampaignPage(items=items, next_cursor=next_cursor)


async def update(uow: UnitOfWork, command: UpdateCampaign, checked: CheckedUpdate) -> CampaignView:
    """Apply an edit to a campaign that is not live; an approved or reviewed campaign returns to planned."""
    record = await load(uow, command.campaign_id, for_update=True)
    if record.version != checked.version:
        raise Conflict("The campaign changed while the edit was checked.", field="campaign_id", hint="Send it again.")
    if record.status not in lifecycle.EDITABLE:
        raise ValidationFailed(
            f"The campaign is {record.status}, so it cannot be edited: its objects are on the platforms.",
            field="campaign_id",
            hint="Use campaigns_update_budget, campaigns_pause_campaign or campaigns_end_campaign.",
        )
    before = {"name": record.name, "owner": record.owner, "landing_url": record.landing_url, "version": record.version}
    if command.name is not None:
        record.name = command.name
    if command.owner is not None:
        record.owner = command.owner
    if command.landing_url is not None:
        record.landing_url = command.landing_url
    if command.kpis is not None:
        record.kpis = [k.model_dump(mode="json") for k in command.kpis]
    if command.special_ad_category is not None:
        record.special_ad_category = command.special_ad_category
    if command.product_category is not None:
        record.product_category = command.product_category
    if command.influencers is not None:
        record.influencers = [i.model_dump(mode="json") for i in command.influencers]
    if checked.channels is not None:
        record.channels = [c.model_dump(mode="json") for c in checked.channels]
        total = sum((c.budget for c in checked.channels), start=Decimal(0))
        record.budget_total = total
        record.budget_daily = sum((c.daily_budget or Decimal(0) for c in checked.channels), start=Decimal(0))
    if checked.schedule is not None:
        record.schedule = checked.schedule.model_dump(mode="json")
    if checked.forecast is not None:
        record.forecast = checked.forecast.model_dump(mode="json")
    record.version += 1
    record.updated_at = uow.now
    await repo.save(uow, record)
    after = {"name": record.name, "owner": record.owner, "landing_url": record.landing_url, "version": record.version}
    uow.audit("campaigns.update_campaign", target_type="campaign", target_id=record.id, before=before, after=after)
    if record.status in ("in_review", "approved"):  # what runs must be what was approved
        await move(uow, record, "edit", command.reason or "edited")
    return await view_of(uow, record)
