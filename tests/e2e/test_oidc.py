"""OIDC mode against a live, Okta-shaped identity provider on loopback.

``LoopbackOIDC`` serves ``/oauth2/default/.well-known/openid-configuration`` and the JWKS (``/v1/keys``) the way
an Okta custom authorization server does, records every request it receives, and can publish, withdraw or fail
keys during a test. Two kinds of server are tested against it:

* the real product, ``promptsales serve --transport http`` in a subprocess with ``PROMPTSALES_AUTH_MODE=oidc``,
  an issuer and an audience, and no JWKS URL (it must come from discovery): valid Okta-style tokens work (raw
  2026-07-28 requests and the official ``mcp`` client, both eras), every wrong audience, lifetime, key, issuer,
  algorithm or transport gets 401 with ``resource_metadata``, a flood of made-up ``kid``s costs the provider at
  most one JWKS request, the caller's token never reaches the provider, and ``serve`` refuses to start when
  discovery fails;
* the same app in-process (``build_gateway`` + ``http_app`` over ``httpx.ASGITransport``) with a fake monotonic
  clock driving the JWKS cache, for key rotation, the refresh throttle and cache expiry, step by step and
  without waiting.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import httpx2
import pytest
import pytest_asyncio
from fastmcp.utilities.asgi_transport import run_asgi_lifespan
from joserfc import jwk, jwt
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from prometheus_client.parser import text_string_to_metric_families

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.auth import JWKS_CACHE_TTL_S, JWKS_REFRESH_INTERVAL_S, PinnedJWTVerifier, build_auth
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime

from . import conftest as e2e
from .conftest import (
    CALL_TIMEOUT_S,
    ERAS,
    MODERN,
    ServerProcess,
    base_env,
    capture_arguments,
    modern_tools_call,
    result_of,
    run_cli,
    stop_all,
    unique_email,
)

pytestmark = pytest.mark.slow

ACCEPT = "application/json, text/event-stream"
METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"
SENT_TOKENS: list[str] = []  # every bearer token this module sends, checked against what the provider received


# --------------------------------------------------------------------------------------------- the provider


@dataclass(frozen=True)
class SigningKey:
    """An RSA key of the provider, with the ``kid`` it is published (or claimed) under."""

    kid: str
    key: jwk.RSAKey

    @classmethod
    def generate(cls, kid: str | None = None) -> "SigningKey":
        return cls(kid=kid or f"okta-{secrets.token_hex(6)}", key=jwk.RSAKey.generate_key(2048))

    def public_jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, alg: str = "RS256", no_kid: bool = False) -> str:
        header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
        if not no_kid:
            header["kid"] = kid or self.kid
        return jwt.encode(header, claims, self.key, algorithms=[alg])


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LoopbackOIDC:
    """An Okta-shaped OpenID provider on 127.0.0.1 (threaded ``http.server``)."""

    keys: dict[str, SigningKey] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    fail_jwks: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    AUTH_SERVER = "/oauth2/default"
    JWKS_PATH = "/oauth2/default/v1/keys"

    def start(self) -> "LoopbackOIDC":
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider._handle(self)

            def do_POST(self) -> None:
                provider._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="loopback-oidc", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def origin(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def issuer(self) -> str:
        return self.origin + self.AUTH_SERVER

    def discovery(self) -> dict[str, Any]:
        """Okta's ``/oauth2/default/.well-known/openid-configuration``, trimmed to its usual fields."""
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/v1/authorize",
            "token_endpoint": f"{base}/v1/token",
            "userinfo_endpoint": f"{base}/v1/userinfo",
            "registration_endpoint": f"{self.origin}/oauth2/v1/clients",
            "jwks_uri": f"{self.origin}{self.JWKS_PATH}",
            "response_types_supported": ["code", "id_token", "code id_token", "token", "code token"],
            "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
            "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access", "crm:read", "crm:write"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "claims_supported": ["iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "cid", "uid", "scp"],
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": f"{base}/v1/introspect",
            "revocation_endpoint": f"{base}/v1/revoke",
            "end_session_endpoint": f"{base}/v1/logout",
        }

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length) if length else b""
        path = request.path
        with self._lock:
            self.requests.append(Recorded(request.command, path, dict(request.headers.items()), body))
            published = [key.public_jwk() for key in self.keys.values()]
            failing = self.fail_jwks
        payload: dict[str, Any] = {"errorCode": "E0000022", "errorSummary": "The endpoint does not exist."}
        status = 404
        if request.command == "GET" and path.split("?")[0].endswith("/.well-known/openid-configuration"):
            status, payload = 200, self.discovery()  # whatever prefix was asked for: a wrong issuer is caught
        elif request.command == "GET" and path.split("?")[0] == self.JWKS_PATH:
            status, payload = (503, {"errorCode": "E0000009"}) if failing else (200, {"keys": published})
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def publish(self, key: SigningKey) -> None:
        with self._lock:
            self.keys[key.kid] = key

    def withdraw(self, kid: str) -> None:
        with self._lock:
            self.keys.pop(kid, None)

    @property
    def jwks_fetches(self) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.split("?")[0] == self.JWKS_PATH)

    def recorded(self) -> list[Recorded]:
        with self._lock:
            return list(self.requests)


