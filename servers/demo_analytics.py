"""The demo tenant's analytics: 60 days of simulated results for the live campaign's ads, the demo's people coming
back through its search ad (their earlier touches, from the CRM seeding, open their journeys), deals some of them won,
and two experiments, one finished and one running. Seeded once: a tenant that has experiments is left as it is.

Everything goes through the facades as production data would: results as an import of the ads' past days (the
flight starts on the seeding day, so the history stands for the campaign's earlier run), returns as CRM captures at
past times with the ad's UTM parameters and click id, won deals as lead updates, experiments as created, shown and
ended by the tools. The figures come from a seeded generator, so every run seeds the same world.
"""

import random
import zlib
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from promptsales.domain_core.analytics.commands import (
    AssignVariant,
    CreateExperiment,
    EndExperiment,
    ImportPerformance,
    PerformanceDay,
    VariantInput,
)
from promptsales.domain_core.analytics.facade import AnalyticsFacade
from promptsales.domain_core.campaigns.dto import CampaignTracking
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.crm.commands import CaptureLead, UpdateLead
from promptsales.domain_core.crm.dto import LeadSummary
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.demo_data import CAMPAIGNS

HISTORY_DAYS = 60
SEED = 20261207
SPIKE_DAYS_AGO = 9  # one day of runaway spend, so insights have an anomaly to name
CLICKED_EVERY = 2  # every second demo lead also came back through the live campaign's search ad
WON_EVERY = 3  # and every third of those won a deal
OPEN_STAGES = frozenset({"subscriber", "lead", "mql"})  # the seeded SQL (a finished BANT run) keeps its stage


def _day(today: date, days_ago: int, hour: int) -> datetime:
    return datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=UTC)


def _history(tracking: CampaignTracking, today: date, rng: random.Random) -> list[PerformanceDay]:
    """Daily results of each ad: a weekly rhythm, noise, and one spike."""
    days = []
    for item in (o for o in tracking.objects if o.kind == "ad"):
        for days_ago in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=days_ago)
            weekday = 0.75 if day.weekday() >= 5 else 1.0
            spike = 3.2 if days_ago == SPIKE_DAYS_AGO else 1.0
            impressions = int(rng.gauss(2400, 220) * weekday * spike)
            clicks = int(impressions * rng.uniform(0.035, 0.05))
            spend = (Decimal(clicks) * Decimal(str(round(rng.uniform(0.9, 1.4), 2)))).quantize(Decimal("0.01"))
            conversions = round(clicks * rng.uniform(0.04, 0.07), 1)
            days.append(
                PerformanceDay(
                    object_id=item.platform_id,
                    day=day,
                    impressions=impressions,
                    clicks=clicks,
                    spend=spend,
                    conversions=conversions,
                    conversion_value=Decimal(str(round(conversions * 180, 2))),
                )
            )
    return days


async def _demo_leads(crm: CrmFacade, caller: Caller) -> list[LeadSummary]:
    """The demo's people with an email, oldest first (the CRM seeding made them)."""
    found: list[LeadSummary] = []
    cursor: str | None = None
    while True:
        page = await crm.list_leads(caller, filters={}, segment_id=None, cursor=cursor, limit=100)
        found.extend(lead for lead in page.items if lead.email)
        if (cursor := page.next_cursor) is None:
            return sorted(found, key=lambda lead: (lead.created_at, lead.id))


