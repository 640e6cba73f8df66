"""Every mutating tool honours idempotency_key: a replay returns the stored result with no second effect,
and the same key with different arguments is refused."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

KEY = "retry-7f3c2a"


@dataclass
class Case:
    """How to call one mutating tool twice the same way, once differently, and check a single effect."""

    arguments: dict[str, Any]
    different: dict[str, Any]
    single_effect: Callable[[dict[str, Any]], Awaitable[None]]


async def nothing_more(_: dict[str, Any]) -> None:
    """The identical replayed result (same ids and timestamps) is the proof for this tool."""


async def case_create_organization(crm) -> Case:
    return Case({"name": "Acme", "domain": "acme.com"}, {"name": "Acme", "domain": "acme.org"}, nothing_more)


async def case_create_contact(crm) -> Case:
    async def one_contact(_: dict[str, Any]) -> None:
        assert len((await crm.ok("search_contacts"))["items"]) == 1

    return Case({"email": "ann@example.com"}, {"email": "bob@example.com"}, one_contact)


async def case_update_contact(crm) -> Case:
    contact = await crm.ok("create_contact", email="ann@example.com")

    async def written_once(first: dict[str, Any]) -> None:
        assert (await crm.ok("get_contact", contact_id=contact["id"]))["updated_at"] == first["updated_at"]

    return Case(
        {"contact_id": contact["id"], "title": "CTO", "attributes": {"n": 1}},
        {"contact_id": contact["id"], "title": "CEO"},
        written_once,
    )


async def case_merge_contacts(crm) -> Case:
    survivor = await crm.ok("create_contact", email="keep@example.com")
    duplicate = await crm.ok("create_contact", email="dupe@example.com")
    third = await crm.ok("create_contact", email="third@example.com")

    async def merged_once(first: dict[str, Any]) -> None:
        assert [c["id"] for c in (await crm.ok("search_contacts"))["items"]] == sorted([survivor["id"], third["id"]])
        assert (await crm.ok("get_contact", contact_id=survivor["id"]))["updated_at"] == first["updated_at"]

    return Case(
        {"survivor_id": survivor["id"], "duplicate_id": duplicate["id"]},
        {"survivor_id": survivor["id"], "duplicate_id": third["id"]},
        merged_once,
    )


async def case_capture_lead(crm) -> Case:
    async def one_touch(first: dict[str, Any]) -> None:
        assert (await crm.ok("get_lead", lead_id=first["lead"]["id"]))["touch_count"] == 1
        assert len((await crm.ok("search_contacts"))["items"]) == 1

    return Case(
        {"source_channel": "web_form", "email": "ann@example.com", "utm": {"source": "google"}},
        {"source_channel": "web_form", "email": "ann@example.com", "utm": {"source": "bing"}},
        one_touch,
    )


async def case_update_lead(crm) -> Case:
    lead = (await crm.lead("ann@example.com"))["lead"]

    async def classified_once(first: dict[str, Any]) -> None:
        stored = await crm.ok("get_lead", lead_id=lead["id"])
        assert stored["classification"]["classified_at"] == first["classification"]["classified_at"]

    return Case({"lead_id": lead["id"], "owner": "rep-1"}, {"lead_id": lead["id"], "owner": "rep-2"}, classified_once)


async def case_classify_lead(crm) -> Case:
    first_lead = (await crm.lead("ann@example.com"))["lead"]
    other_lead = (await crm.lead("bob@example.com"))["lead"]

    async def classified_once(first: dict[str, Any]) -> None:
        stored = await crm.ok("get_lead", lead_id=first_lead["id"])
        assert stored["classification"]["classified_at"] == first["classified_at"]

    return Case({"lead_id": first_lead["id"]}, {"lead_id": other_lead["id"]}, classified_once)


async def case_set_scoring_rules(crm) -> Case:
    async def stored(first: dict[str, Any]) -> None:
        assert await crm.ok("get_scoring_rules") == first

    return Case(
        {"overrides": {"stages": {"mql_min_score": 45}}},
        {"overrides": {"stages": {"mql_min_score": 50}}},
        stored,
    )


async def case_log_interaction(crm) -> Case:
    contact = (await crm.lead("ann@example.com"))["contact"]

    async def one_interaction(first: dict[str, Any]) -> None:
        timeline = (await crm.ok("get_customer_360", contact_id=contact["id"]))["timeline"]
        assert [item["id"] for item in timeline] == [first["id"]]

    base = {"contact_id": contact["id"], "channel": "chat", "direction": "inbound"}
    return Case({**base, "summary": "hi"}, {**base, "summary": "hello"}, one_interaction)


async def case_create_segment(crm) -> Case:
    rule = {"all": [{"field": "country", "op": "eq", "value": "US"}]}

    async def one_segment(first: dict[str, Any]) -> None:
        assert [s["id"] for s in (await crm.ok("list_segments"))["items"]] == [first["id"]]

    return Case({"name": "US", "rule": rule}, {"name": "USA", "rule": rule}, one_segment)


async def case_start_flow(crm) -> Case:
    contact = (await crm.lead("ann@example.com"))["contact"]
    base = {"flow_id": "bant-qualification", "contact_id": contact["id"]}
    return Case({**base, "channel": "chat"}, {**base, "channel": "voice"}, nothing_more)


async def case_advance_flow(crm) -> Case:
    captured = await crm.lead("ann@example.com")
    run = await crm.ok("start_flow", flow_id="bant-qualification", contact_id=captured["contact"]["id"], channel="chat")

    async def answered_once(first: dict[str, Any]) -> None:
        assert first["awaiting"]["field"] == "budget"
        qualification = (await crm.ok("get_lead", lead_id=captured["lead"]["id"]))["qualification"]
        assert qualification == {"need": "urgent"}  # a second real "1" would have answered the budget question
        nxt = await crm.ok("advance_flow", run_id=run["run_id"], user_input="2")
        assert nxt["captured"] == {"budget": "1k_10k"}

    return Case(
        {"run_id": run["run_id"], "user_input": "1"},
        {"run_id": run["run_id"], "user_input": "2"},
        answered_once,
    )


CASES = {
    "create_organization": case_create_organization,
    "create_contact": case_create_contact,
    "update_contact": case_update_contact,
    "merge_contacts": case_merge_contacts,
    "capture_lead": case_capture_lead,
    "update_lead": case_update_lead,
    "classify_lead": case_classify_lead,
    "set_scoring_rules": case_set_scoring_rules,
    "log_interaction": case_log_interaction,
    "create_segment": case_create_segment,
    "start_flow": case_start_flow,
    "advance_flow": case_advance_flow,
}


@pytest.mark.parametrize("tool", sorted(CASES))
async def test_a_replay_returns_the_first_result_once_and_changed_arguments_are_refused(crm, tool) -> None:
    case = await CASES[tool](crm)
    first = await crm.ok(tool, **case.arguments, idempotency_key=KEY)
    replay = await crm.ok(tool, **case.arguments, idempotency_key=KEY)
    assert replay == first
    await case.single_effect(first)
    text = await crm.error(tool, **case.different, idempotency_key=KEY)
    assert "idempotency_key" in text
    assert KEY in text
    # The refused call changed nothing either: the original arguments still replay the stored result.
    assert await crm.ok(tool, **case.arguments, idempotency_key=KEY) == first


async def test_every_mutating_tool_is_covered_and_takes_the_key(client) -> None:
    mutating = {
        tool.name.removeprefix("crm_")
        for tool in await client.list_tools()
        if tool.name.startswith("crm_") and not tool.annotations.read_only_hint and tool.name != "crm_import_leads"
    }
    assert mutating == set(CASES)
    for tool in await client.list_tools():
        if tool.name.removeprefix("crm_") in CASES:
            assert "idempotency_key" in tool.input_schema["properties"], tool.name


async def test_keys_are_scoped_per_tool(crm) -> None:
    contact = await crm.ok("create_contact", email="ann@example.com", idempotency_key=KEY)
    org = await crm.ok("create_organization", name="Acme", idempotency_key=KEY)
    assert org["id"].startswith("org_")
    assert contact["id"].startswith("ct_")


async def test_without_a_key_a_retry_repeats_the_change(crm) -> None:
    """The contrast that shows the key matters: capture_lead twice without a key appends two touches."""
    first = await crm.lead("ann@example.com")
    second = await crm.lead("ann@example.com")
    assert second["lead"]["touch_count"] == first["lead"]["touch_count"] + 1


async def test_an_idempotency_key_longer_than_255_characters_is_rejected(crm) -> None:
    text = await crm.error("create_contact", email="ann@example.com", idempotency_key="k" * 256)
    assert "idempotency_key" in text
