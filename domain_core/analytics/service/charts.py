"""Insights drawn: leads per day by channel, channels compared, the funnel from impressions to customers."""

from collections import defaultdict
from datetime import date, timedelta

from promptsales.domain_core.analytics.commands import InsightsQuery
from promptsales.domain_core.analytics.dto import InsightsView
from promptsales.domain_core.analytics.model.charts import comparison_chart, funnel_chart, trend_chart
from promptsales.domain_core.analytics.service.insights import cut
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def chart_for(uow: UnitOfWork, query: InsightsQuery, kind: str, view: InsightsView) -> bytes:
    """The PNG of ``kind`` (trend, channels or funnel) for the window ``view`` answered."""
    window = f"{query.since} to {query.until}"
    if kind == "funnel":
        totals = view.totals
        stages = [
            ("Impressions", float(totals.impressions)),
            ("Clicks", float(totals.clicks)),
            ("Leads", float(totals.leads)),
            ("Qualified", float(totals.qualified)),
            ("Customers", float(totals.customers)),
        ]
        return funnel_chart(stages, title=f"Funnel, {window}")
    ids = query.campaign_ids
    if kind == "channels":
        per_channel = await cut(uow, ["channel"], query.since, query.until, ids)
        values = sorted(((key[0] or "(none)", float(t.leads)) for key, t in per_channel.items()), key=lambda v: -v[1])
        return comparison_chart(values, title=f"Leads by channel, {window}", metric="leads")
    daily = await cut(uow, ["channel", "day"], query.since, query.until, ids)
    series: dict[str, dict[date, float]] = defaultdict(dict)
    for (channel, day), totals in daily.items():
        series[channel or "(none)"][date.fromisoformat(day[:10])] = float(totals.leads)
    span = (query.until - query.since).days + 1
    days = [query.since + timedelta(days=i) for i in range(span)]
    lines = {label: [(day, points.get(day, 0.0)) for day in days] for label, points in series.items()}
    return trend_chart(lines, title=f"Leads per day by channel, {window}", metric="leads")
