"""The content MCP server: copy, brand kits, creatives, the content library and AI services."""

from fastmcp import FastMCP

from promptsales.servers.lifecycle import runtime_lifespan
from promptsales.servers.middleware import call_middleware
from promptsales.servers.runtime import Runtime
from promptsales.servers.schema_compaction import compact_tool_schemas
from promptsales.tools.content import ai, brand, copywriting, creatives, library

INSTRUCTIONS = (
    "PromptSales content: channel-ready copy within each platform's limits, brand kits, PNG and MP4 creatives, a "
    "library with review (draft, in_review, approved, rejected), and classify/summarize/extract for any text. "
    "Channel limits: content://content/channel-specs."
)


def build_content_server(runtime: Runtime, *, standalone: bool = True) -> FastMCP:
    """The content server; standalone servers own the runtime lifespan and the call middleware."""
    server = FastMCP(
        "promptsales-content",
        instructions=INSTRUCTIONS,
        lifespan=runtime_lifespan(runtime) if standalone else None,
        middleware=[call_middleware(runtime)] if standalone else [],
        mask_error_details=True,
    )
    copywriting.register(server, runtime)
    brand.register(server, runtime)
    creatives.register(server, runtime)
    library.register(server, runtime)
    ai.register(server, runtime)
    if standalone:  # mounted servers are compacted by the gateway, once, after mounting
        compact_tool_schemas(server)
    return server
