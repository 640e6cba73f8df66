"""Experiment tools: design and start an A/B test, show contacts their variant, read results, list and end."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from pydantic import Field

from promptsales.domain_core.analytics.commands import (
    AssignVariant,
    CreateExperiment,
    EndExperiment,
    Metric,
    Subject,
    VariantInput,
)
from promptsales.domain_core.analytics.commands import CampaignId as CampaignIdValue
from promptsales.domain_core.analytics.commands import ContactId as ContactIdValue
from promptsales.domain_core.analytics.dto import AssignmentView, ExperimentPage, ExperimentResults, ExperimentView
from promptsales.tools.analytics.fields import ExperimentId
from promptsales.tools.context import CREATE, READ, UPSERT, IdempotencyKey, ToolRuntime

ContactId = Annotated[ContactIdValue, Field()]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the experiment tools to ``mcp``."""

    @mcp.tool(annotations=CREATE, tags={"campaigns", "write", "analytics"})
    async def create_experiment(
        ctx: Context,
        name: Annotated[str, Field(min_length=1, max_length=200)],
        subject: Annotated[Subject, Field()],
        variants: Annotated[list[VariantInput], Field(min_length=2, max_length=6, description="First is control.")],
        primary_metric: Annotated[
            Metric,
            Field(description="Contacts: a stage or revenue; ads: ctr, conversion_rate, click_to_lead."),
        ],
        minimum_detectable_effect: Annotated[float, Field(gt=0, le=10, description="e.g. 0.1 (= +10 %).")],
        baseline: Annotated[float, Field(gt=0, description="Control rate, e.g. 0.04 (revenue: mean).")],
        units_per_day: Annotated[float, Field(gt=0, le=100_000_000, description="Per day, all arms.")],
        guardrails: Annotated[list[Metric] | None, Field(default=None, max_length=4)] = None,
        relative_effect: Annotated[bool, Field()] = True,
        baseline_sd: Annotated[
            float | None, Field(default=None, gt=0, description="Revenue only: sd per contact.")
        ] = None,
        alpha: Annotated[float, Field(ge=0.001, le=0.2)] = 0.05,
        power: Annotated[float, Field(ge=0.5, le=0.99)] = 0.8,
        campaign_id: Annotated[CampaignIdValue | None, Field(default=None)] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ExperimentView:
        """Start an A/B test, sized: sample per arm and days needed."""
        command = CreateExperiment(
            name=name,
            subject=subject,
            campaign_id=campaign_id,
            variants=variants,
            primary_metric=primary_metric,
            guardrails=guardrails or [],
            minimum_detectable_effect=minimum_detectable_effect,
            relative_effect=relative_effect,
            baseline=baseline,
            baseline_sd=baseline_sd,
            units_per_day=units_per_day,
            alpha=alpha,
            power=power,
        )
        return await runtime.analytics.create_experiment(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=UPSERT, tags={"campaigns", "write", "analytics"})
    async def assign_variant(ctx: Context, experiment_id: ExperimentId, contact_id: ContactId) -> AssignmentView:
        """The experiment variant to show a contact (stable; recorded at first exposure)."""
        command = AssignVariant(experiment_id=experiment_id, contact_id=contact_id)
        return await runtime.analytics.assign_variant(runtime.caller(ctx), command)

    @mcp.tool(annotations=UPSERT, tags={"campaigns", "write", "analytics"})
    async def get_experiment_results(ctx: Context, experiment_id: ExperimentId) -> ExperimentResults:
        """An experiment's results: lift, odds, p-values and a verdict (ship, keep running or stop)."""
        return await runtime.analytics.get_experiment_results(runtime.caller(ctx), experiment_id=experiment_id)

    @mcp.tool(annotations=READ, tags={"campaigns", "read", "analytics"})
    async def list_experiments(
        ctx: Context,
        status: Annotated[Literal["running", "finished"] | None, Field(default=None)] = None,
        cursor: Annotated[str | None, Field(default=None, max_length=500)] = None,
        limit: Annotated[int | None, Field(default=None, ge=1, le=100)] = None,
    ) -> ExperimentPage:
        """Experiments newest first."""
        return await runtime.analytics.list_experiments(runtime.caller(ctx), status=status, cursor=cursor, limit=limit)

    @mcp.tool(annotations=CREATE, tags={"campaigns", "write", "analytics"})
    async def end_experiment(
        ctx: Context,
        experiment_id: ExperimentId,
        decision: Annotated[Literal["ship", "stop"], Field()],
        winner: Annotated[str | None, Field(default=None, max_length=40, description="Variant key shipped.")] = None,
        reason: Annotated[str, Field(max_length=500)] = "",
        idempotency_key: IdempotencyKey = None,
    ) -> ExperimentView:
        """Finish an experiment with the decision taken."""
        command = EndExperiment(experiment_id=experiment_id, decision=decision, winner=winner, reason=reason)
        return await runtime.analytics.end_experiment(runtime.caller(ctx), command, idempotency_key=idempotency_key)
