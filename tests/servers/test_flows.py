"""Attention flows through the gateway: the BANT qualification bot on chat and voice."""

import json
from dataclasses import dataclass
from typing import Any

import pytest

MISSING_RUN = "run_01ARZ3NDEKTSV4RRFFQ69G5FAV"
MISSING_CONTACT = "ct_01ARZ3NDEKTSV4RRFFQ69G5FAV"
BANT = "bant-qualification"


async def test_list_flows_and_read_them_as_resources(crm, client) -> None:
    flows = await crm.ok("list_flows")
    assert [f["id"] for f in flows["items"]] == [BANT]
    assert flows["items"][0]["source"] == "shipped"
    assert flows["items"][0]["version"] == 1
    listed = json.loads((await client.read_resource("crm://crm/flows"))[0].text)
    assert listed == flows
    definition = json.loads((await client.read_resource(f"crm://crm/flows/{BANT}"))[0].text)
    assert definition["id"] == BANT
    assert definition["start"] in definition["steps"]


async def test_start_flow_on_chat_numbers_the_options(crm) -> None:
    contact = (await crm.lead("chat@example.com", first_name="Ann"))["contact"]
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact["id"], channel="chat")
    assert run["run_id"].startswith("run_")
    assert run["status"] == "active"
    assert run["done"] is False
    assert run["channel"] == "chat"
    assert run["messages"][0].startswith("Hi Ann!")
    question = run["messages"][-1]
    assert "1) Urgent" in question
    assert "3) Just exploring" in question
    assert run["awaiting"]["field"] == "need"
    assert run["awaiting"]["expect"] == "choice"
    assert [c["id"] for c in run["awaiting"]["choices"]] == ["urgent", "important", "exploring"]


async def test_start_flow_on_voice_speaks_the_options_without_numbers(crm) -> None:
    contact = (await crm.lead("voice@example.com"))["contact"]
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact["id"], channel="voice")
    assert run["messages"][0].startswith("Hi!")  # no name known: the greeting reads naturally
    question = run["messages"][-1]
    assert "You can say:" in question
    assert "1)" not in question
    assert "Urgent, Important but not urgent, or Just exploring" in question


@pytest.mark.parametrize(
    ("channel", "answers"),
    [
        ("chat", ["1", "4", "1", "1"]),
        ("voice", ["urgent", "over 50k", "I decide", "this month"]),
    ],
)
async def test_a_strong_bant_run_qualifies_the_lead_to_sql_and_hands_off(crm, channel, answers) -> None:
    captured = await crm.strong_lead()
    contact_id, lead_id = captured["contact"]["id"], captured["lead"]["id"]
    assert captured["lead"]["stage"] == "mql"
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact_id, channel=channel)
    scores = [run["lead_score"]]
    for answer in answers:
        assert run["done"] is False
        run = await crm.ok("advance_flow", run_id=run["run_id"], user_input=answer)
        scores.append(run["lead_score"])
    assert run["done"] is True
    assert run["status"] == "handed_off"
    assert run["awaiting"] is None
    assert "sales" in run["messages"][-1]
    assert run["lead_stage"] == "sql"
    assert scores == sorted(scores)  # every valid answer re-scored the lead upwards

    lead = await crm.ok("get_lead", lead_id=lead_id)
    assert lead["qualification"] == {
        "need": "urgent",
        "budget": "over_50k",
        "authority": "decision_maker",
        "timeline": "this_month",
    }
    assert lead["stage"] == "sql"
    assert lead["classification"]["qualification_score"] == 25
    assert lead["score"] > captured["lead"]["score"]
    contact = await crm.ok("get_contact", contact_id=contact_id)
    assert "bant-qualified" in contact["tags"]
    assert contact["attributes"]["handoff_queue"] == "sales"


