"""AI services for every context (classify, summarize, extract) and the tenant's choice of model provider."""

from typing import Annotated

from fastmcp import Context, FastMCP
from mcp.types import InputRequiredResult, ToolAnnotations
from pydantic import Field

from promptsales.domain_core.content.commands import ApiKey, ModelId, SetAiProvider
from promptsales.domain_core.content.dto import (
    AiSettingsView,
    ClassificationView,
    ExtractionView,
    ImageProviderKind,
    SummaryView,
    TextProviderKind,
)
from promptsales.tools.content.fields import Labels, Text
from promptsales.tools.content.sampling import with_sampling
from promptsales.tools.context import READ, IdempotencyKey, JsonObject, ToolRuntime

# Read-only for our data, but a model provider may be an outside system.
ANALYSE = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
SETTINGS = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the AI service and provider tools to ``mcp``."""

    @mcp.tool(annotations=ANALYSE, tags={"content", "read"})
    async def classify_text(
        ctx: Context, text: Text, intents: Labels = None, topics: Labels = None
    ) -> ClassificationView | InputRequiredResult:
        """Intent (default sales labels: purchase, pricing, demo_request, support, complaint, churn_risk,
        unsubscribe, information, scheduling, other — or yours), sentiment (-1..1) and, with labels, topic."""
        caller = runtime.caller(ctx)
        return await with_sampling(
            ctx, lambda s: runtime.content.classify_text(caller, text=text, intents=intents, topics=topics, sampled=s)
        )

    @mcp.tool(annotations=ANALYSE, tags={"content", "read"})
    async def summarize(
        ctx: Context,
        text: Text,
        max_sentences: Annotated[int, Field(ge=1, le=10, description="Longest summary, in sentences.")] = 3,
        max_chars: Annotated[
            int | None, Field(default=None, ge=40, le=4000, description="Longest summary, in characters.")
        ] = None,
    ) -> SummaryView | InputRequiredResult:
        """Summarise a text (locally: its most informative sentences, verbatim and in order)."""
        caller = runtime.caller(ctx)
        return await with_sampling(
            ctx,
            lambda s: runtime.content.summarize(
                caller, text=text, max_sentences=max_sentences, max_chars=max_chars, sampled=s
            ),
        )

    @mcp.tool(annotations=ANALYSE, tags={"content", "read"})
    async def extract_fields(
        ctx: Context,
        text: Text,
        schema: Annotated[
            JsonObject,
            Field(
                description="JSON Schema object: properties with type, optional format (email, date, uri, phone), "
                "enum and description; required."
            ),
        ],
    ) -> ExtractionView | InputRequiredResult:
        """Pull the schema's fields out of a text (emails, calls, notes); missing ones are listed, never invented."""
        caller = runtime.caller(ctx)
        return await with_sampling(
            ctx, lambda s: runtime.content.extract_fields(caller, text=text, schema=schema, sampled=s)
        )

    @mcp.tool(annotations=READ, tags={"content", "read"})
    async def get_ai_settings(ctx: Context) -> AiSettingsView:
        """Which text and image providers and models write for this tenant (keys are never shown)."""
        return await runtime.content.get_ai_settings(runtime.caller(ctx))

    @mcp.tool(annotations=SETTINGS, tags={"content", "write", "admin"})
    async def set_ai_provider(
        ctx: Context,
        text_provider: Annotated[
            TextProviderKind,
            Field(
                description="local (offline), openai, anthropic, openai_compatible, or sampling (the client's model)."
            ),
        ],
        text_model: Annotated[
            ModelId | None, Field(default=None, description="Model id; default per provider.")
        ] = None,
        image_provider: Annotated[
            ImageProviderKind, Field(description="local (offline renderer) or openai.")
        ] = "local",
        image_model: Annotated[
            ModelId | None, Field(default=None, description="Image model id; default per provider.")
        ] = None,
        base_url: Annotated[
            str | None,
            Field(default=None, max_length=300, pattern=r"^https?://", description="For openai_compatible servers."),
        ] = None,
        api_key: Annotated[
            ApiKey | None, Field(default=None, description="Stored encrypted; never shown again.")
        ] = None,
        allow_self_approval: Annotated[
            bool | None,
            Field(default=None, description="Let an asset's generator approve it (default false); omit to keep."),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> AiSettingsView:
        """Choose the tenant's text and image model providers; an API key given here is sealed (AES-256-GCM)."""
        command = SetAiProvider(
            text_provider=text_provider,
            text_model=text_model,
            image_provider=image_provider,
            image_model=image_model,
            base_url=base_url,
            api_key=api_key,
            allow_self_approval=allow_self_approval,
        )
        return await runtime.content.set_ai_provider(runtime.caller(ctx), command, idempotency_key=idempotency_key)
