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
        """Classify a text's intent (sales labels or yours), sentiment and topic."""
        caller = runtime.caller(ctx)
        return await with_sampling(
            ctx, lambda s: runtime.content.classify_text(caller, text=text, intents=intents, topics=topics, sampled=s)
        )

    @mcp.tool(annotations=ANALYSE, tags={"content", "read"})
    async def summarize(
        ctx: Context,
        text: Text,
        max_sentences: Annotated[int, Field(ge=1, le=10)] = 3,
        max_chars: Annotated[int | None, Field(default=None, ge=40, le=4000)] = None,
    ) -> SummaryView | InputRequiredResult:
        """Summarise a text in its key sentences."""
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
            Field(description="JSON Schema object: properties (type, format, enum, description), required."),
        ],
    ) -> ExtractionView | InputRequiredResult:
        """Extract a JSON schema's fields from a text; missing ones are listed, never invented."""
        caller = runtime.caller(ctx)
        return await with_sampling(
            ctx, lambda s: runtime.content.extract_fields(caller, text=text, schema=schema, sampled=s)
        )

    @mcp.tool(annotations=READ, tags={"content", "read"})
    async def get_ai_settings(ctx: Context) -> AiSettingsView:
        """The tenant's text and image providers and models."""
        return await runtime.content.get_ai_settings(runtime.caller(ctx))

    @mcp.tool(annotations=SETTINGS, tags={"content", "write", "admin"})
    async def set_ai_provider(
        ctx: Context,
        text_provider: Annotated[
            TextProviderKind,
            Field(description="sampling: the client's model."),
        ],
        text_model: Annotated[ModelId | None, Field(default=None, description="Default per provider.")] = None,
        image_provider: Annotated[ImageProviderKind, Field()] = "local",
        image_model: Annotated[ModelId | None, Field(default=None, description="Default per provider.")] = None,
        base_url: Annotated[
            str | None,
            Field(default=None, max_length=300, pattern=r"^https?://"),
        ] = None,
        api_key: Annotated[
            ApiKey | None, Field(default=None, description="Stored encrypted; never shown again.")
        ] = None,
        allow_self_approval: Annotated[
            bool | None,
            Field(default=None, description="Generator may approve own assets."),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> AiSettingsView:
        """Choose the tenant's text and image model providers."""
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
