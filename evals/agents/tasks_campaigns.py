"""Campaign tasks: a plan from a goal, creatives, compliance, review, activation preview and live changes."""

from typing import Any

from fastmcp import Client

from evals.agents.fixtures import CAMPAIGN, approved_campaign, approved_copy, live_campaign, plan_args, planned_campaign
from evals.agents.spec import CheckContext, Step, Task, need
from evals.agents.suite import Suite


async def _campaign(ctx: CheckContext) -> dict[str, Any]:
    """The one campaign named CAMPAIGN, read back in full."""
    items = (await ctx.read("campaigns_list_campaigns"))["items"]
    named = [c for c in items if c["name"] == CAMPAIGN]
    need(len(named) == 1, f"expected one campaign {CAMPAIGN!r}, found {[c['name'] for c in items]}")
    return await ctx.read("campaigns_get_campaign", campaign_id=named[0]["id"])


async def check_planned(ctx: CheckContext) -> None:
    campaign = await _campaign(ctx)
    need(campaign["status"] == "planned", f"status {campaign['status']}")
    need({m["country"] for m in campaign["markets"]} == {"ES"}, f"markets {campaign['markets']}")
    need(campaign["schedule"]["start_date"] == ctx.saved["dates"]["march_start"], f"schedule {campaign['schedule']}")
    need(campaign["budget"]["currency"] == "EUR", "budget not in EUR")
    need(float(campaign["budget"]["total"]) == 15000, f"budget {campaign['budget']}")
    need(campaign["objects"] == [], "something was created on a platform")


async def check_compliance_read(ctx: CheckContext) -> None:
    call = ctx.last_ok("campaigns_check_compliance")
    need(call.arguments.get("campaign_id") == ctx.saved["plan"]["id"], "checked another campaign")
    need((await _campaign(ctx))["status"] == "planned", "the campaign moved; only a check was asked")


async def check_submitted(ctx: CheckContext) -> None:
    campaign = await _campaign(ctx)
    need(campaign["status"] in {"approved", "in_review"}, f"status {campaign['status']}")


async def check_preview_only(ctx: CheckContext) -> None:
    preview = ctx.last_ok("campaigns_preview_activation").data or {}
    need(preview.get("confirmation_token"), "no preview token")
    campaign = await _campaign(ctx)
    need(campaign["status"] == "approved" and campaign["objects"] == [], "the campaign was activated")


async def check_activated(ctx: CheckContext) -> None:
    campaign = await _campaign(ctx)
    need(campaign["status"] in {"active", "scheduled"}, f"status {campaign['status']}")
    need(campaign["objects"] and all(o["platform_id"] for o in campaign["objects"]), "no platform objects")


async def check_creatives(ctx: CheckContext) -> None:
    campaign = await _campaign(ctx)
    search = next(c for c in campaign["channels"] if c["channel"] == "google_search")
    need(search["creative_ids"] == [ctx.saved["search_copy"]["variants"][0]["asset_id"]], f"creatives {search}")


async def check_paused(ctx: CheckContext) -> None:
    campaign = await _campaign(ctx)
    need(campaign["status"] == "paused", f"status {campaign['status']}")


async def check_budget(ctx: CheckContext) -> None:
    campaign = await _campaign(ctx)
    budget = [c for c in campaign["changes"] if c["kind"] == "budget"]
    need(len(budget) == 1, f"{len(budget)} budget changes")
    before = next(c for c in ctx.saved["plan_live"]["channels"] if c["channel"] == "google_search")["daily_budget"]
    after = next(c for c in campaign["channels"] if c["channel"] == "google_search")["daily_budget"]
    need(abs(float(after) - 1.2 * float(before)) <= 0.02 * float(before), f"daily budget {before} -> {after}")


async def check_caps(ctx: CheckContext) -> None:
    caps = await ctx.read("campaigns_get_spend_caps")
    need(caps["per_day"] is not None and float(caps["per_day"]) == 500, f"per_day {caps['per_day']}")
    need(caps["currency"] == "EUR", f"currency {caps['currency']}")


async def check_ended(ctx: CheckContext) -> None:
    campaign = await _campaign(ctx)
    need(campaign["status"] in {"completed", "archived"}, f"status {campaign['status']}")


async def _raised_budget(suite: Suite, client: Client[Any], saved: dict[str, Any]) -> None:
    """The Google Search daily budget plus 20 % (what the scripted agent computes from the campaign it read)."""
    before = next(c for c in saved["plan_live"]["channels"] if c["channel"] == "google_search")["daily_budget"]
    saved["raised"] = round(float(before) * 1.2, 2)


def _by_name() -> Step:
    return Step("campaigns_list_campaigns", save="listed")


