"""The campaigns tools end to end through the gateway on SQLite in sandbox: a goal planned into a campaign, approved
copy attached, compliance, submission, a person's approval (scope campaigns:approve), the two-phase activation, the
leads its tracking links bring, and the changes a live campaign takes (pause, resume, budget, rollback); plus the
errors a user would meet on the way."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastmcp import Client, FastMCP
from fastmcp.server.auth import AccessToken
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm

GOAL_CHANNELS = ["google_search", "meta_facebook"]
BRIEF = "Contabilidad online para pymes: facturas en minutos, prueba gratis 30 días"
AGENT_SCOPES = ["campaigns:read", "campaigns:write", "content:read", "content:write", "crm:read", "crm:write"]


def next_march(today: date | None = None) -> tuple[str, str]:
    """The coming March (the goal's month), as ISO dates."""
    today = today or date.today()
    year = today.year + 1 if today.month >= 3 else today.year
    return date(year, 3, 1).isoformat(), date(year, 3, 31).isoformat()


def tools(client: Client, prefix: str) -> Crm:
    return Crm(client, prefix=prefix)


@contextmanager
def acting_as(runtime: Runtime, actor: str) -> Iterator[None]:
    """Calls without a token made meanwhile come from another person (the runtime reads the actor per call)."""
    before = runtime.settings
    runtime.settings = before.model_copy(update={"actor": actor})
    try:
        yield
    finally:
        runtime.settings = before


@asynccontextmanager
async def bearer(gateway: FastMCP, *, subject: str, scopes: list[str], kind: str = "agent") -> AsyncIterator[Client]:
    """A client whose calls carry a verified token of tenant acme with ``scopes``, as HTTP auth would set it."""
    token = AccessToken(
        token=f"test-{subject}",
        client_id=subject,
        scopes=scopes,
        claims={"tenant": "acme", "sub": subject, "actor_kind": kind},
    )
    reset = auth_context_var.set(AuthenticatedUser(token))
    try:
        async with Client(gateway, mode="auto") as connected:
            yield connected
    finally:
        auth_context_var.reset(reset)


async def plan(campaigns: Crm, **overrides: Any) -> dict[str, Any]:
    """The goal: 300 leads for accounting software in Spain and Mexico, 15,000 EUR, in March."""
    start, end = next_march()
    arguments: dict[str, Any] = {
        "name": "Contabilidad ES+MX marzo",
        "objective": "leads",
        "product": "Accounting software for small businesses",
        "markets": [{"country": "ES", "languages": ["es"]}, {"country": "MX", "languages": ["es"]}],
        "start_date": start,
        "end_date": end,
        "landing_url": "https://books.example/es/prueba",
        "budget": 15000,
        "currency": "EUR",
        "target_metric": "leads",
        "target_value": 300,
        "industry": "Software",
        "channels": GOAL_CHANNELS,
        **overrides,
    }
    return await campaigns.ok("plan_campaign", **arguments)


async def approved_copy(content: Crm, runtime: Runtime, channel: str, fmt: str) -> str:
    """One copy variant written, submitted and approved by a reviewer in the content library."""
    written = await content.ok("generate_copy", brief=BRIEF, channel=channel, format=fmt, language="es", variants=1)
    asset_id = written["variants"][0]["asset_id"]
    await content.ok("submit_asset", asset_id=asset_id)
    with acting_as(runtime, "reviewer-copy"):
        await content.ok("approve_asset", asset_id=asset_id, note="On brand, within limits.")
    return str(asset_id)


async def ready_for_review(client: Client, runtime: Runtime) -> dict[str, Any]:
    """Ad platforms connected, a campaign planned with approved copy on each channel, compliance clear."""
    integrations, content, campaigns = (tools(client, p) for p in ("integrations_", "content_", "campaigns_"))
    for platform in ("google_ads", "meta_ads"):
        await integrations.ok("connect", platform=platform)
    planned = await plan(campaigns)
    creatives = {
        "google_search": await approved_copy(content, runtime, "google_ads", "rsa"),
        "meta_facebook": await approved_copy(content, runtime, "meta", "feed"),
    }
    changes = [{"channel": channel, "creative_ids": [asset]} for channel, asset in creatives.items()]
    updated = await campaigns.ok("update_campaign", campaign_id=planned["id"], channels=changes)
    assert {c["channel"]: c["creative_ids"] for c in updated["channels"]} == {
        channel: [asset] for channel, asset in creatives.items()
    }
    return updated


async def approve(gateway: FastMCP, campaign_id: str) -> dict[str, Any]:
    """A person holding campaigns:approve approves the campaign."""
    async with bearer(gateway, subject="marta@books.example", scopes=["campaigns:approve"], kind="human") as human:
        return await tools(human, "campaigns_").ok(
            "approve_campaign", campaign_id=campaign_id, decision="approve", note="Budget and copy checked."
        )


async def live_campaign(client: Client, gateway: FastMCP, runtime: Runtime) -> dict[str, Any]:
    """A campaign taken all the way to active; returns the activation result."""
    campaigns = tools(client, "campaigns_")
    campaign_id = (await ready_for_review(client, runtime))["id"]
    submitted = await campaigns.ok("submit_for_review", campaign_id=campaign_id)
    if submitted["campaign"]["status"] == "in_review":
        await approve(gateway, campaign_id)
    preview = await campaigns.ok("preview_activation", campaign_id=campaign_id)
    return await campaigns.ok(
        "activate_campaign", campaign_id=campaign_id, confirmation_token=preview["confirmation_token"]
    )


async def test_a_goal_becomes_a_plan_with_a_forecast_and_nothing_spent(crm: Crm) -> None:
    campaigns = tools(crm.client, "campaigns_")
    planned = await plan(campaigns)
    assert planned["status"] == "planned" and planned["id"].startswith("cp_")
    assert {c["channel"] for c in planned["channels"]} == set(GOAL_CHANNELS)
    assert sum(float(c["budget"]) for c in planned["channels"]) <= 15000
    assert planned["budget"]["currency"] == "EUR" and planned["forecast"] is not None
    assert {m["country"] for m in planned["markets"]} == {"ES", "MX"}
    assert planned["objects"] == []  # nothing exists on any platform yet
    listed = await campaigns.ok("list_campaigns", status="planned")
    assert [item["id"] for item in listed["items"]] == [planned["id"]]
    assert (await campaigns.ok("list_campaigns", status="active"))["items"] == []


async def test_the_whole_flow_from_goal_to_tracked_leads_and_changes(
    client: Client, gateway: FastMCP, runtime: Runtime
) -> None:
    campaigns, crm = tools(client, "campaigns_"), tools(client, "crm_")
    campaign_id = (await ready_for_review(client, runtime))["id"]

    compliance = await campaigns.ok("check_compliance", campaign_id=campaign_id)
    assert compliance["campaign_id"] == campaign_id and compliance["status"] == "planned"
    submitted = await campaigns.ok("submit_for_review", campaign_id=campaign_id, note="March push")
    # Nothing in this plan needs a person (ordinary software ads, approved copy): compliance approves it.
    assert (submitted["campaign"]["status"], submitted["compliance"]["needs_approval"]) == ("approved", False)
    assert (await campaigns.ok("get_campaign", campaign_id=campaign_id))["approved_by"] == "compliance"

    preview = await campaigns.ok("preview_activation", campaign_id=campaign_id)
    assert {o["channel"] for o in preview["objects"]} >= set(GOAL_CHANNELS)
    assert float(preview["max_total_spend"]) <= 15000 and preview["currency"] == "EUR"
    activated = await campaigns.ok(
        "activate_campaign", campaign_id=campaign_id, confirmation_token=preview["confirmation_token"]
    )
    assert activated["outcome"] in {"active", "scheduled"} and not activated["problems"]

    shown = await campaigns.ok("get_campaign", campaign_id=campaign_id)
    assert shown["status"] in {"active", "scheduled"} and shown["activated_at"]
    ads = [o for o in shown["objects"] if o["kind"] == "ad"]
    assert {o["channel"] for o in ads} == set(GOAL_CHANNELS)
    assert all(o["platform_id"] and o["status"] == "active" and o["tracking_url"] for o in shown["objects"])
    tracked = next(o["tracking_url"] for o in ads if o["tracking_url"])
    utm = {key.removeprefix("utm_"): value for key, value in parse_qsl(urlsplit(tracked).query)}
    assert utm["campaign"] == campaign_id

    # A lead who arrives through the ad's link is counted for the campaign once the CRM's event is delivered.
    await crm.ok("capture_lead", email="lucia@pyme.example", source_channel="ads_platform", utm=utm)
    await runtime.drain_events()
    results = (await campaigns.ok("get_campaign", campaign_id=campaign_id))["results"]
    assert results["leads"] == 1 and sum(results["by_channel"].values()) == 1

    paused = await campaigns.ok("pause_campaign", campaign_id=campaign_id, reason="Checking lead quality")
    assert paused["campaign"]["status"] == "paused" and paused["change"]["kind"] == "status"
    stopped = [o for o in paused["objects"] if o["kind"] == "campaign"]
    assert {o["channel"] for o in stopped} == set(GOAL_CHANNELS) and {o["status"] for o in stopped} == {"paused"}
    resumed = await campaigns.ok("resume_campaign", campaign_id=campaign_id, reason="Leads look right")
    assert resumed["campaign"]["status"] == "active"

    channel = GOAL_CHANNELS[0]
    before = next(c for c in shown["channels"] if c["channel"] == channel)["daily_budget"]
    budget = await campaigns.ok(
        "update_budget",
        campaign_id=campaign_id,
        channel=channel,
        daily_budget=round(float(before) * 1.5, 2),
        reason="Strong CPL",
    )
    assert budget["needs_confirmation"] is None and budget["change"]["kind"] == "budget"
    undone = await campaigns.ok(
        "rollback_change", campaign_id=campaign_id, change_id=budget["change"]["id"], reason="Back to plan"
    )
    assert undone["change"]["after"] == budget["change"]["before"]
    changes = (await campaigns.ok("get_campaign", campaign_id=campaign_id))["changes"]
    assert next(c for c in changes if c["id"] == budget["change"]["id"])["state"] == "rolled_back"


async def test_a_campaign_that_needs_a_person_is_approved_only_with_the_campaigns_approve_scope(
    client: Client, gateway: FastMCP, runtime: Runtime
) -> None:
    campaigns = tools(client, "campaigns_")
    campaign_id = (await ready_for_review(client, runtime))["id"]
    # A crypto product on paid ads needs the platforms' certification: a person must confirm it.
    await campaigns.ok("update_campaign", campaign_id=campaign_id, product_category="crypto", reason="Wallet add-on")
    submitted = await campaigns.ok("submit_for_review", campaign_id=campaign_id)
    assert (submitted["campaign"]["status"], submitted["compliance"]["needs_approval"]) == ("in_review", True)
    in_review = await campaigns.error("preview_activation", campaign_id=campaign_id)
    assert "The campaign is in review, so it cannot activate" in in_review  # not approved yet

    own = await campaigns.error("approve_campaign", campaign_id=campaign_id, decision="approve", note="Self-approval")
    assert "cannot also approve" in own
    async with bearer(gateway, subject="agent-7", scopes=AGENT_SCOPES) as agent:
        assert "campaigns_approve_campaign" not in {t.name for t in await agent.list_tools()}
        refused = await tools(agent, "campaigns_").error(
            "approve_campaign", campaign_id=campaign_id, decision="approve", note="Looks fine."
        )
    assert "insufficient_scope" in refused and "campaigns:approve" in refused
    approved = await approve(gateway, campaign_id)
    assert (approved["campaign"]["status"], approved["approved_by"]) == ("approved", "marta@books.example")
    assert approved["decision"]["actor_id"] == "marta@books.example" and approved["decision"]["event"] == "approve"
    assert approved["decision"]["actor_kind"] == "human"  # the token's actor_kind claim says a person decided
    shown = await campaigns.ok("get_campaign", campaign_id=campaign_id)
    assert shown["history"][0]["actor_id"] == "marta@books.example"


async def test_activation_needs_an_approved_campaign_and_its_own_token(
    client: Client, gateway: FastMCP, runtime: Runtime
) -> None:
    campaigns = tools(client, "campaigns_")
    campaign_id = (await ready_for_review(client, runtime))["id"]
    unapproved = await campaigns.error("preview_activation", campaign_id=campaign_id)
    assert (
        "The campaign is planned, so it cannot activate" in unapproved and "campaigns_submit_for_review" in unapproved
    )

    submitted = await campaigns.ok("submit_for_review", campaign_id=campaign_id)
    if submitted["campaign"]["status"] == "in_review":
        await approve(gateway, campaign_id)
    await campaigns.ok("preview_activation", campaign_id=campaign_id)
    wrong = await campaigns.error("activate_campaign", campaign_id=campaign_id, confirmation_token="not-the-token")
    assert "confirmation_token is not valid" in wrong
    assert (await campaigns.ok("get_campaign", campaign_id=campaign_id))["objects"] == []


async def test_budgets_are_positive_and_held_to_the_spend_caps(
    client: Client, gateway: FastMCP, runtime: Runtime
) -> None:
    campaigns = tools(client, "campaigns_")
    activated = await live_campaign(client, gateway, runtime)
    campaign_id = activated["campaign"]["id"]
    zero = await campaigns.error("update_budget", campaign_id=campaign_id, daily_budget=0, reason="Stop spending")
    assert "daily_budget" in zero

    committed = float((await campaigns.ok("get_spend_caps"))["committed_daily"])
    assert committed > 0, "the live campaign commits its daily budgets"
    caps = await campaigns.ok("set_spend_caps", currency="EUR", per_day=round(committed + 1, 2))
    assert float(caps["per_day"]) == round(committed + 1, 2)
    channel = next(c for c in activated["campaign"]["channels"])
    before = next(
        o["daily_budget"] for o in activated["objects"] if o["kind"] == "campaign" and o["channel"] == channel
    )
    # Within the allowed step (x1.9 < x2), but over the tenant's daily cap: refused, nothing moves.
    over = await campaigns.error(
        "update_budget",
        campaign_id=campaign_id,
        channel=channel,
        daily_budget=round(float(before) * 1.9, 2),
        reason="Go big",
    )
    assert "per-day spend cap" in over and "campaigns_set_spend_caps" in over
    shown = await campaigns.ok("get_campaign", campaign_id=campaign_id)
    assert not [c for c in shown["changes"] if c["kind"] == "budget"]  # nothing moved


async def test_unknown_campaigns_and_malformed_ids_are_clean_errors(crm: Crm) -> None:
    campaigns = tools(crm.client, "campaigns_")
    missing = await campaigns.error("get_campaign", campaign_id="cp_00000000000000000000000000")
    assert "cp_00000000000000000000000000" in missing
    await campaigns.rejects(
        "get_campaign", [({"campaign_id": "ld_01"}, "campaign_id"), ({"campaign_id": "cp_" + "x" * 60}, "campaign_id")]
    )
    start, end = next_march()
    await campaigns.rejects(
        "plan_campaign",
        [
            (
                {
                    "name": "x",
                    "objective": "leads",
                    "product": "p",
                    "markets": [],
                    "start_date": start,
                    "end_date": end,
                    "landing_url": "https://a.example",
                },
                "markets",
            ),
            (
                {
                    "name": "x",
                    "objective": "fame",
                    "product": "p",
                    "markets": [{"country": "ES"}],
                    "start_date": start,
                    "end_date": end,
                    "landing_url": "https://a.example",
                },
                "objective",
            ),
        ],
    )
