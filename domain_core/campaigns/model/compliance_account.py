"""Checks against the tenant's account: business plan channels, activations left and spend caps."""

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from promptsales.domain_core.campaigns.model.compliance_base import CheckSpec, Hit, NoParams, Params, Registry, money
from promptsales.domain_core.campaigns.model.compliance_facts import CampaignFacts, SpendFacts
from promptsales.domain_core.campaigns.model.plan import Schedule

PlanChannel = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class PlanChannelParams(Params):
    """Which business-plan channel (the entitlement ``channel:<name>``) each campaign channel id needs."""

    plan_channel_of: dict[str, PlanChannel] = Field(min_length=1)

    def channels_named(self) -> set[str]:
        """The campaign channel ids the mapping covers."""
        return set(self.plan_channel_of)


def channels_in_plan(facts: CampaignFacts, params: PlanChannelParams) -> Iterator[Hit]:
    """Block channels the tenant's business plan does not include (and channels the mapping does not know)."""
    for channel in facts.channel_ids():
        needed = params.plan_channel_of.get(channel)
        if needed is None:
            yield Hit(
                f"{channel} is not a channel the business plans know, so its entitlement cannot be checked.",
                f"Remove {channel} or use one of {', '.join(sorted(params.plan_channel_of))}.",
                channel=channel,
            )
        elif needed not in facts.plan.allowed_channels:
            yield Hit(
                f"{channel} needs the {needed} channel, which the tenant's business plan does not include.",
                f"Upgrade to a plan with {needed} (business_list_plans, business_start_checkout) or remove {channel}.",
                channel=channel,
                subject=needed,
            )


def activations_left(facts: CampaignFacts, params: NoParams) -> Iterator[Hit]:
    """Block activation when the plan's activations for the period are used up."""
    if facts.plan.activations_left is not None and facts.plan.activations_left <= 0:
        yield Hit(
            "The business plan has no campaign activations left this period.",
            "Upgrade the plan (business_start_checkout) or wait for the next period (business_get_usage shows when).",
            subject="activations",
        )


class SpendCapParams(Params):
    """Which of the tenant's caps this rule enforces."""

    cap: Literal["per_campaign", "per_day", "per_month"]


def _months(schedule: Schedule) -> Iterator[tuple[date, int]]:
    """Each calendar month the flight touches (its first day) and how many flight days fall in it."""
    day = schedule.start_date
    while day <= schedule.end_date:
        first = day.replace(day=1)
        next_month = (first + timedelta(days=32)).replace(day=1)
        last = min(schedule.end_date, next_month - timedelta(days=1))
        yield first, (last - day).days + 1
        day = last + timedelta(days=1)


def _month_spend(spend: SpendFacts, days_in_month: int) -> Decimal:
    """The most the campaign can spend in a month of the flight: its total, or fewer days at its daily ceiling."""
    if spend.campaign_daily > 0:
        return min(spend.campaign_total, spend.campaign_daily * days_in_month)
    return spend.campaign_total


def _overshoot(label: str, amount: Decimal, cap: Decimal, spend: SpendFacts, what: str, fix: str) -> Hit:
    over = amount - cap
    currency = spend.currency
    return Hit(
        f"{what} comes to {money(amount, currency)}, {money(over, currency)} over the {label} cap of "
        f"{money(cap, currency)}.",
        fix.format(over=money(over, currency)),
        subject=label,
    )


def spend_cap(facts: CampaignFacts, params: SpendCapParams) -> Iterator[Hit]:
    """Block a campaign whose spend, with the tenant's other live campaigns where the cap is shared, tops a cap."""
    spend, caps = facts.spend, facts.spend.caps
    if params.cap == "per_campaign" and caps.per_campaign is not None and spend.campaign_total > caps.per_campaign:
        yield _overshoot(
            "per-campaign",
            spend.campaign_total,
            caps.per_campaign,
            spend,
            "The campaign's total budget",
            "Lower the campaign's budget total by at least {over}, or raise the per-campaign cap.",
        )
    if params.cap == "per_day" and caps.per_day is not None:
        daily = spend.campaign_daily + spend.tenant_daily_committed
        if daily > caps.per_day:
            yield _overshoot(
                "daily",
                daily,
                caps.per_day,
                spend,
                f"The campaign's daily budget with {money(spend.tenant_daily_committed, spend.currency)} a day "
                "committed by other live campaigns",
                "Lower the campaign's daily budget by at least {over}, or raise the daily cap.",
            )
    if params.cap == "per_month" and caps.per_month is not None:
        for month, days in _months(facts.schedule):
            total = _month_spend(spend, days) + spend.tenant_month_committed
            if total > caps.per_month:
                yield _overshoot(
                    "monthly",
                    total,
                    caps.per_month,
                    spend,
                    f"In {month:%Y-%m} the campaign's spend with "
                    f"{money(spend.tenant_month_committed, spend.currency)} committed by other live campaigns",
                    "Lower the campaign's budget in " + f"{month:%Y-%m}" + " by at least {over} (budget total or "
                    "daily), move it to another month, or raise the monthly cap.",
                )


CHECKS: Registry = {
    "channels_in_plan": CheckSpec(PlanChannelParams, channels_in_plan),
    "activations_left": CheckSpec(NoParams, activations_left),
    "spend_cap": CheckSpec(SpendCapParams, spend_cap),
}
