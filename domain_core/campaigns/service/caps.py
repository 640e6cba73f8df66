"""Spend caps: the tenant's limits, and committing a campaign's budget against them without races.

Every commitment (an activation, a budget raise, a resume) locks the tenant's caps row first, then sums what the
tenant's other live campaigns commit: concurrent raises queue on that row, so together they can never pass a cap.
"""

from datetime import date, timedelta
from decimal import Decimal

from promptsales.domain_core.campaigns import repository as repo
from promptsales.domain_core.campaigns.commands import SetSpendCaps
from promptsales.domain_core.campaigns.dto import SpendCapsView
from promptsales.domain_core.campaigns.service import views
from promptsales.domain_core.campaigns.tables import CampaignRecord, SpendCapsRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import ComplianceBlocked

DEFAULT_CHANGE_FACTOR = Decimal(2)
ZERO = Decimal(0)


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def month_spend(daily: Decimal, total: Decimal | None, start: date, end: date, day: date) -> Decimal:
    """The most a campaign can spend in ``day``'s month: its daily budget on each of its days there (within total)."""
    first, last = month_bounds(day)
    days = max(0, (min(end, last) - max(start, first)).days + 1)
    most = daily * days
    return min(most, total) if total is not None else most


def _record_month(record: CampaignRecord, day: date) -> Decimal:
    schedule = views.schedule_of(record)
    return month_spend(record.budget_daily or ZERO, record.budget_total, schedule.start_date, schedule.end_date, day)


def _defaults(uow: UnitOfWork, currency: str) -> SpendCapsRecord:
    return SpendCapsRecord(
        tenant_id=uow.tenant_id, currency=currency, max_change_factor=DEFAULT_CHANGE_FACTOR, updated_at=uow.now
    )


async def committed(uow: UnitOfWork, *, excluding: str | None = None) -> tuple[Decimal, Decimal]:
    """Daily budgets and this month's maximum spend of the tenant's live campaigns."""
    live = await repo.live_campaigns(uow, excluding=excluding)
    today = uow.now.date()
    return (
        sum((r.budget_daily or ZERO for r in live), start=ZERO),
        sum((_record_month(r, today) for r in live), start=ZERO),
    )


async def view(uow: UnitOfWork) -> SpendCapsView:
    """The caps and what live campaigns commit."""
    caps = await repo.spend_caps(uow)
    daily, month = await committed(uow)
    return SpendCapsView(
        currency=caps.currency if caps else "USD",
        per_campaign=caps.per_campaign if caps else None,
        per_day=caps.per_day if caps else None,
        per_month=caps.per_month if caps else None,
        max_change_factor=caps.max_change_factor if caps else DEFAULT_CHANGE_FACTOR,
        committed_daily=daily,
        committed_month=month,
    )


async def set_caps(uow: UnitOfWork, command: SetSpendCaps) -> SpendCapsView:
    """Replace the tenant's caps (audited with the values before)."""
    caps = await repo.ensure_spend_caps(uow, _defaults(uow, command.currency))
    before = {
        "currency": caps.currency,
        "per_campaign": views.money(caps.per_campaign),
        "per_day": views.money(caps.per_day),
        "per_month": views.money(caps.per_month),
        "max_change_factor": str(caps.max_change_factor),
    }
    caps.currency = command.currency
    caps.per_campaign, caps.per_day, caps.per_month = command.per_campaign, command.per_day, command.per_month
    caps.max_change_factor = command.max_change_factor
    caps.updated_at = uow.now
    await repo.save(uow, caps)
    after = {
        "currency": caps.currency,
        "per_campaign": views.money(caps.per_campaign),
        "per_day": views.money(caps.per_day),
        "per_month": views.money(caps.per_month),
        "max_change_factor": str(caps.max_change_factor),
    }
    uow.audit("campaigns.set_spend_caps", target_type="spend_caps", target_id=uow.tenant_id, before=before, after=after)
    return await view(uow)


async def lock(uow: UnitOfWork, currency: str) -> SpendCapsRecord:
    """The tenant's caps row, locked: budget commitments of one tenant run one at a time from here to commit."""
    return await repo.ensure_spend_caps(uow, _defaults(uow, currency))


async def check_commitment(uow: UnitOfWork, record: CampaignRecord, *, daily: Decimal, total: Decimal | None) -> None:
    """Refuse (ComplianceBlocked) when running ``record`` at ``daily`` / ``total`` would pass a cap; call under
    :func:`lock`, so the sums cannot change before commit."""
    caps = await lock(uow, record.currency)
    if caps.per_campaign is None and caps.per_day is None and caps.per_month is None:
        return
    if caps.currency != record.currency:
        raise ComplianceBlocked(
            f"Spend caps are set in {caps.currency} and the campaign spends {record.currency}: they do not compare.",
            field="currency",
            hint="Set the caps in the campaign's currency (campaigns_set_spend_caps), or plan in the caps' currency.",
        )
    if caps.per_campaign is not None and total is not None and total > caps.per_campaign:
        raise _over("per-campaign", caps.per_campaign, total, caps.currency)
    others_daily, others_month = await committed(uow, excluding=record.id)
    if caps.per_day is not None and others_daily + daily > caps.per_day:
        raise _over("per-day", caps.per_day, others_daily + daily, caps.currency, others=others_daily)
    schedule = views.schedule_of(record)
    mine = month_spend(daily, total, schedule.start_date, schedule.end_date, uow.now.date())
    if caps.per_month is not None and others_month + mine > caps.per_month:
        raise _over("per-month", caps.per_month, others_month + mine, caps.currency, others=others_month)


def _over(
    which: str, cap: Decimal, amount: Decimal, currency: str, *, others: Decimal | None = None
) -> ComplianceBlocked:
    already = f" ({others} {currency} already committed by other live campaigns)" if others else ""
    return ComplianceBlocked(
        f"This would commit {amount} {currency} against the {which} spend cap of {cap} {currency}{already}.",
        field="daily_budget",
        hint=f"Lower the budget by at least {amount - cap} {currency}, or raise the cap with campaigns_set_spend_caps.",
    )
