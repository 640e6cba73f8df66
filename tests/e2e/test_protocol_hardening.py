"""The HTTP face after hardening, against real ``promptsales serve`` processes with ``PROMPTSALES_AUTH_MODE=dev``.

* OAuth metadata follows the actual bind when neither PROMPTSALES_AUTH_AUDIENCE nor PROMPTSALES_PUBLIC_URL is set
  (and names the public URL when it is), lists every scope a tool needs, and ``promptsales auth dev-token``
  mints tokens for that same URL;
* tools/list shows only the tools the token's scopes can call;
* bodies over the transport's limit get HTTP 413 with a JSON-RPC error naming the limit, whether the size is
  declared or streamed, while a call at a string's maxLength still fits;
* NUL and lone surrogates sent as JSON escapes, in values and in object keys, are refused naming the field,
  without the refusal sending the unsendable text back.
"""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastmcp import Client

from promptsales.servers.body_limit import MAX_BODY_BYTES
from promptsales.servers.dev_issuer import DEFAULT_AUDIENCE
from promptsales.servers.scopes import required_scopes

from .conftest import (
    ServerProcess,
    base_env,
    modern_tools_call,
    result_of,
    run_cli,
    stop_all,
    text_of,
    unique_email,
)
from .test_auth import ACCEPT, _call, _token

pytestmark = pytest.mark.slow

PUBLIC_URL = "https://mcp.example.com"
METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"
# Scopes the suite's tools declare today (the servers tests check the catalogue against every served tool).
KNOWN_SCOPES = {
    "crm:read",
    "crm:write",
    "business:read",
    "billing:manage",
    "content:read",
    "content:write",
    "content:generate",
    "campaigns:read",
    "campaigns:write",
    "campaigns:approve",
    "admin",
}
INVALID_REQUEST = -32600
# Python's csv module refuses longer cells (csv.field_size_limit() default).
CSV_CELL_MAX = 120_000
EMOJI = "\U0001f600"  # four bytes in UTF-8: the widest a character can be on the wire


def _dev_auth_server(data_dir: Path, **settings: str) -> Iterator[ServerProcess]:
    """A dev-auth server without PROMPTSALES_AUTH_AUDIENCE, with its dev keys, stopped afterwards."""
    server = ServerProcess(data_dir, env=base_env(data_dir, PROMPTSALES_AUTH_MODE="dev", **settings))
    keys = run_cli("auth", "dev-keys", env=server.env)
    assert keys.returncode == 0, keys.stderr
    try:
        server.start()
        yield server
    finally:
        stop_all(server)


@pytest.fixture(scope="module")
def bound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """No audience, no public URL: its canonical URL is the address it listens on."""
    yield from _dev_auth_server(tmp_path_factory.mktemp("bound"))


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """PROMPTSALES_PUBLIC_URL set: its canonical URL is the public one (started alone: the box may be busy)."""
    yield from _dev_auth_server(tmp_path_factory.mktemp("public"), PROMPTSALES_PUBLIC_URL=PUBLIC_URL)


def _challenge_metadata_url(server: ServerProcess) -> str:
    """The resource_metadata URL of the 401 a call without a token gets."""
    response = _call(server, "crm_search_contacts", {})
    assert response.status_code == 401, (response.status_code, response.text)
    challenge = response.headers["www-authenticate"]
    marker = 'resource_metadata="'
    assert marker in challenge, challenge
    return challenge.split(marker, 1)[1].split('"', 1)[0]


def _metadata(server: ServerProcess) -> dict[str, Any]:
    """The RFC 9728 metadata document, read from the server's own address."""
    response = httpx.get(server.base_url + METADATA_PATH, timeout=5)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def _listed_tools(server: ServerProcess, scopes: str, mode: str) -> dict[str, set[str]]:
    """Tool name -> the scopes its tags require, as tools/list shows them to a token with ``scopes``."""
    token = _token(server, scope=scopes)
    async with Client(server.mcp_url, auth=token, mode=mode) as client:
        tools = (await client.list_tools_mcp()).tools
    return {tool.name: set(required_scopes((tool.meta or {})["fastmcp"]["tags"])) for tool in tools}


def _post_mcp(server: ServerProcess, body: bytes | Iterator[bytes], tool: str, token: str) -> httpx.Response:
    """A raw 2026-07-28 tools/call POST of ``body`` (bytes: with content-length; an iterator: chunked)."""
    headers = {
        "Accept": ACCEPT,
        "Content-Type": "application/json",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
        "Authorization": f"Bearer {token}",
    }
    return httpx.post(server.mcp_url, content=body, headers=headers, timeout=60)


