"""CRM tasks: capture, classify, segment, flows, deals, owners, imports and merges."""

from typing import Any

from evals.agents.fixtures import ANA, LUIS, capture
from evals.agents.spec import CheckContext, Step, Task, need

ANA_EMAIL = ANA["email"]


async def _ana(ctx: CheckContext) -> dict[str, Any]:
    """Ana's customer 360 (exactly one contact with her email)."""
    found = await ctx.read("crm_search_contacts", query=ANA_EMAIL)
    need(len(found["items"]) == 1, f"expected one contact {ANA_EMAIL}, found {len(found['items'])}")
    return await ctx.read("crm_get_customer_360", contact_id=found["items"][0]["id"])


async def check_webinar_capture(ctx: CheckContext) -> None:
    view = await _ana(ctx)
    lead = view["leads"][0]
    need(lead["source_channel"] == "event", f"lead source is {lead['source_channel']}, not event")
    need(view["contact"]["title"] == "VP Marketing", "title not recorded")
    need(view["organization"] and view["organization"]["name"] == "Northwind", "company not linked")


async def check_returning_touch(ctx: CheckContext) -> None:
    view = await _ana(ctx)
    need(len(view["leads"]) == 1, "a second lead was created instead of a touch")
    lead = view["leads"][0]
    need(lead["touch_count"] == 2, f"touch_count {lead['touch_count']} != 2")
    capture = ctx.last_ok("crm_capture_lead")
    need(capture.arguments.get("source_channel") == "ads_platform", "the visit was not recorded as an ad click")
    need((capture.arguments.get("utm") or {}).get("campaign") == "spring-retargeting", "the UTM campaign was dropped")


async def check_call_logged(ctx: CheckContext) -> None:
    view = await _ana(ctx)
    calls = [i for i in view["timeline"] if i["channel"] == "voice"]
    need(len(calls) == 1, f"expected one voice interaction, found {len(calls)}")
    need("budget" in (calls[0]["summary"] or calls[0]["transcript"] or "").lower(), "call summary lacks the budget")
    ctx.last_ok("crm_classify_lead")


async def check_segment(ctx: CheckContext) -> None:
    segments = (await ctx.read("crm_list_segments"))["items"]
    named = [s for s in segments if s["name"] == "Spain software"]
    need(len(named) == 1, f"segment 'Spain software' missing: {[s['name'] for s in segments]}")
    members = await ctx.read("crm_list_segment_members", segment_id=named[0]["id"])
    emails = sorted(m["email"] for m in members["items"])
    need(emails == sorted([ANA_EMAIL, "jordi@cloudbcn.example"]), f"segment members {emails}")


async def check_preview_count(ctx: CheckContext) -> None:
    preview = ctx.last_ok("crm_preview_segment").data or {}
    need(preview.get("count") == 2, f"preview counted {preview.get('count')}, expected the 2 Mexican contacts")
    need(not (await ctx.read("crm_list_segments"))["items"], "a segment was saved; only a count was asked")


async def check_flow_started(ctx: CheckContext) -> None:
    run = ctx.last_ok("crm_start_flow")
    contact = (await ctx.read("crm_search_contacts", query=ANA_EMAIL))["items"][0]
    need(run.arguments.get("contact_id") == contact["id"], "flow started for someone else")
    need(run.arguments.get("flow_id") == "bant-qualification", "not the BANT flow")
    need(run.arguments.get("channel") == "chat", "not on chat")


async def check_flow_answers(ctx: CheckContext) -> None:
    view = await _ana(ctx)
    lead = await ctx.read("crm_get_lead", lead_id=view["leads"][0]["id"])
    need(lead["qualification"].get("need") == "urgent", f"qualification {lead['qualification']}")
    need(lead["qualification"].get("authority") == "decision_maker", f"qualification {lead['qualification']}")
    need(lead["stage"] == "sql", f"stage {lead['stage']} != sql")


async def check_import(ctx: CheckContext) -> None:
    leads = (await ctx.read("crm_list_leads", source="import"))["items"]
    need(len(leads) == 3, f"{len(leads)} imported leads, expected 3")
    need({lead["email"] for lead in leads} >= {"pilar@fabrica.example", "tom@logi.example"}, "rows missing")


