"""Leads through the gateway: capture with provenance (upsert by person), read, list with filters and pages,
and manual updates."""

from datetime import UTC, datetime

MISSING_LEAD = "ld_01ARZ3NDEKTSV4RRFFQ69G5FAV"
MISSING_SEGMENT = "seg_01ARZ3NDEKTSV4RRFFQ69G5FAV"


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# -------------------------------------------------------------------------------------------- capture


async def test_capture_lead_on_both_protocol_eras(era_crm) -> None:
    captured = await era_crm.lead("Era@Example.com")
    assert captured["created"] is True
    assert captured["contact"]["email"] == "era@example.com"
    assert (await era_crm.ok("get_lead", lead_id=captured["lead"]["id"]))["touch_count"] == 1


async def test_capture_lead_reads_utm_back_from_the_landing_page_and_names_the_campaign(crm) -> None:
    landing = "https://acme.com/offer?ref=x&utm_source=google&utm_medium=cpc&utm_campaign=cp_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    captured = await crm.lead("tracked@example.com", landing_page=landing + "&utm_content=as_1")
    lead = await crm.ok("get_lead", lead_id=captured["lead"]["id"])
    assert {k: v for k, v in lead["utm"].items() if v is not None} == {
        "source": "google",
        "medium": "cpc",
        "campaign": "cp_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "content": "as_1",
    }
    assert lead["campaign_ref"] == "cp_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    # Given UTM parameters and a named campaign win over what the URL says.
    given = await crm.lead(
        "given@example.com", landing_page=landing, utm={"source": "newsletter"}, campaign_ref="spring-launch"
    )
    lead = await crm.ok("get_lead", lead_id=given["lead"]["id"])
    assert {k: v for k, v in lead["utm"].items() if v is not None} == {"source": "newsletter"}
    assert lead["campaign_ref"] == "spring-launch"


async def test_capture_lead_normalizes_email_case_and_phone_to_e164(crm) -> None:
    captured = await crm.lead("  Ann.Lee@Example.COM ", phone="(415) 555-0123", country="United States")
    contact = captured["contact"]
    assert captured["created"] is True
    assert contact["email"] == "ann.lee@example.com"
    assert contact["phone"] == "+14155550123"
    assert contact["country"] == "US"
    lead = captured["lead"]
    assert lead["id"].startswith("ld_")
    assert lead["contact_id"] == contact["id"]
    assert lead["touch_count"] == 1
    assert lead["first_touch_at"] == lead["last_touch_at"]
    assert lead["classification"]["lead_id"] == lead["id"]
    assert 0 <= lead["score"] <= 100


async def test_capture_lead_stores_provenance_campaign_and_consent_per_channel(crm) -> None:
    captured = await crm.lead(
        "utm@example.com",
        source_channel="ads_platform",
        campaign_ref="spring-launch",
        utm={"source": "google", "medium": "cpc", "campaign": "spring", "term": "crm", "content": "ad-1"},
        referrer="https://www.google.com/search?q=crm",
        landing_page="https://acme.com/spring?utm_source=google",
        consent={"email": {"granted": True, "source": "landing_form"}, "sms": {"granted": False}},
        tags=["spring"],
        owner="rep-7",
    )
    lead = await crm.ok("get_lead", lead_id=captured["lead"]["id"])
    assert lead["source_channel"] == "ads_platform"
    assert lead["campaign_ref"] == "spring-launch"
    assert lead["utm"] == {"source": "google", "medium": "cpc", "campaign": "spring", "term": "crm", "content": "ad-1"}
    assert lead["referrer"] == "https://www.google.com/search?q=crm"
    assert lead["landing_page"] == "https://acme.com/spring?utm_source=google"
    assert lead["owner"] == "rep-7"
    contact = await crm.ok("get_contact", contact_id=captured["contact"]["id"])
    assert contact["consent"]["email"]["status"] == "granted"
    assert contact["consent"]["email"]["source"] == "landing_form"
    assert contact["consent"]["email"]["recorded_at"] is not None
    # Without an explicit source the channel the lead came from is recorded.
    assert contact["consent"]["sms"] == {
        "status": "revoked",
        "source": "ads_platform",
        "recorded_at": contact["consent"]["sms"]["recorded_at"],
    }
    assert contact["consent"]["whatsapp"]["status"] is None
    assert contact["tags"] == ["spring"]


