"""Secrets never reach a response or a log line, on every error path.

Canaries (random per run) are pushed through each way a request can go wrong, with everything logged
(``PROMPTSALES_LOG_LEVEL=debug``, ``PROMPTSALES_LOG_FORMAT=json``, ``FASTMCP_LOG_LEVEL=DEBUG``), and every response
body and header and every log line the server wrote is searched for them:

1. bad tokens (``promptsales serve`` with dev auth, a real subprocess): a JWT-looking canary, an opaque one, a
   canary ``kid``, and genuinely signed tokens carrying a canary claim (refused or accepted);
2. tool arguments with a card number and an API-key-shaped secret, stored or refused (same subprocess). A
   successful result may hand back what the caller stored; an error may not echo it;
3. an upstream 500 (in-process: the PayPal sandbox simulator lives in the process): the sandbox client secret,
   its Basic credential, the PayPal access token and the caller's MCP token;
4. the database down (in-process): a Postgres URL whose password is a canary; calls fail cleanly as unavailable
   and ``/readyz`` answers 503;
5. a live platform connection (in-process, the platform on loopback): a HubSpot private-app token and the
   deployment's OAuth client secret as canaries, through a key probe, a platform 500, a revoked token, a refused
   authorization code and a forged webhook signature.
"""

import base64
import io
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import structlog
from fastmcp.utilities.asgi_transport import run_asgi_lifespan
from joserfc import jwk, jwt

from promptsales.domain_core.business import bootstrap as business_bootstrap
from promptsales.domain_core.infrastructure.logging import CHATTY_LOGGERS, configure_logging
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.auth import build_auth
from promptsales.servers.dev_issuer import DEV_ISSUER, create_dev_keys, load_dev_private_key, mint_dev_token
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime

from . import conftest as e2e
from .conftest import (
    CALL_TIMEOUT_S,
    MODERN,
    ServerProcess,
    base_env,
    result_of,
    run_cli,
    stop_all,
    text_of,
    unique_email,
)

pytestmark = pytest.mark.slow

ACCEPT = "application/json, text/event-stream"


# --------------------------------------------------------------------------------------------- canaries


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _luhn_card(prefix: str = "4", length: int = 16) -> str:
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return body + str((10 - total % 10) % 10)


def _grouped(number: str, separator: str) -> str:
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass(frozen=True)
class Canaries:
    """Unique strings of this run; any of them in a response or log line is a leak."""

    jwt_kid: str
    jwt_payload: str
    jwt_signature: str
    opaque_token: str
    claim: str
    card: str  # digits only
    api_key: str
    paypal_secret: str
    db_password: str

    @classmethod
    def fresh(cls) -> "Canaries":
        return cls(
            jwt_kid=f"kid{secrets.token_hex(10)}",
            jwt_payload=_b64(json.dumps({"sub": f"canary-{secrets.token_hex(8)}", "tenant": "acme"}).encode()),
            jwt_signature=_b64(secrets.token_bytes(48)),
            opaque_token=f"opq{secrets.token_urlsafe(24)}",
            claim=f"claim{secrets.token_hex(12)}",
            card=_luhn_card(),
            api_key=f"sk_live_{secrets.token_hex(16)}",
            paypal_secret=f"ppsecret{secrets.token_hex(12)}",
            db_password=f"dbpw{secrets.token_hex(12)}",
        )

    @property
    def jwt(self) -> str:
        """JWT-shaped (header naming a canary kid) but signed by nobody."""
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": self.jwt_kid}).encode())
        return f"{header}.{self.jwt_payload}.{self.jwt_signature}"

    @property
    def card_spaced(self) -> str:
        return _grouped(self.card, " ")

    @property
    def card_dashed(self) -> str:
        return _grouped(self.card, "-")

    def strings(self) -> dict[str, str]:
        fields = {name: value for name, value in vars(self).items() if name != "card"}
        return {**fields, "jwt": self.jwt, "card spaced": self.card_spaced, "card dashed": self.card_dashed}

    def found_in(self, text: str, *extra: str) -> list[str]:
        """The canaries (and ``extra`` secrets) that occur in ``text``; a card counts in any grouping."""
        hits = [name for name, value in self.strings().items() if value in text]
        if self.card in re.sub(r"\D", "", text):
            hits.append("card digits")
        return hits + [f"extra[{i}]" for i, value in enumerate(extra) if value and value in text]


