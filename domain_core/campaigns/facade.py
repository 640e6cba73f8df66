"""The campaigns facade: the only surface tools and other contexts use. It opens units of work and stays thin."""

from dataclasses import replace

from promptsales.domain_core.campaigns.commands import (
    ActivateCampaign,
    ChangeStatus,
    DecideCampaign,
    PlanCampaign,
    RollbackChange,
    SetSpendCaps,
    SubmitCampaign,
    UpdateBudget,
    UpdateCampaign,
)
from promptsales.domain_core.campaigns.dto import (
    ActivationPreview,
    ActivationResult,
    CampaignPage,
    CampaignTracking,
    CampaignView,
    ChangeResult,
    ComplianceView,
    DecisionResult,
    SpendCapsView,
    SubmitResult,
)
from promptsales.domain_core.campaigns.model.lifecycle import Status
from promptsales.domain_core.campaigns.model.tracking import TrackingRef, read_back
from promptsales.domain_core.campaigns.service import calendar, campaigns, caps, review, touches, tracking
from promptsales.domain_core.campaigns.service.activation import Activation
from promptsales.domain_core.campaigns.service.changes import Changes
from promptsales.domain_core.campaigns.service.facts import FactsReader
from promptsales.domain_core.campaigns.service.planning import Planner
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.events import DomainEvent
from promptsales.domain_core.shared.pagination import clamp_page_size