async def seed_analytics(
    analytics: AnalyticsFacade, campaigns: CampaignsFacade, crm: CrmFacade, caller: Caller, *, today: date
) -> str:
    """Seed the demo's analytics once; a summary for people."""
    if (await analytics.list_experiments(caller, limit=1)).items:
        return "analytics: already seeded"
    live = next(demo for demo in CAMPAIGNS if demo.live)
    tracked = [t for t in await campaigns.tracking(caller) if t.summary.name == live.name]
    if not tracked:
        return "analytics: no live demo campaign to measure"
    tracking = tracked[0]
    rng = random.Random(SEED)
    imported = await analytics.import_performance(
        caller, ImportPerformance(campaign_id=tracking.summary.id, days=_history(tracking, today, rng))
    )
    utm = _campaign_utm(tracking)
    leads = await _demo_leads(crm, caller)
    clicked = leads[::CLICKED_EVERY]
    won: set[str] = set()
    for index, lead in enumerate(clicked):
        # Back through the search ad a few days ago: a later step of the person's journey, on the campaign.
        at = _day(today, rng.randint(1, 20), 10)
        landing = f"https://www.promptsales.example/es/demo?gclid=demo{zlib.crc32(lead.id.encode())}"
        capture = CaptureLead(
            source_channel="ads_platform", email=lead.email, occurred_at=at, utm=utm, landing_page=landing
        )
        await crm.capture_lead(caller, capture)
        if index % WON_EVERY == 0 and lead.stage in OPEN_STAGES:
            value = Decimal(rng.choice((480, 960, 1440, 2400)))
            deal = UpdateLead(lead_id=lead.id, stage="customer", deal_value=value, deal_currency="EUR")
            await crm.update_lead(caller, deal)
            won.add(lead.id)
    experiments = await _experiments(analytics, crm, caller, [lead for lead in leads if lead.id not in won], rng)
    return (
        f"analytics: {imported.rows} ad-days imported ({imported.since} to {imported.until}), "
        f"{len(clicked)} returns through the search ad, {len(won)} won deals, {experiments}"
    )


def _campaign_utm(tracking: CampaignTracking) -> dict[str, str]:
    ad = next((o for o in tracking.objects if o.kind == "ad"), None)
    utm = {"source": "google", "medium": "cpc", "campaign": tracking.summary.id}
    if ad is not None and ad.ad_ref:
        utm["content"] = ad.ad_ref
    return utm


async def _experiments(
    analytics: AnalyticsFacade, crm: CrmFacade, caller: Caller, leads: list[LeadSummary], rng: random.Random
) -> str:
    """A finished landing-page test that shipped its winner, and a running email test."""
    finished = await analytics.create_experiment(
        caller,
        CreateExperiment(
            name="Landing headline: price vs time saved",
            subject="landing_page",
            variants=[
                VariantInput(key="price", description="Headline leads with the price"),
                VariantInput(key="time_saved", description="Headline leads with hours saved a week"),
            ],
            primary_metric="mql",
            minimum_detectable_effect=0.5,
            baseline=0.2,
            units_per_day=40,
        ),
    )
    running = await analytics.create_experiment(
        caller,
        CreateExperiment(
            name="Nurture email subject: question vs statement",
            subject="email",
            variants=[VariantInput(key="statement"), VariantInput(key="question")],
            primary_metric="customer",
            guardrails=["mql"],
            minimum_detectable_effect=0.3,
            baseline=0.1,
            units_per_day=60,
        ),
    )
    seen: dict[str, set[str]] = {finished.id: set(), running.id: set()}
    for index, lead in enumerate(leads):
        experiment = finished if index % 2 == 0 else running
        unit = AssignVariant(experiment_id=experiment.id, contact_id=lead.contact_id)
        seen[experiment.id].add((await analytics.assign_variant(caller, unit)).variant)
    # Assignment hashes random contact ids, so a dozen people can all land in one arm: top each test up with people
    # of the other half until every variant has someone (a person may be in both tests, as on a real site).
    for experiment in (finished, running):
        for lead in leads:
            if seen[experiment.id] >= {variant.key for variant in experiment.variants}:
                break
            unit = AssignVariant(experiment_id=experiment.id, contact_id=lead.contact_id)
            seen[experiment.id].add((await analytics.assign_variant(caller, unit)).variant)
    for index, lead in enumerate(leads):
        if index % 2 == 0 and lead.stage in OPEN_STAGES and rng.random() < 0.35:
            await crm.update_lead(caller, UpdateLead(lead_id=lead.id, stage="opportunity"))
    await analytics.end_experiment(
        caller,
        EndExperiment(
            experiment_id=finished.id,
            decision="ship",
            winner="time_saved",
            reason="Time saved converted better to qualified leads over three weeks.",
        ),
    )
    return f"experiments {finished.id} (finished) and {running.id} (running)"
