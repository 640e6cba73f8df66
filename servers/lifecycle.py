"""Binds the process runtime to a server's lifespan."""

from collections.abc import AsyncIterator
from typing import Any

from fastmcp.server.lifespan import Lifespan, lifespan

from promptsales.servers.runtime import Runtime
from promptsales.servers.schema_lookup import install_schema_lookup
from promptsales.servers.tool_table import describe_tools


def runtime_lifespan(runtime: Runtime) -> Lifespan:
    """A lifespan that starts the runtime with the server and stops it after."""

    @lifespan
    async def _lifespan(server: Any) -> AsyncIterator[dict[str, Any]]:
        await runtime.start()
        await install_schema_lookup(server)
        scopes, infos = await describe_tools(server)
        runtime.tool_scopes.update(scopes)
        runtime.tool_infos.update(infos)
        try:
            yield {"runtime": runtime}
        finally:
            await runtime.stop()

    return _lifespan
