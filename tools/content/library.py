"""Content tools for the library: list, read, and review assets (draft → in_review → approved / rejected)."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from fastmcp.resources import ResourceContent, ResourceResult
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.domain_core.content.commands import DecideAsset, Decision, DesignId, DesignPlatform, ImportDesign
from promptsales.domain_core.content.commands import Note as NoteText
from promptsales.domain_core.content.dto import AssetPage, AssetView, CreativeResult
from promptsales.tools.content.fields import AssetId
from promptsales.tools.context import READ, UPSERT, Cursor, IdempotencyKey, Limit, ToolRuntime

Note = Annotated[NoteText | None, Field(default=None, description="Required to reject.")]
# Reads the design platform (open world); the same unchanged design adds nothing (idempotent).
IMPORT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the library tools and the asset/file resources to ``mcp``."""

    @mcp.tool(annotations=READ, tags={"content", "read"})
    async def list_assets(
        ctx: Context,
        kind: Annotated[Literal["copy", "image", "video"] | None, Field(default=None)] = None,
        status: Annotated[Literal["draft", "in_review", "approved", "rejected"] | None, Field(default=None)] = None,
        channel: Annotated[str | None, Field(default=None, max_length=40)] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> AssetPage:
        """Library assets newest first."""
        return await runtime.content.list_assets(
            runtime.caller(ctx), kind=kind, status=status, channel=channel, cursor=cursor, limit=limit
        )

    @mcp.tool(annotations=IMPORT, tags={"content", "write"})
    async def import_design(
        ctx: Context,
        platform: Annotated[DesignPlatform, Field()],
        design_id: DesignId,
        title: Annotated[
            str | None,
            Field(default=None, min_length=1, max_length=200),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CreativeResult:
        """Import a Canva / Adobe Express design into the library as a PNG draft asset."""
        command = ImportDesign(platform=platform, design_id=design_id, title=title)
        return await runtime.content.import_design(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"content", "read"})
    async def get_asset(ctx: Context, asset_id: AssetId) -> AssetView:
        """An asset with its versions, status and review decisions."""
        return await runtime.content.get_asset(runtime.caller(ctx), asset_id)

    async def decide(ctx: Context, asset_id: str, decision: Decision, note: str | None, key: str | None) -> AssetView:
        command = DecideAsset(asset_id=asset_id, decision=decision, note=note)
        return await runtime.content.decide_asset(runtime.caller(ctx), command, idempotency_key=key)

    @mcp.tool(annotations=UPSERT, tags={"content", "write"})
    async def submit_asset(ctx: Context, asset_id: AssetId, idempotency_key: IdempotencyKey = None) -> AssetView:
        """Send a draft asset for review."""
        return await decide(ctx, asset_id, "submit", None, idempotency_key)

    @mcp.tool(annotations=UPSERT, tags={"content", "write"})
    async def approve_asset(
        ctx: Context, asset_id: AssetId, note: Note = None, idempotency_key: IdempotencyKey = None
    ) -> AssetView:
        """Approve an asset in review (not by whoever generated it); campaigns only use approved assets."""
        return await decide(ctx, asset_id, "approve", note, idempotency_key)

    @mcp.tool(annotations=UPSERT, tags={"content", "write"})
    async def reject_asset(
        ctx: Context, asset_id: AssetId, note: Note = None, idempotency_key: IdempotencyKey = None
    ) -> AssetView:
        """Reject an asset in review, with a reason."""
        return await decide(ctx, asset_id, "reject", note, idempotency_key)

    @mcp.resource("content://assets/{asset_id}", mime_type="application/json", description="A library asset.")
    async def asset_resource(asset_id: str, ctx: Context) -> str:
        return (await runtime.content.get_asset(runtime.caller(ctx), asset_id)).model_dump_json()

    @mcp.resource("content://files/{sha256}", description="A stored file (PNG, MP4, logo) by hash.")
    async def file_resource(sha256: str, ctx: Context) -> ResourceResult:
        data, mime = await runtime.content.file_with_type(runtime.caller(ctx), sha256)
        return ResourceResult([ResourceContent(content=data, mime_type=mime)])

    @mcp.resource(
        "content://channel-specs",  # served as CHANNEL_SPECS_URI through the gateway
        mime_type="application/json",
        description="Channel limits, with sources.",
    )
    async def channel_specs(ctx: Context) -> dict[str, object]:
        runtime.caller(ctx)
        return runtime.content.channel_specs()
