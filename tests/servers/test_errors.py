"""Failures as a client sees them: masked internal errors with a reference, the standalone CRM server, and
the tool-call metrics."""

import re
from collections.abc import Iterator

import pytest
from fastmcp import Client
from structlog.testing import capture_logs

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.crm.service import capture as capture_service
from promptsales.servers.crm import build_crm_server
from promptsales.servers.gateway import build_gateway

SECRET = "secret-db-password"
INTERNAL = re.compile(
    r"^Internal error while running (?P<tool>\w+)\. Reference (?P<ref>[0-9a-f]{16})\. "
    r"Retrying with the same idempotency_key is safe\.$"
)


def boom(*_args, **_kwargs):
    raise RuntimeError(f"connection to postgres://app:{SECRET}@db failed")


@pytest.fixture(autouse=True)
def logs() -> Iterator[list[dict]]:
    """The server's structured log entries (captured instead of rendered: rich tracebacks are slow)."""
    with capture_logs() as entries:
        yield entries


async def test_an_unexpected_exception_is_masked_with_a_reference(era_client, monkeypatch, logs) -> None:
    monkeypatch.setattr(CrmFacade, "get_lead", boom)
    references = set()
    for _ in range(2):
        result = await era_client.call_tool(
            "crm_get_lead", {"lead_id": "ld_01ARZ3NDEKTSV4RRFFQ69G5FAV"}, raise_on_error=False
        )
        assert result.is_error
        text = result.content[0].text
        match = INTERNAL.match(text)
        assert match, text
        assert match["tool"] == "crm_get_lead"
        assert SECRET not in text
        assert "RuntimeError" not in text
        assert "postgres" not in text
        references.add(match["ref"])
    assert len(references) == 2  # every failure gets its own reference to find it in the logs
    failures = [entry for entry in logs if entry["event"] == "tool_failed"]
    assert {entry["request_id"] for entry in failures} == references
    assert all(isinstance(entry["exc_info"], RuntimeError) for entry in failures)
    # The server keeps answering.
    assert not (await era_client.call_tool("crm_list_flows", {}, raise_on_error=False)).is_error


async def test_a_failure_inside_a_transaction_changes_nothing(crm, monkeypatch) -> None:
    async def fail_after_writing(*_args, **_kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(capture_service, "reclassify", fail_after_writing)
    result = await crm.raw(
        "capture_lead", {"source_channel": "web_form", "email": "ann@example.com", "company": "Acme"}
    )
    assert result.is_error
    assert INTERNAL.match(result.content[0].text)
    assert SECRET not in result.content[0].text
    monkeypatch.undo()
    assert (await crm.ok("search_contacts"))["items"] == []
    assert (await crm.ok("list_leads"))["items"] == []
    # Nothing half-written blocks the same capture now.
    assert (await crm.lead("ann@example.com", company="Acme"))["created"] is True


async def test_domain_errors_are_actionable_and_not_masked(crm) -> None:
    text = await crm.error("get_contact", contact_id="ct_01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert text.startswith("contact 'ct_01ARZ3NDEKTSV4RRFFQ69G5FAV' was not found.")
    assert "search" in text  # says what to do next
    assert "Unknown tool" in await crm.error("no_such_tool")


async def test_the_standalone_crm_server_behaves_like_the_gateway(make_runtime) -> None:
    gateway_runtime, standalone_runtime = make_runtime(), make_runtime()
    gateway = build_gateway(gateway_runtime)
    standalone = build_crm_server(standalone_runtime)
    arguments = {"source_channel": "web_form", "email": "Ann@Example.com", "phone": "(415) 555-0123", "country": "US"}
    async with Client(gateway) as via_gateway, Client(standalone) as direct:
        gateway_tools = {t.name: t for t in await via_gateway.list_tools()}
        direct_tools = {t.name: t for t in await direct.list_tools()}
        crm_tools = {name for name in gateway_tools if name.startswith("crm_")}
        assert crm_tools == {f"crm_{name}" for name in direct_tools}
        for name, tool in direct_tools.items():
            assert tool.input_schema == gateway_tools[f"crm_{name}"].input_schema
            assert tool.annotations == gateway_tools[f"crm_{name}"].annotations

        a = await via_gateway.call_tool("crm_capture_lead", arguments)
        b = await direct.call_tool("capture_lead", arguments)
        for result in (a, b):
            assert result.structured_content["created"] is True
            assert result.structured_content["contact"]["email"] == "ann@example.com"
            assert result.structured_content["contact"]["phone"] == "+14155550123"
        assert a.structured_content["lead"]["score"] == b.structured_content["lead"]["score"]

        missing = {"lead_id": "ld_01ARZ3NDEKTSV4RRFFQ69G5FAV"}
        error_a = await via_gateway.call_tool("crm_get_lead", missing, raise_on_error=False)
        error_b = await direct.call_tool("get_lead", missing, raise_on_error=False)
        assert error_a.is_error and error_b.is_error
        assert error_a.content[0].text == error_b.content[0].text
        assert len(await direct.list_resources()) == 2
        assert [p.name for p in await direct.list_prompts()] == ["qualify_lead"]
    # The standalone server counts its own calls under unprefixed names.
    assert (
        standalone_runtime.registry.get_sample_value(
            "promptsales_tool_calls_total", {"tool": "capture_lead", "outcome": "ok"}
        )
        == 1
    )


async def test_the_standalone_server_masks_unexpected_errors_too(make_runtime, monkeypatch) -> None:
    monkeypatch.setattr(CrmFacade, "list_flows", boom)
    async with Client(build_crm_server(make_runtime())) as direct:
        result = await direct.call_tool("list_flows", {}, raise_on_error=False)
    assert result.is_error
    match = INTERNAL.match(result.content[0].text)
    assert match
    assert match["tool"] == "list_flows"
    assert SECRET not in result.content[0].text


async def test_metrics_count_calls_by_tool_and_outcome(make_runtime, monkeypatch) -> None:
    runtime = make_runtime()

    def count(tool: str, outcome: str) -> float:
        value = runtime.registry.get_sample_value("promptsales_tool_calls_total", {"tool": tool, "outcome": outcome})
        return value or 0.0

    async with Client(build_gateway(runtime)) as client:
        await client.call_tool("crm_list_flows", {})
        await client.call_tool("crm_list_flows", {})
        await client.call_tool("crm_get_lead", {"lead_id": "ld_01ARZ3NDEKTSV4RRFFQ69G5FAV"}, raise_on_error=False)
        await client.call_tool("crm_get_lead", {"lead_id": "nope"}, raise_on_error=False)
        await client.call_tool("crm_capture_lead", {"source_channel": "web_form"}, raise_on_error=False)
        monkeypatch.setattr(CrmFacade, "get_lead", boom)
        await client.call_tool("crm_get_lead", {"lead_id": "ld_01ARZ3NDEKTSV4RRFFQ69G5FAV"}, raise_on_error=False)

    assert count("crm_list_flows", "ok") == 2
    assert count("crm_get_lead", "rejected") == 2  # not found + invalid id
    assert count("crm_capture_lead", "rejected") == 1  # business rule: no email or phone
    assert count("crm_get_lead", "error") == 1
    assert count("crm_get_lead", "ok") == 0
    assert runtime.registry.get_sample_value(
        "promptsales_tool_latency_seconds_count", {"tool": "crm_get_lead"}
    ) == pytest.approx(3)
    assert runtime.registry.get_sample_value("promptsales_tool_calls_in_flight") == 0
