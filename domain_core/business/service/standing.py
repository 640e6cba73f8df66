"""The tenant's standing (effective plan and access) read from its current subscription."""

from dataclasses import dataclass

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