def _tools_call(tool: str, arguments: dict[str, Any], *, ensure_ascii: bool = False) -> bytes:
    """A tools/call body as UTF-8 JSON (``ensure_ascii``: non-ASCII sent as \\u escapes, as some clients do)."""
    return json.dumps(modern_tools_call(tool, arguments), ensure_ascii=ensure_ascii).encode("utf-8")


def _assert_body_limit_error(response: httpx.Response) -> None:
    assert response.status_code == 413, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    message = response.json()
    assert message["jsonrpc"] == "2.0" and message["id"] is None, message
    assert message["error"]["code"] == INVALID_REQUEST, message
    assert f"{MAX_BODY_BYTES} bytes" in message["error"]["message"], message


def _csv_near(length: int) -> str:
    """A valid lead CSV of at most ``length`` characters (and less than 100 short), nearly all four-byte emoji.

    The emoji sit in an unknown column (ignored by the import), a few rows of big cells, so the call is cheap.
    """
    text = "email,first_name,notes\n"
    batch = uuid.uuid4().hex[:8]
    row = 0
    while True:
        prefix = f"near{row}.{batch}@e2e.example.com,Ada,"
        room = length - len(text) - len(prefix) - 1
        if room < 1:
            return text
        text += prefix + EMOJI * min(room, CSV_CELL_MAX) + "\n"
        row += 1


# --------------------------------------------------------------------------------------------- A7: metadata


def test_the_metadata_names_the_port_actually_bound(bound: ServerProcess) -> None:
    assert bound.port != 8000  # the settings' default port: the case the old code got wrong
    metadata_url = _challenge_metadata_url(bound)
    assert metadata_url == bound.base_url + METADATA_PATH
    assert _metadata(bound)["resource"] == bound.mcp_url


def test_the_metadata_lists_every_scope_a_tool_needs(bound: ServerProcess) -> None:
    advertised = _metadata(bound).get("scopes_supported") or []
    assert set(advertised) >= KNOWN_SCOPES, sorted(KNOWN_SCOPES - set(advertised))


async def test_a_token_granted_the_advertised_scopes_sees_a_tool_of_each_kind(bound: ServerProcess) -> None:
    advertised = set(_metadata(bound)["scopes_supported"])
    tools = await _listed_tools(bound, " ".join(sorted(advertised)), "auto")
    one_per_scope = {
        "crm_get_lead": {"crm:read"},
        "crm_capture_lead": {"crm:write"},
        "crm_set_scoring_rules": {"crm:write", "admin"},
        "business_get_usage": {"business:read"},
        "business_start_checkout": {"billing:manage"},
        "content_get_asset": {"content:read"},
        "content_submit_asset": {"content:write"},
        "content_generate_copy": {"content:generate"},
        "campaigns_get_campaign": {"campaigns:read"},
        "campaigns_plan_campaign": {"campaigns:write"},
        "campaigns_approve_campaign": {"campaigns:approve"},
        "campaigns_set_spend_caps": {"campaigns:write", "admin"},
    }
    assert {name: tools.get(name) for name in one_per_scope} == one_per_scope


def test_a_dev_token_minted_with_the_served_port_is_accepted(bound: ServerProcess) -> None:
    env = {**bound.env, "PROMPTSALES_HTTP_PORT": str(bound.port)}
    minted = run_cli("auth", "dev-token", "--tenant", "acme", "--subject", "agent-1", "--scopes", "crm:read", env=env)
    assert minted.returncode == 0, minted.stderr
    answered = result_of(_call(bound, "crm_search_contacts", {}, minted.stdout.strip()))
    assert answered.get("isError") is False, text_of(answered)
    # A token for the default port names another server: this one refuses it.
    assert _call(bound, "crm_search_contacts", {}, _token(bound, aud=DEFAULT_AUDIENCE)).status_code == 401


def test_a_public_url_is_the_canonical_resource(public: ServerProcess) -> None:
    assert _metadata(public)["resource"] == f"{PUBLIC_URL}/mcp"
    assert _challenge_metadata_url(public) == PUBLIC_URL + METADATA_PATH


