"""From a marketer's goal to a complete plan draft: channel mix, budgets, bidding, targeting, schedule, KPIs, forecast.

The mix follows the objective (only channels serving it), the industry (B2B buyers are reached on search, LinkedIn
and Facebook rather than TikTok or Instagram) and the markets (WhatsApp where it is the everyday messenger, SMS
elsewhere). Owned channels (email, SMS, WhatsApp) join only when the goal names an audience to send to. Channels
without a published benchmark (YouTube, influencers) cannot be forecast, so the planner never proposes them.
"""

from datetime import date
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from promptsales.domain_core.campaigns.model.allocation import ChannelBounds, allocate, recommend_budget
from promptsales.domain_core.campaigns.model.benchmarks import benchmark, has_benchmark, industry_key
from promptsales.domain_core.campaigns.model.channels import ChannelSpec, channel_catalogue
from promptsales.domain_core.campaigns.model.forecast import forecast
from promptsales.domain_core.campaigns.model.fx import FxRate, usd_rate
from promptsales.domain_core.campaigns.model.pacing import first_day_budget
from promptsales.domain_core.campaigns.model.plan import (
    Bidding,
    Budget,
    ChannelPlan,
    Goal,
    Kpi,
    PlanDraft,
    Schedule,
    Targeting,
)
from promptsales.domain_core.campaigns.model.response_curves import curve_from_benchmark
from promptsales.domain_core.shared.errors import ValidationFailed

MAX_FLIGHT_DAYS = 366
BUDGET_CEILING = Decimal("10000000")
CENT = Decimal("0.01")

# Mix by audience type, in priority order (budget shortfalls drop channels from the end).
B2B_MIX = ("google_search", "linkedin", "meta_facebook", "google_display", "email", "whatsapp", "sms")
B2C_MIX = ("google_search", "meta_facebook", "meta_instagram", "tiktok", "google_display", "email", "sms", "whatsapp")
B2B_INDUSTRIES = frozenset({"technology", "b2b", "business_services", "industrial_commercial", "finance_insurance"})
# Markets where WhatsApp is the everyday messenger (Latin America, Iberia, India, much of Europe and Africa); SMS
# is proposed instead elsewhere, where WhatsApp reach is low (e.g. US, CA).
WHATSAPP_FIRST = frozenset(
    {"AR", "BR", "CL", "CO", "MX", "PE", "ES", "PT", "IT", "DE", "NL", "IN", "ZA", "NG", "ID", "MY", "SA", "AE", "TR"}
)
CONVERSION_METRICS = frozenset({"conversions", "leads"})
# No channel takes more than this share of a mix of several: benchmark priors are wide, so the plan hedges across
# channels instead of betting the budget on the one whose prior looks cheapest (a product choice, stated in the plan).
MAX_SHARE = Decimal("0.6")
RECOMMEND_ROUNDS = 6


def _validate_schedule(goal: Goal, today: date) -> Schedule:
    try:
        ZoneInfo(goal.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"Unknown time zone '{goal.time_zone}'.", field="time_zone", hint="Use an IANA name such as Europe/Madrid."
        ) from None
    if goal.start_date < today:
        raise ValidationFailed(f"start_date {goal.start_date} is in the past (today is {today}).", field="start_date")
    if goal.end_date < goal.start_date:
        raise ValidationFailed("end_date must not be before start_date.", field="end_date")
    days = (goal.end_date - goal.start_date).days + 1
    if days > MAX_FLIGHT_DAYS:
        raise ValidationFailed(
            f"The flight lasts {days} days; plans cover at most {MAX_FLIGHT_DAYS}.",
            field="end_date",
            hint="Split a longer programme into several campaigns.",
        )
    return Schedule(start_date=goal.start_date, end_date=goal.end_date, time_zone=goal.time_zone, pacing=goal.pacing)


def _requested(goal: Goal, allowed: frozenset[str] | None) -> list[ChannelSpec]:
    """The channels the goal names, each known, entitled and forecastable."""
    catalogue = channel_catalogue()
    specs = []
    for name in dict.fromkeys(goal.channels or ()):
        spec = catalogue.get(name)
        if spec is None:
            raise ValidationFailed(
                f"Unknown channel '{name}'.", field="channels", hint=f"Valid channels: {', '.join(catalogue)}."
            )
        if allowed is not None and spec.entitlement not in allowed:
            raise ValidationFailed(
                f"Channel '{name}' is not included in the current plan (needs the '{spec.entitlement}' channel).",
                field="channels",
                hint="Choose another channel or upgrade the plan.",
            )
        if not has_benchmark(name):
            raise ValidationFailed(
                f"Channel '{name}' has no published benchmark, so the planner cannot forecast it.",
                field="channels",
                hint="Plan it outside the forecast, or pick a channel with benchmarks.",
            )
        if spec.kind != "ads" and not goal.audience_size:
            raise ValidationFailed(
                f"Channel '{name}' sends to a CRM audience: give audience_size (and the segment) to plan it.",
                field="channels",
            )
        if goal.objective not in spec.objectives:
            raise ValidationFailed(
                f"Channel '{name}' does not serve the '{goal.objective}' objective.", field="channels"
            )
        specs.append(spec)
    return specs