def okta_claims(issuer: str, audience: str, **overrides: Any) -> dict[str, Any]:
    """An Okta access token's claims (``scp`` list, ``cid``, ``uid``, ``ver``, ``jti``) plus the tenant claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "ver": 1,
        "jti": f"AT.{secrets.token_urlsafe(16)}",
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "cid": "0oa1promptsalesagent",
        "uid": "00u1agent",
        "scp": ["crm:read", "crm:write"],
        "auth_time": now - 5,
        "sub": "agent-7@example.com",
        "tenant": "acme",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------------------------- HTTP helpers


def _headers(tool: str, token: str | None) -> dict[str, str]:
    headers = {
        "Accept": ACCEPT,
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
    }
    if token is not None:
        SENT_TOKENS.append(token)
        headers["Authorization"] = f"Bearer {token}"
    return headers


def call(url: str, tool: str, arguments: dict[str, Any], token: str | None, *, query: str = "") -> httpx.Response:
    """A raw 2026-07-28 ``tools/call`` POST."""
    return httpx.post(
        url + query, json=modern_tools_call(tool, arguments), headers=_headers(tool, token), timeout=CALL_TIMEOUT_S
    )


def assert_ok(response: httpx.Response) -> dict[str, Any]:
    result = result_of(response)
    assert result.get("isError") is False, result
    return result


def assert_401(response: httpx.Response, metadata_url: str) -> None:
    assert response.status_code == 401, (response.status_code, response.text[:300])
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), challenge
    assert f'resource_metadata="{metadata_url}"' in challenge, challenge


# --------------------------------------------------------------------------------------------- the product


class OidcServer(ServerProcess):
    """``promptsales serve`` in oidc mode whose audience is its own canonical URL (port chosen first)."""

    def launch(self) -> None:
        port = _free_port()
        self.env["PROMPTSALES_AUTH_AUDIENCE"] = f"http://127.0.0.1:{port}/mcp"
        with patch.object(e2e, "_free_port", return_value=port):
            super().launch()

    @property
    def metadata_url(self) -> str:
        return self.base_url + METADATA_PATH

    def token(self, idp: LoopbackOIDC, key: SigningKey, **overrides: Any) -> str:
        return key.sign(okta_claims(idp.issuer, self.mcp_url, **overrides))

    def tool_calls_total(self) -> float:
        response = httpx.get(f"{self.base_url}/metrics", timeout=5)
        assert response.status_code == 200
        for family in text_string_to_metric_families(response.text):
            if family.name == "promptsales_tool_calls":
                return sum(s.value for s in family.samples if s.name == "promptsales_tool_calls_total")
        return 0.0


@pytest.fixture(scope="module")
def idp() -> Iterator[LoopbackOIDC]:
    provider = LoopbackOIDC().start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="module")
def okta_key(idp: LoopbackOIDC) -> SigningKey:
    key = SigningKey.generate()
    idp.publish(key)
    return key


@pytest.fixture(scope="module")
def oidc_server(
    tmp_path_factory: pytest.TempPathFactory, idp: LoopbackOIDC, okta_key: SigningKey
) -> Iterator[OidcServer]:
    data_dir = tmp_path_factory.mktemp("http-oidc")
    env = base_env(data_dir, PROMPTSALES_AUTH_MODE="oidc", PROMPTSALES_AUTH_ISSUER=idp.issuer)
    server = OidcServer(data_dir, env=env)
    try:
        server.start()
        yield server
    finally:
        stop_all(server)


# --------------------------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    "scopes", [{"scp": ["crm:read", "crm:write"]}, {"scp": None, "scope": "crm:read crm:write"}], ids=["scp", "scope"]
)
def test_an_okta_token_calls_a_tool(
    oidc_server: OidcServer, idp: LoopbackOIDC, okta_key: SigningKey, scopes: dict[str, Any]
) -> None:
    token = oidc_server.token(idp, okta_key, **scopes)
    created = assert_ok(call(oidc_server.mcp_url, "crm_capture_lead", capture_arguments(unique_email()), token))
    lead_id = created["structuredContent"]["lead"]["id"]
    # The tenant comes from the token: another tenant's token does not see the lead.
    same = assert_ok(call(oidc_server.mcp_url, "crm_get_lead", {"lead_id": lead_id}, token))
    assert same["structuredContent"]["id"] == lead_id
    other = oidc_server.token(idp, okta_key, tenant="globex", **scopes)
    assert result_of(call(oidc_server.mcp_url, "crm_get_lead", {"lead_id": lead_id}, other)).get("isError") is True


def test_a_token_whose_nbf_is_inside_the_leeway_is_accepted(
    oidc_server: OidcServer, idp: LoopbackOIDC, okta_key: SigningKey
) -> None:
    now = int(time.time())
    token = oidc_server.token(idp, okta_key, nbf=now + 10, iat=now + 10)
    assert_ok(call(oidc_server.mcp_url, "crm_search_contacts", {}, token))


@pytest.mark.parametrize("era", ERAS)
async def test_the_official_client_works_with_an_okta_token(
    oidc_server: OidcServer, idp: LoopbackOIDC, okta_key: SigningKey, era: str
) -> None:
    token = oidc_server.token(idp, okta_key)
    SENT_TOKENS.append(token)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(CALL_TIMEOUT_S)) as http,
        streamable_http_client(oidc_server.mcp_url, http_client=http) as (read, write),
        ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT_S) as session,
    ):
        if era == MODERN:
            await session.discover()
        else:
            await session.initialize()
        created = await session.call_tool("crm_capture_lead", capture_arguments(unique_email()))
        assert not created.is_error, created
        found = await session.call_tool("crm_search_contacts", {})
        assert not found.is_error, found


async def test_the_official_client_cannot_connect_with_a_foreign_audience(
    oidc_server: OidcServer, idp: LoopbackOIDC, okta_key: SigningKey
) -> None:
    token = oidc_server.token(idp, okta_key, aud="api://default")
    SENT_TOKENS.append(token)
    statuses: list[int] = []

    async def record(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    with pytest.raises((MCPError, ExceptionGroup)):  # the SDK reports the failed request as an MCPError
        async with (
            httpx2.AsyncClient(
                headers={"Authorization": f"Bearer {token}"},
                timeout=CALL_TIMEOUT_S,
                event_hooks={"response": [record]},
            ) as http,
            streamable_http_client(oidc_server.mcp_url, http_client=http) as (read, write),
            ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT_S) as session,
        ):
            await session.discover()
            await session.call_tool("crm_search_contacts", {})
    assert statuses and set(statuses) == {401}, statuses


# --------------------------------------------------------------------------------------------- refused


def _hs256_with_public_key(key: SigningKey, claims: dict[str, Any]) -> str:
    """The key-confusion forgery: HMAC keyed with the RSA public key (PEM) the JWKS publishes."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(key.key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def test_every_wrong_token_is_401_with_resource_metadata(
    oidc_server: OidcServer, idp: LoopbackOIDC, okta_key: SigningKey
) -> None:
    now = int(time.time())
    audience = oidc_server.mcp_url
    unpublished = SigningKey.generate()  # never in the JWKS

    def claims(**overrides: Any) -> dict[str, Any]:
        return okta_claims(idp.issuer, audience, **overrides)

    cases: dict[str, tuple[str | None, str]] = {
        "no token": (None, ""),
        "audience api://default": (okta_key.sign(claims(aud="api://default")), ""),
        "another audience": (okta_key.sign(claims(aud="http://127.0.0.1:1/mcp")), ""),
        "the issuer as audience": (okta_key.sign(claims(aud=idp.issuer)), ""),
        "audience list with a second resource": (okta_key.sign(claims(aud=[audience, "api://default"])), ""),
        "no audience": (okta_key.sign(claims(aud=None)), ""),
        "expired": (okta_key.sign(claims(iat=now - 3600, nbf=now - 3600, exp=now - 60)), ""),
        "no exp": (okta_key.sign(claims(exp=None)), ""),
        "nbf five minutes ahead": (okta_key.sign(claims(nbf=now + 300, exp=now + 900)), ""),
        "iat five minutes ahead": (okta_key.sign(claims(iat=now + 300, exp=now + 900)), ""),
        "another issuer": (okta_key.sign(claims(iss=f"{idp.origin}/oauth2/other")), ""),
        "signed by a key not in the JWKS (new kid)": (unpublished.sign(claims()), ""),
        "signed by a key not in the JWKS (published kid)": (unpublished.sign(claims(), kid=okta_key.kid), ""),
        "no kid": (okta_key.sign(claims(), no_kid=True), ""),
        "RS512 with the published key": (okta_key.sign(claims(), alg="RS512"), ""),
        "HS256 keyed with the public key": (_hs256_with_public_key(okta_key, claims()), ""),
        "token only in the query string": (None, f"?access_token={okta_key.sign(claims())}"),
    }
    before = oidc_server.tool_calls_total()
    wrong = {}
    for label, (token, query) in cases.items():
        response = call(oidc_server.mcp_url, "crm_capture_lead", capture_arguments(unique_email()), token, query=query)
        try:
            assert_401(response, oidc_server.metadata_url)
        except AssertionError as exc:
            wrong[label] = str(exc)
    assert wrong == {}
    assert oidc_server.tool_calls_total() == before, "a request without a valid token reached a tool"
    SENT_TOKENS.append(cases["token only in the query string"][1].split("=", 1)[1])


