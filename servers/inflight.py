"""Counts the HTTP requests a process is serving, for autoscaling on load rather than on CPU alone."""

from starlette.types import ASGIApp, Receive, Scope, Send

from promptsales.servers.metrics import HttpMetrics

# Probes and scrapes are not load: counting them would add a constant to every sample a scaler reads.
UNCOUNTED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class InflightRequests:
    """Pure ASGI middleware: the count goes up when a request starts and down when it ends, fails or is cancelled."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNCOUNTED_PATHS:
            await self.app(scope, receive, send)
            return
        self.metrics.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.metrics.inflight -= 1
