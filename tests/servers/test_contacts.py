"""Organizations and contacts through the gateway: create, read, update, search with pages, merge."""

MISSING_CONTACT = "ct_01ARZ3NDEKTSV4RRFFQ69G5FAV"
MISSING_ORG = "org_01ARZ3NDEKTSV4RRFFQ69G5FAV"


# ------------------------------------------------------------------------------------------ organizations


async def test_create_organization_normalizes_domain_industry_and_country(crm) -> None:
    org = await crm.ok(
        "create_organization",
        name="  Acme Corp ",
        domain="ACME.com",
        industry="Software",
        employee_count=250,
        country="Spain",
        region="Madrid",
    )
    assert org["id"].startswith("org_")
    assert org["name"] == "Acme Corp"
    assert org["domain"] == "acme.com"
    assert org["industry"] == "software"
    assert org["country"] == "ES"
    assert org["employee_count"] == 250


async def test_second_organization_with_the_same_domain_is_a_conflict_naming_the_existing_one(crm) -> None:
    first = await crm.ok("create_organization", name="Acme", domain="acme.com")
    text = await crm.error("create_organization", name="Acme Two", domain="ACME.COM")
    assert "domain" in text
    assert "acme.com" in text
    assert first["id"] in text


async def test_organizations_without_a_domain_never_conflict_and_can_be_searched(crm) -> None:
    first = await crm.ok("create_organization", name="Nameless")
    second = await crm.ok("create_organization", name="  NAMELESS ")
    assert first["id"] != second["id"]
    with_domain = await crm.ok("create_organization", name="Nameless", domain="nameless.io")
    found = await crm.ok("search_organizations", query="nameless")
    assert [o["id"] for o in found["items"]] == [first["id"], second["id"], with_domain["id"]]
    assert (await crm.ok("search_organizations", domain="NAMELESS.io"))["items"] == [with_domain]
    page = await crm.ok("search_organizations", query="nameless", limit=2)
    rest = await crm.ok("search_organizations", query="nameless", limit=2, cursor=page["next_cursor"])
    assert [o["id"] for o in page["items"] + rest["items"]] == [o["id"] for o in found["items"]]
    assert rest["next_cursor"] is None


async def test_create_organization_rejects_bad_arguments_naming_the_field(crm) -> None:
    await crm.rejects(
        "create_organization",
        [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "x", "employee_count": -1}, "employee_count"),
            ({"name": "x", "country": "Atlantis"}, "country"),
            ({"name": "x", "unexpected": 1}, "unexpected"),
        ],
    )


# ---------------------------------------------------------------------------------------------- contacts


async def test_create_contact_normalizes_and_stores_everything(crm) -> None:
    org = await crm.ok("create_organization", name="Acme", domain="acme.com")
    contact = await crm.ok(
        "create_contact",
        first_name="Grace",
        last_name="Hopper",
        email="  Grace.Hopper@ACME.com ",
        phone="(415) 555-0123",
        country="US",
        title="VP Engineering",
        organization_id=org["id"],
        owner="rep@acme.com",
        tags=["vip", "conference"],
        attributes={"shoe_size": 42, "newsletter": True},
        consent={"email": {"granted": True, "source": "web_form"}, "sms": {"granted": False}},
    )
    assert contact["id"].startswith("ct_")
    assert contact["email"] == "grace.hopper@acme.com"
    assert contact["phone"] == "+14155550123"
    assert contact["organization_id"] == org["id"]
    assert sorted(contact["tags"]) == ["conference", "vip"]
    assert contact["attributes"] == {"shoe_size": 42, "newsletter": True}
    assert contact["consent"]["email"]["status"] == "granted"
    assert contact["consent"]["email"]["source"] == "web_form"
    assert contact["consent"]["sms"]["status"] == "revoked"
    assert contact["consent"]["sms"]["source"] == "crm_create_contact"
    assert contact["consent"]["whatsapp"]["status"] is None
    assert contact["merged_into_id"] is None

    again = await crm.ok("get_contact", contact_id=contact["id"])
    assert again == contact