CANARIES = Canaries.fresh()


def response_text(response: httpx.Response) -> str:
    """Everything a client receives: status line, headers and body."""
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return f"{response.status_code}\n{headers}\n\n{response.text}"


# --------------------------------------------------------------------------------------------- requests


def _headers(tool: str, token: str | None) -> dict[str, str]:
    headers = {
        "Accept": ACCEPT,
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _body(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": meta},
    }


# --------------------------------------------------------------------------------------------- the served product


class CanaryServer(ServerProcess):
    """Dev-auth ``promptsales serve`` logging everything as JSON; audience = its own URL (port chosen first)."""

    responses: list[httpx.Response]

    def launch(self) -> None:
        port = e2e._free_port()
        self.env["PROMPTSALES_AUTH_AUDIENCE"] = f"http://127.0.0.1:{port}/mcp"
        with patch.object(e2e, "_free_port", return_value=port):
            super().launch()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": DEV_ISSUER,
            "aud": self.mcp_url,
            "sub": "agent-7",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "scope": "crm:read crm:write",
            "tenant": "acme",
        }
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        pem, dev_kid = load_dev_private_key(self.data_dir)
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or dev_kid}
        return jwt.encode(header, claims, jwk.RSAKey.import_key(pem), algorithms=["RS256"])

    def token(self, **overrides: Any) -> str:
        return self.sign(self.claims(**overrides))

    def call(self, tool: str, arguments: dict[str, Any], token: str | None, *, query: str = "") -> httpx.Response:
        response = httpx.post(
            self.mcp_url + query, json=_body(tool, arguments), headers=_headers(tool, token), timeout=CALL_TIMEOUT_S
        )
        self.responses.append(response)
        return response


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryServer]:
    data_dir = tmp_path_factory.mktemp("canaries")
    env = base_env(
        data_dir,
        PROMPTSALES_AUTH_MODE="dev",
        PROMPTSALES_LOG_LEVEL="debug",
        PROMPTSALES_LOG_FORMAT="json",
        FASTMCP_LOG_LEVEL="DEBUG",
    )
    keys = run_cli("auth", "dev-keys", env=env)
    assert keys.returncode == 0, keys.stderr
    process = CanaryServer(data_dir, env=env)
    process.responses = []
    try:
        process.start()
        yield process
    finally:
        stop_all(process)


def assert_clean_log(server: CanaryServer, *extra: str) -> None:
    log = server.log_text()
    assert log.strip(), "the server logged nothing: the check would be vacuous"
    leaks = {
        f"line {number}": CANARIES.found_in(line, *extra)
        for number, line in enumerate(log.splitlines(), 1)
        if CANARIES.found_in(line, *extra)
    }
    assert leaks == {}, f"canaries in the server log: {leaks}"
    # Lines split by a renderer could hide a canary from a per-line search; search the whole text too.
    assert CANARIES.found_in(log, *extra) == []


def assert_clean_response(response: httpx.Response, *extra: str) -> None:
    leaked = CANARIES.found_in(response_text(response), *extra)
    assert leaked == [], f"{leaked} in the response: {response_text(response)[:500]}"


# --------------------------------------------------------------------------------------------- 1. bad tokens


