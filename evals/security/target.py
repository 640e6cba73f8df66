"""The suite under a DAST pass: served on a scratch database in dev auth mode, called as JSON-RPC with any bearer
token, the tokens a pass forges, and a loopback canary that records whether the suite fetched a caller's URL."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwk, jwt
from services import Postgres, ServerProcess, free_port, run_command, scratch_database

from promptsales.servers.dev_issuer import DEV_ISSUER, load_dev_private_key
from promptsales.servers.scopes import supported_scopes

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = "2025-11-25"


class Canary(BaseHTTPRequestHandler):
    """A loopback HTTP server that records every request (a hit means the suite fetched a caller's URL)."""

    hits: list[str] = []

    def do_GET(self) -> None:
        Canary.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"canary-body-7f3a")

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        return


class Suite:
    """JSON-RPC over streamable HTTP (JSON responses) as one bearer token."""

    def __init__(self, base: str, http: httpx.Client) -> None:
        self.base, self.http = base, http
        self._ids = iter(range(1, 10**9))

    def post(self, token: str | None, method: str, params: dict[str, Any], **extra: Any) -> httpx.Response:
        headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "MCP-Protocol-Version": PROTOCOL,
        } | extra.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        return self.http.post(f"{self.base}/mcp", json=body, headers=headers, timeout=60)

    def call(self, token: str, tool: str, arguments: dict[str, Any]) -> tuple[int, bool, str]:
        """(HTTP status, isError, the result's text) of one tool call."""
        response = self.post(token, "tools/call", {"name": tool, "arguments": arguments})
        if response.status_code != 200:
            return response.status_code, True, response.text[:2000]
        payload = parse_json(response.text)
        if "error" in payload:
            return 200, True, json.dumps(payload["error"])
        result = payload.get("result", {})
        text = json.dumps(result.get("structuredContent")) + " ".join(
            part.get("text", "") for part in result.get("content", [])
        )
        return 200, bool(result.get("isError")), text

    def tools(self, token: str) -> list[dict[str, Any]]:
        tools, cursor = [], None
        while True:
            params = {"cursor": cursor} if cursor else {}
            result = parse_json(self.post(token, "tools/list", params).text)["result"]
            tools += result["tools"]
            cursor = result.get("nextCursor")
            if not cursor:
                return tools


def parse_json(text: str) -> dict[str, Any]:
    if text.startswith("event:") or text.startswith("data:"):
        text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    return dict(json.loads(text))


def forged_token(data_dir: Path, audience: str, tenant_id: str, **claims: Any) -> str:
    """A token of the dev issuer's key with claims overridden (expired, other audience ...)."""
    pem, kid = load_dev_private_key(data_dir)
    now = int(time.time())
    body = {"iss": DEV_ISSUER, "aud": audience, "sub": "dast", "iat": now, "nbf": now, "exp": now + 600}
    body |= {"scope": " ".join(supported_scopes()), "tenant": tenant_id} | claims
    body = {name: value for name, value in body.items() if value is not None}  # None drops a claim
    return jwt.encode({"alg": "RS256", "kid": kid}, body, jwk.RSAKey.import_key(pem), algorithms=["RS256"])


def foreign_token(audience: str, tenant: str) -> str:
    key = jwk.RSAKey.generate_key(2048)
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": audience, "sub": "x", "iat": now, "exp": now + 600, "tenant": tenant}
    return jwt.encode({"alg": "RS256", "kid": "dev-1"}, claims, key, algorithms=["RS256"])


def unsigned(token: str) -> str:
    _header, payload, _ = token.split(".")
    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{none}.{payload}."


@contextmanager
def running_suite(work: Path) -> Iterator[tuple[str, Path, str]]:
    """(base URL, data dir, audience) of the suite served on a scratch database in dev auth mode."""
    pg = Postgres()
    with scratch_database(pg) as database:
        data_dir = work / "data"
        data_dir.mkdir()
        port = free_port()
        audience = f"http://127.0.0.1:{port}/mcp"
        env = dict(os.environ) | {
            "PROMPTSALES_DATABASE_URL": pg.sqlalchemy_url(database),
            "PROMPTSALES_DATA_DIR": str(data_dir),
            "PROMPTSALES_LOG_LEVEL": "warning",
            "PROMPTSALES_AUTH_MODE": "dev",
            "PROMPTSALES_AUTH_AUDIENCE": audience,
            "PROMPTSALES_AUTH_ISSUER": DEV_ISSUER,
            "PROMPTSALES_AUTH_TENANT_CLAIM": "tenant",
            "PROMPTSALES_AUTH_ACTOR_CLAIM": "sub",
            "PROMPTSALES_RATE_LIMITS_ENABLED": "true",
            "PROMPTSALES_DEFAULT_PLAN": "enterprise",
            "FASTMCP_CHECK_FOR_UPDATES": "off",
        }
        cli = str(ROOT / ".venv" / "bin" / "promptsales")
        run_command([cli, "db", "upgrade"], env, 120, work / "migrate.log")
        run_command([cli, "auth", "dev-keys"], env, 60, work / "keys.log")
        argv = [cli, "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port), "--json-response"]
        server = ServerProcess("promptsales", argv, env, work / "suite.log")
        try:
            server.wait_ready(port, "/readyz", 90)
            yield f"http://127.0.0.1:{port}", data_dir, audience
        finally:
            server.stop()
