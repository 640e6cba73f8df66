"""Campaigns on PostgreSQL (row-level security forced, the app role), where spend is guarded against races:

* concurrent budget raises on two live campaigns can never together pass the tenant's daily cap;
* twenty concurrent activations with one confirmation token make every platform object once;
* a platform failing half-way through an activation leaves nothing delivering, and a new preview then succeeds.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import owner_connect, pg_url
from tests.servers.test_campaigns_tools import ready_for_review, tools

pytestmark = pytest.mark.postgres

CALLS = 20


@asynccontextmanager
async def served(database: str, data_dir: Path) -> AsyncIterator[tuple[Client, Runtime, str]]:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    runtime = Runtime(
        Settings(
            database_url=pg_url(database),
            data_dir=data_dir,
            tenant=tenant,
            actor="planner-agent",
            default_plan="enterprise",
            rate_limits_enabled=False,
            entitlement_cache_seconds=0,
            redis_url=None,
            database_pool_size=25,
        )
    )
    async with Client(build_gateway(runtime)) as client:
        yield client, runtime, tenant


async def approved(client: Client, runtime: Runtime) -> str:
    """A planned campaign with approved copy, submitted: compliance finds nothing that needs a person."""
    campaign_id = str((await ready_for_review(client, runtime))["id"])
    submitted = await tools(client, "campaigns_").ok("submit_for_review", campaign_id=campaign_id)
    assert submitted["campaign"]["status"] == "approved", submitted["compliance"]
    return campaign_id


async def activated(client: Client, runtime: Runtime) -> dict[str, Any]:
    campaigns = tools(client, "campaigns_")
    campaign_id = await approved(client, runtime)
    preview = await campaigns.ok("preview_activation", campaign_id=campaign_id)
    result = await campaigns.ok(
        "activate_campaign", campaign_id=campaign_id, confirmation_token=preview["confirmation_token"]
    )
    assert result["outcome"] in ("active", "scheduled") and not result["problems"], result["problems"]
    return await campaigns.ok("get_campaign", campaign_id=campaign_id)


async def google_campaigns(runtime: Runtime) -> list[dict[str, Any]]:
    """The campaigns stored in the tenant's Google Ads sandbox account."""
    account = (await runtime.integrations.ads(runtime.caller(None), "google_ads").list_accounts())[0]
    simulator: Any = runtime.integrations.sandbox.simulator("google_ads")
    return list(simulator.entities(account.id, "campaign"))


def ad_campaign_budget(campaign: dict[str, Any], channel: str) -> Decimal:
    return Decimal(str(next(c["daily_budget"] for c in campaign["channels"] if c["channel"] == channel)))