async def test_capture_lead_links_the_company_as_an_organization(crm) -> None:
    captured = await crm.strong_lead("ceo@acme.com")
    org_id = captured["contact"]["organization_id"]
    assert org_id is not None
    view = await crm.ok("get_customer_360", contact_id=captured["contact"]["id"])
    assert view["organization"]["id"] == org_id
    assert view["organization"]["name"] == "Acme"
    assert view["organization"]["domain"] == "acme.com"
    assert view["organization"]["industry"] == "software"
    # A colleague from the same company joins the same organization.
    colleague = await crm.lead("cfo@acme.com", company="Acme", company_domain="acme.com")
    assert colleague["contact"]["organization_id"] == org_id


async def test_second_capture_by_email_appends_a_touch_and_keeps_first_touch_provenance(crm) -> None:
    first_at = crm.ago(days=3)
    first = await crm.lead(
        "ann@example.com",
        source_channel="web_form",
        campaign_ref="first-campaign",
        utm={"source": "google"},
        referrer="https://google.com",
        landing_page="https://acme.com/a",
        occurred_at=first_at,
    )
    second_at = crm.ago(hours=1)
    second = await crm.lead(
        "ANN@example.com",
        source_channel="chat",
        campaign_ref="second-campaign",
        utm={"source": "bing"},
        referrer="https://bing.com",
        landing_page="https://acme.com/b",
        occurred_at=second_at,
    )
    assert second["created"] is False
    assert second["contact"]["id"] == first["contact"]["id"]
    lead = second["lead"]
    assert lead["id"] == first["lead"]["id"]
    assert lead["touch_count"] == 2
    assert parse(lead["first_touch_at"]) == parse(first_at)
    assert parse(lead["last_touch_at"]) == parse(second_at)
    assert lead["source_channel"] == "web_form"
    assert lead["campaign_ref"] == "first-campaign"
    assert lead["utm"]["source"] == "google"
    assert lead["referrer"] == "https://google.com"
    assert lead["landing_page"] == "https://acme.com/a"
    # Engagement counts the second touch and its channel.
    touches = {f["factor"]: f for f in lead["classification"]["factors"]}
    assert touches["touches"]["value"] == "2 touches"
    assert touches["channels"]["value"] == "chat, web_form"
    page = await crm.ok("search_contacts", query="ann@example.com")
    assert [c["id"] for c in page["items"]] == [first["contact"]["id"]]
    assert (await crm.ok("get_lead", lead_id=lead["id"]))["touch_count"] == 2


async def test_second_capture_by_phone_only_finds_the_same_person(crm) -> None:
    first = await crm.lead(phone="+1 415 555 0199", first_name="Bo", source_channel="voice")
    second = await crm.lead(phone="(415) 555-0199", country="US", source_channel="sms", last_name="Diaz")
    assert second["created"] is False
    assert second["contact"]["id"] == first["contact"]["id"]
    assert second["contact"]["first_name"] == "Bo"
    assert second["contact"]["last_name"] == "Diaz"  # gaps are filled
    assert second["lead"]["touch_count"] == 2
    assert second["lead"]["source_channel"] == "voice"
    page = await crm.ok("search_contacts", query="4155550199")
    assert len(page["items"]) == 1


async def test_a_known_person_keeps_what_the_crm_knows(crm) -> None:
    first = await crm.lead("keep@example.com", first_name="Original", title="CEO")
    second = await crm.lead("keep@example.com", first_name="Other", title="Intern")
    assert second["contact"]["id"] == first["contact"]["id"]
    assert second["contact"]["first_name"] == "Original"
    assert second["contact"]["title"] == "CEO"


async def test_capture_lead_rejects_bad_arguments_naming_the_field(crm) -> None:
    await crm.rejects(
        "capture_lead",
        [
            ({"source_channel": "web_form"}, "email"),
            ({"source_channel": "web_form", "first_name": "No Contact Details"}, "email"),
            ({"email": "a@b.co"}, "source_channel"),
            ({"email": "a@b.co", "source_channel": "carrier_pigeon"}, "source_channel"),
            ({"email": "not-an-email", "source_channel": "web_form"}, "email"),
            ({"phone": "555", "source_channel": "web_form"}, "phone"),
            ({"email": "a@b.co", "source_channel": "web_form", "country": "Atlantis"}, "country"),
            ({"email": "a@b.co", "source_channel": "web_form", "employee_count": -5}, "employee_count"),
            ({"email": "a@b.co", "source_channel": "web_form", "utm": {"source": "x", "campaing": "typo"}}, "utm"),
            ({"email": "a@b.co", "source_channel": "web_form", "occurred_at": "yesterday"}, "occurred_at"),
            ({"email": "a@b.co", "source_channel": "web_form", "tags": ["x" * 61]}, "tags"),
            ({"email": "a@b.co", "source_channel": "web_form", "idempotency_key": ""}, "idempotency_key"),
        ],
    )


