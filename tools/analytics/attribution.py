"""Attribution tools: credit for conversions per channel or campaign under one or more models, and where they
disagree."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from pydantic import Field

from promptsales.domain_core.analytics.commands import AttributionQuery, ConversionStage
from promptsales.domain_core.analytics.dto import AttributionView, ModelComparison
from promptsales.domain_core.analytics.model.attribution import ModelName
from promptsales.tools.analytics.fields import Since, Until, window
from promptsales.tools.context import READ, ToolRuntime

Models = Annotated[
    list[ModelName],
    Field(min_length=1, max_length=8, description="markov/shapley need the plan."),
]
Conversion = Annotated[ConversionStage, Field(description="Converting stage.")]
By = Annotated[Literal["channel", "campaign"], Field()]
Lookback = Annotated[int, Field(ge=1, le=180, description="Days before a conversion.")]
HalfLife = Annotated[float, Field(gt=0, le=365, description="time_decay half-life (days).")]
Position = Annotated[float, Field(ge=0, le=1, description="position_based first/last share.")]
MarkovOrder = Annotated[int, Field(ge=1, le=3, description="markov memory (steps).")]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the attribution tools to ``mcp``."""

    def query(
        models: list[ModelName],
        since: Since,
        until: Until,
        conversion: str,
        by: str,
        lookback_days: int,
        half_life_days: float,
        position_first: float,
        position_last: float,
        markov_order: int,
    ) -> AttributionQuery:
        first, last = window(since, until, default_days=90)
        return AttributionQuery.model_validate(
            {
                "models": models,
                "since": first,
                "until": last,
                "conversion": conversion,
                "by": by,
                "lookback_days": lookback_days,
                "half_life_days": half_life_days,
                "position_first": position_first,
                "position_last": position_last,
                "markov_order": markov_order,
            }
        )

    @mcp.tool(annotations=READ, tags={"campaigns", "read", "analytics"})
    async def get_attribution(
        ctx: Context,
        models: Models,
        since: Since = None,
        until: Until = None,
        conversion: Conversion = "customer",
        by: By = "channel",
        lookback_days: Lookback = 30,
        half_life_days: HalfLife = 7.0,
        position_first: Position = 0.4,
        position_last: Position = 0.4,
        markov_order: MarkovOrder = 1,
    ) -> AttributionView:
        """Credit for conversions per channel or campaign under each attribution model."""
        built = query(
            models, since, until, conversion, by, lookback_days, half_life_days, position_first, position_last,
            markov_order,
        )  # fmt: skip
        return await runtime.analytics.get_attribution(runtime.caller(ctx), built)

    @mcp.tool(annotations=READ, tags={"campaigns", "read", "analytics"})
    async def compare_attribution_models(
        ctx: Context,
        models: Models,
        since: Since = None,
        until: Until = None,
        conversion: Conversion = "customer",
        by: By = "channel",
        lookback_days: Lookback = 30,
        half_life_days: HalfLife = 7.0,
        position_first: Position = 0.4,
        position_last: Position = 0.4,
        markov_order: MarkovOrder = 1,
    ) -> ModelComparison:
        """Attribution models side by side and the channels they disagree on."""
        built = query(
            models, since, until, conversion, by, lookback_days, half_life_days, position_first, position_last,
            markov_order,
        )  # fmt: skip
        return await runtime.analytics.compare_attribution_models(runtime.caller(ctx), built)
