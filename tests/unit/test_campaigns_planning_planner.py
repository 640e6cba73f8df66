"""The planner: from a goal to a full draft (mix, budgets, bidding, targeting, KPIs, forecast) and its refusals."""

from datetime import date
from decimal import Decimal

import pytest

from promptsales.domain_core.campaigns.model.benchmarks import benchmark
from promptsales.domain_core.campaigns.model.plan import Goal, Market
from promptsales.domain_core.campaigns.model.planner import MAX_SHARE, draft_plan
from promptsales.domain_core.campaigns.model.response_curves import curve_from_benchmark
from promptsales.domain_core.shared.errors import ValidationFailed

TODAY = date(2026, 12, 7)
IBERO = (Market(country="ES", languages=("es",)), Market(country="MX", languages=("es",)))


def accounting_goal(**changes: object) -> Goal:
    """300 leads for accounting software in Spain and Mexico with 15,000 EUR in March 2027."""
    goal = Goal(
        objective="leads",
        target_metric="leads",
        target_value=Decimal(300),
        budget=Decimal(15_000),
        currency="EUR",
        markets=IBERO,
        start_date=date(2027, 3, 1),
        end_date=date(2027, 3, 31),
        product="Cloud accounting for small firms",
        industry="accounting software",
        time_zone="Europe/Madrid",
    )
    return goal.model_copy(update=changes)


def test_b2b_software_gets_search_linkedin_and_meta_with_the_budget_split_exactly() -> None:
    draft = draft_plan(accounting_goal(), today=TODAY)
    assert [c.channel for c in draft.channels] == ["google_search", "linkedin", "meta_facebook"]
    assert sum(c.budget for c in draft.channels) == Decimal(15_000)
    assert all(c.budget >= c.min_budget > 0 for c in draft.channels)
    assert draft.budget.currency == "EUR" and not draft.recommended_budget
    search = draft.channels[0]
    assert search.formats == ("rsa",) and search.bidding.strategy == "lowest_cost"
    assert search.targeting.countries == ("ES", "MX") and search.targeting.languages == ("es",)
    assert search.daily_budget is not None and abs(search.daily_budget * 31 - search.budget) < Decimal("0.31")
    assert draft.kpis[0].metric == "leads" and draft.kpis[0].target == 300


def test_the_forecast_is_in_the_plans_currency_with_its_assumptions() -> None:
    draft = draft_plan(accounting_goal(), today=TODAY)
    total = draft.forecast.total
    assert total.budget == Decimal(15_000)
    assert 0 < total.conversions.low <= total.conversions.expected <= total.conversions.high
    assert total.cpa is not None and total.cpa.expected == pytest.approx(15_000 / total.conversions.expected)
    text = " ".join(draft.assumptions)
    assert "EUR" in text and "strength W" in text and "Hill curve" in text
    assert draft.schedule.time_zone == "Europe/Madrid" and draft.schedule.days == 31


def test_the_budget_split_is_the_optimum_for_the_planned_curves() -> None:
    draft = draft_plan(accounting_goal(), today=TODAY)
    budgets = {c.channel: c.budget for c in draft.channels}
    curves = {
        name: curve_from_benchmark(
            benchmark(name, "accounting software"), flight_days=31, audience_cap=None, currency_rate=0.86
        )
        for name in budgets
    }
    floors = {c.channel: c.min_budget for c in draft.channels}
    ceiling = Decimal(15_000) * MAX_SHARE  # no channel takes more than its share of a mix

    def conversions(split: dict[str, Decimal]) -> float:
        return sum(curves[name].conversions(float(amount)) for name, amount in split.items())

    planned = conversions(budgets)
    assert planned == pytest.approx(draft.forecast.total.conversions.expected)
    assert max(budgets.values()) <= ceiling
    for source in budgets:  # moving 100 EUR between any two channels, within minimums and caps, never helps
        for target in budgets.keys() - {source}:
            if budgets[source] - 100 >= floors[source] and budgets[target] + 100 <= ceiling:
                moved = dict(budgets, **{source: budgets[source] - 100, target: budgets[target] + 100})
                assert conversions(moved) <= planned


