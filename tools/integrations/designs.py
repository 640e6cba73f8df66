"""Design tools: the tenant's designs on a connected design platform (an agent picks one to import)."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.domain_core.integrations.dto import DesignPage
from promptsales.tools.context import Cursor, Limit, ToolRuntime

# Reads the platform (open world); changes nothing anywhere.
PLATFORM_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the design tools to ``mcp``."""

    @mcp.tool(annotations=PLATFORM_READ, tags={"integrations", "read"})
    async def list_designs(
        ctx: Context,
        platform: Annotated[Literal["canva", "adobe_express"], Field()] = "canva",
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> DesignPage:
        """Designs on a connected design platform, paginated."""
        return await runtime.integrations.list_designs(
            runtime.caller(ctx), platform=platform, cursor=cursor, limit=limit
        )