def test_bad_tokens_leave_no_trace(server: CanaryServer) -> None:
    now = int(time.time())
    refused = {
        "JWT-looking canary": (CANARIES.jwt, ""),
        "opaque canary": (CANARIES.opaque_token, ""),
        "signed, canary kid": (server.sign(server.claims(), kid=CANARIES.jwt_kid), ""),
        "signed, canary claim, wrong audience": (server.token(aud="http://127.0.0.1:1/mcp", x_note=CANARIES.claim), ""),
        "signed, canary claim, expired": (server.token(exp=now - 60, iat=now - 600, x_note=CANARIES.claim), ""),
        # (fastmcp logs the subject of a refused token, "client agent-7": an identifier, not a secret)
        "signed, canary claim, another issuer": (
            server.token(iss="https://evil.example.com", x_note=CANARIES.claim),
            "",
        ),
        "canary in the query string": (None, f"?access_token={CANARIES.opaque_token}"),
    }
    for label, (token, query) in refused.items():
        response = server.call("crm_search_contacts", {}, token, query=query)
        assert response.status_code == 401, (label, response.status_code, response.text[:200])
        assert_clean_response(response)
    assert_clean_log(server)


def test_claims_of_an_accepted_token_are_not_logged(server: CanaryServer) -> None:
    token = server.token(x_note=CANARIES.claim, x_api_key=CANARIES.api_key)
    response = server.call("crm_search_contacts", {}, token)
    assert result_of(response).get("isError") is False
    assert_clean_response(response)
    assert_clean_log(server, token)


# --------------------------------------------------------------------------------------------- 2. arguments


def test_cards_and_keys_in_tool_arguments_never_reach_the_logs(server: CanaryServer) -> None:
    token = server.token()
    # Stored: the tool's own result may give the caller's data back; the logs may not have it.
    created = result_of(
        server.call(
            "crm_capture_lead",
            {"source_channel": "web_form", "email": unique_email(), "company": f"Acme {CANARIES.api_key}"},
            token,
        )
    )
    assert created.get("isError") is False, text_of(created)
    contact_id = created["structuredContent"]["contact"]["id"]
    logged = result_of(
        server.call(
            "crm_log_interaction",
            {
                "contact_id": contact_id,
                "channel": "chat",
                "direction": "inbound",
                "summary": f"Customer read out card {CANARIES.card_spaced} and key {CANARIES.api_key}",
                "transcript": f"agent: go ahead\ncustomer: {CANARIES.card_dashed}, cvv 123\ncustomer: {CANARIES.card}",
            },
            token,
        )
    )
    assert logged.get("isError") is False, text_of(logged)

    # Refused: the error names the problem without echoing the secret.
    refused: dict[str, dict[str, Any]] = {
        "bad enum next to secrets": {
            "source_channel": "carrier-pigeon",
            "company": f"Acme {CANARIES.api_key}",
            "campaign_ref": CANARIES.card_spaced,
        },
        "unexpected argument named password": {
            "source_channel": "web_form",
            "email": unique_email(),
            "password": CANARIES.api_key,
        },
        "unexpected argument with a card": {
            "source_channel": "web_form",
            "email": unique_email(),
            "notes": CANARIES.card,
        },
        "secret as the email": {"source_channel": "web_form", "email": CANARIES.api_key},
        "card as the email": {"source_channel": "web_form", "email": f"{CANARIES.card}@"},
        "oversized company with a secret": {
            "source_channel": "web_form",
            "email": unique_email(),
            "company": "x" * 300 + CANARIES.api_key,
        },
        "tag too long with a card": {
            "source_channel": "web_form",
            "email": unique_email(),
            "tags": [CANARIES.card_dashed * 4],
        },
    }
    for label, arguments in refused.items():
        response = server.call("crm_capture_lead", arguments, token)
        result = result_of(response)
        assert result.get("isError") is True, (label, text_of(result))
        assert_clean_response(response)
    wrong_ids = server.call(
        "crm_log_interaction",
        {"contact_id": CANARIES.api_key, "channel": "chat", "direction": "inbound", "summary": CANARIES.card_spaced},
        token,
    )
    assert result_of(wrong_ids).get("isError") is True
    assert_clean_response(wrong_ids)
    assert_clean_log(server)


