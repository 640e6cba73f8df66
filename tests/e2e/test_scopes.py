"""Over HTTP with tokens, every tool call needs the scopes its tool declares.

2026-07-28 requests are refused before dispatch with 403 insufficient_scope (the tool is named in the
Mcp-Name header); handshake-era requests get the same refusal as a tool error from the call middleware.
"""

import httpx
from fastmcp import Client

from tests.e2e.conftest import capture_arguments, result_of, text_of, unique_email
from tests.e2e.test_auth import (  # noqa: F401
    AuthServer,
    _call,
    _token,
    _tool_calls_total,
    auth_server,
)


def _assert_insufficient(response: httpx.Response, scope: str) -> None:
    assert response.status_code == 403, (response.status_code, response.text)
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and f'scope="{scope}"' in challenge
    assert "resource_metadata=" in challenge
    assert response.json()["error"] == "insufficient_scope"


def test_read_scope_allows_reads_but_not_writes(auth_server: AuthServer) -> None:  # noqa: F811
    writer = _token(auth_server, scope="crm:read crm:write")
    created = result_of(_call(auth_server, "crm_capture_lead", capture_arguments(unique_email()), writer))
    assert created.get("isError") is False, text_of(created)
    lead_id = created["structuredContent"]["lead"]["id"]

    reader = _token(auth_server, scope="crm:read")
    read = result_of(_call(auth_server, "crm_get_lead", {"lead_id": lead_id}, reader))
    assert read.get("isError") is False, text_of(read)

    before = _tool_calls_total(auth_server)
    _assert_insufficient(_call(auth_server, "crm_capture_lead", capture_arguments(unique_email()), reader), "crm:write")
    assert _tool_calls_total(auth_server) == before  # refused before any tool ran


def test_admin_tools_need_the_admin_scope(auth_server: AuthServer) -> None:  # noqa: F811
    writer = _token(auth_server, scope="crm:read crm:write")
    _assert_insufficient(_call(auth_server, "crm_set_scoring_rules", {"overrides": {}}, writer), "admin")
    admin = _token(auth_server, scope="crm:read crm:write admin")
    allowed = result_of(_call(auth_server, "crm_set_scoring_rules", {"overrides": {}}, admin))
    assert allowed.get("isError") is False, text_of(allowed)


def test_a_token_without_scopes_reaches_no_tool(auth_server: AuthServer) -> None:  # noqa: F811
    _assert_insufficient(_call(auth_server, "crm_search_contacts", {}, _token(auth_server, scope=None)), "crm:read")


async def test_handshake_era_calls_get_an_insufficient_scope_tool_error(auth_server: AuthServer) -> None:  # noqa: F811
    reader = _token(auth_server, scope="crm:read")
    async with Client(auth_server.mcp_url, auth=reader, mode="legacy") as client:
        assert not (await client.call_tool_mcp("crm_search_contacts", {})).is_error
        refused = await client.call_tool_mcp("crm_capture_lead", capture_arguments(unique_email()))
    assert refused.is_error
    text = refused.content[0].text
    assert text.startswith("insufficient_scope:") and "'crm:write'" in text
