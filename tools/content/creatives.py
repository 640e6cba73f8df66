"""Content tools for image and video creatives."""

import base64
from typing import Annotated

from fastmcp import Context, FastMCP
from fastmcp.tools.base import ToolResult
from mcp.types import ImageContent, InputRequiredResult, TextContent
from pydantic import Field

from promptsales.domain_core.content.commands import Brief as VideoBrief
from promptsales.domain_core.content.commands import GenerateImage, GenerateVideo, StoryboardScene
from promptsales.domain_core.content.dto import CreativeResult
from promptsales.tools.content.fields import BrandKitName, Brief, Language, Placement
from promptsales.tools.content.sampling import with_sampling
from promptsales.tools.context import GENERATE, IdempotencyKey, ToolRuntime

Storyboard = Annotated[
    list[StoryboardScene] | None,
    Field(
        default=None,
        max_length=12,
        description="Omit to storyboard the brief.",
    ),
]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the creative tools to ``mcp``."""

    @mcp.tool(
        annotations=GENERATE,
        tags={"content", "write", "scope:content:generate"},
        output_schema=CreativeResult.model_json_schema(),
    )
    async def generate_image(
        ctx: Context,
        brief: Brief,
        placement: Placement,
        brand_kit: BrandKitName = None,
        language: Language = "en",
        variant: Annotated[int, Field(ge=0, le=9)] = 0,
        idempotency_key: IdempotencyKey = None,
    ) -> ToolResult | InputRequiredResult:
        """Render a branded PNG at a placement's size; saved as a draft asset."""
        caller = runtime.caller(ctx)
        command = GenerateImage(
            brief=brief, placement=placement, brand_kit=brand_kit, language=language, variant=variant
        )
        outcome = await with_sampling(
            ctx,
            lambda sampled: runtime.content.generate_image(
                caller, command, idempotency_key=idempotency_key, sampled=sampled
            ),
        )
        if isinstance(outcome, InputRequiredResult):
            return outcome
        result, png = outcome
        summary = (
            f"{result.width}x{result.height} PNG for {placement}, asset {result.asset.id} ({result.asset.status}); "
            f"file {result.asset.file_uri}"
        )
        return ToolResult(
            content=[
                ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png"),
                TextContent(type="text", text=summary),
            ],
            structured_content=result.model_dump(mode="json"),
        )

    @mcp.tool(annotations=GENERATE, tags={"content", "write", "scope:content:generate"})
    async def generate_video(
        ctx: Context,
        placement: Placement,
        brief: Annotated[VideoBrief | None, Field(default=None, description="What to say.")] = None,
        storyboard: Storyboard = None,
        duration_seconds: Annotated[
            float | None,
            Field(default=None, ge=1, le=60, description="Default: the placement's."),
        ] = None,
        brand_kit: BrandKitName = None,
        language: Language = "en",
        idempotency_key: IdempotencyKey = None,
    ) -> CreativeResult | InputRequiredResult:
        """Render an MP4 for a video placement from a storyboard or brief; saved as a draft asset."""
        caller = runtime.caller(ctx)

        async def progress(done: int, total: int) -> None:
            await ctx.report_progress(progress=done, total=total, message=f"encoded {done}/{total} frames")

        command = GenerateVideo(
            placement=placement,
            brief=brief,
            storyboard=storyboard,
            duration_seconds=duration_seconds,
            brand_kit=brand_kit,
            language=language,
        )
        return await with_sampling(
            ctx,
            lambda sampled: runtime.content.generate_video(
                caller, command, idempotency_key=idempotency_key, progress=progress, sampled=sampled
            ),
        )
