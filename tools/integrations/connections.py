"""Integrations tools: what can be connected, connecting, checking, disconnecting and syncing."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.domain_core.integrations.commands import Connect, Disconnect, StartSync
from promptsales.domain_core.integrations.dto import (
    ConnectionCheck,
    ConnectionView,
    ConnectorList,
    SyncRunPage,
    SyncRunView,
)
from promptsales.tools.context import READ, Cursor, IdempotencyKey, Limit, ToolRuntime

Platform = Annotated[
    str,
    Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$", description="e.g. hubspot."),
]
RunId = Annotated[str, Field(min_length=1, max_length=40)]
# Talks to the platform (open world); connecting again replaces the stored credentials.
CONNECT = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)
FORGET = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
PROBE = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
SYNC = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the connection and sync tools to ``mcp``."""

    @mcp.tool(annotations=READ, tags={"integrations", "read"})
    async def list_connectors(ctx: Context) -> ConnectorList:
        """Platforms PromptSales connects to and this tenant's connection to each."""
        return await runtime.integrations.list_connectors(runtime.caller(ctx))

    @mcp.tool(annotations=CONNECT, tags={"integrations", "write"})
    async def connect(
        ctx: Context,
        platform: Platform,
        mode: Annotated[
            Literal["sandbox", "live"] | None,
            Field(description="sandbox simulates; live is real."),
        ] = None,
        api_key: Annotated[
            str | None,
            Field(min_length=8, max_length=512, description="Live key-based platforms only."),
        ] = None,
        subdomain: Annotated[
            str | None, Field(min_length=1, max_length=63, description="Zendesk: acme for acme.zendesk.com.")
        ] = None,
        phone_number_id: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=32,
                pattern=r"^[0-9]+$",
                description="Live WhatsApp: business number id.",
            ),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ConnectionView:
        """Connect a platform; live OAuth returns an authorization_url for an admin to open."""
        command = Connect(
            platform=platform, mode=mode, api_key=api_key, subdomain=subdomain, phone_number_id=phone_number_id
        )
        return await runtime.integrations.connect(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=FORGET, tags={"integrations", "write"})
    async def disconnect(ctx: Context, platform: Platform, idempotency_key: IdempotencyKey = None) -> ConnectionView:
        """Forget a platform's credentials; synced records stay."""
        return await runtime.integrations.disconnect(
            runtime.caller(ctx), Disconnect(platform=platform), idempotency_key=idempotency_key
        )

    @mcp.tool(annotations=PROBE, tags={"integrations", "read"})
    async def test_connection(ctx: Context, platform: Platform) -> ConnectionCheck:
        """Check a connection's stored credentials work."""
        return await runtime.integrations.test_connection(runtime.caller(ctx), platform)

    @mcp.tool(annotations=SYNC, tags={"integrations", "write", "sync"})
    async def sync(
        ctx: Context,
        platform: Platform,
        capability: Annotated[
            Literal["crm_sync", "support_sync", "email_marketing"] | None,
            Field(),
        ] = None,
        full: Annotated[bool, Field(description="Re-read everything.")] = False,
        segment_id: Annotated[
            str | None,
            Field(min_length=1, max_length=40, description="Mailchimp: segment to send."),
        ] = None,
    ) -> SyncRunView:
        """Sync a connected platform (HubSpot contacts in, Mailchimp segment out); returns the run with counts."""

        async def progress(done: int, message: str) -> None:
            await ctx.report_progress(done, None, message)

        command = StartSync(platform=platform, capability=capability, full=full, segment_id=segment_id)
        return await runtime.integrations.sync(runtime.caller(ctx), command, progress=progress)

    @mcp.tool(annotations=READ, tags={"integrations", "read"})
    async def get_sync_run(ctx: Context, run_id: RunId) -> SyncRunView:
        """One sync run: status, counts and failed records."""
        return await runtime.integrations.get_sync_run(runtime.caller(ctx), run_id=run_id)

    @mcp.tool(annotations=READ, tags={"integrations", "read"})
    async def list_sync_runs(
        ctx: Context,
        platform: Annotated[str | None, Field(max_length=32)] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> SyncRunPage:
        """Sync runs, newest first."""
        return await runtime.integrations.list_sync_runs(
            runtime.caller(ctx), platform=platform, cursor=cursor, limit=limit
        )
