"""What runs one capability's sync for a platform: pages from a resumable cursor, committed as they go."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from promptsales.domain_core.integrations.dto import SyncRunView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.shared.caller import Caller

Progress = Callable[[int, str], Awaitable[None]]
# The cursor key under which a run is handed the CRM segment its command named (email_marketing syncs).
SEGMENT_REQUESTED = "segment_requested"


class SyncEngine(Protocol):
    """Continue ``run`` from ``cursor`` (the last committed page's) to the end; return the run as committed."""

    async def run(
        self,
        caller: Caller,
        *,
        http: ConnectorHttp,
        link: Link,
        run: SyncRunView,
        cursor: Mapping[str, Any],
        progress: Progress | None,
    ) -> SyncRunView: ...
