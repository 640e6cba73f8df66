"""Integrations tools for ad platforms: the ad accounts a connection can manage (campaigns create and measure ads
through the integrations facade; agents only need to see which accounts exist)."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.domain_core.integrations.dto import AdAccountList
from promptsales.tools.context import ToolRuntime

AdPlatform = Annotated[Literal["google_ads", "meta_ads", "tiktok_ads", "linkedin_ads"], Field()]
# Reads the platform (open world); changes nothing.
PLATFORM_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the ad-account tools to ``mcp``."""

    @mcp.tool(annotations=PLATFORM_READ, tags={"integrations", "read", "ads"})
    async def list_ad_accounts(ctx: Context, platform: AdPlatform) -> AdAccountList:
        """Ad accounts a connected ad platform can manage (id for activation)."""
        return await runtime.integrations.ad_accounts(runtime.caller(ctx), platform)
