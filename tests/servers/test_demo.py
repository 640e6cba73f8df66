"""``promptsales demo``: a complete, realistic demo tenant, seeded through the facade, never duplicated."""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from promptsales.domain_core.crm.dto import ContactSummary, LeadSummary, LeadView
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.demo import demo_caller, seed_demo
from promptsales.servers.demo_data import INTERACTIONS, ORGANIZATIONS, PEOPLE, SEGMENTS, TOUCHES
from promptsales.servers.runtime import Runtime

TENANT = "demo"


@dataclass(frozen=True)
class Snapshot:
    """Everything the demo tenant holds, read back through the facade."""

    contacts: list[ContactSummary]
    leads: list[LeadSummary]
    lead_views: list[LeadView]
    sql_leads: list[LeadSummary]
    organization_ids: set[str]
    interactions: int
    segment_members: dict[str, int]
    campaigns: dict[str, tuple[str, list[tuple[str | None, str]]]]  # name -> status, (platform id, tracking URL)

    def fingerprint(self) -> tuple[object, ...]:
        """What must not change when the seeder runs again."""
        return (
            sorted(c.id for c in self.contacts),
            sorted((v.id, v.source_channel, v.touch_count, v.stage, v.score) for v in self.lead_views),
            sorted(lead.id for lead in self.sql_leads),
            self.organization_ids,
            self.interactions,
            self.segment_members,
            self.campaigns,
        )


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, tenant=TENANT, log_level="warning")


async def snapshot(data_dir: Path) -> Snapshot:
    runtime = Runtime(settings_for(data_dir))
    await runtime.start()
    crm, caller = runtime.crm, demo_caller(TENANT)
    try:
        contacts: list[ContactSummary] = []
        cursor: str | None = None
        while True:
            page = await crm.search_contacts(caller, text=None, filters={}, cursor=cursor, limit=10)
            contacts += page.items
            if (cursor := page.next_cursor) is None:
                break
        leads: list[LeadSummary] = []
        cursor = None
        while True:
            lead_page = await crm.list_leads(caller, filters={}, segment_id=None, cursor=cursor, limit=10)
            leads += lead_page.items
            if (cursor := lead_page.next_cursor) is None:
                break
        sql = await crm.list_leads(caller, filters={"stage": "sql"}, segment_id=None, cursor=None, limit=100)
        views = [await crm.get_lead(caller, lead_id=lead.id) for lead in leads]
        organization_ids: set[str] = set()
        interactions = 0
        for contact in contacts:
            view = await crm.get_customer_360(caller, contact_id=contact.id, timeline_cursor=None, timeline_limit=50)
            assert view.timeline_next_cursor is None
            interactions += len(view.timeline)
            if view.organization is not None:
                organization_ids.add(view.organization.id)
        members: dict[str, int] = {}
        for segment in (await crm.list_segments(caller)).items:
            page = await crm.list_segment_members(caller, segment_id=segment.id, cursor=None, limit=100)
            assert page.next_cursor is None
            members[segment.name] = len(page.items)
        campaigns: dict[str, tuple[str, list[tuple[str | None, str]]]] = {}
        for summary in (await runtime.campaigns.list_campaigns(caller, limit=100)).items:
            view = await runtime.campaigns.get_campaign(caller, campaign_id=summary.id)
            objects = [(o.platform_id, o.tracking_url or "") for o in view.objects]
            campaigns[view.name] = (view.status, objects)
        return Snapshot(contacts, leads, views, sql.items, organization_ids, interactions, members, campaigns)
    finally:
        await runtime.stop()