def test_protected_resource_metadata_names_the_audience_and_the_issuer(
    oidc_server: OidcServer, idp: LoopbackOIDC
) -> None:
    response = httpx.get(oidc_server.metadata_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    metadata = response.json()
    assert metadata["resource"] == oidc_server.mcp_url
    assert idp.issuer in [url.rstrip("/") for url in metadata["authorization_servers"]]
    assert metadata["bearer_methods_supported"] == ["header"]


def test_a_flood_of_unknown_kids_costs_the_provider_at_most_one_jwks_request(
    oidc_server: OidcServer, idp: LoopbackOIDC, okta_key: SigningKey
) -> None:
    """The product's default throttle (one refresh per 30 s); whether the one is spent depends on when the
    last refresh happened, so at most one, never one per token."""
    assert_ok(call(oidc_server.mcp_url, "crm_search_contacts", {}, oidc_server.token(idp, okta_key)))
    intruder = SigningKey.generate()
    before = idp.jwks_fetches
    for _ in range(20):
        token = intruder.sign(okta_claims(idp.issuer, oidc_server.mcp_url), kid=f"kid-{secrets.token_hex(8)}")
        assert_401(call(oidc_server.mcp_url, "crm_search_contacts", {}, token), oidc_server.metadata_url)
    assert idp.jwks_fetches - before <= 1
    # Known keys keep working during and after the flood, from the cache.
    assert_ok(call(oidc_server.mcp_url, "crm_search_contacts", {}, oidc_server.token(idp, okta_key)))


def test_the_callers_token_never_reaches_the_provider(
    oidc_server: OidcServer, idp: LoopbackOIDC, okta_key: SigningKey
) -> None:
    """Runs last in the module: every token sent so far is checked against every request the provider got."""
    assert_ok(call(oidc_server.mcp_url, "crm_search_contacts", {}, oidc_server.token(idp, okta_key)))
    received = idp.recorded()
    assert received, "the server never talked to the provider"
    assert {r.path.split("?")[0] for r in received} <= {
        LoopbackOIDC.AUTH_SERVER + "/.well-known/openid-configuration",
        LoopbackOIDC.JWKS_PATH,
    }
    for request in received:
        assert not {name.lower() for name in request.headers} & {"authorization", "cookie"}, request.headers
        seen = request.path + json.dumps(request.headers) + request.body.decode("latin-1")
        leaked = [token[:20] for token in SENT_TOKENS if token in seen]
        assert leaked == [], f"{request.method} {request.path} carried a caller's token"


# --------------------------------------------------------------------------------------------- start-up


def _serve(env: dict[str, str]) -> Any:
    return run_cli("serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(_free_port()), env=env)


def test_serve_fails_clearly_when_discovery_is_unreachable(tmp_path: Path) -> None:
    issuer = f"http://127.0.0.1:{_free_port()}/oauth2/default"  # nothing listens there
    env = base_env(
        tmp_path,
        PROMPTSALES_AUTH_MODE="oidc",
        PROMPTSALES_AUTH_ISSUER=issuer,
        PROMPTSALES_AUTH_AUDIENCE="http://127.0.0.1:8000/mcp",
    )
    result = _serve(env)
    assert result.returncode == 1, result.stderr
    assert "PROMPTSALES_AUTH_ISSUER" in result.stderr
    assert "OIDC discovery" in result.stderr and issuer in result.stderr.replace("\n", "")


def test_serve_refuses_a_discovery_document_of_another_issuer(tmp_path: Path, idp: LoopbackOIDC) -> None:
    """The provider answers for any prefix but names its own issuer; a mistyped issuer must not start."""
    env = base_env(
        tmp_path,
        PROMPTSALES_AUTH_MODE="oidc",
        PROMPTSALES_AUTH_ISSUER=f"{idp.origin}/oauth2/mistyped",
        PROMPTSALES_AUTH_AUDIENCE="http://127.0.0.1:8000/mcp",
    )
    result = _serve(env)
    assert result.returncode == 1, result.stderr
    assert "PROMPTSALES_AUTH_ISSUER" in result.stderr and "names issuer" in result.stderr


# --------------------------------------------------------------------------------------------- rotation (in-process)


class FakeClock:
    """Monotonic seconds under the test's control (drives only the JWKS cache and throttle)."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class InProcess:
    client: httpx.AsyncClient
    idp: LoopbackOIDC
    key: SigningKey
    clock: FakeClock
    audience: str = "http://127.0.0.1/mcp"

    @property
    def metadata_url(self) -> str:
        return "http://127.0.0.1" + METADATA_PATH

    def token(self, key: SigningKey | None = None, *, kid: str | None = None, **overrides: Any) -> str:
        return (key or self.key).sign(okta_claims(self.idp.issuer, self.audience, **overrides), kid=kid)

    async def call(self, token: str, tool: str = "crm_search_contacts") -> httpx.Response:
        return await self.client.post("/mcp", json=modern_tools_call(tool, {}), headers=_headers(tool, token))


@pytest_asyncio.fixture(scope="module")
async def inproc(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[InProcess]:
    """The product's app in-process with its own provider and a fake clock for the JWKS cache."""
    provider = LoopbackOIDC().start()
    key = SigningKey.generate()
    provider.publish(key)
    clock = FakeClock()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("oidc-inproc"),
        auth_mode="oidc",
        auth_issuer=provider.issuer,
        auth_audience="http://127.0.0.1/mcp",
        default_plan="enterprise",
        rate_limits_enabled=False,
    )
    auth = build_auth(settings, clock=clock)
    verifier = getattr(auth, "token_verifier", None)
    assert isinstance(verifier, PinnedJWTVerifier)
    assert verifier.jwks_uri == provider.origin + LoopbackOIDC.JWKS_PATH  # from discovery
    runtime = Runtime(settings)
    app = http_app(build_gateway(runtime, auth=auth), runtime)
    try:
        async with (
            run_asgi_lifespan(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client,
        ):
            yield InProcess(client=client, idp=provider, key=key, clock=clock)
    finally:
        provider.stop()


async def test_rotation_a_new_kid_is_fetched_on_first_sight_at_most_once_per_interval(inproc: InProcess) -> None:
    await _warm(inproc)
    rotated = SigningKey.generate()
    inproc.clock.advance(JWKS_REFRESH_INTERVAL_S)  # the last refresh is long enough ago
    fetched = inproc.idp.jwks_fetches

    # Not published yet: the unknown kid triggers one refresh, which does not find it.
    assert_401(await inproc.call(inproc.token(rotated)), inproc.metadata_url)
    assert inproc.idp.jwks_fetches == fetched + 1
    # Asking again within the interval costs the provider nothing.
    assert_401(await inproc.call(inproc.token(rotated)), inproc.metadata_url)
    assert inproc.idp.jwks_fetches == fetched + 1

    # The provider publishes it; within the same interval it is still unknown (throttled) ...
    inproc.idp.publish(rotated)
    assert_401(await inproc.call(inproc.token(rotated)), inproc.metadata_url)
    assert inproc.idp.jwks_fetches == fetched + 1
    # ... and once the interval has passed the next token with that kid refreshes the set and is accepted.
    inproc.clock.advance(JWKS_REFRESH_INTERVAL_S)
    assert_ok(await inproc.call(inproc.token(rotated)))
    assert inproc.idp.jwks_fetches == fetched + 2
    # From then on both keys verify from the cache.
    assert_ok(await inproc.call(inproc.token(rotated)))
    assert_ok(await inproc.call(inproc.token()))
    assert inproc.idp.jwks_fetches == fetched + 2


async def test_rotation_a_key_published_before_first_use_is_accepted_at_once(inproc: InProcess) -> None:
    """The usual Okta rotation: the new key is in the JWKS before tokens are signed with it."""
    await _warm(inproc)
    inproc.clock.advance(JWKS_REFRESH_INTERVAL_S)
    rotated = SigningKey.generate()
    inproc.idp.publish(rotated)
    fetched = inproc.idp.jwks_fetches
    assert_ok(await inproc.call(inproc.token(rotated)))
    assert inproc.idp.jwks_fetches == fetched + 1


async def test_a_burst_of_unknown_kids_causes_one_jwks_fetch_per_interval(inproc: InProcess) -> None:
    await _warm(inproc)
    inproc.clock.advance(JWKS_REFRESH_INTERVAL_S)
    intruder = SigningKey.generate()
    fetched = inproc.idp.jwks_fetches

    def random_kid_token() -> str:
        return inproc.token(intruder, kid=f"kid-{secrets.token_hex(8)}")

    # 20 at once: concurrent misses share a single refresh.
    responses = await asyncio.gather(*(inproc.call(random_kid_token()) for _ in range(20)))
    for response in responses:
        assert_401(response, inproc.metadata_url)
    assert inproc.idp.jwks_fetches == fetched + 1
    # 20 more one after the other, same interval: nothing more.
    for _ in range(20):
        assert_401(await inproc.call(random_kid_token()), inproc.metadata_url)
    assert inproc.idp.jwks_fetches == fetched + 1
    # The known key is unaffected by the flood.
    assert_ok(await inproc.call(inproc.token()))
    # The next interval allows exactly one more.
    inproc.clock.advance(JWKS_REFRESH_INTERVAL_S)
    for _ in range(20):
        assert_401(await inproc.call(random_kid_token()), inproc.metadata_url)
    assert inproc.idp.jwks_fetches == fetched + 2


async def test_the_cache_expires_keeps_keys_through_a_failed_refresh_and_drops_withdrawn_keys(
    inproc: InProcess,
) -> None:
    # Whatever is cached is stale after an hour: the next request refreshes, so the set is loaded "now".
    inproc.clock.advance(JWKS_CACHE_TTL_S)
    assert_ok(await inproc.call(inproc.token()))
    fetched = inproc.idp.jwks_fetches
    # Within the hour: no fetch for a known key.
    inproc.clock.advance(JWKS_CACHE_TTL_S - 1)
    assert_ok(await inproc.call(inproc.token()))
    assert inproc.idp.jwks_fetches == fetched
    # After the hour: one refresh.
    inproc.clock.advance(2)
    assert_ok(await inproc.call(inproc.token()))
    assert inproc.idp.jwks_fetches == fetched + 1
    # Provider down at the next expiry: the refresh fails, the known key keeps working.
    inproc.idp.fail_jwks = True
    try:
        inproc.clock.advance(JWKS_CACHE_TTL_S + 1)
        assert_ok(await inproc.call(inproc.token()))
        assert inproc.idp.jwks_fetches == fetched + 2
    finally:
        inproc.idp.fail_jwks = False
    # A key the provider withdrew stops working once the set is refreshed.
    inproc.idp.withdraw(inproc.key.kid)
    try:
        inproc.clock.advance(JWKS_REFRESH_INTERVAL_S)
        assert_401(await inproc.call(inproc.token()), inproc.metadata_url)
        assert inproc.idp.jwks_fetches == fetched + 3
    finally:
        inproc.idp.publish(inproc.key)
        inproc.clock.advance(JWKS_REFRESH_INTERVAL_S)
        assert_ok(await inproc.call(inproc.token()))


async def test_in_process_responses_match_the_served_ones(inproc: InProcess) -> None:
    """Same contract in-process: 401 + resource_metadata for a foreign audience, metadata document served."""
    await _warm(inproc)
    assert_401(await inproc.call(inproc.token(aud="api://default")), inproc.metadata_url)
    metadata = (await inproc.client.get(METADATA_PATH)).json()
    assert metadata["resource"] == inproc.audience
    assert inproc.idp.issuer in [url.rstrip("/") for url in metadata["authorization_servers"]]


async def _warm(inproc: InProcess) -> None:
    """Make sure the key set has been loaded once (the first test to run pays the initial fetch)."""
    inproc.clock.advance(JWKS_REFRESH_INTERVAL_S)
    assert_ok(await inproc.call(inproc.token()))