def _proposed(goal: Goal, allowed: frozenset[str] | None) -> list[ChannelSpec]:
    """The mix the planner proposes for the objective, industry and markets."""
    catalogue = channel_catalogue()
    b2b = industry_key(goal.industry) in B2B_INDUSTRIES
    countries = {market.country for market in goal.markets}
    messenger = "whatsapp" if countries & WHATSAPP_FIRST else "sms"
    specs = []
    for name in B2B_MIX if b2b else B2C_MIX:
        spec = catalogue[name]
        if goal.objective not in spec.objectives or (allowed is not None and spec.entitlement not in allowed):
            continue
        if spec.kind != "ads" and (not goal.audience_size or name not in ("email", messenger)):
            continue
        if name == "google_display" and goal.objective not in ("awareness", "retention"):
            continue  # display's legacy 0.77 % conversion rate makes it a reach channel, not a response one
        specs.append(spec)
    if not specs:
        raise ValidationFailed(
            f"No entitled channel serves the '{goal.objective}' objective.",
            field="channels",
            hint="Upgrade the plan to include more channels, or change the objective.",
        )
    return specs


def _bidding(goal: Goal, spec: ChannelSpec) -> Bidding:
    if goal.max_cpa is not None and goal.max_cpa > 0:
        for strategy in ("target_cpa", "cost_cap"):  # cost_cap is Meta's/TikTok's/LinkedIn's name for a CPA goal
            if strategy in spec.bidding:
                return Bidding(strategy=strategy, amount=goal.max_cpa)
    if goal.objective == "traffic" and "maximize_clicks" in spec.bidding:
        return Bidding(strategy="maximize_clicks")
    return Bidding(strategy="lowest_cost" if "lowest_cost" in spec.bidding else spec.bidding[0])


def _targeting(goal: Goal, spec: ChannelSpec, segment_id: str | None) -> Targeting:
    countries = tuple(dict.fromkeys(market.country for market in goal.markets))
    languages = tuple(dict.fromkeys(lang for market in goal.markets for lang in market.languages))
    # Owned channels send to the segment itself; paid ones upload it as a hashed list where they accept one.
    takes_list = spec.customer_lists or spec.consent_channel is not None
    return Targeting(
        countries=countries,
        languages=languages,
        customer_list_segment_id=segment_id if takes_list else None,
    )


def _minimum(spec: ChannelSpec, days: int, fx: FxRate) -> Decimal:
    return (spec.min_daily_budget * days * Decimal(str(fx.per_usd))).quantize(CENT, rounding=ROUND_CEILING)


def _fit_to_budget(
    specs: list[ChannelSpec], budget: Decimal, minimums: dict[str, Decimal], currency: str, notes: list[str]
) -> list[ChannelSpec]:
    """Drop the lowest-priority channels whose minimums the budget cannot cover."""
    kept = list(specs)
    while len(kept) > 1 and sum(minimums[s.id] for s in kept) > budget:
        dropped = kept.pop()
        notes.append(f"{dropped.display_name} left out: the budget cannot also cover its minimum spend.")
    if minimums[kept[0].id] > budget:
        raise ValidationFailed(
            f"The budget {budget} {currency} is below {kept[0].display_name}'s minimum of {minimums[kept[0].id]} "
            "for the flight.",
            field="budget",
            hint="Raise the budget or shorten the flight.",
        )
    return kept


def _total_budget(goal: Goal, bounds: list[ChannelBounds], notes: list[str]) -> Decimal:
    """The goal's budget, else the least that reaches its leads/conversions target."""
    if goal.budget is not None:
        return goal.budget
    if goal.target_value is None or goal.target_metric not in CONVERSION_METRICS:
        raise ValidationFailed("Give a budget, or a target in leads or conversions to recommend one.", field="budget")
    total = recommend_budget(float(goal.target_value), bounds, ceiling=BUDGET_CEILING)
    notes.append(f"Budget recommended: the least that reaches {goal.target_value} {goal.target_metric}.")
    return total


