"""Content tools for brand kits (also readable as resources)."""

from typing import Annotated

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.domain_core.content.commands import (
    BannedWords,
    Colors,
    DesignPlatform,
    Fonts,
    LogoPng,
    MaxEmoji,
    PushBrandKit,
    RequiredPhrases,
    SetBrandKit,
    SubstantiatedClaims,
    Voice,
)
from promptsales.domain_core.content.commands import BrandKitName as KitName
from promptsales.domain_core.content.dto import BrandKitPush, BrandKitView
from promptsales.tools.content.fields import BrandKitName
from promptsales.tools.context import READ, UPSERT, IdempotencyKey, ToolRuntime

# Writes to the design platform (open world); the same logo is sent once (idempotent).
PUSH = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the brand kit tools and resources to ``mcp``."""

    @mcp.tool(annotations=UPSERT, tags={"content", "write"})
    async def set_brand_kit(
        ctx: Context,
        name: KitName,
        voice: Voice = None,
        colors: Colors = None,
        logo_png_base64: LogoPng = None,
        fonts: Fonts = None,
        banned_words: BannedWords = None,
        required_phrases: RequiredPhrases = None,
        substantiated_claims: SubstantiatedClaims = None,
        max_emoji: MaxEmoji = None,
        is_default: Annotated[bool, Field()] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> BrandKitView:
        """Create or replace a brand kit (voice, colours, logo, banned words, disclaimers, claims) used by lint and
        creatives."""
        command = SetBrandKit(
            name=name,
            voice=voice,
            colors=colors,
            logo_png_base64=logo_png_base64,
            fonts=fonts,
            banned_words=banned_words,
            required_phrases=required_phrases,
            substantiated_claims=substantiated_claims,
            max_emoji=max_emoji,
            is_default=is_default,
        )
        return await runtime.content.set_brand_kit(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=PUSH, tags={"content", "write"})
    async def push_brand_kit(
        ctx: Context,
        platform: Annotated[DesignPlatform, Field()],
        brand_kit: BrandKitName = None,
        idempotency_key: IdempotencyKey = None,
    ) -> BrandKitPush:
        """Send a brand kit's logo to a connected design platform."""
        command = PushBrandKit(platform=platform, brand_kit=brand_kit)
        return await runtime.content.push_brand_kit(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"content", "read"})
    async def get_brand_kit(ctx: Context, name: BrandKitName = None) -> BrandKitView:
        """A brand kit by name, or the default kit."""
        return await runtime.content.get_brand_kit(runtime.caller(ctx), name=name)

    @mcp.resource("content://brand-kit", mime_type="application/json", description="The default brand kit.")
    async def default_brand_kit(ctx: Context) -> str:
        return (await runtime.content.get_brand_kit(runtime.caller(ctx))).model_dump_json()

    @mcp.resource("content://brand-kits/{name}", mime_type="application/json", description="A brand kit by name.")
    async def brand_kit_by_name(name: str, ctx: Context) -> str:
        return (await runtime.content.get_brand_kit(runtime.caller(ctx), name=name)).model_dump_json()
