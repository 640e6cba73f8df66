"""Analytics tasks: insights and their changes, charts, refreshes, attribution and experiments."""

from datetime import date
from typing import Any

from evals.agents.fixtures import ANA, CAMPAIGN, EXPERIMENT, experiment, live_campaign
from evals.agents.spec import CheckContext, Step, Task, need


def _window(call_args: dict[str, Any]) -> tuple[date | None, date | None]:
    since, until = call_args.get("since"), call_args.get("until")
    return (date.fromisoformat(since) if since else None, date.fromisoformat(until) if until else None)


async def check_cpa_week(ctx: CheckContext) -> None:
    calls = ctx.ok_calls("campaigns_get_insights")
    need(calls, "no insights were read")
    start, end = (date.fromisoformat(ctx.saved["dates"][k]) for k in ("last_week_start", "last_week_end"))
    good = []
    for c in calls:
        since, until = _window(c.arguments)
        covers = since is not None and since <= end and (until is None or until >= start)
        short = since is not None and ((until or date.fromisoformat(ctx.saved["dates"]["today"])) - since).days <= 14
        if covers and short and c.arguments.get("compare_previous", True) and c.arguments.get("breakdown") != "none":
            good.append(c)
    need(good, f"no insights call on last week compared with the week before: {[c.arguments for c in calls]}")


async def check_chart(ctx: CheckContext) -> None:
    call = ctx.last_ok("campaigns_get_insights")
    need(call.arguments.get("chart") == "channels", f"chart {call.arguments.get('chart')}")
    need(call.arguments.get("campaign_ids") == [ctx.saved["plan"]["id"]], "not limited to the campaign")


async def check_refreshed(ctx: CheckContext) -> None:
    pulled = ctx.last_ok("campaigns_refresh_performance").data or {}
    need(pulled.get("campaigns") and pulled["campaigns"][0]["rows"] >= 1, f"nothing pulled: {pulled}")


async def check_compared(ctx: CheckContext) -> None:
    call = ctx.last_ok("campaigns_compare_attribution_models")
    need({"first_touch", "last_touch"} <= set(call.arguments.get("models", [])), "not first vs last touch")


async def check_data_driven(ctx: CheckContext) -> None:
    calls = ctx.ok_calls("campaigns_get_attribution") + ctx.ok_calls("campaigns_compare_attribution_models")
    need(calls, "no attribution was read")
    models = {m for c in calls for m in c.arguments.get("models", [])}
    need(models & {"markov", "shapley"}, f"no data-driven model among {models}")


async def check_experiment_created(ctx: CheckContext) -> None:
    items = (await ctx.read("campaigns_list_experiments"))["items"]
    need(len(items) == 1, f"{len(items)} experiments")
    call = ctx.last_ok("campaigns_create_experiment")
    args = call.arguments
    need(args.get("subject") == "email" and len(args.get("variants", [])) == 2, "not a two-arm email test")
    need(abs(float(args.get("baseline", 0)) - 0.05) < 1e-9, f"baseline {args.get('baseline')}")
    need(abs(float(args.get("minimum_detectable_effect", 0)) - 0.2) < 1e-9, "effect is not 20 %")


async def check_assigned(ctx: CheckContext) -> None:
    call = ctx.last_ok("campaigns_assign_variant")
    contact = (await ctx.read("crm_search_contacts", query=ANA["email"]))["items"][0]["id"]
    need(call.arguments.get("contact_id") == contact, "assigned someone else")
    need(call.arguments.get("experiment_id") == ctx.saved["exp"]["id"], "assigned in another experiment")
    # Assignment is sticky: asking again returns the recorded arm (and records nothing new).
    again = await ctx.read("campaigns_assign_variant", experiment_id=ctx.saved["exp"]["id"], contact_id=contact)
    need(again["variant"] == (call.data or {}).get("variant"), "the assignment was not recorded")


async def check_results_read(ctx: CheckContext) -> None:
    call = ctx.last_ok("campaigns_get_experiment_results")
    need(call.arguments.get("experiment_id") == ctx.saved["exp"]["id"], "read another experiment")


async def check_experiment_ended(ctx: CheckContext) -> None:
    items = (await ctx.read("campaigns_list_experiments", status="finished"))["items"]
    need([i["id"] for i in items] == [ctx.saved["exp"]["id"]], "the experiment is not finished")
    need(ctx.last_ok("campaigns_end_experiment").arguments.get("decision") == "stop", "decision is not stop")


async def check_campaign_leads(ctx: CheckContext) -> None:
    call = ctx.last_ok("campaigns_get_insights")
    totals = (call.data or {}).get("totals", {})
    need(totals.get("leads") == 1, f"insights totals {totals}")