def _capped(bounds: list[ChannelBounds], total: Decimal) -> list[ChannelBounds]:
    """Bounds with the share cap (never below a channel's minimum); a single channel takes it all."""
    if len(bounds) < 2:
        return bounds
    return [b.model_copy(update={"max_budget": max(b.min_budget, (total * MAX_SHARE).quantize(CENT))}) for b in bounds]


def _kpis(goal: Goal) -> tuple[Kpi, ...]:
    kpis = [Kpi(metric=goal.target_metric, target=goal.target_value)] if goal.target_value is not None else []
    if goal.max_cpa is not None:
        cost_metric = "cpl" if "leads" in (goal.target_metric, goal.objective) else "cpa"
        kpis.append(Kpi(metric=cost_metric, target=goal.max_cpa, comparator="at_most"))
    return tuple(kpis)


def _shortfall(goal: Goal, expected: float) -> list[str]:
    if goal.target_value is None or goal.target_metric not in CONVERSION_METRICS or expected >= goal.target_value:
        return []
    return [
        f"The forecast ({expected:,.0f} {goal.target_metric}) falls short of the target {goal.target_value}: "
        "raise the budget or lengthen the flight."
    ]


def draft_plan(
    goal: Goal,
    *,
    today: date,
    allowed_channels: frozenset[str] | None = None,
    segment_id: str | None = None,
) -> PlanDraft:
    """A complete, forecast plan draft for ``goal``; ``allowed_channels`` are the plan's entitlements (None = all)."""
    schedule = _validate_schedule(goal, today)
    fx = usd_rate(goal.currency)
    days = schedule.days
    specs = _requested(goal, allowed_channels) if goal.channels else _proposed(goal, allowed_channels)
    benches = {s.id: benchmark(s.id, goal.industry) for s in specs}
    curves = {
        s.id: curve_from_benchmark(
            benches[s.id],
            flight_days=days,
            audience_cap=goal.audience_size if s.kind != "ads" else None,
            currency_rate=fx.per_usd,
        )
        for s in specs
    }
    minimums = {s.id: _minimum(s, days, fx) for s in specs}

    notes: list[str] = []
    bounds = [ChannelBounds(channel=s.id, curve=curves[s.id], min_budget=minimums[s.id]) for s in specs]
    total = _total_budget(goal, bounds, notes)
    specs = _fit_to_budget(specs, total, minimums, fx.currency, notes)
    kept = [b for b in bounds if b.channel in {s.id for s in specs}]
    allocation = allocate(total, _capped(kept, total))
    for _ in range(RECOMMEND_ROUNDS if goal.budget is None and goal.target_value is not None else 0):
        # The recommendation was worked out without the share cap: grow it until the capped mix reaches the target.
        reached = allocation.expected_conversions
        if reached <= 0 or reached >= float(goal.target_value or 0) * 0.999 or total >= BUDGET_CEILING:
            break
        total = min(BUDGET_CEILING, (total * Decimal(str(float(goal.target_value or 0) / reached))).quantize(CENT))
        allocation = allocate(total, _capped(kept, total))

    plans = tuple(
        ChannelPlan(
            channel=s.id,
            formats=s.formats,
            budget=allocation.budgets[s.id],
            daily_budget=first_day_budget(allocation.budgets[s.id], schedule),
            min_budget=minimums[s.id],
            bidding=_bidding(goal, s),
            targeting=_targeting(goal, s, segment_id),
        )
        for s in specs
    )
    outlook = forecast(plans, benches, curves, fx=fx, audience_size=goal.audience_size)
    notes += _shortfall(goal, outlook.total.conversions.expected)
    notes += [
        f"Channels chosen for a '{goal.objective}' objective in '{industry_key(goal.industry)}' "
        f"({', '.join(s.display_name for s in specs)}).",
        f"Budget split by {allocation.solver} to maximise expected conversions "
        f"({'optimal' if allocation.converged else 'best point found, optimality not confirmed'}), each channel at "
        f"or above its minimum daily spend times the days and, in a mix of several, at most {MAX_SHARE:.0%} of "
        "the budget (a hedge against wide benchmark priors).",
        f"Daily budgets follow '{schedule.pacing}' pacing from the first day; a day ends at midnight in "
        f"{schedule.time_zone}.",
        *outlook.assumptions,
    ]
    daily = sum((p.daily_budget or Decimal(0) for p in plans), Decimal(0))
    return PlanDraft(
        channels=plans,
        budget=Budget(total=total, daily=daily, currency=fx.currency),
        schedule=schedule,
        kpis=_kpis(goal),
        forecast=outlook,
        recommended_budget=goal.budget is None,
        assumptions=tuple(notes),
    )
