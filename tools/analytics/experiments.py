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

ContactId = Annotated[ContactIdValue, Field(description="The CRM contact (ct_…) being shown it.")]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the experiment tools to ``mcp``."""

    @mcp.tool(annotations=CREATE, tags={"campaigns", "write", "analytics"})
    async def create_experiment(
        ctx: Context,
        name: Annotated[str, Field(min_length=1, max_length=200, description="What is tested, in a phrase.")],
        subject: Annotated[Subject, Field(description="ad (platform ads), or email/landing_page/message (contacts).")],
        variants: Annotated[
            list[VariantInput], Field(min_length=2, max_length=6, description="The first is the control.")
        ],
        primary_metric: Annotated[
            Metric,
            Field(
                description="Contacts: lead..customer (stage reached) or revenue; ads: ctr, conversion_rate, "
                "click_to_lead."
            ),
        ],
        minimum_detectable_effect: Annotated[
            float, Field(gt=0, le=10, description="Smallest lift worth detecting, e.g. 0.1 (= +10 %).")
        ],
        baseline: Annotated[float, Field(gt=0, description="Control's expected rate, e.g. 0.04 (mean for revenue).")],
        units_per_day: Annotated[float, Field(gt=0, le=100_000_000, description="Contacts or clicks a day, all arms.")],
        guardrails: Annotated[
            list[Metric] | None, Field(default=None, max_length=4, description="Metrics that must not get worse.")
        ] = None,
        relative_effect: Annotated[bool, Field(description="The effect is relative (else absolute).")] = True,
        baseline_sd: Annotated[float | None, Field(default=None, gt=0, description="Revenue: sd per contact.")] = None,
        alpha: Annotated[float, Field(ge=0.001, le=0.2, description="False-positive rate.")] = 0.05,
        power: Annotated[float, Field(ge=0.5, le=0.99, description="Chance to detect the effect.")] = 0.8,
        campaign_id: Annotated[CampaignIdValue | None, Field(default=None, description="Its campaign (cp_…).")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ExperimentView:
        """Start an A/B test after sizing it: the sample per arm and days its minimum detectable effect needs."""
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
        """The variant to show a contact (email, landing page or message experiments): the same one every time,
        recorded at first exposure so the contact's later conversions count for it."""
        command = AssignVariant(experiment_id=experiment_id, contact_id=contact_id)
        return await runtime.analytics.assign_variant(runtime.caller(ctx), command)

    @mcp.tool(annotations=UPSERT, tags={"campaigns", "write", "analytics"})
    async def get_experiment_results(ctx: Context, experiment_id: ExperimentId) -> ExperimentResults:
        """Read an experiment now: split check, lift with CIs, Bayesian odds, always-valid p-values (safe to look
        daily), Benjamini-Hochberg across comparisons, and a verdict: ship, keep running (how long) or stop."""
        return await runtime.analytics.get_experiment_results(runtime.caller(ctx), experiment_id=experiment_id)

    @mcp.tool(annotations=READ, tags={"campaigns", "read", "analytics"})
    async def list_experiments(
        ctx: Context,
        status: Annotated[Literal["running", "finished"] | None, Field(default=None, description="Only these.")] = None,
        cursor: Annotated[str | None, Field(default=None, max_length=500, description="next_cursor.")] = None,
        limit: Annotated[int | None, Field(default=None, ge=1, le=100, description="Page size.")] = None,
    ) -> ExperimentPage:
        """Experiments newest first."""
        return await runtime.analytics.list_experiments(runtime.caller(ctx), status=status, cursor=cursor, limit=limit)

    @mcp.tool(annotations=CREATE, tags={"campaigns", "write", "analytics"})
    async def end_experiment(
        ctx: Context,
        experiment_id: ExperimentId,
        decision: Annotated[Literal["ship", "stop"], Field(description="ship the winner, or stop without one.")],
        winner: Annotated[str | None, Field(default=None, max_length=40, description="Variant key shipped.")] = None,
        reason: Annotated[str, Field(max_length=500, description="Why, in a sentence.")] = "",
        idempotency_key: IdempotencyKey = None,
    ) -> ExperimentView:
        """Finish an experiment with the decision taken; it assigns no one afterwards."""
        command = EndExperiment(experiment_id=experiment_id, decision=decision, winner=winner, reason=reason)
        return await runtime.analytics.end_experiment(runtime.caller(ctx), command, idempotency_key=idempotency_key)
