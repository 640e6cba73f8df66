"""import_leads through the gateway: per-row errors, upsert by person, idempotent re-import, progress."""

from fastmcp import Client

HEADER = "email,phone,first_name,company,country,source,utm_source,consent_email,tags,favourite_colour"
ROWS = [
    "ann@example.com,,Ann,Acme,US,web_form,google,yes,vip;spring,blue",  # 1 valid
    "not-an-email,,Bad,,,,,,,",  # 2 bad email
    ",,Nobody,,,,,,,",  # 3 neither email nor phone
    "carl@example.com,,Carl,,,carrier_pigeon,,,,",  # 4 unknown source
    ",+14155550123,Dee,,,chat,,,,",  # 5 valid, phone only
    "eve@example.com,,Eve,,,,,maybe,,",  # 6 consent is not yes/no
    "fay@example.com,," + "F" * 101 + ",,,,,,,",  # 7 first name longer than capture_lead allows
]
CSV = "\n".join([HEADER, *ROWS]) + "\n"


async def touch_counts(crm) -> dict[str, int]:
    page = await crm.ok("list_leads", limit=100)
    return {
        item["email"] or item["contact_id"]: (await crm.ok("get_lead", lead_id=item["id"]))["touch_count"]
        for item in page["items"]
    }


async def test_import_reports_row_errors_and_keeps_the_valid_rows(crm) -> None:
    report = await crm.ok("import_leads", csv_text=CSV)
    assert report["total_rows"] == 7
    assert report["created"] == 2
    assert report["updated"] == 0
    assert report["unchanged"] == 0
    assert report["rejected"] == 5
    by_row = {e["row"]: e for e in report["errors"]}
    assert sorted(by_row) == [0, 2, 3, 4, 6, 7]
    assert by_row[0]["field"] == "favourite_colour"  # unknown column: ignored and reported
    assert by_row[2]["field"] == "email"
    assert by_row[3]["field"] == "email"
    assert by_row[4]["field"] == "source"
    assert "carrier_pigeon" in by_row[4]["message"]
    assert by_row[6]["field"] == "consent_email"
    assert by_row[7]["field"] == "first_name"
    for error in report["errors"]:
        crm.assert_clean(error["message"])

    ann = (await crm.ok("search_contacts", query="ann@example.com"))["items"]
    assert len(ann) == 1
    contact = await crm.ok("get_contact", contact_id=ann[0]["id"])
    assert contact["country"] == "US"
    assert sorted(contact["tags"]) == ["spring", "vip"]
    assert contact["consent"]["email"]["status"] == "granted"
    assert contact["consent"]["email"]["source"] == "import"
    view = await crm.ok("get_customer_360", contact_id=contact["id"])
    assert view["organization"]["name"] == "Acme"
    assert view["leads"][0]["source_channel"] == "web_form"
    assert view["leads"][0]["utm"]["source"] == "google"
    dee = (await crm.ok("search_contacts", query="4155550123"))["items"]
    assert [c["name"] for c in dee] == ["Dee"]
    assert (await crm.ok("search_contacts", query="carl@example.com"))["items"] == []


async def test_reimporting_the_same_csv_changes_nothing(crm) -> None:
    await crm.ok("import_leads", csv_text=CSV)
    before = await touch_counts(crm)
    assert sorted(before.values()) == [1, 1]
    report = await crm.ok("import_leads", csv_text=CSV)
    assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (0, 0, 2, 5)
    assert await touch_counts(crm) == before
    assert len((await crm.ok("search_contacts"))["items"]) == 2


async def test_an_import_row_for_a_known_person_is_an_update(crm) -> None:
    known = await crm.lead("known@example.com", source_channel="chat")
    report = await crm.ok("import_leads", csv_text="email,source\nKNOWN@example.com,event\nnew@example.com,event\n")
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 0)
    lead = await crm.ok("get_lead", lead_id=known["lead"]["id"])
    assert lead["touch_count"] == 2
    assert lead["source_channel"] == "chat"


async def test_a_csv_without_email_or_phone_columns_is_rejected(crm) -> None:
    text = await crm.error("import_leads", csv_text="name,company\nAnn,Acme\n")
    assert "csv_text" in text
    assert "email" in text
    assert "csv_text" in await crm.error("import_leads", csv_text="")
    assert "csv_text" in await crm.error("import_leads")


async def test_a_header_only_csv_imports_nothing(crm) -> None:
    report = await crm.ok("import_leads", csv_text="email,phone\n")
    assert report == {"total_rows": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}


async def test_unreadable_csv_is_a_clean_error_and_imports_nothing(crm) -> None:
    huge_cell = "email\nok@example.com\n" + "x" * 200_000 + "\n"
    assert "csv_text" in await crm.error("import_leads", csv_text=huge_cell)
    assert "csv_text" in await crm.error("import_leads", csv_text="y" * 200_000)
    assert (await crm.ok("search_contacts"))["items"] == []


async def test_out_of_range_values_in_a_row_are_row_errors(crm) -> None:
    csv_text = (
        "email,company,employee_count,occurred_at,tags\n"
        "big@example.com,Acme,99999999999999999999,,\n"
        "old@example.com,,,0001-01-01T00:00:00+14:00,\n"
        "later@example.com,,,2999-01-01,\n"
        "tag@example.com,,,," + "t" * 61 + "\n"
    )
    report = await crm.ok("import_leads", csv_text=csv_text)
    assert report["created"] == 0
    assert {e["row"]: e["field"] for e in report["errors"]} == {
        1: "employee_count",
        2: "occurred_at",
        3: "occurred_at",
        4: "tags",
    }


async def test_import_sends_progress_every_25_rows_and_at_the_end(gateway) -> None:
    for mode in ("auto", "legacy"):
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None, seen=seen) -> None:
            seen.append((progress, total, message))

        rows = "\n".join(f"{mode}{i}@example.com,import" for i in range(30))
        async with Client(gateway, mode=mode, progress_handler=on_progress) as client:
            result = await client.call_tool("crm_import_leads", {"csv_text": f"email,source\n{rows}\n"})
        assert result.structured_content["created"] == 30
        assert [(p, t) for p, t, _ in seen] == [(25, 30), (30, 30)], mode
        assert seen[-1][2] == "30/30 rows"
