"""Planning and editing with what other contexts know: the plan's channels (business), the audience (CRM) and the
creatives' approval (content). The maths is the pure planner's; this module only gathers its inputs."""

from collections.abc import Sequence

from promptsales.domain_core.business.facade import BusinessFacade
from promptsales.domain_core.campaigns.commands import ChannelChange, PlanCampaign, UpdateCampaign
from promptsales.domain_core.campaigns.model.channels import ChannelSpec, get_channel
from promptsales.domain_core.campaigns.model.pacing import first_day_budget
from promptsales.domain_core.campaigns.model.plan import (
    Bidding,
    ChannelPlan,
    Goal,
    KpiMetric,
    Objective,
    Schedule,
    Targeting,
)
from promptsales.domain_core.campaigns.model.planner import draft_plan
from promptsales.domain_core.campaigns.model.replan import reforecast
from promptsales.domain_core.campaigns.service import views
from promptsales.domain_core.campaigns.service.campaigns import CheckedUpdate, PreparedPlan, load
from promptsales.domain_core.campaigns.tables import CampaignRecord
from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.clock import utc_now
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed

# What a goal is counted in when the caller does not say.
DEFAULT_METRIC: dict[Objective, KpiMetric] = {
    "awareness": "impressions",
    "traffic": "clicks",
    "leads": "leads",
    "sales": "conversions",
    "app_installs": "conversions",
    "retention": "conversions",
}


class Planner:
    """Turns goals into plans and checks edits, reading what the pure planner needs from other contexts."""

    def __init__(
        self, uow: UnitOfWorkFactory, *, crm: CrmFacade, content: ContentFacade, business: BusinessFacade
    ) -> None:
        self._uow = uow
        self._crm = crm
        self._content = content
        self._business = business

    async def _audience_size(self, caller: Caller, segment_id: str | None) -> int | None:
        if segment_id is None:
            return None
        segments = (await self._crm.list_segments(caller)).items
        if not any(s.id == segment_id for s in segments):
            raise NotFound("Segment", segment_id, field="segment_id", lookup="crm_list_segments")
        return (await self._crm.preview_segment(caller, rule=None, segment_id=segment_id)).count

    async def prepare(self, caller: Caller, command: PlanCampaign) -> PreparedPlan:
        """The draft plan for a goal, within the channels the tenant's plan includes."""
        standing = await self._business.standing(caller)
        goal = Goal(
            objective=command.objective,
            target_metric=command.target_metric or DEFAULT_METRIC[command.objective],
            target_value=command.target_value,
            max_cpa=command.max_cpa,
            budget=command.budget,
            currency=command.currency,
            markets=command.markets,
            start_date=command.start_date,
            end_date=command.end_date,
            product=command.product,
            industry=command.industry,
            channels=command.channels,
            audience_size=await self._audience_size(caller, command.segment_id),
            pacing=command.pacing,
            time_zone=command.time_zone,
        )
        draft = draft_plan(
            goal,
            today=utc_now().date(),
            allowed_channels=frozenset(standing.plan.channels),
            segment_id=command.segment_id,
        )
        return PreparedPlan(draft=draft, segment_id=command.segment_id)

    async def check_update(self, caller: Caller, command: UpdateCampaign) -> CheckedUpdate:
        """Check an edit against the stored campaign (creatives approved and fit for their channel; new channels
        known), and work out the channel plans, schedule and forecast it leads to."""
        record = await self._uow.read(caller, lambda uow: load(uow, command.campaign_id))
        await self._check_creatives(caller, command.channels or ())
        schedule = self._schedule(record, command)
        channels = self._channels(record, command, schedule)
        if channels is None and schedule is None:
            return CheckedUpdate(channels=None, schedule=None, forecast=None, version=record.version)
        plans = channels if channels is not None else tuple(views.channels_of(record))
        flight = schedule or views.schedule_of(record)
        if schedule is not None:  # new dates or pacing: the first day's share changes
            plans = tuple(p.model_copy(update={"daily_budget": first_day_budget(p.budget, flight)}) for p in plans)
        forecast = reforecast(
            plans,
            schedule=flight,
            currency=record.currency,
            industry=record.industry,
            audience_size=await self._audience_size(caller, record.segment_id),
        )
        return CheckedUpdate(channels=plans, schedule=schedule, forecast=forecast, version=record.version)

    async def _check_creatives(self, caller: Caller, changes: Sequence[ChannelChange]) -> None:
        for index, change in enumerate(changes):
            spec = get_channel(change.channel)
            for asset_id in change.creative_ids or ():
                if spec.content_channel is None:
                    raise ValidationFailed(
                        f"{spec.display_name} takes no creatives from the content library.",
                        field=f"channels[{index}].creative_ids",
                    )
                # Approved copy written for this channel only (ComplianceBlocked / NotFound name the asset).
                await self._content.approved_copy(caller, asset_id, channel=spec.content_channel)

    @staticmethod
    def _schedule(record: CampaignRecord, command: UpdateCampaign) -> Schedule | None:
        if command.start_date is None and command.end_date is None and command.dayparting is None:
            return None
        current = views.schedule_of(record)
        fields = current.model_dump()
        if command.start_date is not None:
            fields["start_date"] = command.start_date
        if command.end_date is not None:
            fields["end_date"] = command.end_date
        if command.dayparting is not None:
            fields["dayparting"] = command.dayparting
        try:
            return Schedule.model_validate(fields)
        except ValueError as error:
            raise ValidationFailed(f"The new dates do not form a schedule: {error}", field="end_date") from error

    @staticmethod
    def _channels(
        record: CampaignRecord, command: UpdateCampaign, schedule: Schedule | None
    ) -> tuple[ChannelPlan, ...] | None:
        if command.channels is None and command.remove_channels is None:
            return None
        flight = schedule or views.schedule_of(record)
        plans = {p.channel: p for p in views.channels_of(record)}
        for channel in command.remove_channels or ():
            if plans.pop(channel, None) is None:
                raise ValidationFailed(f"'{channel}' is not a channel of this campaign.", field="remove_channels")
        for index, change in enumerate(command.channels or ()):
            current = plans.get(change.channel)
            if current is None:
                plans[change.channel] = _new_channel(get_channel(change.channel), change, flight, index)
                continue
            updates: dict[str, object] = {}
            if change.creative_ids is not None:
                updates["creative_ids"] = change.creative_ids
            if change.bidding is not None:
                updates["bidding"] = change.bidding
            if change.targeting is not None:
                updates["targeting"] = change.targeting
            if change.formats is not None:
                updates["formats"] = change.formats
            if change.budget is not None:
                updates["budget"] = change.budget
                updates["daily_budget"] = first_day_budget(change.budget, flight)
            plans[change.channel] = current.model_copy(update=updates)
        if not plans:
            raise ValidationFailed("A campaign needs at least one channel.", field="remove_channels")
        return tuple(plans.values())


def _new_channel(spec: ChannelSpec, change: ChannelChange, schedule: Schedule, index: int) -> ChannelPlan:
    """A channel added by an edit: it needs its budget; formats and bidding default to the channel's."""
    if change.budget is None:
        raise ValidationFailed(
            f"Adding {spec.display_name} needs its budget for the flight.", field=f"channels[{index}].budget"
        )
    return ChannelPlan(
        channel=spec.id,
        formats=change.formats or spec.formats,
        budget=change.budget,
        daily_budget=first_day_budget(change.budget, schedule),
        bidding=change.bidding or Bidding(strategy=spec.bidding[0]),
        targeting=change.targeting or Targeting(),
        creative_ids=change.creative_ids or (),
    )