def _journeys() -> tuple[Step, ...]:
    """Three people: search then email (won), email alone (won), a Facebook click that did not convert."""
    return (
        Step(
            "crm_capture_lead",
            {
                "email": "a@x.example",
                "source_channel": "web_form",
                "occurred_at": "$dates.ago_3d",
                "landing_page": "https://books.example/?gclid=abc",
            },
        ),
        Step(
            "crm_capture_lead",
            {"email": "a@x.example", "source_channel": "email", "occurred_at": "$dates.ago_1d"},
            save="second",
        ),
        Step(
            "crm_capture_lead",
            {"email": "b@x.example", "source_channel": "email", "occurred_at": "$dates.ago_2d"},
            save="alone",
        ),
        Step(
            "crm_capture_lead",
            {"email": "c@x.example", "source_channel": "web_form", "landing_page": "https://books.example/?fbclid=z"},
        ),
        Step(
            "crm_update_lead",
            {"lead_id": "$second.lead.id", "stage": "customer", "deal_value": 100, "deal_currency": "EUR"},
        ),
        Step(
            "crm_update_lead",
            {"lead_id": "$alone.lead.id", "stage": "customer", "deal_value": 100, "deal_currency": "EUR"},
        ),
    )


def _campaign_lead() -> Step:
    """A lead who arrived through the live campaign's search ad (its UTM tags)."""
    return Step(
        "crm_capture_lead",
        {
            **ANA,
            "source_channel": "ads_platform",
            "utm": {"campaign": "$plan.id", "source": "google", "medium": "cpc"},
        },
    )


_EXP = "$listed.items.0.id"

TASKS = [
    Task(
        id="analytics-why-cpa-rose",
        context="analytics",
        request="Why did our CPA rise last week?",
        setup=live_campaign(),
        path=(
            Step(
                "campaigns_get_insights",
                {
                    "since": "$dates.last_week_start",
                    "until": "$dates.last_week_end",
                    "compare_previous": True,
                    "breakdown": "channel",
                },
            ),
        ),
        check=check_cpa_week,
    ),
    Task(
        id="analytics-channel-chart",
        context="analytics",
        request=f"Show me a chart comparing channels for '{CAMPAIGN}'.",
        setup=live_campaign(),
        path=(
            Step("campaigns_list_campaigns", save="listed"),
            Step("campaigns_get_insights", {"campaign_ids": ["$listed.items.0.id"], "chart": "channels"}),
        ),
        check=check_chart,
    ),
    Task(
        id="analytics-pull-now",
        context="analytics",
        request="Pull the latest ad results from the platforms right now.",
        setup=live_campaign(),
        path=(Step("campaigns_refresh_performance"),),
        check=check_refreshed,
    ),
    Task(
        id="analytics-leads-from-campaign",
        context="analytics",
        request=f"How many leads has '{CAMPAIGN}' brought in today, and at what cost per lead?",
        setup=(*live_campaign(), _campaign_lead()),
        path=(
            Step("campaigns_list_campaigns", save="listed"),
            Step(
                "campaigns_get_insights",
                {"campaign_ids": ["$listed.items.0.id"], "since": "$dates.today", "until": "$dates.today"},
            ),
        ),
        check=check_campaign_leads,
    ),
    Task(
        id="analytics-first-vs-last-touch",
        context="analytics",
        request="Which channels get credit for our customers under first-touch versus last-touch attribution?",
        setup=_journeys(),
        path=(Step("campaigns_compare_attribution_models", {"models": ["first_touch", "last_touch"]}),),
        check=check_compared,
    ),
    Task(
        id="analytics-data-driven-credit",
        context="analytics",
        request="With a data-driven attribution model, how much credit does email really deserve?",
        setup=_journeys(),
        path=(Step("campaigns_get_attribution", {"models": ["markov", "shapley"]}),),
        check=check_data_driven,
    ),
    Task(
        id="analytics-new-subject-test",
        context="analytics",
        request=(
            "Set up an A/B test of two email subject lines (a statement vs a question). About 5% of recipients "
            "become customers today; we want to detect a 20% lift; we send to about 400 contacts a day."
        ),
        path=(Step("campaigns_create_experiment", EXPERIMENT),),
        check=check_experiment_created,
    ),
    Task(
        id="analytics-assign-variant",
        context="analytics",
        request="Which subject line should Ana García get in the subject line test?",
        setup=(experiment(), Step("crm_capture_lead", {**ANA, "source_channel": "email"})),
        path=(
            Step("campaigns_list_experiments", save="listed"),
            Step("crm_search_contacts", {"query": "García"}, save="found"),
            Step("campaigns_assign_variant", {"experiment_id": _EXP, "contact_id": "$found.items.0.id"}),
        ),
        check=check_assigned,
    ),
    Task(
        id="analytics-test-verdict",
        context="analytics",
        request="How is the subject line test going? Should we ship the question variant?",
        setup=(experiment(),),
        path=(
            Step("campaigns_list_experiments", save="listed"),
            Step("campaigns_get_experiment_results", {"experiment_id": _EXP}),
        ),
        check=check_results_read,
    ),
    Task(
        id="analytics-stop-test",
        context="analytics",
        request="Stop the subject line test: the two subject lines tie.",
        setup=(experiment(),),
        path=(
            Step("campaigns_list_experiments", save="listed"),
            Step("campaigns_end_experiment", {"experiment_id": _EXP, "decision": "stop", "reason": "They tie"}),
        ),
        check=check_experiment_ended,
    ),
]
