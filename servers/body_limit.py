"""Oversized requests get a JSON-RPC error that says the limit, instead of the transport's bare 413."""

import json

from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The MCP transport refuses larger bodies anyway; tool schemas bound every string so a valid call fits.
MAX_BODY_BYTES = DEFAULT_MAX_REQUEST_BODY_SIZE
INVALID_REQUEST = -32600


class BodyLimit:
    """Checks the declared and the streamed size of POSTs to the MCP endpoint before the transport reads them."""

    def __init__(self, app: ASGIApp, *, path: str = "/mcp", limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.path = path
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path", "").rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {
                    "code": INVALID_REQUEST,
                    "message": f"Request body exceeds {self.limit} bytes. Send large texts in smaller parts "
                    "(every tool's schema gives each string's maxLength).",
                },
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