async def test_concurrent_raises_on_two_campaigns_never_pass_the_daily_cap(pg_database: str, tmp_path: Path) -> None:
    async with served(pg_database, tmp_path) as (client, runtime, _):
        campaigns = tools(client, "campaigns_")
        first, second = await activated(client, runtime), await activated(client, runtime)
        committed = Decimal(str((await campaigns.ok("get_spend_caps"))["committed_daily"]))
        cap = committed + 100
        await campaigns.ok("set_spend_caps", currency="EUR", per_day=str(cap))
        channel = "meta_facebook"
        # Each raise alone fits under the cap (+60); any two together would not (+120).
        targets = {c["id"]: ad_campaign_budget(c, channel) + 60 for c in (first, second)}
        calls = [
            campaigns.raw(
                "update_budget",
                {"campaign_id": campaign_id, "channel": channel, "daily_budget": str(target), "reason": "Scale up"},
            )
            for _ in range(CALLS // 2)
            for campaign_id, target in targets.items()
        ]
        answers = await asyncio.gather(*calls)
        refused = [a for a in answers if a.is_error]
        assert refused, "the second campaign's raise must be refused"
        assert all("per-day spend cap" in a.content[0].text for a in refused)  # type: ignore[union-attr]
        caps = await campaigns.ok("get_spend_caps")
        assert Decimal(str(caps["committed_daily"])) <= cap
        raised = [
            campaign_id
            for campaign_id, target in targets.items()
            if ad_campaign_budget(await campaigns.ok("get_campaign", campaign_id=campaign_id), channel) == target
        ]
        assert len(raised) == 1
        # The platform holds what the campaign says: the raised one's ad campaign has the new budget.
        shown = await campaigns.ok("get_campaign", campaign_id=raised[0])
        meta_campaign = next(o for o in shown["objects"] if o["kind"] == "campaign" and o["channel"] == channel)
        assert Decimal(str(meta_campaign["daily_budget"])) == targets[raised[0]]


async def test_twenty_concurrent_activations_with_one_token_make_every_object_once(
    pg_database: str, tmp_path: Path
) -> None:
    async with served(pg_database, tmp_path) as (client, runtime, tenant):
        campaigns = tools(client, "campaigns_")
        campaign_id = await approved(client, runtime)
        preview = await campaigns.ok("preview_activation", campaign_id=campaign_id)
        arguments = {"campaign_id": campaign_id, "confirmation_token": preview["confirmation_token"]}
        answers = await asyncio.gather(*(campaigns.raw("activate_campaign", arguments) for _ in range(CALLS)))
        succeeded = [a for a in answers if not a.is_error]
        assert len(succeeded) >= 1
        for answer in answers:
            if answer.is_error:  # the token was spent by the call that finished first
                assert "confirmation_token" in answer.content[0].text  # type: ignore[union-attr]
        shown = await campaigns.ok("get_campaign", campaign_id=campaign_id)
        assert shown["status"] in ("active", "scheduled")
        google = await google_campaigns(runtime)
        assert len(google) == 1 and google[0]["status"] == "ENABLED"  # one campaign on the platform, enabled
        with owner_connect(pg_database) as connection:
            rows = connection.execute(
                "SELECT count(*), count(DISTINCT platform_id) FROM campaigns_objects WHERE tenant_id = %s", (tenant,)
            ).fetchone()
            creates = connection.execute(
                "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action LIKE 'integrations.ads.create_%%'",
                (tenant,),
            ).fetchone()
            activations = connection.execute(
                "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action IN ('campaigns.activate', "
                "'campaigns.schedule')",
                (tenant,),
            ).fetchone()
        assert rows is not None and rows[0] == rows[1] == len(shown["objects"])
        assert creates is not None and creates[0] == len(shown["objects"])  # one platform create per object
        assert activations is not None and activations[0] == 1  # one lifecycle step, one activations unit


async def test_a_platform_failing_half_way_leaves_nothing_delivering(pg_database: str, tmp_path: Path) -> None:
    async with served(pg_database, tmp_path) as (client, runtime, _):
        campaigns = tools(client, "campaigns_")
        campaign_id = await approved(client, runtime)
        preview = await campaigns.ok("preview_activation", campaign_id=campaign_id)
        meta: Any = runtime.integrations.sandbox.simulator("meta_ads")
        meta.fail_next(503, times=4)  # every attempt of Meta's first request in the activation fails
        failed = await campaigns.ok(
            "activate_campaign", campaign_id=campaign_id, confirmation_token=preview["confirmation_token"]
        )
        assert failed["outcome"] == "failed"
        assert any("meta_facebook" in p for p in failed["problems"])
        google_made = [o for o in failed["objects"] if o["channel"] == "google_search"]
        assert google_made and all(o["status"] == "removed" for o in google_made)  # undone, object by object
        assert not [o for o in failed["objects"] if o["status"] == "active"]
        shown = await campaigns.ok("get_campaign", campaign_id=campaign_id)
        assert shown["status"] == "approved"
        removed = next(o for o in google_made if o["kind"] == "campaign")
        on_platform = {c["resource_name"].rsplit("/", 1)[-1]: c["status"] for c in await google_campaigns(runtime)}
        assert on_platform[removed["platform_id"].rsplit("/", 1)[-1]] == "REMOVED"
        spent = await campaigns.error(
            "activate_campaign", campaign_id=campaign_id, confirmation_token=preview["confirmation_token"]
        )
        assert "confirmation_token" in spent  # a failed activation spends its preview
        retry = await campaigns.ok("preview_activation", campaign_id=campaign_id)
        done = await campaigns.ok(
            "activate_campaign", campaign_id=campaign_id, confirmation_token=retry["confirmation_token"]
        )
        assert done["outcome"] in ("active", "scheduled") and not done["problems"], done["problems"]
        assert {o["channel"] for o in done["objects"] if o["status"] == "active"} == {"google_search", "meta_facebook"}


async def test_the_calendar_starts_and_completes_flights_in_their_time_zone(pg_database: str, tmp_path: Path) -> None:
    async with served(pg_database, tmp_path) as (client, runtime, tenant):
        campaigns = tools(client, "campaigns_")
        scheduled = await activated(client, runtime)
        assert scheduled["status"] == "scheduled"  # the goal's flight is next March

        def move_flight(start_days: int, end_days: int) -> None:
            with owner_connect(pg_database) as connection:
                connection.execute(
                    "UPDATE campaigns_campaigns SET schedule = jsonb_set(jsonb_set(schedule, '{start_date}', "
                    "to_jsonb((current_date + %s)::text)), '{end_date}', to_jsonb((current_date + %s)::text)) "
                    "WHERE tenant_id = %s AND id = %s",
                    (start_days, end_days, tenant, scheduled["id"]),
                )

        move_flight(-1, 20)  # the first day has come
        started = await campaigns.ok("get_campaign", campaign_id=scheduled["id"])
        assert started["status"] == "active"
        assert (started["history"][0]["event"], started["history"][0]["actor_kind"]) == ("start", "system")
        move_flight(-30, -2)  # the last day has passed
        listed = await campaigns.ok("list_campaigns", status="completed")
        assert [c["id"] for c in listed["items"]] == [scheduled["id"]]
        caps = await campaigns.ok("get_spend_caps")
        assert float(caps["committed_daily"]) == 0  # a completed campaign commits nothing
