"""HTTP authentication end to end: ``promptsales serve`` with ``PROMPTSALES_AUTH_MODE=dev`` in a real process.

Raw httpx POSTs of a modern (2026-07-28) ``tools/call`` walk the token matrix: every malformed, expired,
not-yet-valid, foreign or downgraded token gets 401 (with ``resource_metadata`` in ``WWW-Authenticate``) and
never reaches a tool (``promptsales_tool_calls_total`` does not move); a valid token works and the tenant comes
from the token, not from ``PROMPTSALES_TENANT``. Also covers the ``auth`` CLI, RFC 9728 metadata, the
unauthenticated operational routes, the refusal to serve unauthenticated on a public interface, and the
configuration errors of ``build_auth``.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwk, jwt
from prometheus_client.parser import text_string_to_metric_families

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.auth import AuthConfigError, PinnedJWTVerifier, build_auth
from promptsales.servers.dev_issuer import DEV_ISSUER, auth_dir, create_dev_keys, load_dev_private_key

from . import conftest as e2e
from .conftest import (
    MODERN,
    TENANT,
    ServerProcess,
    base_env,
    capture_arguments,
    modern_tools_call,
    result_of,
    run_cli,
    stop_all,
    text_of,
    unique_email,
)

pytestmark = pytest.mark.slow

ACCEPT = "application/json, text/event-stream"
MISSING_LEAD = "ld_00000000000000000000000000"


class AuthServer(ServerProcess):
    """A dev-auth server whose audience is its own canonical URL (known only once the port is chosen)."""

    def launch(self) -> None:
        port = e2e._free_port()
        self.env["PROMPTSALES_AUTH_AUDIENCE"] = f"http://127.0.0.1:{port}/mcp"
        with patch.object(e2e, "_free_port", return_value=port):
            super().launch()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    data_dir = tmp_path_factory.mktemp("http-auth")
    env = base_env(data_dir, PROMPTSALES_AUTH_MODE="dev")
    keys = run_cli("auth", "dev-keys", env=env)
    assert keys.returncode == 0, keys.stderr
    server = AuthServer(data_dir, env=env)
    try:
        server.start()
        yield server
    finally:
        stop_all(server)


# --------------------------------------------------------------------------------------------- helpers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(server: AuthServer, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": DEV_ISSUER,
        "aud": server.mcp_url,
        "sub": "agent-7",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "scope": "crm:read crm:write",
        "tenant": "acme",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(server: AuthServer, claims: dict[str, Any], *, kid: str | None = None, pem: str | None = None) -> str:
    """RS256 with the dev key (or ``pem``), ``kid`` = the dev key's unless given."""
    dev_pem, dev_kid = load_dev_private_key(server.data_dir)
    key = jwk.RSAKey.import_key(pem or dev_pem)
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": kid or dev_kid}, claims, key, algorithms=["RS256"])