async def test_create_contact_with_a_known_email_in_another_case_is_a_conflict(crm) -> None:
    first = await crm.ok("create_contact", email="ann@example.com")
    text = await crm.error("create_contact", email="ANN@Example.com", first_name="Ann")
    assert "email" in text
    assert first["id"] in text
    page = await crm.ok("search_contacts", query="ann@example.com")
    assert [c["id"] for c in page["items"]] == [first["id"]]


async def test_create_contact_with_a_known_phone_in_another_format_is_a_conflict(crm) -> None:
    first = await crm.ok("create_contact", phone="+1 415 555 0123")
    text = await crm.error("create_contact", phone="(415) 555-0123", country="US")
    assert "phone" in text
    assert first["id"] in text


async def test_create_contact_rejects_bad_arguments_naming_the_field(crm) -> None:
    await crm.rejects(
        "create_contact",
        [
            ({}, "email"),  # no email, phone or name at all
            ({"email": "not-an-email"}, "email"),
            ({"phone": "12"}, "phone"),
            ({"phone": "+999 123"}, "phone"),
            ({"first_name": "x", "country": "Narnia"}, "country"),
            ({"first_name": "x", "organization_id": "acme"}, "organization_id"),
            ({"first_name": "x", "tags": [""]}, "tags"),
            ({"first_name": "x", "consent": {"email": {"granted": "maybe"}}}, "consent"),
            ({"first_name": "x", "consent": {"fax": {"granted": True}}}, "consent"),
        ],
    )


async def test_create_contact_with_an_unknown_organization_names_it(crm) -> None:
    text = await crm.error("create_contact", first_name="x", organization_id=MISSING_ORG)
    assert MISSING_ORG in text
    assert "not found" in text


async def test_get_contact_errors_name_the_id(crm) -> None:
    assert MISSING_CONTACT in await crm.error("get_contact", contact_id=MISSING_CONTACT)
    assert "contact_id" in await crm.error("get_contact", contact_id="ct_nope")
    assert "contact_id" in await crm.error("get_contact")


async def test_update_contact_changes_only_the_given_fields(crm) -> None:
    contact = await crm.ok(
        "create_contact",
        first_name="Ann",
        last_name="Lee",
        email="ann@example.com",
        tags=["a", "b"],
        attributes={"keep": 1, "drop": 2},
    )
    updated = await crm.ok(
        "update_contact",
        contact_id=contact["id"],
        title="CTO",
        tags=["c"],
        attributes={"drop": None, "new": "yes"},
        consent={"whatsapp": {"granted": True, "source": "chatbot"}},
    )
    assert updated["title"] == "CTO"
    assert updated["first_name"] == "Ann"
    assert updated["last_name"] == "Lee"
    assert updated["email"] == "ann@example.com"
    assert updated["tags"] == ["c"]
    assert updated["attributes"] == {"keep": 1, "new": "yes"}
    assert updated["consent"]["whatsapp"] == {
        "status": "granted",
        "source": "chatbot",
        "recorded_at": updated["consent"]["whatsapp"]["recorded_at"],
    }
    assert await crm.ok("get_contact", contact_id=contact["id"]) == updated


async def test_update_contact_normalizes_a_new_email_and_rejects_one_taken_by_another_contact(crm) -> None:
    taken = await crm.ok("create_contact", email="taken@example.com")
    contact = await crm.ok("create_contact", email="me@example.com")
    moved = await crm.ok("update_contact", contact_id=contact["id"], email="Me.Too@Example.com")
    assert moved["email"] == "me.too@example.com"
    text = await crm.error("update_contact", contact_id=contact["id"], email="TAKEN@example.com")
    assert "email" in text
    assert taken["id"] in text


async def test_update_contact_changes_email_phone_and_country_of_a_contact_that_has_them_all(crm) -> None:
    contact = await crm.ok(
        "create_contact", email="both@acme.example", phone="+34 612 000 111", country="ES", first_name="Bo"
    )
    phone = await crm.ok("update_contact", contact_id=contact["id"], phone="+34 612 000 222")
    assert (phone["phone"], phone["email"]) == ("+34612000222", "both@acme.example")
    email = await crm.ok("update_contact", contact_id=contact["id"], email="Both.New@Acme.example")
    assert (email["email"], email["phone"]) == ("both.new@acme.example", "+34612000222")
    moved = await crm.ok("update_contact", contact_id=contact["id"], country="US", phone="(415) 555-0100")
    assert (moved["country"], moved["phone"]) == ("US", "+14155550100")
    stored = await crm.ok("get_contact", contact_id=contact["id"])
    assert (stored["email"], stored["phone"], stored["country"]) == ("both.new@acme.example", "+14155550100", "US")