class CampaignsFacade:
    """Use cases of the campaigns context: plan, review, activate and steer campaigns."""

    # The outbox events :meth:`on_crm_event` consumes (leads captured through tracking links), and its consumer name.
    TOUCH_CONSUMER = touches.CONSUMER
    TOUCH_EVENTS = touches.EVENTS

    def __init__(
        self, uow: UnitOfWorkFactory, *, planner: Planner, facts: FactsReader, activation: Activation, changes: Changes
    ) -> None:
        self._uow = uow
        self._planner = planner
        self._facts = facts
        self._activation = activation
        self._changes = changes

    async def _catch_up(self, caller: Caller) -> None:
        """Let the calendar move the tenant's live campaigns that are due (started or ended) before acting on them."""
        pending = await self._uow.read(caller, calendar.due)
        if pending:
            system = replace(caller, actor_id=calendar.ACTOR, actor_kind="system", source="system")
            await self._uow.write(system, lambda uow: calendar.apply(uow, pending))

    async def plan_campaign(
        self, caller: Caller, command: PlanCampaign, *, idempotency_key: str | None = None
    ) -> CampaignView:
        """Plan a campaign from a goal and keep it as ``planned``."""
        prepared = await self._planner.prepare(caller, command)
        return await self._uow.mutate(
            caller,
            action="campaigns.plan_campaign",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: campaigns.create(uow, command, prepared),
            result_type=CampaignView,
        )

    async def get_campaign(self, caller: Caller, *, campaign_id: str) -> CampaignView:
        """One campaign with its objects, history, changes and results."""
        await self._catch_up(caller)
        return await self._uow.read(caller, lambda uow: campaigns.view(uow, campaign_id))

    async def list_campaigns(
        self, caller: Caller, *, status: Status | None = None, cursor: str | None = None, limit: int | None = None
    ) -> CampaignPage:
        """Campaigns newest first, optionally in one status."""
        await self._catch_up(caller)
        size = clamp_page_size(limit)
        return await self._uow.read(caller, lambda uow: campaigns.page(uow, status=status, cursor=cursor, limit=size))

    async def update_campaign(
        self, caller: Caller, command: UpdateCampaign, *, idempotency_key: str | None = None
    ) -> CampaignView:
        """Edit a campaign that is not live (creatives are checked to be approved when attached)."""
        checked = await self._planner.check_update(caller, command)
        return await self._uow.mutate(
            caller,
            action="campaigns.update_campaign",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: campaigns.update(uow, command, checked),
            result_type=CampaignView,
        )

    async def check_compliance(self, caller: Caller, *, campaign_id: str) -> ComplianceView:
        """Every compliance finding for the campaign as it stands now."""
        evaluated = await self._facts.evaluate(caller, campaign_id)
        return ComplianceView(campaign_id=campaign_id, status=evaluated.status, report=evaluated.report)

    async def submit_for_review(
        self, caller: Caller, command: SubmitCampaign, *, idempotency_key: str | None = None
    ) -> SubmitResult:
        """Refused while a blocking finding stands; findings needing approval send it to review, else it is approved."""
        evaluated = await self._facts.evaluate(caller, command.campaign_id)
        return await self._uow.mutate(
            caller,
            action="campaigns.submit_for_review",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: review.submit(uow, command, evaluated.report, evaluated.version),
            result_type=SubmitResult,
        )

    async def decide(
        self, caller: Caller, command: DecideCampaign, *, idempotency_key: str | None = None
    ) -> DecisionResult:
        """A person approves or rejects a campaign in review (not the one who submitted it)."""
        return await self._uow.mutate(
            caller,
            action="campaigns.decide_campaign",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: review.decide(uow, command),
            result_type=DecisionResult,
        )

    async def preview_activation(
        self, caller: Caller, *, campaign_id: str, idempotency_key: str | None = None
    ) -> ActivationPreview:
        """What activation would create and spend, with a confirmation token bound to it (one per key)."""
        return await self._activation.preview(caller, campaign_id, idempotency_key=idempotency_key)

    async def activate(
        self, caller: Caller, command: ActivateCampaign, *, idempotency_key: str | None = None
    ) -> ActivationResult:
        """Create the previewed objects paused, then enable them all; a failure leaves nothing delivering."""
        return await self._activation.activate(caller, command, idempotency_key=idempotency_key)

    async def change_status(
        self, caller: Caller, command: ChangeStatus, *, idempotency_key: str | None = None
    ) -> ChangeResult:
        """Pause, resume or end a campaign on every platform it runs on."""
        await self._catch_up(caller)
        return await self._changes.change_status(caller, command, idempotency_key=idempotency_key)

    async def update_budget(
        self, caller: Caller, command: UpdateBudget, *, idempotency_key: str | None = None
    ) -> ChangeResult:
        """Move a live campaign's daily budget within the caps (a large step needs a confirmation)."""
        await self._catch_up(caller)
        return await self._changes.update_budget(caller, command, idempotency_key=idempotency_key)

    async def rollback_change(
        self, caller: Caller, command: RollbackChange, *, idempotency_key: str | None = None
    ) -> ChangeResult:
        """Restore what a status or budget change replaced."""
        return await self._changes.rollback(caller, command, idempotency_key=idempotency_key)

    async def get_spend_caps(self, caller: Caller) -> SpendCapsView:
        """The tenant's caps and what live campaigns commit against them."""
        await self._catch_up(caller)
        return await self._uow.read(caller, caps.view)

    async def set_spend_caps(
        self, caller: Caller, command: SetSpendCaps, *, idempotency_key: str | None = None
    ) -> SpendCapsView:
        """Set the tenant's spend caps."""
        return await self._uow.mutate(
            caller,
            action="campaigns.set_spend_caps",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: caps.set_caps(uow, command),
            result_type=SpendCapsView,
        )

    async def tracking(self, caller: Caller, *, campaign_ids: list[str] | None = None) -> list[CampaignTracking]:
        """Campaigns that ran or will (newest first, at most 200): their plan and the platform objects they run."""
        await self._catch_up(caller)
        return await self._uow.read(caller, lambda uow: tracking.measured(uow, campaign_ids))

    @staticmethod
    def tracking_ref(utm: dict[str, str]) -> TrackingRef | None:
        """The campaign, source, medium and ad a capture's UTM parameters name, if they name a campaign."""
        return read_back(utm)

    @staticmethod
    def channel_of(source: str | None, medium: str | None) -> str | None:
        """The campaign channel a link's utm_source / utm_medium stand for."""
        return touches.channel_of(source, medium)

    async def on_crm_event(self, uow: UnitOfWork, event: DomainEvent) -> None:
        """A lead captured through a campaign's tracking link is counted for that campaign."""
        await touches.record(uow, event)

    @staticmethod
    def wants_crm_event(event: DomainEvent) -> bool:
        """Whether ``on_crm_event`` can count the event: its UTM parameters name a campaign."""
        return touches.names_a_campaign(event)
