"""Analytics on PostgreSQL (row-level security forced, the app role), with twenty concurrent callers:

* a contact shown a variant by twenty concurrent calls is assigned once, to one variant;
* twenty concurrent looks at an experiment all answer, and the running always-valid p-values stay consistent;
* twenty concurrent pulls of a live campaign's same day leave one row per ad and day (restated, never added);
* a CRM event delivered twice is one journey step and one conversion per stage.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from promptsales.domain_core.analytics.tables import ConversionRecord, PerformanceRecord, TouchpointRecord
from promptsales.domain_core.shared.events import DomainEvent
from tests.integration.test_campaigns_postgres import CALLS, served
from tests.servers.test_analytics_tools import link_utm, live_campaign
from tests.servers.test_campaigns_tools import tools

pytestmark = pytest.mark.postgres
TODAY = datetime.now(UTC).date().isoformat()


async def test_twenty_concurrent_exposures_assign_a_contact_once(pg_database: str, tmp_path: Path) -> None:
    async with served(pg_database, tmp_path) as (client, _runtime, _):
        campaigns, crm = tools(client, "campaigns_"), tools(client, "crm_")
        experiment = await campaigns.ok(
            "create_experiment",
            name="Landing headline",
            subject="landing_page",
            variants=[{"key": "a"}, {"key": "b"}, {"key": "c"}],
            primary_metric="lead",
            minimum_detectable_effect=0.3,
            baseline=0.1,
            units_per_day=200,
        )
        contact = (await crm.ok("capture_lead", email="race@ab.example", source_channel="web_form"))["contact"]["id"]
        shown = await asyncio.gather(
            *(campaigns.ok("assign_variant", experiment_id=experiment["id"], contact_id=contact) for _ in range(CALLS))
        )
        assert len({answer["variant"] for answer in shown}) == 1

        looks = await asyncio.gather(
            *(campaigns.raw("get_experiment_results", {"experiment_id": experiment["id"]}) for _ in range(CALLS))
        )
        assert not [look for look in looks if look.is_error]
        final = await campaigns.ok("get_experiment_results", experiment_id=experiment["id"])
        assert sum(arm["units"] for readout in final["primary"] for arm in readout["arms"][1:]) <= 1
        units = {looked.structured_content["experiment"]["id"] for looked in looks if looked.structured_content}
        assert units == {experiment["id"]}


async def test_concurrent_pulls_of_one_day_store_each_ad_day_once(pg_database: str, tmp_path: Path) -> None:
    async with served(pg_database, tmp_path) as (client, runtime, _):
        campaigns = tools(client, "campaigns_")
        campaign = await live_campaign(client, runtime)
        runtime.integrations.sandbox.advance(timedelta(hours=3))
        pulls = await asyncio.gather(
            *(campaigns.raw("refresh_performance", {"since": TODAY, "until": TODAY}) for _ in range(CALLS))
        )
        assert not [pull for pull in pulls if pull.is_error], [pull.content for pull in pulls if pull.is_error][:1]
        ads = [o for o in campaign["objects"] if o["kind"] == "ad"]

        async def rows() -> int:
            async def count(uow: object) -> int:
                session = uow.session  # type: ignore[attr-defined]
                found = await session.execute(select(func.count()).select_from(PerformanceRecord))
                return int(found.scalar_one())

            return await runtime._uow.read(runtime.caller(None), count)  # type: ignore[union-attr]

        assert await rows() == len(ads)
        await campaigns.ok("refresh_performance", since=TODAY, until=TODAY)
        assert await rows() == len(ads)
        view = await campaigns.ok("get_insights", since=TODAY, until=TODAY, breakdown="ad")
        assert {row["key"] for row in view["rows"]} == {link_utm(campaign, o["channel"])["content"] for o in ads}


async def test_a_redelivered_crm_event_counts_once(pg_database: str, tmp_path: Path) -> None:
    async with served(pg_database, tmp_path) as (client, runtime, tenant):
        crm = tools(client, "crm_")
        captured = await crm.ok("capture_lead", email="twice@ab.example", source_channel="email")
        await runtime.drain_events()

        async def counts(uow: object) -> tuple[int, int]:
            session = uow.session  # type: ignore[attr-defined]
            touches = await session.execute(select(func.count()).select_from(TouchpointRecord))
            stages = await session.execute(
                select(func.count()).select_from(ConversionRecord).where(ConversionRecord.stage == "lead")
            )
            return int(touches.scalar_one()), int(stages.scalar_one())

        event = DomainEvent(
            type="crm.lead_captured",
            tenant_id=tenant,
            payload={
                "lead_id": captured["lead"]["id"],
                "contact_id": captured["contact"]["id"],
                "source_channel": "email",
                "utm": {},
                "stage": captured["lead"]["stage"],
            },
            occurred_at=datetime.now(UTC),
        )
        caller = runtime.caller(None)
        for _ in range(50):  # the capture's own event reaches analytics through the outbox relay
            if (await runtime._uow.read(caller, counts))[0] == 1:  # type: ignore[union-attr]
                break
            await runtime.drain_events()
            await asyncio.sleep(0.1)
        for _ in range(2):
            await runtime._uow.write(caller, lambda uow: runtime.analytics.on_crm_event(uow, event))  # type: ignore[union-attr]

        touches, leads = await runtime._uow.read(caller, counts)  # type: ignore[union-attr]
        assert (touches, leads) == (2, 1)  # the original event and the redelivered copy of a new id; one stage
