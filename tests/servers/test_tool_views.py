"""What a client sees, per connection, over streamable HTTP (the official client against the real ASGI app):
per-context endpoints, ``?toolsets=/tools=/read_only=`` and ``X-MCP-*`` selections, compact mode's meta-tools,
with dev-auth scopes and plan entitlements applied exactly as on the plain endpoint."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fastmcp import Client
from fastmcp.utilities.asgi_transport import run_asgi_lifespan
from fastmcp.utilities.tests import ASGIServer
from mcp.types import CallToolResult

from promptsales.domain_core.infrastructure.settings import CONTEXTS
from promptsales.servers.auth import build_auth
from promptsales.servers.dev_issuer import create_dev_keys, mint_dev_token
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm, database_settings

BASE = "http://127.0.0.1"
COMPACT_TOKEN_BUDGET = 2000  # tokens, estimated as characters / 4


class Served:
    """One gateway's ASGI app, running, and a way to open clients on any of its endpoints."""

    def __init__(self, app: Any, runtime: Runtime, data_dir: Path) -> None:
        self.app = app
        self.runtime = runtime
        self.data_dir = data_dir

    def client(
        self, path: str = "/mcp", *, headers: dict[str, str] | None = None, token: str | None = None, mode: str = "auto"
    ) -> Client:
        """A client of the endpoint ``path`` (query string included); ``mode="legacy"`` speaks the handshake era."""
        server = ASGIServer(url=f"{BASE}{path}", app=self.app, transport_type="http")
        return server.client(headers=headers, auth=token, mode=mode)

    def token(self, scopes: str) -> str:
        """A dev-issuer token of tenant acme with these scopes."""
        return mint_dev_token(self.data_dir, tenant="acme", subject="agent-1", scopes=scopes)


async def _serve(folder: Path, template: Path, *, auth: bool = False, **overrides: Any) -> AsyncIterator[Served]:
    """A gateway app on its own copy of the template database, running (dev auth keys made when ``auth``)."""
    settings = database_settings(folder, template, **({"auth_mode": "dev"} if auth else {}), **overrides)
    if auth:
        create_dev_keys(folder)
    runtime = Runtime(settings)
    app = http_app(build_gateway(runtime, auth=build_auth(settings) if auth else None), runtime)
    async with run_asgi_lifespan(app):
        yield Served(app, runtime, folder)


@pytest_asyncio.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> AsyncIterator[Served]:
    """No auth, Enterprise plan: every tool of every context."""
    async for value in _serve(tmp_path_factory.mktemp("views"), migrated_template):
        yield value