async def test_capture_lead_in_the_future_is_rejected_and_changes_nothing(crm) -> None:
    text = await crm.error(
        "capture_lead", source_channel="web_form", email="future@example.com", occurred_at="2999-01-01T00:00:00Z"
    )
    assert "occurred_at" in text
    assert "future" in text
    assert (await crm.ok("search_contacts"))["items"] == []


async def test_capture_lead_with_an_out_of_range_time_is_a_clean_error(crm) -> None:
    base = {"source_channel": "web_form", "email": "t@example.com"}
    await crm.rejects(
        "capture_lead",
        [
            ({**base, "occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
            ({**base, "occurred_at": "9999-12-31T23:59:59-14:00"}, "occurred_at"),
        ],
    )


async def test_an_older_late_touch_becomes_the_first_touch(crm) -> None:
    recent = await crm.lead("late@example.com", source_channel="chat", occurred_at=crm.ago(hours=2))
    older_at = crm.ago(days=10)
    older = await crm.lead("late@example.com", source_channel="event", campaign_ref="expo", occurred_at=older_at)
    assert older["lead"]["id"] == recent["lead"]["id"]
    assert parse(older["lead"]["first_touch_at"]) == parse(older_at)
    assert older["lead"]["source_channel"] == "event"
    assert older["lead"]["campaign_ref"] == "expo"
    assert older["lead"]["last_touch_at"] == recent["lead"]["last_touch_at"]


# ------------------------------------------------------------------------------------------------ read


async def test_get_lead_errors_name_the_id(crm) -> None:
    text = await crm.error("get_lead", lead_id=MISSING_LEAD)
    assert MISSING_LEAD in text
    assert "not found" in text
    assert "lead_id" in await crm.error("get_lead", lead_id="ld_123")
    assert "lead_id" in await crm.error("get_lead", lead_id="ct_01ARZ3NDEKTSV4RRFFQ69G5FAV")


# ------------------------------------------------------------------------------------------------ list


async def test_list_leads_newest_first_with_summaries(crm) -> None:
    ids = [(await crm.lead(f"l{i}@example.com", first_name=f"L{i}"))["lead"]["id"] for i in range(3)]
    page = await crm.ok("list_leads")
    assert [item["id"] for item in page["items"]] == list(reversed(ids))
    assert page["next_cursor"] is None
    top = page["items"][0]
    assert top["email"] == "l2@example.com"
    assert top["contact_name"] == "L2"
    assert top["source_channel"] == "web_form"


async def test_list_leads_filters(crm) -> None:
    strong = (await crm.strong_lead("ceo@acme.com"))["lead"]
    weak = (await crm.lead("nobody@example.com", source_channel="chat"))["lead"]
    referral = (await crm.lead("friend@example.com", source_channel="referral"))["lead"]
    await crm.ok("update_lead", lead_id=referral["id"], stage="customer", owner="rep-9")

    async def ids(**filters):
        return {item["id"] for item in (await crm.ok("list_leads", **filters))["items"]}

    assert strong["score"] > weak["score"]
    assert await ids(min_score=strong["score"]) == {strong["id"]}
    assert await ids(max_score=weak["score"]) >= {weak["id"]}
    assert strong["id"] not in await ids(max_score=strong["score"] - 1)
    assert await ids(min_score=weak["score"], max_score=weak["score"]) >= {weak["id"]}
    assert await ids(source="chat") == {weak["id"]}
    assert await ids(source="referral") == {referral["id"]}
    assert await ids(stage="customer") == {referral["id"]}
    assert await ids(stage=strong["stage"]) >= {strong["id"]}
    assert await ids(owner="rep-9") == {referral["id"]}
    assert await ids(stage="opportunity") == set()


async def test_list_leads_filters_by_creation_time(crm) -> None:
    leads = [(await crm.lead(f"t{i}@example.com"))["lead"] for i in range(3)]
    middle = leads[1]["created_at"]
    assert {i["id"] for i in (await crm.ok("list_leads", created_from=middle))["items"]} == {
        leads[1]["id"],
        leads[2]["id"],
    }
    assert {i["id"] for i in (await crm.ok("list_leads", created_to=middle))["items"]} == {leads[0]["id"]}
    window = await crm.ok("list_leads", created_from=leads[1]["created_at"], created_to=leads[2]["created_at"])
    assert [i["id"] for i in window["items"]] == [leads[1]["id"]]
    # A time without a zone is read as UTC, like every other time the tools take.
    naive = parse(middle).astimezone(UTC).replace(tzinfo=None).isoformat()
    assert len((await crm.ok("list_leads", created_from=naive))["items"]) == 2
    assert (await crm.ok("list_leads", created_from="2999-01-01"))["items"] == []


async def test_list_leads_by_segment(crm) -> None:
    us = (await crm.lead("us@example.com", country="US"))["lead"]
    await crm.lead("es@example.com", country="ES")
    segment = await crm.ok("create_segment", name="US", rule={"all": [{"field": "country", "op": "eq", "value": "US"}]})
    page = await crm.ok("list_leads", segment_id=segment["id"])
    assert [i["id"] for i in page["items"]] == [us["id"]]
    text = await crm.error("list_leads", segment_id=MISSING_SEGMENT)
    assert MISSING_SEGMENT in text


async def test_list_leads_pages_walk_every_lead_once_and_cursors_are_bound_to_filters(crm) -> None:
    created = {(await crm.lead(f"page{i}@example.com"))["lead"]["id"] for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        page = await crm.ok("list_leads", limit=2, source="web_form", **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        reused = await crm.error("list_leads", limit=2, source="chat", cursor=cursor)
        assert "cursor" in reused
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == created
    assert "cursor" in await crm.error("list_leads", cursor="bm90LWEtY3Vyc29y")
    first = await crm.ok("list_leads", limit=1)
    assert "cursor" in await crm.error("search_contacts", cursor=first["next_cursor"])


async def test_list_leads_rejects_bad_arguments_naming_the_field(crm) -> None:
    await crm.rejects(
        "list_leads",
        [
            ({"stage": "hot"}, "stage"),
            ({"min_score": 101}, "min_score"),
            ({"max_score": -1}, "max_score"),
            ({"source": "fax"}, "source"),
            ({"segment_id": "segment-1"}, "segment_id"),
            ({"created_from": "last tuesday"}, "created_from"),
            ({"created_to": "9999-12-31T23:59:59-14:00"}, "created_to"),
            ({"limit": 0}, "limit"),
        ],
    )


# ---------------------------------------------------------------------------------------------- update


async def test_update_lead_assigns_and_unassigns_an_owner(crm) -> None:
    lead = (await crm.lead("owner@example.com"))["lead"]
    assert (await crm.ok("update_lead", lead_id=lead["id"], owner="rep-1"))["owner"] == "rep-1"
    assert (await crm.ok("get_lead", lead_id=lead["id"]))["owner"] == "rep-1"
    assert (await crm.ok("update_lead", lead_id=lead["id"], owner=""))["owner"] is None


async def test_a_manual_stage_stays_until_cleared(crm) -> None:
    lead = (await crm.lead("deal@example.com"))["lead"]
    computed = lead["stage"]
    assert computed not in ("opportunity", "customer")
    updated = await crm.ok("update_lead", lead_id=lead["id"], stage="opportunity")
    assert updated["stage"] == "opportunity"
    # Classification and new touches do not overwrite a stage a person set.
    assert (await crm.ok("classify_lead", lead_id=lead["id"]))["stage"] == "opportunity"
    assert (await crm.lead("deal@example.com"))["lead"]["stage"] == "opportunity"
    assert (await crm.ok("update_lead", lead_id=lead["id"], stage="customer"))["stage"] == "customer"
    cleared = await crm.ok("update_lead", lead_id=lead["id"], clear_manual_stage=True)
    assert cleared["stage"] == computed


async def test_update_lead_rejects_computed_stages(crm) -> None:
    lead = (await crm.lead("stage@example.com"))["lead"]
    stages = ["sql", "mql", "lead", "subscriber"]
    await crm.rejects("update_lead", [({"lead_id": lead["id"], "stage": stage}, "stage") for stage in stages])
    assert (await crm.ok("get_lead", lead_id=lead["id"]))["stage"] == lead["stage"]


async def test_update_lead_errors_name_the_id(crm) -> None:
    assert MISSING_LEAD in await crm.error("update_lead", lead_id=MISSING_LEAD, owner="x")
    assert "lead_id" in await crm.error("update_lead", lead_id="nope", owner="x")
    assert "owner" in await crm.error("update_lead", lead_id=MISSING_LEAD, owner="x" * 129)
