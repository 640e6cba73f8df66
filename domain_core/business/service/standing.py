"""The tenant's standing (effective plan and access) read from its current subscription."""

import time
from dataclasses import dataclass
from datetime import datetime

from promptsales.domain_core.business.model.entitlements import Standing, SubscriptionState, standing
from promptsales.domain_core.business.model.plans import Catalogue
from promptsales.domain_core.business.repository import subscriptions as subscriptions_repo
from promptsales.domain_core.business.tables import SubscriptionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Policy:
    """Deployment choices the business rules depend on."""

    catalogue: Catalogue
    default_plan: str


def subscription_state(record: SubscriptionRecord) -> SubscriptionState:
    """The entitlement rules' view of a stored subscription."""
    return SubscriptionState(
        plan_id=record.plan_id,
        status=record.status,  # type: ignore[arg-type]  # stored values are the vocabulary's
        current_period_start=record.current_period_start,
        current_period_end=record.current_period_end,
        past_due_since=record.past_due_since,
        scheduled_plan_id=record.scheduled_plan_id,
    )


async def load_standing(uow: UnitOfWork, policy: Policy) -> tuple[Standing, SubscriptionRecord | None]:
    """The tenant's standing now, and the subscription it comes from (None: the default plan)."""
    record = await subscriptions_repo.current(uow)
    state = subscription_state(record) if record is not None else None
    return standing(state, now=uow.now, catalogue=policy.catalogue, default_plan=policy.default_plan), record


class StandingCache:
    """Each tenant's subscription, remembered a few seconds per process; the standing is derived from it at each use.

    The entitlement check of every tool call and the usage meter of every write share it, so a write reads the
    subscription at most once per ``ttl_s`` instead of twice per call. Quotas stay exact: the meter counts them
    in the write's own transaction. A change this process makes to a subscription is forgotten after commit.
    """

    def __init__(self, policy: Policy, ttl_s: float) -> None:
        self._policy = policy
        self._ttl = ttl_s
        self._states: dict[str, tuple[float, SubscriptionState | None]] = {}

    def known(self, tenant_id: str, now: datetime) -> Standing | None:
        """The tenant's standing at ``now`` from what is remembered (None: nothing fresh is)."""
        cached = self._states.get(tenant_id)
        if cached is None or cached[0] <= time.monotonic():
            return None
        return self._derive(cached[1], now)

    async def standing(self, uow: UnitOfWork) -> Standing:
        """The tenant's standing at ``uow.now``; a subscription read here is remembered once ``uow`` commits."""
        known = self.known(uow.tenant_id, uow.now)
        if known is not None:
            return known
        record = await subscriptions_repo.current(uow)
        state = subscription_state(record) if record is not None else None
        tenant = uow.tenant_id
        # Only committed reads are remembered: this unit may itself be changing the subscription.
        uow.after_commit(lambda: self._remember(tenant, state))
        return self._derive(state, uow.now)

    def _derive(self, state: SubscriptionState | None, now: datetime) -> Standing:
        return standing(state, now=now, catalogue=self._policy.catalogue, default_plan=self._policy.default_plan)

    def forget(self, tenant_id: str) -> None:
        """Drop what is remembered of the tenant (this process changed its subscription)."""
        self._states.pop(tenant_id, None)

    def _remember(self, tenant_id: str, state: SubscriptionState | None) -> None:
        if self._ttl > 0:
            self._states[tenant_id] = (time.monotonic() + self._ttl, state)