async def test_demo_seeds_a_realistic_tenant_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    first_summary = await seed_demo(settings_for(tmp_path))
    first = await snapshot(tmp_path)
    second_summary = await seed_demo(settings_for(tmp_path))
    second = await snapshot(tmp_path)

    people = len({touch.person for touch in TOUCHES})
    crm_part, integrations_part, campaigns_part, analytics_part = first_summary.split("; ")
    assert campaigns_part == "campaigns: Contabilidad pymes · ES + MX active, AI forecasting webinar · US planned"
    assert second_summary.endswith(f"; {campaigns_part} (nothing added); analytics: already seeded")
    assert analytics_part.startswith("analytics: 60 ad-days imported") and "won deals" in analytics_part
    google_id = re.search(r"test customer (\d{3}-\d{3}-\d{4})", integrations_part)
    assert google_id is not None, integrations_part
    google_id = google_id.group(1)
    assert crm_part == (
        f"6 organizations, {people} leads ({len(TOUCHES)} touches from 9 channels), "
        f"{len(INTERACTIONS)} interactions, 2 segments, 2 flow runs"
    )
    assert integrations_part.startswith("HubSpot sandbox connected, sync succeeded (10 records created")
    assert integrations_part.endswith("unchanged), Google Ads sandbox test customer " + google_id + " connected")
    assert integrations_part[integrations_part.index("), Google") :] in second_summary
    assert second_summary.startswith(f"{crm_part} (already seeded; nothing added); HubSpot sandbox connected")
    assert "0 records created" in second_summary
    assert second.fingerprint() == first.fingerprint()

    # People, leads and their touches: one lead per person, repeat visitors with several touches.
    # The demo's people, plus the five contacts (and their companies) synced from the HubSpot sandbox portal.
    assert len(second.contacts) == len(PEOPLE) + 5 and len(PEOPLE) == people
    assert len(second.leads) == people + 2  # the HubSpot portal's open and won deals made two leads
    # One touch per deal lead; every second demo lead came back through the live campaign's search ad.
    returns = int(analytics_part.split(", ")[1].split()[0])
    assert returns >= 10
    assert sum(view.touch_count for view in second.lead_views) == len(TOUCHES) + 2 + returns
    assert sum(1 for view in second.lead_views if view.touch_count > 1) >= 5
    assert len(second.organization_ids) == len(ORGANIZATIONS) + 5
    assert second.interactions == len(INTERACTIONS)

    # Provenance: many source channels; ads leads carry their UTM campaign data.
    sources = {view.source_channel for view in second.lead_views}
    assert len(sources) >= 5
    ads = [view for view in second.lead_views if view.source_channel == "ads_platform"]
    assert ads
    assert all(view.utm.source and view.utm.medium and view.utm.campaign for view in ads)
    assert {(view.utm.source, view.utm.medium) for view in ads} == {("google", "cpc"), ("meta", "paid_social")}
    assert {view.stage for view in second.lead_views} >= {"subscriber", "lead", "mql", "sql"}

    # Touch times are spread over the last 60 days, all in the past.
    now = datetime.now(UTC)
    assert all(now - timedelta(days=61) < view.first_touch_at <= view.last_touch_at < now for view in second.lead_views)

    # The finished BANT run qualified its lead to sql; the voice run stopped after one answer.
    assert len(second.sql_leads) >= 1
    qualified = next(view for view in second.lead_views if view.id == second.sql_leads[0].id)
    assert qualified.qualification == {
        "need": "urgent",
        "budget": "over_50k",
        "authority": "decision_maker",
        "timeline": "this_month",
    }
    assert any(view.qualification == {"need": "important"} for view in second.lead_views)

    # Both segments exist, each with members.
    assert set(second.segment_members) == {segment.name for segment in SEGMENTS}
    assert all(count >= 1 for count in second.segment_members.values())

    # One campaign live on the Google Ads sandbox (approved copy, submitted, approved), one planned; once each.
    assert second.campaigns == first.campaigns
    assert sorted(status for status, _ in second.campaigns.values()) == ["active", "planned"]
    live = next(objects for status, objects in second.campaigns.values() if status == "active")
    assert live and all(platform_id and "utm_campaign=cp_" in url for platform_id, url in live)