# --------------------------------------------------------------------------------------------- B2: tools/list


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_list_shows_only_what_the_token_can_call(bound: ServerProcess, mode: str) -> None:
    reader = await _listed_tools(bound, "crm:read", mode)
    assert {"crm_get_lead", "crm_search_contacts", "crm_list_leads"} <= set(reader)
    assert {name: needed for name, needed in reader.items() if needed != {"crm:read"}} == {}

    writer = await _listed_tools(bound, "crm:read crm:write", mode)
    assert {"crm_capture_lead", "crm_update_lead", "crm_import_leads"} <= set(writer)
    assert set(reader) < set(writer)
    assert all(name.startswith("crm_") for name in writer), sorted(writer)
    assert "crm_set_scoring_rules" not in writer  # it needs admin too


# --------------------------------------------------------------------------------------------- A6: body limit


def test_a_body_declared_over_the_limit_gets_a_json_rpc_error(bound: ServerProcess) -> None:
    body = _tools_call("crm_import_leads", {"csv_text": "x" * MAX_BODY_BYTES})
    assert len(body) > MAX_BODY_BYTES
    token = _token(bound, scope="crm:read crm:write")
    _assert_body_limit_error(_post_mcp(bound, body, "crm_import_leads", token))


def test_a_streamed_body_over_the_limit_gets_a_json_rpc_error(bound: ServerProcess) -> None:
    body = _tools_call("crm_import_leads", {"csv_text": "x" * MAX_BODY_BYTES})
    chunks = (body[start : start + 65_536] for start in range(0, len(body), 65_536))
    token = _token(bound, scope="crm:read crm:write")
    response = _post_mcp(bound, chunks, "crm_import_leads", token)
    assert "content-length" not in response.request.headers  # really streamed (chunked)
    _assert_body_limit_error(response)


async def test_a_call_at_a_strings_max_length_still_fits_the_body_limit(bound: ServerProcess) -> None:
    token = _token(bound, scope="crm:read crm:write")
    async with Client(bound.mcp_url, auth=token) as client:
        schema = next(t for t in await client.list_tools() if t.name == "crm_import_leads").input_schema
    max_length = schema["properties"]["csv_text"]["maxLength"]
    csv_text = _csv_near(max_length)
    assert max_length - 100 < len(csv_text) <= max_length
    body = _tools_call("crm_import_leads", {"csv_text": csv_text})
    assert 0.9 * MAX_BODY_BYTES < len(body) <= MAX_BODY_BYTES

    report = result_of(_post_mcp(bound, body, "crm_import_leads", token))
    assert report.get("isError") is False, text_of(report)
    rows = csv_text.count("\n") - 1
    assert report["structuredContent"]["total_rows"] == rows
    assert report["structuredContent"]["created"] == rows, report["structuredContent"]


# --------------------------------------------------------------------------------------------- A3 over the wire


@pytest.mark.parametrize(
    ("arguments", "field", "problem"),
    [
        ({"first_name": "Ada\u0000"}, "first_name", "NUL"),
        ({"attributes": {"plan": ["pro", "x\u0000"]}}, "attributes.plan.1", "NUL"),
        ({"attributes": {"ke\u0000y": "v"}}, "attributes.ke", "NUL"),
        ({"last_name": "Lovelace\ud800"}, "last_name", "surrogate"),
        ({"attributes": {"ke\udfffy": "v"}}, "attributes.ke", "surrogate"),
        ({"idempotency_key": "key-\u0000"}, "idempotency_key", "NUL"),
    ],
    ids=["nul", "nul-in-list-item", "nul-in-key", "surrogate", "surrogate-in-key", "nul-in-idempotency-key"],
)
def test_unstorable_text_sent_as_json_escapes_is_refused_naming_the_field(
    bound: ServerProcess, arguments: dict[str, Any], field: str, problem: str
) -> None:
    token = _token(bound, scope="crm:read crm:write")
    body = _tools_call("crm_create_contact", {"email": unique_email(), **arguments}, ensure_ascii=True)
    result = result_of(_post_mcp(bound, body, "crm_create_contact", token))
    text = text_of(result)
    assert result.get("isError") is True, result
    assert "Internal error" not in text
    assert field in text and problem in text, text
    # The refusal names the field without sending the unsendable text back (strict JSON parsers reject it).
    echoed = [f"U+{ord(char):04X}" for char in text if 0xD800 <= ord(char) <= 0xDFFF]
    assert not echoed, f"the refusal echoes lone surrogates {echoed}: {text!a}"