async def test_an_exploring_prospect_is_tagged_for_nurture(crm) -> None:
    contact_id = (await crm.lead("explore@example.com"))["contact"]["id"]
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact_id, channel="chat")
    for answer in ("just looking", "not sure", "someone else", "no rush"):
        run = await crm.ok("advance_flow", run_id=run["run_id"], user_input=answer)
    assert run["done"] is True
    assert run["status"] == "completed"
    assert "nurture" in (await crm.ok("get_contact", contact_id=contact_id))["tags"]


async def test_an_invalid_answer_is_asked_again(crm) -> None:
    contact_id = (await crm.lead("retry@example.com"))["contact"]["id"]
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact_id, channel="chat")
    again = await crm.ok("advance_flow", run_id=run["run_id"], user_input="purple")
    assert again["status"] == "active"
    assert again["captured"] == {}
    assert again["awaiting"]["field"] == "need"
    assert "Sorry" in again["messages"][0]
    assert "1) Urgent" in again["messages"][0]
    valid = await crm.ok("advance_flow", run_id=run["run_id"], user_input="2")
    assert valid["captured"] == {"need": "important"}
    assert valid["awaiting"]["field"] == "budget"


async def test_a_contact_without_email_is_asked_for_one(crm) -> None:
    captured = await crm.lead(phone="+14155550123", source_channel="voice")
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=captured["contact"]["id"], channel="voice")
    for answer in ("urgent", "over 50k", "I decide", "this month"):
        run = await crm.ok("advance_flow", run_id=run["run_id"], user_input=answer)
    assert run["awaiting"]["field"] == "email"
    run = await crm.ok("advance_flow", run_id=run["run_id"], user_input="New.Person@Example.com")
    assert run["done"] is True
    assert (await crm.ok("get_contact", contact_id=captured["contact"]["id"]))["email"] == "new.person@example.com"


async def test_a_channel_switch_mid_run_changes_how_options_are_rendered(crm) -> None:
    contact_id = (await crm.lead("switch@example.com"))["contact"]["id"]
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact_id, channel="chat")
    voice = await crm.ok("advance_flow", run_id=run["run_id"], user_input="1", channel="voice")
    assert voice["channel"] == "voice"
    assert "You can say:" in voice["messages"][-1]
    assert "1)" not in voice["messages"][-1]


async def test_advancing_a_finished_run_is_a_conflict(crm) -> None:
    contact_id = (await crm.lead("done@example.com"))["contact"]["id"]
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact_id, channel="chat")
    for answer in ("3", "5", "3", "4"):
        run = await crm.ok("advance_flow", run_id=run["run_id"], user_input=answer)
    assert run["done"] is True
    text = await crm.error("advance_flow", run_id=run["run_id"], user_input="hello?")
    assert run["run_id"] in text
    assert run["status"] in text
    assert "start_flow" in text


async def test_flow_errors_name_the_id_or_field(crm) -> None:
    contact_id = (await crm.lead("errors@example.com"))["contact"]["id"]
    text = await crm.error("start_flow", flow_id="no-such-flow", contact_id=contact_id, channel="chat")
    assert "no-such-flow" in text
    assert "flow_id" in text
    assert MISSING_CONTACT in await crm.error("start_flow", flow_id=BANT, contact_id=MISSING_CONTACT, channel="chat")
    assert "flow_id" in await crm.error("start_flow", flow_id="Bad Flow!", contact_id=contact_id, channel="chat")
    assert "channel" in await crm.error("start_flow", flow_id=BANT, contact_id=contact_id, channel="sms")
    assert MISSING_RUN in await crm.error("advance_flow", run_id=MISSING_RUN, user_input="1")
    assert "run_id" in await crm.error("advance_flow", run_id="run-1", user_input="1")
    assert "user_input" in await crm.error("advance_flow", run_id=MISSING_RUN)
    assert "user_input" in await crm.error("advance_flow", run_id=MISSING_RUN, user_input="x" * 2001)