async def check_owner(ctx: CheckContext) -> None:
    leads = (await ctx.read("crm_list_leads"))["items"]
    owners = {lead["email"]: lead["owner"] for lead in leads}
    need(owners.get(ANA_EMAIL) == "maria@books.example", f"Ana's owner is {owners.get(ANA_EMAIL)}")
    need(owners.get(LUIS["email"]) in (None, ""), "the weak lead was assigned too")


async def check_won(ctx: CheckContext) -> None:
    view = await _ana(ctx)
    need(view["leads"][0]["stage"] == "customer", f"stage {view['leads'][0]['stage']}")
    update = ctx.last_ok("crm_update_lead")
    need(float(update.arguments.get("deal_value", 0)) == 12000, "deal value not 12000")
    need(update.arguments.get("deal_currency") == "EUR", "deal currency not EUR")


async def check_merged(ctx: CheckContext) -> None:
    found = (await ctx.read("crm_search_contacts", query="García"))["items"]
    need(len(found) == 1, f"{len(found)} active Ana García contacts after the merge")
    need(found[0]["email"] == ANA_EMAIL, "the survivor is not the work address")


async def check_org(ctx: CheckContext) -> None:
    found = (await ctx.read("crm_search_organizations", domain="cloudbcn.example"))["items"]
    need(len(found) == 1 and found[0]["name"] == "CloudBCN", f"organizations {found}")
    need(found[0]["country"] == "ES", "country not recorded")


async def check_scoring(ctx: CheckContext) -> None:
    ctx.last_ok("crm_get_scoring_rules")
    need(not ctx.ok_calls("crm_set_scoring_rules"), "rules were changed; the user only asked to see them")


JORDI = {"email": "jordi@cloudbcn.example", "first_name": "Jordi", "company": "CloudBCN", "industry": "Software"}
CSV = (
    "email,first_name,company,country\n"
    "pilar@fabrica.example,Pilar,Fábrica Norte,ES\n"
    "tom@logi.example,Tom,Logi GmbH,DE\n"
    "mei@shop.example,Mei,Shop Co,US\n"
)

