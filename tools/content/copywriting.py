"""Content tools for channel-ready copy: generate, check, rewrite."""

from typing import Annotated, Any

from fastmcp import Context, FastMCP
from mcp.types import InputRequiredResult
from pydantic import Field

from promptsales.domain_core.content.commands import GenerateCopy
from promptsales.domain_core.content.dto import CheckResult, CopyResult
from promptsales.tools.content.fields import BrandKitName, Brief, Channel, Format, Language, Tone
from promptsales.tools.content.sampling import with_sampling
from promptsales.tools.context import GENERATE, READ, IdempotencyKey, ToolRuntime

# The longest limited field is 2,200 characters (Meta primary text) and email bodies have no platform limit: 10,000
# bounds what one call lints. Lists hold at most 15 items (RSA headlines), formats at most 6 fields.
CopyText = Annotated[str, Field(max_length=10_000)]
CopyFields = Annotated[
    dict[
        Annotated[str, Field(min_length=1, max_length=40)],
        CopyText | Annotated[list[CopyText], Field(max_length=30)],
    ],
    Field(
        max_length=20,
        description='Fields as in the format spec, e.g. {"headlines": [...]} or {"text": "..."}.',
    ),
]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the copy tools to ``mcp``."""

    @mcp.tool(annotations=GENERATE, tags={"content", "write", "scope:content:generate"})
    async def generate_copy(
        ctx: Context,
        brief: Brief,
        channel: Channel,
        format: Format,
        language: Language = "en",
        tone: Tone = "professional",
        variants: Annotated[int, Field(ge=1, le=10)] = 3,
        brand_kit: BrandKitName = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CopyResult | InputRequiredResult:
        """Write copy variants for a channel format within platform limits, linted; each saved as a draft asset."""
        caller = runtime.caller(ctx)
        command = GenerateCopy(
            brief=brief,
            channel=channel,
            format=format,
            language=language,
            tone=tone,
            variants=variants,
            brand_kit=brand_kit,
        )
        return await with_sampling(
            ctx,
            lambda sampled: runtime.content.generate_copy(
                caller, command, idempotency_key=idempotency_key, sampled=sampled
            ),
        )

    @mcp.tool(annotations=READ, tags={"content", "read"})
    async def check_copy(
        ctx: Context, copy: CopyFields, channel: Channel, format: Format, brand_kit: BrandKitName = None
    ) -> CheckResult:
        """Lint copy against the channel spec and brand kit: lengths, banned words, disclaimers, claims, caps, emoji."""
        return await runtime.content.check_copy(
            runtime.caller(ctx), copy_fields=_plain(copy), channel=channel, format=format, brand_kit=brand_kit
        )

    @mcp.tool(annotations=READ, tags={"content", "read"})
    async def rewrite_copy(
        ctx: Context, copy: CopyFields, channel: Channel, format: Format, brand_kit: BrandKitName = None
    ) -> CheckResult:
        """Fix failing copy and return it with its new lint and the changes."""
        return await runtime.content.check_copy(
            runtime.caller(ctx),
            copy_fields=_plain(copy),
            channel=channel,
            format=format,
            brand_kit=brand_kit,
            rewrite=True,
        )


def _plain(copy: dict[str, Any]) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, list) else value for key, value in copy.items()}