async def test_a_rerun_on_another_day_adds_nothing(tmp_path: Path) -> None:
    """Different times mean different arguments, so idempotency keys cannot replay: state checks must hold."""
    today = datetime.now(UTC).date()
    await seed_demo(settings_for(tmp_path), today=today - timedelta(days=1))
    first = await snapshot(tmp_path)

    summary = await seed_demo(settings_for(tmp_path), today=today)

    assert "(already seeded; nothing added)" in summary and "0 records created" in summary
    assert (await snapshot(tmp_path)).fingerprint() == first.fingerprint()


def test_cli_demo_command_seeds_and_prints_the_summary(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PROMPTSALES_DATA_DIR": str(tmp_path),
        "PROMPTSALES_TENANT": TENANT,
        "PROMPTSALES_LOG_LEVEL": "warning",
        "COLUMNS": "250",
    }
    command = [str(Path(sys.executable).parent / "promptsales"), "demo"]

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Demo data ready for tenant '{TENANT}'" in output
    assert "6 organizations" in output and "2 flow runs" in output
    assert (tmp_path / "promptsales.db").exists()

    # The scheduled pull a cron job would run: the live demo campaign's ads for today, from the sandbox.
    scheduled = [str(Path(sys.executable).parent / "promptsales"), "analytics", "refresh"]
    pulled = subprocess.run(scheduled, env=env, capture_output=True, text=True, timeout=120)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert re.search(rf"{TENANT}: 1 campaigns, [1-9]\d* ad-days", pulled.stdout + pulled.stderr), pulled


async def test_the_demo_tenant_gets_a_pro_trial_once(tmp_path: Path) -> None:
    settings = settings_for(tmp_path).model_copy(update={"default_plan": "free"})
    await seed_demo(settings)
    await seed_demo(settings)
    runtime = Runtime(settings)
    await runtime.start()
    try:
        view = await runtime.business.get_subscription(demo_caller(settings.tenant))
    finally:
        await runtime.stop()
    assert (view.plan, view.status, view.provider) == ("pro", "trialing", "manual")
    assert (view.current_period_end - view.current_period_start).days == 30


async def test_every_analytics_tool_has_something_real_to_show_on_the_demo(tmp_path: Path) -> None:
    from promptsales.domain_core.analytics.commands import AttributionQuery, InsightsQuery

    await seed_demo(settings_for(tmp_path))
    runtime = Runtime(settings_for(tmp_path))
    await runtime.start()
    try:
        await runtime.drain_events()  # the seeding's CRM events reach analytics through the outbox
        caller = demo_caller(runtime.settings.tenant)
        today = datetime.now(UTC).date()
        window = {"since": today - timedelta(days=27), "until": today}
        insights = await runtime.analytics.get_insights(caller, InsightsQuery(breakdown="day", **window))
        assert insights.totals.spend > 0 and insights.totals.impressions > 0 and insights.totals.leads >= 10
        assert insights.totals.customers >= 3 and insights.totals.revenue > 0 and insights.metrics["roas"]
        assert any(a.metric == "spend" and a.direction == "spike" for a in insights.anomalies), insights.anomalies
        assert len(insights.rows) == 25 and insights.next_cursor  # 28 days, a page of 25
        png = await runtime.analytics.chart(caller, InsightsQuery(**window), "trend", insights)
        assert png.startswith(b"\x89PNG")

        models = ["last_touch", "linear", "position_based"]
        query = AttributionQuery(models=models, since=today - timedelta(days=89), until=today)  # type: ignore[arg-type]
        view = await runtime.analytics.compare_attribution_models(caller, query)
        credited = {c.channel for m in view.attribution.models for c in m.credits if c.conversions}
        assert view.attribution.conversions >= 3 and len(credited) >= 2, view
        assert view.disagreements

        experiments = (await runtime.analytics.list_experiments(caller)).items
        assert sorted(e.status for e in experiments) == ["finished", "running"]
        for experiment in experiments:
            results = await runtime.analytics.get_experiment_results(caller, experiment_id=experiment.id)
            assert results.primary and results.sample_ratio is not None and results.verdict.reason
    finally:
        await runtime.stop()