async def test_update_contact_rejects_bad_arguments_naming_the_field(crm) -> None:
    await crm.rejects(
        "update_contact",
        [
            ({"contact_id": MISSING_CONTACT, "title": "x"}, MISSING_CONTACT),
            ({"contact_id": "nope"}, "contact_id"),
            ({"email": "a@b.co"}, "contact_id"),
            ({"contact_id": MISSING_CONTACT, "tags": ["x" * 61]}, "tags"),
            ({"contact_id": MISSING_CONTACT, "organization_id": "org_1"}, "organization_id"),
        ],
    )


async def test_update_contact_to_an_unknown_organization_is_not_found(crm) -> None:
    contact = await crm.ok("create_contact", first_name="x")
    assert MISSING_ORG in await crm.error("update_contact", contact_id=contact["id"], organization_id=MISSING_ORG)


# ------------------------------------------------------------------------------------------------ search


async def test_search_contacts_by_text_and_filters(crm) -> None:
    org = await crm.ok("create_organization", name="Acme", domain="acme.com")
    grace = await crm.ok(
        "create_contact",
        first_name="Grace",
        last_name="Hopper",
        email="grace@acme.com",
        country="US",
        organization_id=org["id"],
        tags=["vip"],
        owner="rep-1",
    )
    alan = await crm.ok("create_contact", first_name="Alan", title="Codebreaker", country="GB", owner="rep-2")
    phone = await crm.ok("create_contact", phone="+34 612 345 678")

    async def ids(**filters):
        return [c["id"] for c in (await crm.ok("search_contacts", **filters))["items"]]

    assert await ids(query="hopper") == [grace["id"]]
    assert await ids(query="Grace Hopper") == [grace["id"]] == await ids(query="  hopper   GRACE ")
    assert await ids(query="Grace Turing") == []  # every word must match
    assert await ids(query="GRACE@ACME") == [grace["id"]]
    assert await ids(query="codebreak") == [alan["id"]]
    assert await ids(query="612345") == [phone["id"]]
    assert await ids(country="GB") == [alan["id"]]
    assert await ids(organization_id=org["id"]) == [grace["id"]]
    assert await ids(tag="vip") == [grace["id"]]
    assert await ids(owner="rep-2") == [alan["id"]]
    assert await ids(query="nobody-like-this") == []
    assert sorted(await ids()) == sorted([grace["id"], alan["id"], phone["id"]])
    summary = (await crm.ok("search_contacts", query="hopper"))["items"][0]
    assert summary["name"] == "Grace Hopper"
    assert summary["email"] == "grace@acme.com"


