"""Records → DTOs (what tools show)."""

from decimal import Decimal

from promptsales.domain_core.campaigns.commands import Influencer
from promptsales.domain_core.campaigns.dto import (
    CampaignSummary,
    ChangeView,
    ObjectView,
    TransitionView,
)
from promptsales.domain_core.campaigns.model.plan import Budget, ChannelPlan, Forecast, Kpi, Market, Schedule
from promptsales.domain_core.campaigns.model.tracking import tracked_url
from promptsales.domain_core.campaigns.tables import (
    CampaignRecord,
    ChangeRecord,
    PlatformObjectRecord,
    TransitionRecord,
)


def schedule_of(record: CampaignRecord) -> Schedule:
    """The campaign's schedule."""
    return Schedule.model_validate(record.schedule)


def channels_of(record: CampaignRecord) -> list[ChannelPlan]:
    """The campaign's channel plans."""
    return [ChannelPlan.model_validate(item) for item in record.channels]


def markets_of(record: CampaignRecord) -> list[Market]:
    """The campaign's markets."""
    return [Market.model_validate(item) for item in record.markets]


def kpis_of(record: CampaignRecord) -> list[Kpi]:
    """The campaign's KPIs."""
    return [Kpi.model_validate(item) for item in record.kpis]


def influencers_of(record: CampaignRecord) -> list[Influencer]:
    """The campaign's influencers."""
    return [Influencer.model_validate(item) for item in record.influencers]


def forecast_of(record: CampaignRecord) -> Forecast | None:
    """The campaign's forecast (None once edits made it stale)."""
    return Forecast.model_validate(record.forecast) if record.forecast else None


def budget_of(record: CampaignRecord) -> Budget:
    """The campaign's budget."""
    return Budget(total=record.budget_total, daily=record.budget_daily, currency=record.currency)


def summary(record: CampaignRecord) -> CampaignSummary:
    """A campaign in a list."""
    schedule = schedule_of(record)
    return CampaignSummary.model_validate(
        {
            "id": record.id,
            "name": record.name,
            "objective": record.objective,
            "status": record.status,
            "channels": [str(item["channel"]) for item in record.channels],
            "budget_total": record.budget_total,
            "currency": record.currency,
            "start_date": schedule.start_date,
            "end_date": schedule.end_date,
            "owner": record.owner,
            "updated_at": record.updated_at,
        }
    )


def object_view(record: PlatformObjectRecord) -> ObjectView:
    """A platform object with its tracked link."""
    landing = record.detail.get("landing_url")
    return ObjectView.model_validate(
        {
            "id": record.id,
            "channel": record.channel,
            "platform": record.platform,
            "kind": record.kind,
            "name": record.name,
            "platform_id": record.platform_id,
            "status": record.status,
            "daily_budget": record.daily_budget,
            "bid": record.bid,
            "creative_id": record.creative_id,
            "tracking_url": tracked_url(landing, record.tracking) if landing and record.tracking else None,
            "error": record.error,
        }
    )


def transition_view(record: TransitionRecord) -> TransitionView:
    """A lifecycle step."""
    return TransitionView(
        event=record.event,
        from_status=record.from_status,
        to_status=record.to_status,
        actor_id=record.actor_id,
        actor_kind=record.actor_kind,
        reason=record.reason,
        at=record.at,
    )


def change_view(record: ChangeRecord) -> ChangeView:
    """A change and what it replaced."""
    return ChangeView.model_validate(
        {
            "id": record.id,
            "kind": record.kind,
            "channel": record.channel,
            "before": record.before,
            "after": record.after,
            "state": record.state,
            "reason": record.reason,
            "actor_id": record.actor_id,
            "at": record.at,
            "rolled_back_by": record.rolled_back_by,
        }
    )


def money(value: Decimal | None) -> str | None:
    """Money as audit and change records keep it (exact text)."""
    return None if value is None else str(value)