def test_max_cpa_sets_target_cpa_bidding_and_a_cost_kpi() -> None:
    draft = draft_plan(accounting_goal(max_cpa=Decimal(45)), today=TODAY)
    by_channel = {c.channel: c.bidding for c in draft.channels}
    assert by_channel["google_search"].strategy == "target_cpa" and by_channel["google_search"].amount == 45
    assert by_channel["meta_facebook"].strategy == "cost_cap"
    assert any(k.metric == "cpl" and k.comparator == "at_most" and k.target == 45 for k in draft.kpis)


def test_without_a_budget_the_planner_recommends_the_least_that_reaches_the_target() -> None:
    draft = draft_plan(accounting_goal(budget=None), today=TODAY)
    assert draft.recommended_budget and draft.budget.total is not None
    assert draft.forecast.total.conversions.expected >= 300 * 0.999
    assert sum(c.budget for c in draft.channels) == draft.budget.total
    assert max(c.budget for c in draft.channels) <= draft.budget.total * MAX_SHARE


def test_consumer_goals_with_an_audience_add_owned_channels_and_the_segment() -> None:
    goal = accounting_goal(
        objective="sales", target_metric="conversions", industry="fashion", audience_size=40_000, target_value=None
    )
    draft = draft_plan(goal, today=TODAY, segment_id="seg_01")
    channels = [c.channel for c in draft.channels]
    assert "tiktok" in channels and "linkedin" not in channels
    assert "email" in channels and "whatsapp" in channels and "sms" not in channels  # ES/MX prefer WhatsApp
    assert all(c.targeting.customer_list_segment_id == "seg_01" for c in draft.channels)
    assert sum(c.budget for c in draft.channels) == Decimal(15_000)


def test_traffic_goals_bid_for_clicks_where_the_channel_can() -> None:
    draft = draft_plan(accounting_goal(objective="traffic", target_value=None), today=TODAY)
    by_channel = {c.channel: c.bidding.strategy for c in draft.channels}
    assert by_channel["google_search"] == "maximize_clicks"
    assert by_channel["linkedin"] == "lowest_cost"


def test_entitlements_narrow_the_mix_and_refuse_channels_outside_the_plan() -> None:
    starter = frozenset({"email", "web", "sms", "google_ads", "meta"})
    draft = draft_plan(accounting_goal(), today=TODAY, allowed_channels=starter)
    assert [c.channel for c in draft.channels] == ["google_search", "meta_facebook"]
    with pytest.raises(ValidationFailed) as refused:
        draft_plan(accounting_goal(channels=("linkedin",)), today=TODAY, allowed_channels=starter)
    assert refused.value.field == "channels" and "linkedin" in refused.value.message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_date": date(2026, 12, 1)}, "start_date"),
        ({"end_date": date(2027, 2, 1)}, "end_date"),
        ({"end_date": date(2028, 3, 2)}, "end_date"),
        ({"channels": ("myspace",)}, "channels"),
        ({"channels": ("youtube",)}, "channels"),
        ({"channels": ("email",)}, "channels"),
        ({"currency": "XTS"}, "currency"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"budget": Decimal(100)}, "budget"),
        ({"budget": None, "target_value": None}, "budget"),
    ],
)
def test_invalid_goals_are_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        draft_plan(accounting_goal(**changes), today=TODAY)
    assert refused.value.field == field


def test_a_small_budget_drops_the_channels_it_cannot_fund() -> None:
    draft = draft_plan(accounting_goal(budget=Decimal(600)), today=TODAY)
    assert [c.channel for c in draft.channels] == ["google_search", "linkedin"]
    assert any("Facebook (Meta) left out" in line for line in draft.assumptions)
