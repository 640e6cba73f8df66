"""Content tools for brand kits (also readable as resources)."""

from typing import Annotated

from fastmcp import Context, FastMCP
from pydantic import Field

from promptsales.domain_core.content.dto import BrandKitView
from promptsales.tools.content.fields import BrandKitName
from promptsales.tools.context import READ, UPSERT, IdempotencyKey, ToolRuntime

Words = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=80)]] | None,
    Field(default=None, max_length=200, description="Words copy must never use (whole words, any case)."),
]
Phrases = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=300)]] | None, Field(default=None, max_length=20)
]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the brand kit tools and resources to ``mcp``."""

    @mcp.tool(annotations=UPSERT, tags={"content", "write"})
    async def set_brand_kit(
        ctx: Context,
        name: Annotated[
            str, Field(min_length=1, max_length=80, description="Kit name, e.g. the brand or product line.")
        ],
        voice: Annotated[
            str | None, Field(default=None, max_length=1000, description="How the brand speaks, in a few sentences.")
        ] = None,
        colors: Annotated[
            list[Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]] | None,
            Field(default=None, max_length=8, description="Brand colours, #RRGGBB, main first."),
        ] = None,
        logo_png_base64: Annotated[
            str | None, Field(default=None, max_length=1_400_000, description="Logo as base64 PNG (≤ 1 MB).")
        ] = None,
        fonts: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=80)]] | None,
            Field(default=None, max_length=4, description="Font names, e.g. headings then body."),
        ] = None,
        banned_words: Words = None,
        required_phrases: Annotated[Phrases, Field(description="Disclaimers copy must include verbatim.")] = None,
        substantiated_claims: Annotated[
            Phrases, Field(description="Claims the brand can prove, allowed in copy (e.g. '#1 in G2 CRM grid').")
        ] = None,
        max_emoji: Annotated[
            int | None, Field(default=None, ge=0, le=20, description="Emoji allowed per field.")
        ] = None,
        is_default: Annotated[bool, Field(description="Make it the kit used when none is named.")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> BrandKitView:
        """Create or replace a brand kit: voice, colours, logo, fonts, banned words, required disclaimers and
        substantiated claims. Copy lint and creatives use it; the first kit becomes the default."""
        return await runtime.content.set_brand_kit(
            runtime.caller(ctx),
            name=name,
            logo_png_base64=logo_png_base64,
            idempotency_key=idempotency_key,
            voice=voice,
            colors=colors,
            fonts=fonts,
            banned_words=banned_words,
            required_phrases=required_phrases,
            substantiated_claims=substantiated_claims,
            max_emoji=max_emoji,
            is_default=is_default,
        )

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