@pytest_asyncio.fixture(scope="module")
async def served_auth(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> AsyncIterator[Served]:
    """Dev auth (tokens with scopes), Enterprise plan."""
    async for value in _serve(tmp_path_factory.mktemp("views-auth"), migrated_template, auth=True):
        yield value


@pytest_asyncio.fixture(scope="module")
async def served_free(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> AsyncIterator[Served]:
    """No auth, Free plan (no campaigns context; crm_import_leads excluded)."""
    async for value in _serve(tmp_path_factory.mktemp("views-free"), migrated_template, default_plan="free"):
        yield value


async def _names(client: Client) -> list[str]:
    """The tool names the client is shown."""
    return [tool.name for tool in await client.list_tools()]


def _text(result: CallToolResult) -> str:
    """The first text block of a result."""
    return result.content[0].text if result.content else ""  # type: ignore[union-attr]


def _lead(email: str, **extra: Any) -> dict[str, Any]:
    """capture_lead arguments of a web-form lead."""
    return {"source_channel": "web_form", "email": email, "first_name": "Ada", **extra}


def _email() -> str:
    """An address no other test uses."""
    return f"lead.{uuid.uuid4().hex[:10]}@views.example.com"


# ------------------------------------------------------------------------------------------ endpoints, filters


async def test_each_context_endpoint_lists_only_its_own_tools(served: Served) -> None:
    async with served.client("/mcp") as client:
        everything = await _names(client)
    assert {name.split("_", 1)[0] for name in everything} == set(CONTEXTS)
    for context in CONTEXTS:
        async with served.client(f"/mcp/{context}") as client:
            names = await _names(client)
        assert names, context
        assert sorted(names) == sorted(n for n in everything if n.startswith(f"{context}_")), context


async def test_query_and_header_selections_narrow_the_list(served: Served) -> None:
    async with served.client("/mcp?toolsets=crm,content") as client:
        names = await _names(client)
    assert {n.split("_", 1)[0] for n in names} == {"crm", "content"}
    async with served.client("/mcp", headers={"X-MCP-Toolsets": "business"}) as client:
        assert {n.split("_", 1)[0] for n in await _names(client)} == {"business"}
    async with served.client("/mcp?tools=crm_get_lead,business_list_plans") as client:
        assert sorted(await _names(client)) == ["business_list_plans", "crm_get_lead"]
        plans = await client.call_tool_mcp("business_list_plans", {})
        assert not plans.is_error, _text(plans)
        hidden = await client.call_tool_mcp("crm_search_contacts", {})
    assert hidden.is_error and _text(hidden) == "Unknown tool: 'crm_search_contacts'"
    # The path and the query are both in force: the CRM endpoint asked for business tools shows nothing.
    async with served.client("/mcp/crm?toolsets=business") as client:
        assert await _names(client) == []


async def test_read_only_hides_and_refuses_writes_even_when_named(served: Served) -> None:
    for path, headers in (
        ("/mcp/crm?read_only=true&tools=crm_capture_lead", None),
        ("/mcp/crm", {"X-MCP-Readonly": "true"}),
    ):
        async with served.client(path, headers=headers) as client:
            names = await _names(client)
            tools = {tool.name: tool for tool in await client.list_tools()}
            refused = await client.call_tool_mcp("crm_capture_lead", _lead(_email()))
            read = await client.call_tool_mcp("crm_list_leads", {}) if "crm_list_leads" in names else None
        assert "crm_capture_lead" not in names, path
        assert all(tool.annotations and tool.annotations.read_only_hint for tool in tools.values()), path
        assert refused.is_error and _text(refused) == "Unknown tool: 'crm_capture_lead'", path
        if read is not None:
            assert not read.is_error, _text(read)
    async with served.client("/mcp/crm", headers={"X-MCP-Readonly": "true"}) as client:
        assert "crm_list_leads" in await _names(client)
    # Nothing was written by the refused calls.
    async with served.client("/mcp") as client:
        leads = await client.call_tool_mcp("crm_list_leads", {})
    assert leads.structured_content is not None and leads.structured_content["items"] == []


async def test_handshake_era_clients_get_the_same_views(served: Served) -> None:
    async with served.client("/mcp/content?read_only=1", mode="legacy") as client:
        names = await _names(client)
        refused = await client.call_tool_mcp("crm_list_leads", {})
    assert names and all(name.startswith("content_") for name in names)
    assert refused.is_error and _text(refused) == "Unknown tool: 'crm_list_leads'"
    async with served.client("/mcp", headers={"X-MCP-Mode": "compact"}, mode="legacy") as compact:
        assert await _names(compact) == ["search_tools", "describe_tool", "call_tool"]
        plans = await compact.call_tool_mcp("call_tool", {"name": "business_list_plans"})
    assert not plans.is_error and plans.structured_content is not None and plans.structured_content["plans"]


async def test_a_malformed_selection_is_a_400_naming_the_option(served: Served) -> None:
    server = ASGIServer(url=f"{BASE}/mcp", app=served.app, transport_type="http")
    async with server.http_client() as http:
        for query, expected in (
            ("toolsets=crm,sales", "toolsets"),
            ("tools=crm_no_such_tool", "crm_no_such_tool"),
            ("read_only=maybe", "read_only"),
            ("mode=tiny", "mode"),
        ):
            response = await http.post(f"/mcp?{query}", json={})
            assert response.status_code == 400, query
            assert expected in response.json()["error_description"], query
        assert (await http.post("/mcp/sales", json={})).status_code == 404


# ------------------------------------------------------------------------------------------ compact mode


async def test_compact_lists_three_small_meta_tools(served: Served) -> None:
    for path in ("/mcp/compact", "/mcp?mode=compact"):
        async with served.client(path) as client:
            tools = await client.list_tools()
        assert [tool.name for tool in tools] == ["search_tools", "describe_tool", "call_tool"], path
        wire = json.dumps([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools])
        assert len(wire) / 4 < COMPACT_TOKEN_BUDGET, len(wire)


async def test_compact_search_describe_and_call_reach_the_real_tool(served: Served) -> None:
    email = _email()
    async with served.client("/mcp/compact") as compact:
        found = await compact.call_tool_mcp("search_tools", {"query": "capture a new lead", "limit": 3})
        assert not found.is_error, _text(found)
        hits = found.structured_content["tools"]
        assert hits[0] == {"name": "crm_capture_lead", "description": hits[0]["description"], "access": "write"}
        assert len(hits) <= 3
        described = await compact.call_tool_mcp("describe_tool", {"name": "crm_capture_lead"})
        schema = described.structured_content["input_schema"]
        assert "email" in schema["properties"] and described.structured_content["access"] == "write"
        key = uuid.uuid4().hex
        created = await compact.call_tool_mcp(
            "call_tool", {"name": "crm_capture_lead", "arguments": _lead(email, idempotency_key=key)}
        )
        assert not created.is_error, _text(created)
        again = await compact.call_tool_mcp(
            "call_tool", {"name": "crm_capture_lead", "arguments": _lead(email, idempotency_key=key)}
        )
        lead_id = created.structured_content["lead"]["id"]
        assert again.structured_content == created.structured_content  # idempotency holds through call_tool
        via_meta = await compact.call_tool_mcp("call_tool", {"name": "crm_get_lead", "arguments": {"lead_id": lead_id}})
        invalid = await compact.call_tool_mcp("call_tool", {"name": "crm_get_lead", "arguments": {"lead_id": 5}})
        unknown = await compact.call_tool_mcp("call_tool", {"name": "crm_nothing", "arguments": {}})
        direct_hidden = await compact.call_tool_mcp("crm_get_lead", {"lead_id": lead_id})
    async with served.client("/mcp") as plain:
        direct = await plain.call_tool_mcp("crm_get_lead", {"lead_id": lead_id})
        direct_invalid = await plain.call_tool_mcp("crm_get_lead", {"lead_id": 5})
    assert not via_meta.is_error and via_meta.structured_content == direct.structured_content
    assert _text(via_meta) == _text(direct)
    assert invalid.is_error and _text(invalid) == _text(direct_invalid)  # same error translation
    assert unknown.is_error and "Unknown tool: 'crm_nothing'" in _text(unknown)
    assert direct_hidden.is_error and _text(direct_hidden) == "Unknown tool: 'crm_get_lead'"


async def test_compact_read_only_respects_the_filters(served: Served) -> None:
    async with served.client("/mcp/compact?read_only=true&toolsets=crm") as compact:
        call_tool = next(tool for tool in await compact.list_tools() if tool.name == "call_tool")
        found = await compact.call_tool_mcp("search_tools", {"query": "lead contact campaign plan", "limit": 50})
        write = await compact.call_tool_mcp("call_tool", {"name": "crm_capture_lead", "arguments": _lead(_email())})
        other = await compact.call_tool_mcp("call_tool", {"name": "business_list_plans", "arguments": {}})
        described = await compact.call_tool_mcp("describe_tool", {"name": "crm_capture_lead"})
        read = await compact.call_tool_mcp("call_tool", {"name": "crm_list_leads", "arguments": {}})
    assert call_tool.annotations is not None and call_tool.annotations.read_only_hint is True
    hits = found.structured_content["tools"]
    assert hits and all(hit["access"] == "read" and hit["name"].startswith("crm_") for hit in hits)
    for refused, name in ((write, "crm_capture_lead"), (other, "business_list_plans"), (described, "crm_capture_lead")):
        assert refused.is_error and f"Unknown tool: '{name}'" in _text(refused)
        Crm.assert_clean(_text(refused))
    assert not read.is_error, _text(read)


# ------------------------------------------------------------------------------------------ auth, scopes, plans


async def test_scopes_apply_on_every_endpoint_and_through_call_tool(served_auth: Served) -> None:
    reader = served_auth.token("crm:read")
    async with served_auth.client("/mcp/crm", token=reader) as client:
        names = await _names(client)
    assert names and all(not n.startswith(("crm_capture", "crm_create")) for n in names)
    async with served_auth.client("/mcp/compact", token=reader) as compact:
        found = await compact.call_tool_mcp("search_tools", {"query": "capture lead", "limit": 50})
        refused = await compact.call_tool_mcp("call_tool", {"name": "crm_capture_lead", "arguments": _lead(_email())})
    assert "crm_capture_lead" not in [hit["name"] for hit in found.structured_content["tools"]]
    assert refused.is_error and "insufficient_scope" in _text(refused) and "crm:write" in _text(refused)
    writer = served_auth.token("crm:read crm:write")
    async with served_auth.client("/mcp/compact", token=writer) as compact:
        created = await compact.call_tool_mcp("call_tool", {"name": "crm_capture_lead", "arguments": _lead(_email())})
    assert not created.is_error, _text(created)
    anonymous = ASGIServer(url=f"{BASE}/mcp/crm", app=served_auth.app, transport_type="http")
    async with anonymous.http_client() as http:
        assert (await http.post("/mcp/compact", json={})).status_code == 401


async def test_plan_filtering_holds_in_every_view(served_free: Served) -> None:
    async with served_free.client("/mcp/crm") as client:
        assert "crm_import_leads" not in await _names(client)
        direct = await client.call_tool_mcp("crm_import_leads", {"csv_text": "email\na@b.example.com\n"})
    async with served_free.client("/mcp/campaigns") as client:
        assert await _names(client) == []  # the Free plan has no campaigns
    async with served_free.client("/mcp/compact") as compact:
        found = await compact.call_tool_mcp("search_tools", {"query": "import leads csv campaign", "limit": 50})
        via_meta = await compact.call_tool_mcp(
            "call_tool", {"name": "crm_import_leads", "arguments": {"csv_text": "email\na@b.example.com\n"}}
        )
    names = [hit["name"] for hit in found.structured_content["tools"]]
    assert names and "crm_import_leads" not in names and not any(n.startswith("campaigns_") for n in names)
    assert direct.is_error and via_meta.is_error and _text(via_meta) == _text(direct)
    assert "Free plan" in _text(direct)
