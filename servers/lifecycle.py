"""Binds the process runtime to a server's lifespan."""

from collections.abc import AsyncIterator
from typing import Any

from fastmcp.server.lifespan import Lifespan, lifespan

from promptsales.servers.runtime import Runtime
from promptsales.servers.schema_lookup import install_schema_lookup
from promptsales.servers.scopes import scope_table


def runtime_lifespan(runtime: Runtime) -> Lifespan:
    """A lifespan that starts the runtime with the server and stops it after."""

    @lifespan
    async def _lifespan(server: Any) -> AsyncIterator[dict[str, Any]]:
        await runtime.start()
        await install_schema_lookup(server)
        runtime.tool_scopes.update(await scope_table(server))
        try:
            yield {"runtime": runtime}
        finally:
            await runtime.stop()

    return _lifespan