async def test_a_flow_cannot_start_for_a_merged_contact(crm) -> None:
    survivor = await crm.ok("create_contact", email="keep@example.com")
    duplicate = await crm.ok("create_contact", email="gone@example.com")
    await crm.ok("merge_contacts", survivor_id=survivor["id"], duplicate_id=duplicate["id"])
    text = await crm.error("start_flow", flow_id=BANT, contact_id=duplicate["id"], channel="chat")
    assert survivor["id"] in text


# ------------------------------------------------------------------------------------------- free text


@pytest.mark.parametrize(
    ("channel", "answers"),
    [
        ("chat", ["It's pretty urgent for us", "we have about 80k USD", "I'm the CTO and I sign off", "ASAP"]),
        ("voice", ["es urgente", "más de 100 mil euros", "sí, claro", "lo antes posible"]),
    ],
)
async def test_a_bant_run_answered_in_free_text_qualifies_the_lead(crm, channel, answers) -> None:
    captured = await crm.strong_lead()
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=captured["contact"]["id"], channel=channel)
    for answer in answers:
        run = await crm.ok("advance_flow", run_id=run["run_id"], user_input=answer)
    assert run["status"] == "handed_off"
    lead = await crm.ok("get_lead", lead_id=captured["lead"]["id"])
    assert lead["qualification"] == {
        "need": "urgent",
        "budget": "over_50k",
        "authority": "decision_maker",
        "timeline": "this_month",
    }
    assert lead["stage"] == "sql"


async def test_a_reply_the_crm_cannot_read_is_read_by_the_content_extraction(crm) -> None:
    contact_id = (await crm.lead("extract@example.com"))["contact"]["id"]
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact_id, channel="chat")
    run = await crm.ok("advance_flow", run_id=run["run_id"], user_input="urgent")
    # The CRM's own reader is unsure about an option id inside a sentence; the content context finds it.
    run = await crm.ok("advance_flow", run_id=run["run_id"], user_input="put me down for 10k_50k")
    assert run["captured"] == {"budget": "10k_50k"}
    assert run["awaiting"]["field"] == "authority"


async def test_the_extractor_is_asked_only_when_needed_and_once_per_idempotency_key(crm, runtime) -> None:
    asked: list[str] = []

    @dataclass
    class Found:
        values: dict[str, Any]

    async def extract(caller: Any, text: str, schema: dict[str, Any]) -> Found:
        asked.append(text)
        return Found({"need": "exploring"})

    contact_id = (await crm.lead("asked@example.com"))["contact"]["id"]
    runtime.crm.use_answer_extraction(extract)
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact_id, channel="chat")
    first = await crm.ok("advance_flow", run_id=run["run_id"], user_input="hmm, hard to say", idempotency_key="k1")
    again = await crm.ok("advance_flow", run_id=run["run_id"], user_input="hmm, hard to say", idempotency_key="k1")
    assert first == again
    assert first["captured"] == {"need": "exploring"}
    assert asked == ["hmm, hard to say"]  # the replay did not ask again
    await crm.ok("advance_flow", run_id=run["run_id"], user_input="about 20k euros")
    assert asked == ["hmm, hard to say"]  # a reply the CRM reads itself is not sent out


async def test_an_extractor_answer_that_is_not_an_option_is_asked_again(crm, runtime) -> None:
    @dataclass
    class Found:
        values: dict[str, Any]

    async def extract(caller: Any, text: str, schema: dict[str, Any]) -> Found:
        return Found({"need": "very much"})

    contact_id = (await crm.lead("invalid@example.com"))["contact"]["id"]
    runtime.crm.use_answer_extraction(extract)
    run = await crm.ok("start_flow", flow_id=BANT, contact_id=contact_id, channel="chat")
    again = await crm.ok("advance_flow", run_id=run["run_id"], user_input="hmm, hard to say")
    assert again["captured"] == {}
    assert again["awaiting"]["field"] == "need"