def test_campaign_tokens_and_secrets_in_arguments_never_reach_an_error_or_the_logs(server: CanaryServer) -> None:
    token = server.token(scope="campaigns:read campaigns:write campaigns:approve")
    goal = {
        "name": "Canary campaign",
        "objective": "leads",
        "product": f"Accounting software {CANARIES.api_key}",  # stored: the answer may give it back, logs may not
        "markets": [{"country": "ES", "languages": ["es"]}],
        "start_date": "2030-03-01",
        "end_date": "2030-03-31",
        "landing_url": "https://books.example/es",
        "budget": 3000,
        "currency": "EUR",
    }
    planned = result_of(server.call("campaigns_plan_campaign", goal, token))
    assert planned.get("isError") is False, text_of(planned)
    campaign_id = planned["structuredContent"]["id"]
    refused: dict[str, tuple[str, dict[str, Any]]] = {
        "a secret as the confirmation token": (
            "campaigns_activate_campaign",
            {"campaign_id": campaign_id, "confirmation_token": CANARIES.api_key},
        ),
        "a card as the budget confirmation": (
            "campaigns_update_budget",
            {"campaign_id": campaign_id, "daily_budget": 50, "reason": "r", "confirmation_token": CANARIES.card},
        ),
        "a secret as the campaign id": ("campaigns_get_campaign", {"campaign_id": CANARIES.api_key}),
        "a card in a rejected approval": (
            "campaigns_approve_campaign",
            {"campaign_id": campaign_id, "decision": "maybe", "note": f"card {CANARIES.card_spaced}"},
        ),
        "a secret as a change id": (
            "campaigns_rollback_change",
            {"campaign_id": campaign_id, "change_id": f"chg_{CANARIES.api_key}", "reason": "undo"},
        ),
        "a secret as the insights campaign": ("campaigns_get_insights", {"campaign_ids": [CANARIES.api_key]}),
        "a secret as the insights cursor": ("campaigns_get_insights", {"cursor": CANARIES.api_key}),
        "a secret as an experiment id": ("campaigns_get_experiment_results", {"experiment_id": CANARIES.api_key}),
        "a card as the contact shown a variant": (
            "campaigns_assign_variant",
            {"experiment_id": "exp_01ARZ3NDEKTSV4RRFFQ69G5FAV", "contact_id": CANARIES.card},
        ),
        "a card as an experiment's baseline": (
            "campaigns_create_experiment",
            {
                "name": f"card {CANARIES.card_spaced}",
                "subject": "email",
                "variants": [{"key": "a"}, {"key": "b"}],
                "primary_metric": "customer",
                "minimum_detectable_effect": 0.1,
                "baseline": CANARIES.card,
                "units_per_day": 100,
            },
        ),
    }
    for label, (tool, arguments) in refused.items():
        response = server.call(tool, arguments, token)
        result = result_of(response)
        assert result.get("isError") is True, (label, text_of(result))
        assert_clean_response(response)
    assert_clean_log(server)


def test_a_card_sent_as_a_phone_number_is_not_echoed_in_the_error(server: CanaryServer) -> None:
    response = server.call(
        "crm_capture_lead", {"source_channel": "web_form", "phone": CANARIES.card_spaced}, server.token()
    )
    assert result_of(response).get("isError") is True
    try:
        assert_clean_response(response)
    finally:
        assert_clean_log(server)  # the log stays clean either way


# --------------------------------------------------------------------------------------------- in-process capture


@dataclass
class CapturedLogs:
    """What an in-process server logged: structlog's rendered JSON lines and every stdlib record."""

    stream: io.StringIO
    caplog: pytest.LogCaptureFixture

    def text(self) -> str:
        records = "\n".join(
            f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in self.caplog.records
        )
        return f"{self.stream.getvalue()}\n{self.caplog.text}\n{records}"

    def assert_clean(self, *extra: str) -> None:
        text = self.text()
        assert text.strip(), "nothing was logged: the check would be vacuous"
        leaked = CANARIES.found_in(text, *extra)
        assert leaked == [], f"{leaked} in the logs:\n{text[-4000:]}"


