"""The PayPal billing plans kept for our catalogue, per merchant account (global bookkeeping, no tenant data)."""

from promptsales.domain_core.business.commands import RememberProviderPlan
from promptsales.domain_core.business.repository import provider as provider_repo
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.dto import Dto

REMEMBER_ACTION = "business.remember_provider_plan"


class ProviderPlanRef(Dto):
    """The PayPal billing plan id to subscribe to."""

    provider_plan_id: str


async def known_plan(uow: UnitOfWork, *, account: str, plan_key: str) -> str | None:
    """The PayPal plan already created for ``plan_key`` on ``account`` (None: not yet)."""
    found = await provider_repo.plan(uow, account=account, plan_key=plan_key)
    return found.provider_plan_id if found is not None else None


async def remember_plan(uow: UnitOfWork, command: RememberProviderPlan) -> ProviderPlanRef:
    """Keep a plan created in PayPal; when another replica kept one first, its plan is the one to use."""
    await provider_repo.remember_plan(
        uow,
        account=command.account,
        plan_key=command.plan_key,
        provider_product_id=command.provider_product_id,
        provider_plan_id=command.provider_plan_id,
        details={"plan": command.plan, "name": command.provider_plan_name},
    )
    kept = await known_plan(uow, account=command.account, plan_key=command.plan_key)
    return ProviderPlanRef(provider_plan_id=kept or command.provider_plan_id)
