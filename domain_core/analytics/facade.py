"""The analytics facade: the only surface tools and other contexts use. It opens units of work and stays thin."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from promptsales.domain_core.analytics.commands import (
    AssignVariant,
    AttributionQuery,
    CreateExperiment,
    EndExperiment,
    ImportPerformance,
    InsightsQuery,
    RefreshPerformance,
)
from promptsales.domain_core.analytics.dto import (
    AssignmentView,
    AttributionView,
    CampaignPull,
    ExperimentPage,
    ExperimentResults,
    ExperimentView,
    InsightsView,
    ModelComparison,
    RefreshResult,
)
from promptsales.domain_core.analytics.model.journeys import Journeys
from promptsales.domain_core.analytics.service import attribution, experiments, insights, journal
from promptsales.domain_core.analytics.service.charts import chart_for
from promptsales.domain_core.analytics.service.pulls import Puller, imported_rows, store_imported
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotFound
from promptsales.domain_core.shared.events import DomainEvent
from promptsales.domain_core.shared.pagination import clamp_page_size

# The plan's attribution models, read from business (frozenset of catalogue names, and the plan's name).
ModelsAllowed = Callable[[Caller], Awaitable[tuple[frozenset[str], str]]]


class AnalyticsFacade:
    """Use cases of analytics: insights, attribution and experiments over the campaigns' results."""

    # The outbox events :meth:`on_crm_event` consumes (captures and stages reached), and its consumer name.
    JOURNEY_CONSUMER = journal.CONSUMER
    JOURNEY_EVENTS = journal.EVENTS

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        campaigns: CampaignsFacade,
        crm: CrmFacade,
        puller: Puller,
        models_allowed: ModelsAllowed,
    ) -> None:
        self._uow = uow
        self._campaigns = campaigns
        self._crm = crm
        self._puller = puller
        self._models_allowed = models_allowed

    async def refresh(self, caller: Caller, command: RefreshPerformance) -> RefreshResult:
        """Pull platform results now: the given days again (restated days replace stored ones), or what is new."""
        return await self._puller.refresh(
            caller, campaign_ids=command.campaign_ids, since=command.since, until=command.until
        )

    async def import_performance(self, caller: Caller, command: ImportPerformance) -> CampaignPull:
        """Store past results of a campaign's ads (days already stored are replaced, as a re-pull would)."""
        found = await self._campaigns.tracking(caller, campaign_ids=[command.campaign_id])
        if not found:
            raise NotFound("campaign", command.campaign_id, field="campaign_id", lookup="campaigns_list_campaigns")
        rows = imported_rows(found[0], command.days, caller.tenant_id, datetime.now(ZoneInfo("UTC")))
        await self._uow.write(caller, lambda uow: store_imported(uow, rows))
        return CampaignPull(
            campaign_id=command.campaign_id,
            since=min(row.day for row in rows),
            until=max(row.day for row in rows),
            rows=len(rows),
        )

    async def get_insights(self, caller: Caller, query: InsightsQuery) -> InsightsView:
        """The window's figures; campaigns not pulled within the freshness interval are pulled first."""
        trackings = await self._puller.measured(caller, query.campaign_ids)
        await self._puller.pull(caller, trackings, only_stale=True)
        today = datetime.now(ZoneInfo("UTC")).date()
        return await self._uow.read(caller, lambda uow: insights.insights(uow, query, trackings, today))

    async def chart(self, caller: Caller, query: InsightsQuery, kind: str, view: InsightsView) -> bytes:
        """A PNG of the insights: the trend by day, the channels compared, or the funnel."""
        return await self._uow.read(caller, lambda uow: chart_for(uow, query, kind, view))

    async def _journeys(self, caller: Caller, query: AttributionQuery) -> tuple[Journeys, bool]:
        """The window's journeys, once the plan is known to include every model asked for."""
        allowed, plan = await self._models_allowed(caller)
        attribution.check_models(query.models, allowed, plan)
        return await self._uow.read(caller, lambda uow: attribution.read_journeys(uow, query))

    async def get_attribution(self, caller: Caller, query: AttributionQuery) -> AttributionView:
        """Credit per channel or campaign under each model the plan includes."""
        return attribution.attribution(*await self._journeys(caller, query), query=query)

    async def compare_attribution_models(self, caller: Caller, query: AttributionQuery) -> ModelComparison:
        """The models side by side and where they disagree, in words."""
        return attribution.comparison(*await self._journeys(caller, query), query=query)

    async def create_experiment(
        self, caller: Caller, command: CreateExperiment, *, idempotency_key: str | None = None
    ) -> ExperimentView:
        """Size and start an experiment."""
        if command.campaign_id is not None:
            await self._campaigns.get_campaign(caller, campaign_id=command.campaign_id)  # NotFound names it
        return await self._uow.mutate(
            caller,
            action="analytics.create_experiment",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: experiments.create(uow, command),
            result_type=ExperimentView,
        )

    async def assign_variant(self, caller: Caller, command: AssignVariant) -> AssignmentView:
        """The contact's variant (deterministic), recorded on first exposure."""
        await self._crm.get_contact(caller, contact_id=command.contact_id)  # NotFound names the contact
        return await self._uow.write(caller, lambda uow: experiments.assign_variant(uow, command))

    async def get_experiment_results(self, caller: Caller, *, experiment_id: str) -> ExperimentResults:
        """Read the experiment now (each look lowers the running always-valid p-values)."""
        return await self._uow.write(caller, lambda uow: experiments.results(uow, experiment_id))

    async def list_experiments(
        self, caller: Caller, *, status: str | None = None, cursor: str | None = None, limit: int | None = None
    ) -> ExperimentPage:
        """Experiments newest first."""
        size = clamp_page_size(limit)
        return await self._uow.read(caller, lambda uow: experiments.page(uow, status=status, cursor=cursor, limit=size))

    async def end_experiment(
        self, caller: Caller, command: EndExperiment, *, idempotency_key: str | None = None
    ) -> ExperimentView:
        """Finish an experiment with its decision."""
        return await self._uow.mutate(
            caller,
            action="analytics.end_experiment",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: experiments.end(uow, command),
            result_type=ExperimentView,
        )

    async def on_crm_event(self, uow: UnitOfWork, event: DomainEvent) -> None:
        """A capture becomes a journey step, a stage reached a conversion."""
        await journal.record(uow, event)
