"""Usage metering: counts what a unit of work used against the plan, inside that unit's transaction."""

from collections import OrderedDict
from datetime import UTC, datetime

from promptsales.domain_core.business.dto import QuotaUsage, UsageReport
from promptsales.domain_core.business.model.entitlements import Standing, lifting_plan, quota_headroom, quota_resets_at
from promptsales.domain_core.business.model.plans import PERIOD_QUOTAS, STOCK_QUOTAS, Catalogue
from promptsales.domain_core.business.repository import usage as usage_repo
from promptsales.domain_core.business.service.standing import Policy, StandingCache, load_standing
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import QuotaExceeded

# Stock quotas (contacts kept) never reset, so they are counted under one fixed period.
OPEN_PERIOD = datetime(1970, 1, 1, tzinfo=UTC)
COUNTED_QUOTAS = ("contacts", "content_generations", "activations", "seats")
SEAT_CACHE_SIZE = 10_000


def period_start(quota: str, standing: Standing) -> datetime:
    """The period a quota is counted in."""
    return OPEN_PERIOD if quota in STOCK_QUOTAS else standing.period_start


def takes_seat(uow: UnitOfWork) -> bool:
    """Agents and people acting for a tenant take a seat; the platform's own work (webhooks, relays) does not."""
    caller = uow.caller
    return caller.actor_kind != "system" and caller.source not in ("webhook", "system")


class BusinessMeter:
    """The ``UsageMeter`` of the unit-of-work factory: enforces quotas at commit, in the same transaction.

    Every context's units (CRM contacts, content generations) are settled by it; the composition root
    (servers/runtime.py) hands it to the shared factory.
    """

    def __init__(self, policy: Policy, standings: StandingCache) -> None:
        self._policy = policy
        self._standings = standings
        # (tenant, actor) -> end of the period its seat is known for; saves a statement on every write.
        self._seated: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    def _seat_known(self, uow: UnitOfWork) -> bool:
        until = self._seated.get((uow.tenant_id, uow.caller.actor_id))
        return until is not None and uow.now < until

    def _remember_seat(self, tenant_id: str, actor_id: str, until: datetime) -> None:
        self._seated[(tenant_id, actor_id)] = until
        self._seated.move_to_end((tenant_id, actor_id))
        while len(self._seated) > SEAT_CACHE_SIZE:
            self._seated.popitem(last=False)

    async def settle(self, uow: UnitOfWork) -> None:
        """Count the unit's usage and the caller's seat; raise QuotaExceeded to roll the unit back."""
        deltas = {quota: amount for quota, amount in uow.usage.items() if amount != 0}
        seat = takes_seat(uow) and not self._seat_known(uow)
        if not deltas and not seat:
            return
        standing = await self._standings.standing(uow)
        # A fixed order of counter rows keeps concurrent units from locking them in opposite orders.
        for quota in sorted(deltas):
            await self._count(uow, standing, quota, deltas[quota])
        if seat:
            start = period_start("seats", standing)
            fresh = await usage_repo.claim_seat(uow, period_start=start)
            if fresh:
                await self._count(uow, standing, "seats", 1)
            tenant, actor, until = uow.tenant_id, uow.caller.actor_id, standing.period_end
            uow.after_commit(lambda: self._remember_seat(tenant, actor, until))

    async def _count(self, uow: UnitOfWork, standing: Standing, quota: str, amount: int) -> None:
        start = period_start(quota, standing)
        if amount < 0:
            await usage_repo.release(uow, quota=quota, period_start=start, amount=-amount)
            return
        # Counters no plan limits (model tokens) are tracked for reporting and billing.
        limit = standing.plan.quotas.get(quota)
        total = await usage_repo.add(uow, quota=quota, period_start=start, amount=amount, limit=limit)
        if total is None:
            used = (await usage_repo.counts(uow, [(quota, start)]))[quota]
            raise quota_exceeded(self._policy.catalogue, standing, quota, used=used, needed=amount, now=uow.now)


def quota_exceeded(
    catalogue: Catalogue, standing: Standing, quota: str, *, used: int, needed: int = 1, now: datetime
) -> QuotaExceeded:
    """The error for a used-up quota: which quota, the limit, when it resets, and the plan that lifts it."""
    plan = standing.plan
    limit = plan.quotas[quota]
    resets = quota_resets_at(quota, standing, now)
    when = (
        f"It resets at {resets.isoformat()}."
        if resets is not None
        else "It counts what the tenant keeps: removing or merging records frees room."
    )
    lifter = lifting_plan(catalogue, plan, "quota", quota)
    lift = (
        f"The {lifter.name} plan raises it to {lifter.quotas[quota] or 'unlimited'}: "
        f"business_start_checkout(plan='{lifter.id}')."
        if lifter is not None
        else "No plan offers more; contact sales."
    )
    left = max((limit or 0) - used, 0)
    state = (
        f"is used up ({used} of {limit} used)"
        if left == 0
        else f"has {left} left ({used} of {limit} used) and this call needs {needed}"
    )
    return QuotaExceeded(
        f"Quota '{quota}' of the {plan.name} plan {state}; nothing was changed. {when}",
        hint=lift,
    )


async def usage_of(uow: UnitOfWork, standing: Standing) -> list[QuotaUsage]:
    """Every counted quota's usage this period."""
    keys = [(quota, period_start(quota, standing)) for quota in COUNTED_QUOTAS]
    counts = await usage_repo.counts(uow, keys)
    return [
        QuotaUsage(
            quota=quota,
            limit=standing.plan.quotas[quota],
            used=counts[quota],
            remaining=quota_headroom(standing.plan, quota, counts[quota]),
            resets_at=standing.period_end if quota in PERIOD_QUOTAS else None,
        )
        for quota in COUNTED_QUOTAS
    ]


async def usage_report(uow: UnitOfWork, *, policy: Policy) -> UsageReport:
    """Usage of every counted quota in the tenant's current period."""
    standing, _ = await load_standing(uow, policy)
    return UsageReport(
        plan=standing.plan.id,
        period_start=standing.period_start,
        period_end=standing.period_end,
        quotas=await usage_of(uow, standing),
    )
