"""Insights: platform figures joined with CRM outcomes over a window, cut one way, compared with the previous
period and the plans, with anomalies and pacing in plain words."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from promptsales.domain_core.analytics import repository as repo
from promptsales.domain_core.analytics.commands import InsightsQuery
from promptsales.domain_core.analytics.dto import BreakdownRow, CampaignCheck, Freshness, InsightsView
from promptsales.domain_core.analytics.model.anomalies import Anomaly, find_anomalies
from promptsales.domain_core.analytics.model.metrics import METRICS, Totals, derived, display_name
from promptsales.domain_core.analytics.model.pacing import TargetCheck, against_target, pace
from promptsales.domain_core.analytics.model.periods import bucket, change, previous_period, validate_window
from promptsales.domain_core.campaigns.dto import CampaignTracking
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.domain_core.shared.pagination import decode_cursor, encode_cursor

UTC = ZoneInfo("UTC")
ANOMALY_HISTORY_DAYS = 14  # the trailing window each day is judged against
# The breakdown's column in the performance facts and in the touchpoints (weeks are days bucketed afterwards).
COLUMNS = {"channel": "channel", "campaign": "campaign_id", "ad": "ad_ref", "country": "country", "day": "day"}
# KPI names of campaign plans that are counts rather than derived metrics, and the Totals field each reads.
KPI_TOTALS = {
    "impressions": "impressions",
    "reach": "reach",
    "clicks": "clicks",
    "leads": "leads",
    "revenue": "revenue",
}


def _bounds(since: date, until: date) -> tuple[datetime, datetime]:
    return datetime.combine(since, time.min, tzinfo=UTC), datetime.combine(until, time.max, tzinfo=UTC)


def _key(value: object) -> str:
    return "" if value is None else str(value)


def _platform(rows: Iterable[Any], width: int) -> dict[tuple[str, ...], Totals]:
    found = {}
    for row in rows:
        keys = tuple(_key(v) for v in row[:width])
        impressions, reach, reach_known, count, clicks, spend, conversions, value = row[width:]
        found[keys] = Totals(
            impressions=int(impressions or 0),
            reach=int(reach or 0) if count and reach_known == count else None,
            clicks=int(clicks or 0),
            spend=repo.as_decimal(spend).quantize(Decimal("0.01")),
            platform_conversions=float(conversions or 0),
            platform_value=repo.as_decimal(value).quantize(Decimal("0.01")),
        )
    return found


def _crm(rows: Iterable[Any], width: int) -> dict[tuple[str, ...], Totals]:
    found = {}
    for row in rows:
        keys = tuple(_key(v) for v in row[:width])
        leads, qualified, customers, revenue = row[width:]
        found[keys] = Totals(
            leads=int(leads or 0),
            qualified=int(qualified or 0),
            customers=int(customers or 0),
            revenue=repo.as_decimal(revenue).quantize(Decimal("0.01")),
        )
    return found


def _merge(*parts: dict[tuple[str, ...], Totals]) -> dict[tuple[str, ...], Totals]:
    merged: dict[tuple[str, ...], Totals] = {}
    for part in parts:
        for key, totals in part.items():
            merged[key] = merged[key] + totals if key in merged else totals
    return merged


async def cut(
    uow: UnitOfWork, columns: Sequence[str], since: date, until: date, ids: list[str] | None
) -> dict[tuple[str, ...], Totals]:
    """Platform and CRM figures summed per ``columns`` over the window."""
    start, end = _bounds(since, until)
    platform = await repo.performance_by(uow, columns, since=since, until=until, campaign_ids=ids)
    crm = await repo.lead_outcomes_by(uow, columns, since=start, until=end, campaign_ids=ids)
    return _merge(_platform(platform, len(columns)), _crm(crm, len(columns)))


def _sum(values: Iterable[Totals]) -> Totals:
    total = Totals()
    for item in values:
        total = total + item
    return total


def _changes(current: Totals, previous: Totals | None) -> dict[str, Any]:
    if previous is None:
        return {}
    now, before = derived(current), derived(previous)
    found = {name: change(now[name], before[name]) for name in METRICS}
    for name in ("spend", "leads", "customers", "clicks", "impressions"):
        found[name] = change(float(getattr(current, name)), float(getattr(previous, name)))
    return found


def _labels(trackings: Sequence[CampaignTracking], breakdown: str) -> dict[str, str]:
    if breakdown == "campaign":
        return {t.summary.id: t.summary.name for t in trackings}
    if breakdown == "ad":
        return {o.ad_ref: o.name for t in trackings for o in t.objects if o.ad_ref}
    return {}


def _rows(
    query: InsightsQuery,
    current: dict[tuple[str, ...], Totals],
    previous: dict[tuple[str, ...], Totals],
    labels: dict[str, str],
) -> tuple[list[BreakdownRow], str | None]:
    if query.breakdown == "week":
        weekly: dict[tuple[str, ...], Totals] = defaultdict(Totals)
        for (day, *_), totals in current.items():
            weekly[(bucket(date.fromisoformat(day[:10]), "week").isoformat(),)] += totals
        current, previous = dict(weekly), {}
    if query.breakdown in ("day", "week"):
        ordered = sorted(current.items(), key=lambda pair: pair[0])
    else:
        ordered = sorted(current.items(), key=lambda pair: (-pair[1].spend, -pair[1].leads, pair[0]))
    filters = query.model_dump(mode="json", exclude={"cursor", "limit"})
    position = decode_cursor(query.cursor, "analytics.insights", filters)
    offset = int(position[0]) if position else 0
    page = ordered[offset : offset + query.limit]
    more = offset + query.limit < len(ordered)
    rows = []
    for key, totals in page:
        name = key[0][:10] if query.breakdown == "day" else key[0]
        rows.append(
            BreakdownRow(
                key=name or "(none)",
                label=labels.get(name, name or "(not set)"),
                totals=totals,
                metrics=derived(totals),
                change=_changes(totals, previous.get(key)) if query.breakdown not in ("day", "week") else {},
            )
        )
    cursor = encode_cursor("analytics.insights", filters, [offset + query.limit]) if more else None
    return rows, cursor


def _kpi_actual(metric: str, totals: Totals, objective: str) -> float | None:
    if metric in KPI_TOTALS:
        value = getattr(totals, KPI_TOTALS[metric])
        return None if value is None else float(value)
    if metric == "conversions":
        # A leads campaign converts when a lead arrives, a sales campaign when a deal is won; else the platform's.
        if objective == "leads":
            return float(totals.leads)
        return float(totals.customers) if objective == "sales" else totals.platform_conversions
    return derived(totals).get(metric)


def _forecast_words(tracking: CampaignTracking, totals: Totals, today: date) -> str | None:
    forecast, summary = tracking.forecast, tracking.summary
    if forecast is None:
        return None
    days = (summary.end_date - summary.start_date).days + 1
    elapsed = min(max((today - summary.start_date).days + 1, 0), days)
    expected = forecast.total.conversions
    actual = _kpi_actual("conversions", totals, summary.objective) or 0.0
    return (
        f"Forecast for the whole flight: {expected.expected:,.0f} conversions "
        f"({expected.low:,.0f}-{expected.high:,.0f}); "
        f"{actual:,.0f} so far with {elapsed} of {days} days gone ({elapsed / days:.0%})."
    )


def _check(tracking: CampaignTracking, totals: Totals, today: date) -> CampaignCheck:
    summary = tracking.summary
    pacing = None
    if summary.budget_total is not None and summary.budget_total > 0:
        pacing = pace(
            planned_total=summary.budget_total,
            flight_start=summary.start_date,
            flight_end=summary.end_date,
            planned_daily=None,
            spent_to_date=totals.spend,
            today=min(today, summary.end_date),
        )
    targets: list[TargetCheck] = []
    for kpi in tracking.kpis:
        actual = _kpi_actual(kpi.metric, totals, summary.objective)
        checked = against_target(kpi.metric, actual, float(kpi.target), kpi.comparator == "at_least")
        targets.append(checked)
    return CampaignCheck(
        campaign_id=summary.id,
        name=summary.name,
        pacing=pacing,
        targets=targets,
        forecast=_forecast_words(tracking, totals, today),
    )


async def _anomalies(uow: UnitOfWork, query: InsightsQuery, ids: list[str] | None) -> list[Anomaly]:
    """Days far outside their channel's recent range, for spend, clicks and leads (newest first, at most 10)."""
    history = query.since - timedelta(days=ANOMALY_HISTORY_DAYS)
    daily = await cut(uow, ["channel", "day"], history, query.until, ids)
    series: dict[tuple[str, str], dict[date, float]] = defaultdict(dict)
    for (channel, day), totals in daily.items():
        when = date.fromisoformat(day[:10])
        for metric in ("spend", "clicks", "leads"):
            series[(channel, metric)][when] = float(getattr(totals, metric))
    found: list[Anomaly] = []
    span = (query.until - history).days + 1
    for (channel, metric), points in series.items():
        full = [(history + timedelta(days=i), points.get(history + timedelta(days=i), 0.0)) for i in range(span)]
        hits = find_anomalies(full, metric=metric, label=channel or "(no channel)")
        found.extend(hit for hit in hits if hit.day >= query.since)
    found.sort(key=lambda hit: (hit.day, abs(hit.score)), reverse=True)
    return found[:10]


