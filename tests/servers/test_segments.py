"""Segments through the gateway: save, preview, list, members with pages; rule errors name their path."""

MISSING_SEGMENT = "seg_01ARZ3NDEKTSV4RRFFQ69G5FAV"
US_RULE = {"all": [{"field": "country", "op": "eq", "value": "US"}]}


async def people(crm, count: int, country: str = "US") -> list[str]:
    return [
        (await crm.lead(f"{country.lower()}{i}@example.com", country=country))["contact"]["id"] for i in range(count)
    ]


async def test_create_and_list_segments(crm) -> None:
    segment = await crm.ok(
        "create_segment",
        name="US software",
        description="US contacts in software",
        rule={
            "all": [
                {"field": "country", "op": "eq", "value": "us"},
                {"field": "industry", "op": "eq", "value": "Software"},
            ]
        },
    )
    assert segment["id"].startswith("seg_")
    assert segment["name"] == "US software"
    assert segment["description"] == "US contacts in software"
    assert "country" in segment["rule_summary"]
    assert "industry" in segment["rule_summary"]
    listed = await crm.ok("list_segments")
    assert [s["id"] for s in listed["items"]] == [segment["id"]]
    assert listed["items"][0]["rule_summary"] == segment["rule_summary"]


async def test_a_duplicate_segment_name_is_a_conflict(crm) -> None:
    await crm.ok("create_segment", name="VIP", rule=US_RULE)
    text = await crm.error("create_segment", name="VIP", rule={"all": [{"field": "score", "op": "gte", "value": 50}]})
    assert "name" in text
    assert "VIP" in text
    assert len((await crm.ok("list_segments"))["items"]) == 1


INVALID_RULES = [
    ({"all": [{"field": "shoe_size", "op": "eq", "value": 42}]}, "rule.all[0].field", ["shoe_size"]),
    ({"all": [{"field": "score", "op": "contains", "value": 1}]}, "rule.all[0].op", ["contains", "score"]),
    ({"all": [{"field": "score", "op": "gte", "value": "high"}]}, "rule.all[0].value", ["score"]),
    (
        {"any": [US_RULE, {"all": [{"field": "stage", "op": "eq", "value": "hot"}]}]},
        "rule.any[1].all[0].value",
        ["hot"],
    ),
    ({"all": [{"field": "score", "op": "gt", "value": 10**30}]}, "rule.all[0].value", ["score"]),
    (
        {"all": [{"field": "last_activity", "op": "gt", "value": "0001-01-01T00:00:00+14:00"}]},
        "rule.all[0].value",
        [],
    ),
    ({"all": "everyone"}, "rule.all", []),
    ({}, "rule", []),
]


async def test_invalid_rules_name_the_field_op_or_path(crm) -> None:
    for rule, path, words in INVALID_RULES:
        for tool, arguments in (("create_segment", {"name": "bad", "rule": rule}), ("preview_segment", {"rule": rule})):
            text = await crm.error(tool, **arguments)
            assert path in text, (tool, rule, text)
            for word in words:
                assert word in text, (tool, rule, text)
    assert (await crm.ok("list_segments"))["items"] == []


async def test_preview_segment_counts_and_samples_by_rule_or_saved_segment(crm) -> None:
    us = await people(crm, 3, "US")
    await people(crm, 2, "ES")
    preview = await crm.ok("preview_segment", rule=US_RULE)
    assert preview["count"] == 3
    assert sorted(c["id"] for c in preview["sample"]) == sorted(us)
    assert "US" in preview["rule_summary"]
    segment = await crm.ok("create_segment", name="US", rule=US_RULE)
    saved = await crm.ok("preview_segment", segment_id=segment["id"])
    assert saved == preview
    nobody = await crm.ok("preview_segment", rule={"all": [{"field": "country", "op": "eq", "value": "JP"}]})
    assert nobody["count"] == 0
    assert nobody["sample"] == []


