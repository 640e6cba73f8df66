"""log_interaction through the gateway: timeline, last activity, engagement re-score, business rules."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MISSING_CONTACT = "ct_01ARZ3NDEKTSV4RRFFQ69G5FAV"


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def interaction_points(lead: dict) -> int:
    return next(f["points"] for f in lead["classification"]["factors"] if f["factor"] == "interactions")


async def test_log_interaction_raises_engagement_and_lands_on_the_timeline(crm) -> None:
    captured = await crm.lead("talk@example.com")
    contact_id, lead = captured["contact"]["id"], captured["lead"]
    before = await crm.ok("get_lead", lead_id=lead["id"])
    assert interaction_points(before) == 0

    logged = await crm.ok(
        "log_interaction",
        contact_id=contact_id,
        channel="chat",
        direction="inbound",
        summary="Asked about pricing",
        transcript="Hi, how much is the Pro plan?",
    )
    assert logged["id"].startswith("int_")
    assert logged["contact_id"] == contact_id
    assert logged["lead_id"] == lead["id"]  # default: the contact's latest lead
    assert logged["channel"] == "chat"
    assert logged["direction"] == "inbound"
    assert logged["summary"] == "Asked about pricing"

    after = await crm.ok("get_lead", lead_id=lead["id"])
    assert interaction_points(after) > 0
    assert after["classification"]["engagement_score"] > before["classification"]["engagement_score"]
    assert after["score"] > before["score"]

    view = await crm.ok("get_customer_360", contact_id=contact_id)
    assert [item["id"] for item in view["timeline"]] == [logged["id"]]
    assert parse(view["contact"]["last_activity_at"]) >= parse(logged["occurred_at"])


async def test_log_interaction_with_a_past_time_keeps_the_latest_activity(crm) -> None:
    contact = (await crm.lead("past@example.com"))["contact"]
    past = crm.ago(days=5)
    logged = await crm.ok(
        "log_interaction",
        contact_id=contact["id"],
        channel="meeting",
        direction="outbound",
        summary="Demo",
        occurred_at=past,
    )
    assert parse(logged["occurred_at"]) == parse(past)
    now_contact = await crm.ok("get_contact", contact_id=contact["id"])
    assert now_contact["last_activity_at"] == contact["last_activity_at"]


async def test_log_interaction_for_a_contact_without_leads(crm) -> None:
    contact = await crm.ok("create_contact", first_name="No", last_name="Lead")
    assert contact["last_activity_at"] is None
    logged = await crm.ok(
        "log_interaction", contact_id=contact["id"], channel="email", direction="outbound", summary="Intro"
    )
    assert logged["lead_id"] is None
    assert (await crm.ok("get_contact", contact_id=contact["id"]))["last_activity_at"] is not None


async def test_log_interaction_on_a_lead_of_another_contact_is_rejected(crm) -> None:
    mine = await crm.lead("mine@example.com")
    theirs = await crm.lead("theirs@example.com")
    text = await crm.error(
        "log_interaction",
        contact_id=mine["contact"]["id"],
        channel="sms",
        direction="outbound",
        summary="x",
        lead_id=theirs["lead"]["id"],
    )
    assert "lead_id" in text
    assert theirs["lead"]["id"] in text


async def test_log_interaction_in_the_future_or_empty_is_rejected_and_changes_nothing(crm) -> None:
    contact = (await crm.lead("rules@example.com"))["contact"]
    base = {"contact_id": contact["id"], "channel": "voice", "direction": "inbound"}
    text = await crm.error("log_interaction", **base, summary="x", occurred_at="2999-01-01T00:00:00Z")
    assert "occurred_at" in text
    assert "future" in text
    assert "summary" in await crm.error("log_interaction", **base)
    assert (await crm.ok("get_customer_360", contact_id=contact["id"]))["timeline"] == []


async def test_log_interaction_on_a_merged_contact_points_to_the_survivor(crm) -> None:
    survivor = await crm.ok("create_contact", email="s@example.com")
    duplicate = await crm.ok("create_contact", email="d@example.com")
    await crm.ok("merge_contacts", survivor_id=survivor["id"], duplicate_id=duplicate["id"])
    text = await crm.error(
        "log_interaction", contact_id=duplicate["id"], channel="web", direction="inbound", summary="x"
    )
    assert survivor["id"] in text


async def test_log_interaction_rejects_bad_arguments_naming_the_field(crm) -> None:
    base = {"channel": "chat", "direction": "inbound", "summary": "hello"}
    cases = [
        ({"contact_id": MISSING_CONTACT}, MISSING_CONTACT),
        ({"contact_id": "ct_bad"}, "contact_id"),
        ({"contact_id": MISSING_CONTACT, "channel": "telegram"}, "channel"),
        ({"contact_id": MISSING_CONTACT, "direction": "sideways"}, "direction"),
        ({"contact_id": MISSING_CONTACT, "summary": "x" * 4001}, "summary"),
        ({"contact_id": MISSING_CONTACT, "occurred_at": "soon"}, "occurred_at"),
        ({"contact_id": MISSING_CONTACT, "lead_id": "ld_x"}, "lead_id"),
    ]
    await crm.rejects("log_interaction", [({**base, **arguments}, field) for arguments, field in cases])


async def test_the_text_is_analysed_once_per_idempotency_key_and_never_without_text(crm, runtime) -> None:
    analysed: list[str] = []

    @dataclass
    class Signals:
        intent: str = "pricing_question"
        intent_confidence: float = 0.9
        sentiment: str = "positive"
        sentiment_score: float = 0.5

    async def analyse(caller: Any, text: str) -> Signals:
        analysed.append(text)
        return Signals()

    contact_id = (await crm.lead("analysed@example.com"))["contact"]["id"]
    runtime.crm.use_interaction_analysis(analyse)
    call = {"contact_id": contact_id, "channel": "chat", "direction": "inbound", "summary": "How much is Pro?"}
    first = await crm.ok("log_interaction", **call, idempotency_key="log-1")
    replay = await crm.ok("log_interaction", **call, idempotency_key="log-1")
    assert first == replay
    assert first["intent"] == "pricing_question"
    assert analysed == ["How much is Pro?"]  # the replay paid nothing
    assert "summary" in await crm.error("log_interaction", contact_id=contact_id, channel="chat", direction="inbound")
    assert analysed == ["How much is Pro?"]
