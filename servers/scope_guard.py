"""HTTP-level insufficient_scope (RFC 6750 §3.1): refuse a tools/call before dispatch with 403.

2026-07-28 requests name the method and tool in headers (``Mcp-Method``, ``Mcp-Name``; the SDK rejects a
body that disagrees), so the scope check can answer 403 with a ``WWW-Authenticate`` challenge naming the
scope to ask for. Handshake-era requests carry the tool only in the body; for them the tool-call middleware
applies the same check and answers with an ``insufficient_scope`` tool error.
"""

import json
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from promptsales.servers.scopes import insufficient_scope_message


class ScopeGuard:
    """ASGI middleware placed after authentication (it reads the verified token from ``scope["user"]``)."""

    def __init__(
        self, app: ASGIApp, *, tool_scopes: Mapping[str, tuple[str, ...]], resource_metadata_url: str | None
    ) -> None:
        self.app = app
        self.tool_scopes = tool_scopes
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = getattr(scope.get("user"), "access_token", None) if scope["type"] == "http" else None
        if token is not None and scope.get("method") == "POST":
            headers = Headers(scope=scope)
            tool = headers.get("mcp-name")
            if headers.get("mcp-method") == "tools/call" and tool:
                missing = [s for s in self.tool_scopes.get(tool, ()) if s not in token.scopes]
                if missing:
                    await self._refuse(send, tool, missing)
                    return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send, tool: str, missing: list[str]) -> None:
        description = insufficient_scope_message(tool, missing)
        challenge = ['error="insufficient_scope"', f'scope="{" ".join(missing)}"']
        if self.resource_metadata_url:
            challenge.append(f'resource_metadata="{self.resource_metadata_url}"')
        body = json.dumps({"error": "insufficient_scope", "error_description": description}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", ("Bearer " + ", ".join(challenge)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