async def test_preview_segment_sample_is_capped_at_ten(crm) -> None:
    await people(crm, 12, "US")
    preview = await crm.ok("preview_segment", rule=US_RULE)
    assert preview["count"] == 12
    assert len(preview["sample"]) == 10


async def test_preview_segment_needs_exactly_one_of_rule_and_segment_id(crm) -> None:
    for arguments in ({}, {"rule": US_RULE, "segment_id": MISSING_SEGMENT}):
        text = await crm.error("preview_segment", **arguments)
        assert "rule" in text
        assert "segment_id" in text
    assert MISSING_SEGMENT in await crm.error("preview_segment", segment_id=MISSING_SEGMENT)
    assert "segment_id" in await crm.error("preview_segment", segment_id="VIP")


async def test_segments_are_evaluated_live(crm) -> None:
    segment = await crm.ok(
        "create_segment", name="Tagged", rule={"all": [{"field": "tags", "op": "contains", "value": "vip"}]}
    )
    assert (await crm.ok("list_segment_members", segment_id=segment["id"]))["items"] == []
    contact = (await crm.lead("later@example.com", tags=["VIP"]))["contact"]
    members = await crm.ok("list_segment_members", segment_id=segment["id"])
    assert [c["id"] for c in members["items"]] == [contact["id"]]
    await crm.ok("update_contact", contact_id=contact["id"], tags=["other"])
    assert (await crm.ok("list_segment_members", segment_id=segment["id"]))["items"] == []


async def test_list_segment_members_pages_walk_every_member_once(crm) -> None:
    us = await people(crm, 5, "US")
    await people(crm, 2, "ES")
    segment = await crm.ok("create_segment", name="US", rule=US_RULE)
    other = await crm.ok("create_segment", name="ES", rule={"all": [{"field": "country", "op": "eq", "value": "ES"}]})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await crm.ok(
            "list_segment_members", segment_id=segment["id"], limit=2, **({"cursor": cursor} if cursor else {})
        )
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert "cursor" in await crm.error("list_segment_members", segment_id=other["id"], limit=2, cursor=cursor)
    assert pages == 3
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(us)
    assert "cursor" in await crm.error("list_segment_members", segment_id=segment["id"], cursor="garbage")


async def test_list_segment_members_errors(crm) -> None:
    assert MISSING_SEGMENT in await crm.error("list_segment_members", segment_id=MISSING_SEGMENT)
    assert "segment_id" in await crm.error("list_segment_members", segment_id="seg_short")
    assert "segment_id" in await crm.error("list_segment_members")
    segment = await crm.ok("create_segment", name="US", rule=US_RULE)
    assert "limit" in await crm.error("list_segment_members", segment_id=segment["id"], limit=500)


async def test_create_segment_rejects_bad_arguments_naming_the_field(crm) -> None:
    await crm.rejects(
        "create_segment",
        [
            ({"rule": US_RULE}, "name"),
            ({"name": "", "rule": US_RULE}, "name"),
            ({"name": "x" * 121, "rule": US_RULE}, "name"),
            ({"name": "x"}, "rule"),
            ({"name": "x", "rule": ["country", "US"]}, "rule"),
            ({"name": "x", "rule": US_RULE, "description": "d" * 1001}, "description"),
        ],
    )


async def test_members_who_granted_a_channel_are_listed_apart_for_the_campaigns_context(crm, runtime) -> None:
    opted_in = await crm.lead("in@example.com", country="US", consent={"email": {"granted": True}})
    await crm.lead("out@example.com", country="US", consent={"email": {"granted": False}})
    await crm.lead("never@example.com", country="US")
    segment = await crm.ok("create_segment", name="US", rule=US_RULE)
    caller = runtime.caller(None)
    every = await runtime.crm.list_segment_members(caller, segment_id=segment["id"], cursor=None, limit=10)
    granted = await runtime.crm.list_segment_members(
        caller, segment_id=segment["id"], cursor=None, limit=10, consented="email"
    )
    assert len(every.items) == 3
    assert [m.id for m in granted.items] == [opted_in["contact"]["id"]]
