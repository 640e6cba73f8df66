"""get_customer_360 through the gateway: one read with contact, organization, leads, timeline and segments."""

import base64
import json

MISSING_CONTACT = "ct_01ARZ3NDEKTSV4RRFFQ69G5FAV"


async def test_customer_360_shows_everything_about_a_person(crm) -> None:
    captured = await crm.strong_lead(
        "ceo@acme.com", consent={"email": {"granted": True, "source": "web_form"}}, tags=["vip"]
    )
    contact_id = captured["contact"]["id"]
    segment = await crm.ok(
        "create_segment", name="VIPs", rule={"all": [{"field": "tags", "op": "contains", "value": "vip"}]}
    )
    await crm.ok("create_segment", name="Spain", rule={"all": [{"field": "country", "op": "eq", "value": "ES"}]})
    await crm.ok("log_interaction", contact_id=contact_id, channel="email", direction="outbound", summary="Hello")

    view = await crm.ok("get_customer_360", contact_id=contact_id)
    assert view["contact"]["id"] == contact_id
    assert view["contact"]["email"] == "ceo@acme.com"
    assert view["contact"]["consent"]["email"]["status"] == "granted"
    assert view["contact"]["tags"] == ["vip"]
    assert view["organization"]["name"] == "Acme"
    assert [lead["id"] for lead in view["leads"]] == [captured["lead"]["id"]]
    assert view["leads"][0]["classification"]["factors"]
    assert [item["summary"] for item in view["timeline"]] == ["Hello"]
    assert view["timeline_next_cursor"] is None
    assert [s["id"] for s in view["segments"]] == [segment["id"]]
    assert view["sections"] == {}


async def test_customer_360_of_a_person_without_company_or_history(crm) -> None:
    contact = await crm.ok("create_contact", first_name="Solo")
    view = await crm.ok("get_customer_360", contact_id=contact["id"])
    assert view["organization"] is None
    assert view["leads"] == []
    assert view["timeline"] == []
    assert view["segments"] == []


async def test_customer_360_timeline_is_newest_first_and_pages_with_a_cursor(crm) -> None:
    contact_id = (await crm.lead("timeline@example.com"))["contact"]["id"]
    for days in (5, 1, 3, 4, 2):
        await crm.ok(
            "log_interaction",
            contact_id=contact_id,
            channel="chat",
            direction="inbound",
            summary=f"{days} days ago",
            occurred_at=crm.ago(days=days),
        )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        arguments = {"contact_id": contact_id, "timeline_limit": 2}
        if cursor:
            arguments["timeline_cursor"] = cursor
        view = await crm.ok("get_customer_360", **arguments)
        assert len(view["timeline"]) <= 2
        seen += [item["summary"] for item in view["timeline"]]
        pages += 1
        cursor = view["timeline_next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"{days} days ago" for days in (1, 2, 3, 4, 5)]


async def test_customer_360_rejects_foreign_and_broken_timeline_cursors(crm) -> None:
    first = (await crm.lead("a@example.com"))["contact"]["id"]
    second = (await crm.lead("b@example.com"))["contact"]["id"]
    for contact_id in (first, first, first):
        await crm.ok("log_interaction", contact_id=contact_id, channel="web", direction="inbound", summary="visit")
    cursor = (await crm.ok("get_customer_360", contact_id=first, timeline_limit=1))["timeline_next_cursor"]
    assert cursor
    assert "cursor" in await crm.error("get_customer_360", contact_id=second, timeline_cursor=cursor)
    assert "cursor" in await crm.error("get_customer_360", contact_id=first, timeline_cursor="not-a-cursor")
    # A cursor whose position was edited (right listing, wrong contents) is rejected, not a crash.
    body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for position in (["not-a-date", "int_x"], [{"x": 1}], ["2025-01-01T00:00:00+00:00"]):
        forged = base64.urlsafe_b64encode(json.dumps({**body, "p": position}).encode()).decode().rstrip("=")
        assert "cursor" in await crm.error("get_customer_360", contact_id=first, timeline_cursor=forged)


async def test_customer_360_errors_name_the_id_or_field(crm) -> None:
    assert MISSING_CONTACT in await crm.error("get_customer_360", contact_id=MISSING_CONTACT)
    assert "contact_id" in await crm.error("get_customer_360", contact_id="someone")
    contact = await crm.ok("create_contact", first_name="x")
    assert "timeline_limit" in await crm.error("get_customer_360", contact_id=contact["id"], timeline_limit=0)
    assert "timeline_limit" in await crm.error("get_customer_360", contact_id=contact["id"], timeline_limit=51)