_ID = "$listed.items.0.id"

TASKS = [
    Task(
        id="campaigns-plan-march-spain",
        context="campaigns",
        request=(
            "Plan a March campaign to get 300 leads in Spain for our accounting software for small businesses. "
            f"Budget 15,000 EUR, Google Search and Facebook, landing page https://books.example/es/prueba. Call it "
            f"'{CAMPAIGN}'."
        ),
        path=(Step("campaigns_plan_campaign", plan_args()),),
        check=check_planned,
    ),
    Task(
        id="campaigns-compliance-check",
        context="campaigns",
        request=f"Is the '{CAMPAIGN}' campaign compliant? What would block it?",
        setup=planned_campaign(),
        path=(_by_name(), Step("campaigns_check_compliance", {"campaign_id": _ID})),
        check=check_compliance_read,
    ),
    Task(
        id="campaigns-submit-for-approval",
        context="campaigns",
        request=f"The '{CAMPAIGN}' campaign is ready: check it and submit it for approval.",
        setup=planned_campaign(),
        path=(
            _by_name(),
            Step("campaigns_check_compliance", {"campaign_id": _ID}),
            Step("campaigns_submit_for_review", {"campaign_id": _ID}),
        ),
        check=check_submitted,
    ),
    Task(
        id="campaigns-activation-preview",
        context="campaigns",
        request=f"What exactly would launching '{CAMPAIGN}' create, and what's the most it could spend? Don't launch.",
        setup=approved_campaign(),
        path=(_by_name(), Step("campaigns_preview_activation", {"campaign_id": _ID})),
        check=check_preview_only,
    ),
    Task(
        id="campaigns-launch",
        context="campaigns",
        request=f"Launch the approved '{CAMPAIGN}' campaign.",
        setup=approved_campaign(),
        path=(
            _by_name(),
            Step("campaigns_preview_activation", {"campaign_id": _ID}, save="preview"),
            Step(
                "campaigns_activate_campaign",
                {"campaign_id": _ID, "confirmation_token": "$preview.confirmation_token"},
            ),
        ),
        check=check_activated,
    ),
    Task(
        id="campaigns-attach-creatives",
        context="campaigns",
        request=f"Attach our approved Google search ad copy to the Google Search channel of '{CAMPAIGN}'.",
        setup=(
            Step("campaigns_plan_campaign", plan_args(), save="plan"),
            *approved_copy("search_copy", "google_ads", "rsa"),
        ),
        path=(
            _by_name(),
            Step("content_list_assets", {"status": "approved", "channel": "google_ads"}, save="assets"),
            Step(
                "campaigns_update_campaign",
                {
                    "campaign_id": _ID,
                    "channels": [{"channel": "google_search", "creative_ids": ["$assets.items.0.id"]}],
                },
            ),
        ),
        check=check_creatives,
    ),
    Task(
        id="campaigns-pause-live",
        context="campaigns",
        request=f"Pause '{CAMPAIGN}', the leads look low quality.",
        setup=live_campaign(),
        path=(
            Step("campaigns_list_campaigns", {"status": "active"}, save="listed"),
            Step("campaigns_pause_campaign", {"campaign_id": _ID, "reason": "Leads look low quality"}),
        ),
        check=check_paused,
    ),
    Task(
        id="campaigns-raise-search-budget",
        context="campaigns",
        request=f"Raise the Google Search daily budget of '{CAMPAIGN}' by 20%.",
        setup=(
            *live_campaign(),
            Step("campaigns_get_campaign", {"campaign_id": "$plan.id"}, save="plan_live"),
            _raised_budget,
        ),
        path=(
            _by_name(),
            Step("campaigns_get_campaign", {"campaign_id": _ID}, save="shown"),
            Step(
                "campaigns_update_budget",
                {
                    "campaign_id": _ID,
                    "channel": "google_search",
                    "daily_budget": "$raised",
                    "reason": "Raise search by 20%",
                },
            ),
        ),
        check=check_budget,
    ),
    Task(
        id="campaigns-daily-spend-cap",
        context="campaigns",
        request="Never let us spend more than 500 EUR a day across all campaigns.",
        path=(Step("campaigns_get_spend_caps"), Step("campaigns_set_spend_caps", {"currency": "EUR", "per_day": 500})),
        check=check_caps,
    ),
    Task(
        id="campaigns-end-live",
        context="campaigns",
        request=f"We hit our goal: end '{CAMPAIGN}' for good.",
        setup=live_campaign(),
        path=(
            _by_name(),
            Step("campaigns_end_campaign", {"campaign_id": _ID, "reason": "Goal reached"}),
        ),
        check=check_ended,
    ),
]