def _currency(trackings: Sequence[CampaignTracking]) -> str | None:
    currencies = sorted({t.summary.currency for t in trackings})
    if len(currencies) > 1:
        raise ValidationFailed(
            f"These campaigns spend in {', '.join(currencies)}; figures in different currencies cannot be added.",
            field="campaign_ids",
            hint="Ask for the campaigns of one currency at a time.",
        )
    return currencies[0] if currencies else None


async def insights(
    uow: UnitOfWork, query: InsightsQuery, trackings: Sequence[CampaignTracking], today: date
) -> InsightsView:
    """The window's figures for ``trackings`` (the campaigns asked for, or all measured ones)."""
    validate_window(query.since, query.until)
    currency = _currency(trackings)
    ids = [t.summary.id for t in trackings] if query.campaign_ids is not None else None
    current_total = _sum((await cut(uow, [], query.since, query.until, ids)).values())
    before = previous_period(query.since, query.until)
    previous_total = _sum((await cut(uow, [], *before, ids)).values()) if query.compare_previous else None
    rows: list[BreakdownRow] = []
    cursor = None
    if query.breakdown != "none":
        column = COLUMNS["day" if query.breakdown == "week" else query.breakdown]
        current = await cut(uow, [column], query.since, query.until, ids)
        previous = await cut(uow, [column], *before, ids) if query.compare_previous else {}
        rows, cursor = _rows(query, current, previous, _labels(trackings, query.breakdown))
    checks = []
    if trackings:
        first = min(t.summary.start_date for t in trackings)
        flight = await cut(uow, ["campaign_id"], first, today, [t.summary.id for t in trackings])
        checks = [_check(t, flight.get((t.summary.id,), Totals()), today) for t in trackings]
    states = await repo.pull_state(uow, [t.summary.id for t in trackings])
    freshness = [
        Freshness(
            campaign_id=t.summary.id,
            last_pulled_at=states[t.summary.id].last_run_at if t.summary.id in states else None,
            through_day=states[t.summary.id].through_day if t.summary.id in states else None,
            errors=list(states[t.summary.id].errors) if t.summary.id in states else [],
        )
        for t in trackings
    ]
    notes = [
        f"Leads, qualified leads, customers and revenue are the CRM's: leads captured through the campaigns' "
        f"tracking links in the window, and what they became since. {display_name('cpl')} and "
        f"{display_name('roas')} are computed from them, not from the platforms' conversion claims."
    ]
    if not trackings:
        notes.append("No campaign has run yet: plan and activate one (campaigns_plan_campaign).")
    return InsightsView(
        since=query.since,
        until=query.until,
        currency=currency,
        breakdown=query.breakdown,
        totals=current_total,
        metrics=derived(current_total),
        change=_changes(current_total, previous_total),
        rows=rows,
        next_cursor=cursor,
        campaigns=checks,
        anomalies=await _anomalies(uow, query, ids),
        freshness=freshness,
        notes=notes,
    )