TASKS = [
    Task(
        id="crm-capture-webinar",
        context="crm",
        request=(
            "Capture this lead from yesterday's webinar and tell me if sales should call: Ana García, VP Marketing "
            "at Northwind (northwind.example, software, about 800 employees, Spain), ana.garcia@northwind.example."
        ),
        path=(Step("crm_capture_lead", {**ANA, "source_channel": "event"}),),
        check=check_webinar_capture,
    ),
    Task(
        id="crm-returning-visitor",
        context="crm",
        request=(
            "ana.garcia@northwind.example came back through our retargeting ad (utm_campaign=spring-retargeting, "
            "utm_source=meta). Record the visit."
        ),
        setup=(capture("ana", ANA),),
        path=(
            Step(
                "crm_capture_lead",
                {
                    "email": ANA_EMAIL,
                    "source_channel": "ads_platform",
                    "utm": {"campaign": "spring-retargeting", "source": "meta"},
                },
            ),
        ),
        check=check_returning_touch,
    ),
    Task(
        id="crm-log-call-rescore",
        context="crm",
        request=(
            "I just called Ana García from Northwind: she confirmed the budget is approved and wants a demo next "
            "week. Log the call and re-score her lead."
        ),
        setup=(capture("ana", ANA),),
        path=(
            Step("crm_search_contacts", {"query": "García"}, save="found"),
            Step(
                "crm_log_interaction",
                {
                    "contact_id": "$found.items.0.id",
                    "channel": "voice",
                    "direction": "outbound",
                    "summary": "Budget approved; wants a demo next week.",
                },
            ),
            Step("crm_classify_lead", {"lead_id": "$ana.lead.id"}),
        ),
        check=check_call_logged,
    ),
    Task(
        id="crm-segment-spain-software",
        context="crm",
        request="Create a segment called 'Spain software' with our contacts in Spain working in software.",
        setup=(capture("ana", ANA), capture("jordi", {**JORDI, "country": "ES"}), capture("luis", LUIS)),
        path=(
            Step(
                "crm_create_segment",
                {
                    "name": "Spain software",
                    "rule": {
                        "all": [
                            {"field": "country", "op": "eq", "value": "ES"},
                            {"field": "industry", "op": "eq", "value": "Software"},
                        ]
                    },
                },
            ),
        ),
        check=check_segment,
    ),
    Task(
        id="crm-count-mexico",
        context="crm",
        request="How many of our contacts are in Mexico? Just the number, don't save anything.",
        setup=(
            capture("luis", LUIS),
            capture("rosa", {"email": "rosa@mx-ventas.example", "first_name": "Rosa", "country": "MX"}),
            capture("ana", ANA),
        ),
        path=(Step("crm_preview_segment", {"rule": {"all": [{"field": "country", "op": "eq", "value": "MX"}]}}),),
        check=check_preview_count,
    ),
    Task(
        id="crm-start-bant-chat",
        context="crm",
        request="Start the BANT qualification bot with Ana García on chat.",
        setup=(capture("ana", ANA),),
        path=(
            Step("crm_list_flows"),
            Step("crm_search_contacts", {"query": "García"}, save="found"),
            Step(
                "crm_start_flow",
                {"flow_id": "bant-qualification", "contact_id": "$found.items.0.id", "channel": "chat"},
            ),
        ),
        check=check_flow_started,
    ),
    Task(
        id="crm-relay-bot-answers",
        context="crm",
        request=(
            "Ana is talking to the qualification bot (run {$run.run_id}). Her answers, in order: 'urgent', "
            "'over 50k', 'I decide', 'this month'. Relay them."
        ),
        setup=(
            capture("ana", ANA),
            Step(
                "crm_start_flow",
                {"flow_id": "bant-qualification", "contact_id": "$ana.contact.id", "channel": "chat"},
                save="run",
            ),
        ),
        path=tuple(
            Step("crm_advance_flow", {"run_id": "$run.run_id", "user_input": answer})
            for answer in ("urgent", "over 50k", "I decide", "this month")
        ),
        check=check_flow_answers,
    ),
    Task(
        id="crm-import-trade-show",
        context="crm",
        request="Import these trade-show leads:\n" + CSV,
        path=(Step("crm_import_leads", {"csv_text": CSV}),),
        check=check_import,
    ),
    Task(
        id="crm-assign-hot-leads",
        context="crm",
        request="Give every lead scoring 60 or more to maria@books.example.",
        setup=(capture("ana", ANA), capture("luis", LUIS)),
        path=(
            Step("crm_list_leads", {"min_score": 60}, save="hot"),
            Step("crm_update_lead", {"lead_id": "$hot.items.0.id", "owner": "maria@books.example"}),
        ),
        check=check_owner,
    ),
    Task(
        id="crm-deal-won",
        context="crm",
        request="Northwind signed! Mark Ana García's deal as won: 12,000 EUR.",
        setup=(capture("ana", ANA),),
        path=(
            Step("crm_search_contacts", {"query": "García"}, save="found"),
            Step("crm_get_customer_360", {"contact_id": "$found.items.0.id"}, save="view"),
            Step(
                "crm_update_lead",
                {"lead_id": "$view.leads.0.id", "stage": "customer", "deal_value": 12000, "deal_currency": "EUR"},
            ),
        ),
        check=check_won,
    ),
    Task(
        id="crm-merge-duplicates",
        context="crm",
        request=(
            "Ana García is in the CRM twice (work and personal address). Merge them and keep the work one "
            "(ana.garcia@northwind.example)."
        ),
        setup=(
            capture("ana", ANA),
            capture("ana_personal", {"email": "anagarcia77@mail.example", "first_name": "Ana", "last_name": "García"}),
        ),
        path=(
            Step("crm_search_contacts", {"query": "García"}, save="found"),
            Step("crm_merge_contacts", {"survivor_id": "$ana.contact.id", "duplicate_id": "$ana_personal.contact.id"}),
        ),
        check=check_merged,
    ),
    Task(
        id="crm-create-company",
        context="crm",
        request="Add the company CloudBCN (cloudbcn.example), a software firm in Spain with 40 employees.",
        path=(
            Step("crm_search_organizations", {"domain": "cloudbcn.example"}),
            Step(
                "crm_create_organization",
                {
                    "name": "CloudBCN",
                    "domain": "cloudbcn.example",
                    "industry": "Software",
                    "country": "ES",
                    "employee_count": 40,
                },
            ),
        ),
        check=check_org,
    ),
    Task(
        id="crm-explain-scoring",
        context="crm",
        request="How do we score leads? Which stage thresholds are in force?",
        path=(Step("crm_get_scoring_rules"),),
        check=check_scoring,
    ),
]
