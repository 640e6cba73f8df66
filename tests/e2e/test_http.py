"""``promptsales serve --transport http``: a real server process, driven by the official ``mcp`` client.

Covers both protocol eras (sessionless 2026-07-28 and the ``initialize`` handshake), the operational
routes, the Host/Origin guard, statelessness (no session affinity needed) and progress over SSE.
"""

import json
from typing import Any

import anyio
import httpx
import pytest
from mcp.types import CallToolResult
from prometheus_client.parser import text_string_to_metric_families

from .conftest import (
    CALL_TIMEOUT_S,
    ERAS,
    HANDSHAKE,
    MODERN,
    ServerProcess,
    capture_arguments,
    mcp_http_session,
    unique_email,
)

pytestmark = pytest.mark.slow

ACCEPT = "application/json, text/event-stream"
HANDSHAKE_VERSION = "2025-11-25"
MISSING_LEAD = "ld_00000000000000000000000000"


def _text(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def _ok(result: CallToolResult) -> dict[str, Any]:
    """The structured result of a successful call (fails with the tool's own message otherwise)."""
    assert result.is_error is False, _text(result)
    assert result.structured_content is not None
    return result.structured_content


def _jsonrpc_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC message of a POST answered as JSON or as a one-message SSE stream."""
    if response.headers["content-type"].startswith("application/json"):
        body: dict[str, Any] = response.json()
        return body
    messages = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]
    answers = [m for m in messages if "id" in m]
    assert len(answers) == 1, response.text
    return answers[0]


def _import_csv(rows: int) -> str:
    lines = ["email,first_name,company,source"]
    lines += [f"{unique_email(f'import{i}')},Person{i},Company {i},event" for i in range(rows)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- operations


def test_health_and_readiness(http_server: ServerProcess) -> None:
    health = httpx.get(f"{http_server.base_url}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = httpx.get(f"{http_server.base_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_metrics_count_calls_by_tool_and_outcome(http_server: ServerProcess) -> None:
    async with mcp_http_session(http_server.mcp_url, MODERN) as session:
        captured = await session.call_tool("crm_capture_lead", capture_arguments(unique_email()))
        lead_id = (captured.structured_content or {}).get("lead", {}).get("id", MISSING_LEAD)
        fetched = await session.call_tool("crm_get_lead", {"lead_id": lead_id})
        missing = await session.call_tool("crm_get_lead", {"lead_id": MISSING_LEAD})
    _ok(captured)
    _ok(fetched)
    assert missing.is_error is True

    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{http_server.base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(response.text)}

    calls = {
        (s.labels["tool"], s.labels["outcome"]): s.value
        for s in families["promptsales_tool_calls"].samples
        if s.name == "promptsales_tool_calls_total"
    }
    assert calls[("crm_capture_lead", "ok")] >= 1
    assert calls[("crm_get_lead", "ok")] >= 1
    assert calls[("crm_get_lead", "rejected")] >= 1  # the unknown id: an actionable isError, not a crash

    latency = families["promptsales_tool_latency_seconds"]
    assert latency.type == "histogram"
    counts = {s.labels["tool"]: s.value for s in latency.samples if s.name.endswith("_count")}
    assert counts["crm_capture_lead"] >= 1
    assert any(s.name.endswith("_bucket") and s.labels.get("le") == "+Inf" for s in latency.samples)

    in_flight = families["promptsales_tool_calls_in_flight"]
    assert in_flight.type == "gauge"
    assert [s.value for s in in_flight.samples] == [0.0]  # nothing is running between calls


def test_foreign_host_and_origin_are_refused(http_server: ServerProcess) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "e2e-raw", "version": "0"},
        },
    }
    headers = {"Accept": ACCEPT}
    with httpx.Client(timeout=5) as client:
        rebinding = client.post(http_server.mcp_url, json=initialize, headers={**headers, "Host": "evil.example"})
        assert rebinding.status_code == 421  # DNS rebinding: Host is not this loopback server
        cross_site = client.post(
            http_server.mcp_url, json=initialize, headers={**headers, "Origin": "http://evil.example"}
        )
        assert cross_site.status_code == 403  # a web page on another site cannot drive the server
        local_page = client.post(
            http_server.mcp_url, json=initialize, headers={**headers, "Origin": f"http://localhost:{http_server.port}"}
        )
        assert local_page.status_code == 200
        assert _jsonrpc_body(local_page)["result"]["protocolVersion"] == HANDSHAKE_VERSION


# --------------------------------------------------------------------------------------------- tools


@pytest.mark.parametrize("era", ERAS)
async def test_capture_then_get_lead(http_server: ServerProcess, era: str) -> None:
    email = unique_email(era.replace("-", ""))
    async with mcp_http_session(http_server.mcp_url, era) as session:
        negotiated = session.protocol_version
        captured_result = await session.call_tool("crm_capture_lead", capture_arguments(email))
        lead_id = (captured_result.structured_content or {}).get("lead", {}).get("id", MISSING_LEAD)
        fetched_result = await session.call_tool("crm_get_lead", {"lead_id": lead_id})
        missing = await session.call_tool("crm_get_lead", {"lead_id": MISSING_LEAD})

    assert negotiated == (MODERN if era == MODERN else HANDSHAKE_VERSION)
    captured = _ok(captured_result)
    assert captured["created"] is True
    assert captured["contact"]["email"] == email
    assert captured["contact"]["first_name"] == "Ada"
    lead = captured["lead"]
    assert lead["id"].startswith("ld_")
    assert lead["source_channel"] == "web_form"
    assert lead["campaign_ref"] == "spring-launch"
    assert lead["utm"]["source"] == "newsletter"
    assert 0 <= lead["score"] <= 100
    assert lead["classification"]["score"] == lead["score"]
    assert lead["classification"]["stage_reason"]

    fetched = _ok(fetched_result)
    assert fetched["id"] == lead["id"]
    assert fetched["contact_id"] == captured["contact"]["id"]
    assert fetched["touch_count"] == 1
    assert fetched["score"] == lead["score"]

    assert missing.is_error is True
    assert "not found" in _text(missing).lower()


async def test_separate_connections_need_no_session_affinity(http_server: ServerProcess) -> None:
    email = unique_email("stateless")
    # One client captures over the handshake era, an unrelated client (new connection, other era) reads it.
    async with mcp_http_session(http_server.mcp_url, HANDSHAKE) as writer:
        captured = await writer.call_tool("crm_capture_lead", capture_arguments(email))
    lead_id = _ok(captured)["lead"]["id"]
    async with mcp_http_session(http_server.mcp_url, MODERN) as reader:
        fetched = await reader.call_tool("crm_get_lead", {"lead_id": lead_id})
    assert _ok(fetched)["id"] == lead_id

    # On the wire: initialize issues no Mcp-Session-Id, and a call on a fresh connection needs none.
    headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "e2e-raw", "version": "0"},
        },
    }
    async with httpx.AsyncClient(timeout=CALL_TIMEOUT_S) as first:
        response = await first.post(http_server.mcp_url, json=initialize, headers=headers)
    assert response.status_code == 200
    assert "mcp-session-id" not in response.headers
    assert _jsonrpc_body(response)["result"]["protocolVersion"] == HANDSHAKE_VERSION

    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "crm_get_lead", "arguments": {"lead_id": lead_id}},
    }
    async with httpx.AsyncClient(timeout=CALL_TIMEOUT_S) as second:
        response = await second.post(
            http_server.mcp_url, json=call, headers={**headers, "MCP-Protocol-Version": HANDSHAKE_VERSION}
        )
    assert response.status_code == 200, response.text
    assert "mcp-session-id" not in response.headers
    result = _jsonrpc_body(response)["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["id"] == lead_id


# --------------------------------------------------------------------------------------------- progress


@pytest.mark.parametrize("era", ERAS)
async def test_import_streams_progress_over_sse(http_server: ServerProcess, era: str) -> None:
    progress: list[tuple[float, float | None, str | None]] = []
    finished = anyio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))
        if total is not None and done >= total:
            finished.set()

    async with mcp_http_session(http_server.mcp_url, era) as session:
        result = await session.call_tool("crm_import_leads", {"csv_text": _import_csv(60)}, None, on_progress)
        # Progress callbacks run as tasks of the session: give the last one a moment to land.
        with anyio.move_on_after(5):
            await finished.wait()
    report = _ok(result)
    assert report["total_rows"] == 60
    assert report["created"] == 60
    assert report["rejected"] == 0
    assert len(progress) >= 2, progress
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)
    assert progress[-1][:2] == (60.0, 60.0)
    assert progress[-1][2] == "60/60 rows"


@pytest.mark.parametrize("era", ERAS)
async def test_import_with_json_responses(json_http_server: ServerProcess, era: str) -> None:
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with mcp_http_session(json_http_server.mcp_url, era) as session:
        result = await session.call_tool("crm_import_leads", {"csv_text": _import_csv(60)}, None, on_progress)
    report = _ok(result)
    assert report["created"] == 60
    assert report["rejected"] == 0
    # json_response drops notifications by design; nothing to assert about `progress` beyond not crashing.


def test_json_response_mode_answers_in_plain_json(json_http_server: ServerProcess, http_server: ServerProcess) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "e2e-raw", "version": "0"},
        },
    }
    headers = {"Accept": ACCEPT}
    plain = httpx.post(json_http_server.mcp_url, json=initialize, headers=headers, timeout=5)
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json()["result"]["serverInfo"]["name"] == "promptsales"
    streamed = httpx.post(http_server.mcp_url, json=initialize, headers=headers, timeout=5)
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/event-stream")


async def test_a_sandbox_checkout_link_points_at_this_server_and_can_be_approved(http_server: ServerProcess) -> None:
    async with mcp_http_session(http_server.mcp_url, MODERN) as session:
        started = await session.call_tool("business_start_checkout", {"plan": "pro"})
        assert not started.is_error, started.content
        approve_url = started.structured_content["approve_url"]
        assert approve_url.startswith(f"{http_server.base_url}/sandbox/paypal/")
        async with httpx.AsyncClient(timeout=10) as browser:
            page = await browser.get(approve_url)
            assert page.status_code == 200 and "Approve" in page.text
            done = await browser.post(
                approve_url, data={"decision": "approve"}, headers={"origin": http_server.base_url}
            )
            assert done.status_code == 303 and done.headers["location"].startswith(
                f"{http_server.base_url}/billing/return"
            )
        view = await session.call_tool("business_get_subscription", {})
        assert (view.structured_content["plan"], view.structured_content["status"]) == ("pro", "trialing")