@pytest.fixture
def server_logs(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[CapturedLogs]:
    """The product's logging (configure_logging at debug, JSON) writing into a buffer; restored afterwards.

    sys.stderr is swapped before configuring, so structlog's printer and fastmcp's rich handlers (which look
    stderr up when they write) land in the buffer; stdlib records that propagate are also in ``caplog``.
    """
    stream = io.StringIO()
    saved_structlog = structlog.get_config()
    saved_factory = logging.getLogRecordFactory()
    touched = ["", "fastmcp", "fastmcp.server.server", *CHATTY_LOGGERS]
    saved_levels = {name: logging.getLogger(name).level for name in touched}
    saved_root_handlers = list(logging.getLogger().handlers)  # basicConfig adds one when pytest's are absent
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("debug", "json")
    structlog.configure(cache_logger_on_first_use=False)  # no logger may keep this buffer after the test
    logging.getLogger("fastmcp").setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        yield CapturedLogs(stream=stream, caplog=caplog)
    finally:
        structlog.reset_defaults()
        structlog.configure(**saved_structlog)
        logging.setLogRecordFactory(saved_factory)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        logging.getLogger().handlers[:] = saved_root_handlers


# --------------------------------------------------------------------------------------------- 3. upstream 500


async def test_a_paypal_500_leaks_neither_paypal_credentials_nor_the_mcp_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_logs: CapturedLogs
) -> None:
    monkeypatch.setattr(business_bootstrap, "SANDBOX_CLIENT_SECRET", CANARIES.paypal_secret)
    audience = "http://127.0.0.1/mcp"
    create_dev_keys(tmp_path)
    settings = Settings(
        data_dir=tmp_path,
        auth_mode="dev",
        auth_audience=audience,
        default_plan="free",
        paypal_mode="sandbox",
        rate_limits_enabled=False,
        log_level="debug",
        log_format="json",
    )
    token = mint_dev_token(
        tmp_path, tenant="acme", subject="agent-7", scopes="billing:manage business:read", audience=audience
    )
    basic = base64.b64encode(f"{business_bootstrap.SANDBOX_CLIENT_ID}:{CANARIES.paypal_secret}".encode()).decode()
    runtime = Runtime(settings)
    app = http_app(build_gateway(runtime, auth=build_auth(settings)), runtime)
    async with (
        run_asgi_lifespan(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client,
    ):
        simulator = runtime.paypal_simulator
        assert simulator is not None
        simulator.fail_next(500, times=10)
        response = await client.post(
            "/mcp",
            json=_body("business_start_checkout", {"plan": "pro"}),
            headers=_headers("business_start_checkout", token),
        )
        result = result_of(response)
        assert result.get("isError") is True, text_of(result)
        assert "PayPal" in text_of(result)  # the caller learns what failed
        # The client did fetch a PayPal access token (the faults hit only the API calls): find it.
        bearer = [r.headers.get("authorization", "") for r in simulator.requests if r.path != "/v1/oauth2/token"]
        access_tokens = {value.split(" ", 1)[1] for value in bearer if value.startswith("Bearer ")}
        assert access_tokens, "the scenario never used a PayPal access token"
        secrets_in_play = (CANARIES.paypal_secret, basic, token, *access_tokens)
        assert_clean_response(response, *secrets_in_play)
        # The MCP token stays with us: PayPal (the simulator) never sees it.
        for request in simulator.requests:
            assert token not in json.dumps(request.headers) + request.body.decode("latin-1")
    assert "paypal.retry" in server_logs.text()  # the retries were logged ...
    server_logs.assert_clean(*secrets_in_play)  # ... without any credential


# --------------------------------------------------------------------------------------------- 4. database down


async def test_a_database_that_is_down_fails_cleanly_without_its_password(
    tmp_path: Path, server_logs: CapturedLogs
) -> None:
    url = f"postgresql+psycopg://canaryuser:{CANARIES.db_password}@127.0.0.1:1/x"
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        default_plan="enterprise",
        rate_limits_enabled=False,
        outbox_poll_seconds=0.05,
        log_level="debug",
        log_format="json",
        database_reconnect_seconds=0.2,  # nothing comes back on port 1: do not wait out a failover per call
    )
    runtime = Runtime(settings)
    app = http_app(build_gateway(runtime), runtime)
    responses: list[httpx.Response] = []
    async with (
        run_asgi_lifespan(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client,
    ):
        for tool, arguments in (
            ("crm_search_contacts", {}),
            ("crm_capture_lead", {"source_channel": "web_form", "email": unique_email()}),
            ("business_get_subscription", {}),
        ):
            response = await client.post("/mcp", json=_body(tool, arguments), headers=_headers(tool, None))
            responses.append(response)
            result = result_of(response)
            assert result.get("isError") is True, (tool, text_of(result))
            message = text_of(result)
            assert "database" in message.lower() and "retry" in message.lower(), message
            assert "Internal error" not in message and "psycopg" not in message.lower(), message
        ready = await client.get("/readyz")
        responses.append(ready)
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable"}
    for response in responses:
        assert_clean_response(response)
    assert "canaryuser" not in "".join(r.text for r in responses)
    server_logs.assert_clean()


# --------------------------------------------------------------------------------------------- 5. live platforms


async def test_live_platform_credentials_never_reach_a_response_or_a_log(
    tmp_path: Path, server_logs: CapturedLogs
) -> None:
    from promptsales.domain_core.integrations.hubspot.simulator import HubSpotSimulator
    from promptsales.domain_core.integrations.oauth.simulator import OAuthSimulator

    platform_key = f"pat-na1-{secrets.token_hex(16)}"
    client_secret = f"hs-secret-{secrets.token_hex(16)}"
    api = HubSpotSimulator(tokens={platform_key: 4242})
    oauth = OAuthSimulator(
        client_id="hs-client", client_secret=client_secret, token_path="/oauth/v1/token", on_grant=api.grant
    )

    async def hubapi(scope: Any, receive: Any, send: Any) -> None:
        await (oauth.app if scope.get("path", "").startswith("/oauth/") else api.app)(scope, receive, send)

    settings = Settings(
        data_dir=tmp_path,
        default_plan="enterprise",
        rate_limits_enabled=False,
        log_level="debug",
        log_format="json",
        integrations_apps=json.dumps({"hubspot": {"client_id": "hs-client", "client_secret": client_secret}}),
    )
    runtime = Runtime(settings, integrations_transport=httpx.ASGITransport(app=hubapi))
    app = http_app(build_gateway(runtime), runtime)
    secrets_in_play = (platform_key, client_secret, platform_key.removeprefix("pat-na1-"))
    responses: list[httpx.Response] = []
    async with (
        run_asgi_lifespan(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client,
    ):

        async def call(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            response = await client.post("/mcp", json=_body(tool, arguments), headers=_headers(tool, None))
            responses.append(response)
            return result_of(response)

        connected = await call("integrations_connect", {"platform": "hubspot", "mode": "live", "api_key": platform_key})
        assert connected.get("isError") is not True, text_of(connected)
        api.fail_next(500, times=10)
        failed = await call("integrations_test_connection", {"platform": "hubspot"})
        assert "HubSpot" in text_of(failed)
        api.revoke(platform_key)
        revoked = await call("integrations_test_connection", {"platform": "hubspot"})
        assert "needs_reauth" in text_of(revoked)
        wrong_key = await call("integrations_connect", {"platform": "hubspot", "mode": "live", "api_key": platform_key})
        assert wrong_key.get("isError") is True, text_of(wrong_key)
        started = await call("integrations_connect", {"platform": "hubspot", "mode": "live"})
        state = parse_qs(urlsplit(started["structuredContent"]["authorization_url"]).query)["state"][0]
        responses.append(await client.get("/oauth/callback/hubspot", params={"state": state, "code": "refused-code"}))
        assert responses[-1].status_code == 400
        forged = await client.post(
            "/webhooks/hubspot",
            content=json.dumps([{"eventId": 1, "portalId": 4242}]).encode(),
            headers={
                "x-hubspot-signature-v3": client_secret,
                "x-hubspot-request-timestamp": str(int(time.time() * 1000)),
            },
        )
        responses.append(forged)
        assert forged.status_code == 401
    for response in responses:
        assert_clean_response(response, *secrets_in_play)
    assert "integrations.http.retry" in server_logs.text()  # the platform 500s were retried and logged ...
    server_logs.assert_clean(*secrets_in_play)


async def test_live_whatsapp_credentials_never_reach_a_response_or_a_log(
    tmp_path: Path, server_logs: CapturedLogs
) -> None:
    from promptsales.domain_core.integrations.whatsapp.simulator import WhatsAppSimulator

    number = "106540352242922"
    token = f"EAAG{secrets.token_hex(20)}"
    app_secret = f"wa-secret-{secrets.token_hex(16)}"
    verify_token = f"wa-verify-{secrets.token_hex(16)}"
    api = WhatsAppSimulator(tokens={token: number}, app_secret=app_secret)
    apps = {"whatsapp": {"client_id": "1234", "client_secret": app_secret, "webhook_secret": verify_token}}
    settings = Settings(
        data_dir=tmp_path,
        default_plan="enterprise",
        rate_limits_enabled=False,
        log_level="debug",
        log_format="json",
        integrations_apps=json.dumps(apps),
    )
    runtime = Runtime(settings, integrations_transport=httpx.ASGITransport(app=api.app))
    app = http_app(build_gateway(runtime), runtime)
    secrets_in_play = (token, app_secret, verify_token)
    responses: list[httpx.Response] = []
    async with (
        run_asgi_lifespan(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client,
    ):

        async def call(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            response = await client.post("/mcp", json=_body(tool, arguments), headers=_headers(tool, None))
            responses.append(response)
            return result_of(response)

        live = {"platform": "whatsapp", "mode": "live", "api_key": token, "phone_number_id": number}
        connected = await call("integrations_connect", live)
        assert connected.get("isError") is not True, text_of(connected)
        consent = {"whatsapp": {"granted": True, "source": "web_form"}}
        contact = await call("crm_create_contact", {"first_name": "Ana", "phone": "+14155550100", "consent": consent})
        contact_id = contact["structuredContent"]["id"]
        api.fail_next(500, after_apply=True)
        unconfirmed = await call(
            "integrations_send_message", {"contact_id": contact_id, "template_name": "hello_world"}
        )
        assert unconfirmed["structuredContent"]["status"] == "unconfirmed", text_of(unconfirmed)
        api.revoke(token)
        revoked = await call("integrations_send_message", {"contact_id": contact_id, "template_name": "hello_world"})
        assert revoked.get("isError") is True and "integrations" in text_of(revoked)
        refused = await call("integrations_connect", live)
        assert refused.get("isError") is True, text_of(refused)
        forged = await client.post(
            "/webhooks/whatsapp",
            content=b'{"object":"whatsapp_business_account","entry":[]}',
            headers={"x-hub-signature-256": "sha256=" + app_secret},
        )
        responses.append(forged)
        assert forged.status_code == 401
        query = {"hub.mode": "subscribe", "hub.verify_token": verify_token[:-1], "hub.challenge": "7"}
        responses.append(await client.get("/webhooks/whatsapp", params=query))
        assert responses[-1].status_code == 403
    for response in responses:
        assert_clean_response(response, *secrets_in_play)
    server_logs.assert_clean(*secrets_in_play)