def _token(server: AuthServer, **overrides: Any) -> str:
    return _sign(server, _claims(server, **overrides))


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_public_key(server: AuthServer) -> str:
    """The classic key-confusion forgery: HMAC keyed with the RSA public key bytes."""
    _, kid = load_dev_private_key(server.data_dir)
    public_pem = jwk.RSAKey.import_key(load_dev_private_key(server.data_dir)[0]).as_pem(private=False)
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, _claims(server)).rstrip(".")
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _other_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _call(
    server: AuthServer, tool: str, arguments: dict[str, Any], token: str | None = None, *, query: str = ""
) -> httpx.Response:
    headers = {
        "Accept": ACCEPT,
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(server.mcp_url + query, json=modern_tools_call(tool, arguments), headers=headers, timeout=30)


def _tool_calls_total(server: AuthServer) -> float:
    response = httpx.get(f"{server.base_url}/metrics", timeout=5)
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        if family.name == "promptsales_tool_calls":
            return sum(s.value for s in family.samples if s.name == "promptsales_tool_calls_total")
    return 0.0


# --------------------------------------------------------------------------------------------- the matrix


def test_no_token_is_401_with_resource_metadata(auth_server: AuthServer) -> None:
    response = _call(auth_server, "crm_capture_lead", capture_arguments(unique_email()))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    expected = f'resource_metadata="{auth_server.base_url}/.well-known/oauth-protected-resource/mcp"'
    assert expected in challenge


def test_rejected_tokens_never_reach_a_tool(auth_server: AuthServer) -> None:
    now = int(time.time())
    _, dev_kid = load_dev_private_key(auth_server.data_dir)
    cases: dict[str, tuple[str | None, str]] = {
        "no token": (None, ""),
        "malformed": ("not-a-jwt", ""),
        "garbage segments": ("a.b.c", ""),
        "expired": (_token(auth_server, iat=now - 7200, nbf=now - 7200, exp=now - 60), ""),
        "no exp": (_token(auth_server, exp=None), ""),
        "nbf in the future": (_token(auth_server, nbf=now + 3600, exp=now + 7200), ""),
        "wrong issuer": (_token(auth_server, iss="https://evil.example.com"), ""),
        "wrong audience": (_token(auth_server, aud="http://127.0.0.1:1/mcp"), ""),
        "audience api://default": (_token(auth_server, aud="api://default"), ""),
        "no audience": (_token(auth_server, aud=None), ""),
        "alg none": (_unsigned({"alg": "none", "typ": "JWT", "kid": dev_kid}, _claims(auth_server)), ""),
        "HS256 keyed with the public key": (_hs256_with_public_key(auth_server), ""),
        "unknown kid": (_sign(auth_server, _claims(auth_server), kid="not-a-known-kid"), ""),
        "foreign key, known kid": (_sign(auth_server, _claims(auth_server), pem=_other_rsa_pem()), ""),
        "token only in the query string": (None, f"?access_token={_token(auth_server)}"),
    }
    before = _tool_calls_total(auth_server)
    wrong = {}
    for label, (token, query) in cases.items():
        response = _call(auth_server, "crm_capture_lead", capture_arguments(unique_email()), token, query=query)
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or "resource_metadata=" not in challenge:
            wrong[label] = (response.status_code, challenge, response.text[:200])
    assert wrong == {}
    assert _tool_calls_total(auth_server) == before, "a request without a valid token reached a tool handler"


def test_valid_token_acts_in_the_tokens_tenant(auth_server: AuthServer) -> None:
    acme = _token(auth_server, tenant="acme")
    created = result_of(_call(auth_server, "crm_capture_lead", capture_arguments(unique_email()), acme))
    assert created.get("isError") is False, text_of(created)
    lead_id = created["structuredContent"]["lead"]["id"]

    same = result_of(_call(auth_server, "crm_get_lead", {"lead_id": lead_id}, _token(auth_server, tenant="acme")))
    assert same.get("isError") is False, text_of(same)
    assert same["structuredContent"]["id"] == lead_id

    other = result_of(_call(auth_server, "crm_get_lead", {"lead_id": lead_id}, _token(auth_server, tenant="globex")))
    assert other.get("isError") is True
    assert "not found" in text_of(other).lower()

    # The server's PROMPTSALES_TENANT is not a fallback for authenticated calls either.
    settings_tenant = result_of(
        _call(auth_server, "crm_get_lead", {"lead_id": lead_id}, _token(auth_server, tenant=TENANT))
    )
    assert settings_tenant.get("isError") is True


def test_token_without_tenant_claim_is_refused_with_guidance(auth_server: AuthServer) -> None:
    result = result_of(
        _call(auth_server, "crm_capture_lead", capture_arguments(unique_email()), _token(auth_server, tenant=None))
    )
    assert result.get("isError") is True
    assert "'tenant' claim" in text_of(result)


def test_protected_resource_metadata(auth_server: AuthServer) -> None:
    response = httpx.get(f"{auth_server.base_url}/.well-known/oauth-protected-resource/mcp", timeout=5)
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["resource"] == auth_server.mcp_url
    assert metadata["authorization_servers"] == [DEV_ISSUER]
    assert metadata["bearer_methods_supported"] == ["header"]


def test_operational_routes_need_no_token(auth_server: AuthServer) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(f"{auth_server.base_url}{path}", timeout=5).status_code == 200, path


# --------------------------------------------------------------------------------------------- CLI


def test_dev_token_cli_prints_a_token_with_the_expected_claims(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    assert run_cli("auth", "dev-keys", env=env).returncode == 0
    assert (auth_dir(tmp_path) / "dev-private-key.pem").stat().st_mode & 0o777 == 0o600
    audience = "http://127.0.0.1:9999/mcp"
    minted = run_cli(
        "auth", "dev-token", "--tenant", "acme", "--subject", "agent-1", "--scopes", "crm:read crm:write",
        "--expires-in", "120", "--audience", audience, env=env,
    )  # fmt: skip
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    jwks = json.loads((auth_dir(tmp_path) / "dev-jwks.json").read_text())
    key = jwk.RSAKey.import_key(jwks["keys"][0])
    decoded = jwt.decode(token, key, algorithms=["RS256"])
    assert decoded.header["kid"] == jwks["keys"][0]["kid"]
    claims = decoded.claims
    assert claims["iss"] == DEV_ISSUER
    assert claims["aud"] == audience
    assert claims["sub"] == "agent-1"
    assert claims["tenant"] == "acme"
    assert claims["scope"] == "crm:read crm:write"
    assert claims["exp"] - claims["iat"] == 120
    assert claims["nbf"] <= time.time() + 1


def test_dev_token_without_keys_fails_clearly(tmp_path: Path) -> None:
    result = run_cli("auth", "dev-token", "--tenant", "acme", "--subject", "s", env=base_env(tmp_path))
    assert result.returncode == 1
    assert "promptsales auth dev-keys" in result.stderr


def test_serve_refuses_public_interface_without_auth(tmp_path: Path) -> None:
    result = run_cli("serve", "--transport", "http", "--host", "0.0.0.0", "--port", "1", env=base_env(tmp_path))
    assert result.returncode == 1
    assert "without authentication" in result.stderr


def test_serve_refuses_a_non_canonical_audience(tmp_path: Path) -> None:
    env = base_env(tmp_path, PROMPTSALES_AUTH_MODE="dev", PROMPTSALES_AUTH_AUDIENCE="api://default")
    assert run_cli("auth", "dev-keys", env=env).returncode == 0
    result = run_cli("serve", "--transport", "http", "--port", "1", env=env)
    assert result.returncode == 1
    assert "PROMPTSALES_AUTH_AUDIENCE" in result.stderr


# --------------------------------------------------------------------------------------------- build_auth


def test_build_auth_none_is_no_provider(tmp_path: Path) -> None:
    assert build_auth(Settings(data_dir=tmp_path, auth_mode="none")) is None


def test_build_auth_dev_needs_keys(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError, match="promptsales auth dev-keys"):
        build_auth(Settings(data_dir=tmp_path, auth_mode="dev"))


def test_build_auth_dev_pins_rs256_issuer_and_audience(tmp_path: Path) -> None:
    create_dev_keys(tmp_path)
    provider = build_auth(Settings(data_dir=tmp_path, auth_mode="dev"))
    verifier = getattr(provider, "token_verifier", None)
    assert isinstance(verifier, PinnedJWTVerifier)
    assert verifier.algorithm == "RS256"
    assert verifier.issuer == DEV_ISSUER
    assert verifier.audience == "http://127.0.0.1:8000/mcp"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "PROMPTSALES_AUTH_ISSUER and PROMPTSALES_AUTH_AUDIENCE"),
        ({"auth_audience": "http://127.0.0.1:8000/mcp"}, "PROMPTSALES_AUTH_ISSUER"),
        ({"auth_issuer": "https://idp.example.com"}, "PROMPTSALES_AUTH_AUDIENCE"),
        ({"auth_issuer": "https://idp.example.com", "auth_audience": "api://default"}, "canonical URL"),
        ({"auth_issuer": "https://idp.example.com", "auth_audience": "https://mcp.example.com/"}, "canonical URL"),
    ],
)
def test_build_auth_oidc_names_what_is_missing(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(AuthConfigError, match=message):
        build_auth(Settings(data_dir=tmp_path, auth_mode="oidc", **overrides))  # type: ignore[arg-type]


def test_build_auth_oidc_unreachable_discovery_is_a_clear_error(tmp_path: Path) -> None:
    issuer = f"http://127.0.0.1:{e2e._free_port()}/realms/x"
    settings = Settings(
        data_dir=tmp_path, auth_mode="oidc", auth_issuer=issuer, auth_audience="https://mcp.example.com/mcp"
    )
    started = time.monotonic()
    with pytest.raises(AuthConfigError, match="OIDC discovery"):
        build_auth(settings)
    assert time.monotonic() - started < 10


def test_build_auth_oidc_with_explicit_jwks_url_skips_discovery(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        auth_mode="oidc",
        auth_issuer="https://idp.example.com",
        auth_audience="https://mcp.example.com/mcp",
        auth_jwks_url="https://idp.example.com/jwks.json",
    )
    verifier = getattr(build_auth(settings), "token_verifier", None)
    assert isinstance(verifier, PinnedJWTVerifier)
    assert verifier.jwks_uri == "https://idp.example.com/jwks.json"
    assert verifier.audience == "https://mcp.example.com/mcp"
