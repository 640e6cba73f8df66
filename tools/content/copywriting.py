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
        description='The copy by field name as in the format\'s spec, e.g. {"headlines": [...], "descriptions": '
        '[...]} for google_ads/rsa or {"text": "..."} for sms/text.',
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
        variants: Annotated[int, Field(ge=1, le=10, description="How many variants (each is a library draft).")] = 3,
        brand_kit: BrandKitName = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CopyResult | InputRequiredResult:
        """Write N copy variants for a channel format (e.g. google_ads/rsa, meta/feed, sms/text), each within the
        platform's limits as it counts length (graphemes, X weighting, GSM-7/UCS-2 segments) and linted
        against the brand kit. Every variant is saved as a draft asset (asset_id) and counts one generation."""
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
        """Lint copy against the channel spec and the brand kit: lengths as the platform counts them, missing or
        extra items, banned words, required disclaimers, unsubstantiated claims, ALL CAPS, emoji, repeated items,
        filler after opt-out lines, stacked superlatives and channel rules."""
        return await runtime.content.check_copy(
            runtime.caller(ctx), copy_fields=_plain(copy), channel=channel, format=format, brand_kit=brand_kit
        )

    @mcp.tool(annotations=READ, tags={"content", "read"})
    async def rewrite_copy(
        ctx: Context, copy: CopyFields, channel: Channel, format: Format, brand_kit: BrandKitName = None
    ) -> CheckResult:
        """Fix failing copy deterministically (drop banned words and repeats, soften unproven claims, sentence-case
        shouting, trim emoji and superlatives, add required phrases, shorten to the limits) and return it with its
        new lint and the changes."""
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