async def test_search_contacts_pages_walk_every_contact_once(crm) -> None:
    created = [(await crm.ok("create_contact", email=f"p{i}@example.com"))["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        arguments = {"limit": 2, "query": "example.com"}
        if cursor:
            arguments["cursor"] = cursor
        page = await crm.ok("search_contacts", **arguments)
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(created)


async def test_search_contacts_rejects_a_cursor_reused_with_other_filters_and_garbage(crm) -> None:
    for i in range(3):
        await crm.ok("create_contact", email=f"c{i}@example.com", country="US")
    page = await crm.ok("search_contacts", limit=1, country="US")
    assert page["next_cursor"]
    text = await crm.error("search_contacts", limit=1, country="ES", cursor=page["next_cursor"])
    assert "cursor" in text
    text = await crm.error("search_contacts", limit=1, query="c1", cursor=page["next_cursor"])
    assert "cursor" in text
    assert "cursor" in await crm.error("search_contacts", cursor="definitely-not-a-cursor")
    assert "cursor" in await crm.error("search_contacts", cursor="%%%")


async def test_search_contacts_rejects_bad_arguments_naming_the_field(crm) -> None:
    await crm.rejects(
        "search_contacts",
        [
            ({"limit": 0}, "limit"),
            ({"limit": 101}, "limit"),
            ({"country": "us"}, "country"),
            ({"organization_id": "acme"}, "organization_id"),
            ({"query": "x" * 201}, "query"),
        ],
    )


# ------------------------------------------------------------------------------------------------- merge


async def test_merge_contacts_moves_leads_interactions_and_fills_gaps(crm) -> None:
    survivor = await crm.lead("ann@example.com", first_name="Ann", tags=["a"])
    duplicate = await crm.lead(phone="+14155550123", last_name="Lee", title="CTO", source_channel="voice", tags=["b"])
    survivor_id = survivor["contact"]["id"]
    duplicate_id = duplicate["contact"]["id"]
    await crm.ok("log_interaction", contact_id=duplicate_id, channel="voice", direction="inbound", summary="call")
    await crm.ok("log_interaction", contact_id=survivor_id, channel="email", direction="outbound", summary="mail")

    merged = await crm.ok("merge_contacts", survivor_id=survivor_id, duplicate_id=duplicate_id)
    assert merged["id"] == survivor_id
    assert merged["email"] == "ann@example.com"
    assert merged["first_name"] == "Ann"
    # Gaps are filled from the duplicate; the survivor's own values stay.
    assert merged["phone"] == "+14155550123"
    assert merged["last_name"] == "Lee"
    assert merged["title"] == "CTO"
    assert sorted(merged["tags"]) == ["a", "b"]

    view = await crm.ok("get_customer_360", contact_id=survivor_id)
    assert sorted(lead["id"] for lead in view["leads"]) == sorted([survivor["lead"]["id"], duplicate["lead"]["id"]])
    assert all(lead["contact_id"] == survivor_id for lead in view["leads"])
    assert sorted(item["summary"] for item in view["timeline"]) == ["call", "mail"]
    assert all(item["contact_id"] == survivor_id for item in view["timeline"])

    moved_lead = await crm.ok("get_lead", lead_id=duplicate["lead"]["id"])
    assert moved_lead["contact_id"] == survivor_id

    gone = await crm.ok("get_contact", contact_id=duplicate_id)
    assert gone["merged_into_id"] == survivor_id
    listed = await crm.ok("search_contacts")
    assert [c["id"] for c in listed["items"]] == [survivor_id]


async def test_a_merged_duplicate_cannot_be_updated_and_points_to_the_survivor(crm) -> None:
    survivor = await crm.ok("create_contact", email="keep@example.com")
    duplicate = await crm.ok("create_contact", email="dupe@example.com")
    await crm.ok("merge_contacts", survivor_id=survivor["id"], duplicate_id=duplicate["id"])

    text = await crm.error("update_contact", contact_id=duplicate["id"], title="CEO")
    assert "merged" in text
    assert survivor["id"] in text
    text = await crm.error("merge_contacts", survivor_id=survivor["id"], duplicate_id=duplicate["id"])
    assert survivor["id"] in text
    assert "duplicate_id" in text
    # The 360 of the old id resolves to the survivor.
    view = await crm.ok("get_customer_360", contact_id=duplicate["id"])
    assert view["contact"]["id"] == survivor["id"]


async def test_merge_contacts_error_cases(crm) -> None:
    contact = await crm.ok("create_contact", email="one@example.com")
    text = await crm.error("merge_contacts", survivor_id=contact["id"], duplicate_id=contact["id"])
    assert "duplicate_id" in text
    text = await crm.error("merge_contacts", survivor_id=contact["id"], duplicate_id=MISSING_CONTACT)
    assert MISSING_CONTACT in text
    text = await crm.error("merge_contacts", survivor_id=MISSING_CONTACT, duplicate_id=contact["id"])
    assert MISSING_CONTACT in text
    assert "survivor_id" in await crm.error("merge_contacts", survivor_id="bad", duplicate_id=contact["id"])
    assert "duplicate_id" in await crm.error("merge_contacts", survivor_id=contact["id"])
