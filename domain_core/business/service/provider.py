"""The PayPal merchant account the suite bills through, and the billing plans it holds for our catalogue."""

import hashlib
from dataclasses import dataclass

from promptsales.domain_core.business import repository as repo
from promptsales.domain_core.business.model.plans import Plan
from promptsales.domain_core.business.paypal.client import PayPalClient
from promptsales.domain_core.business.tables import ProviderPlanRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.infrastructure.upsert import insert_ignore
from promptsales.domain_core.shared.caller import Caller

PROVIDER = "paypal"
PRODUCT_NAME = "PromptSales subscription"
# Global bookkeeping (provider plans, object links) runs in a transaction of this pseudo-tenant.
PLATFORM = Caller(tenant_id="_platform", actor_id="promptsales", actor_kind="system", source="system")


@dataclass(frozen=True)
class PayPalAccount:
    """Where and how payments are taken: the client, the webhook id PayPal signs for, and buyer return URLs."""

    client: PayPalClient
    webhook_id: str
    account_key: str
    return_url: str
    cancel_url: str
    mode: str


def request_id(*parts: str) -> str:
    """A PayPal-Request-Id derived from what makes a request unique, so a retried call never charges twice."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:36]


def plan_key(plan: Plan) -> str:
    """Identity of a provider billing plan: our plan at its price, interval and trial."""
    price = plan.price
    return f"{plan.id}:{price.amount}:{price.currency}:{price.interval}:{plan.trial_days}"


async def provider_plan_id(uow_factory: UnitOfWorkFactory, account: PayPalAccount, plan: Plan) -> str:
    """The PayPal billing plan for ``plan``, created (with the product) the first time it is needed."""
    key = plan_key(plan)

    async def find(uow: UnitOfWork) -> ProviderPlanRecord | None:
        return await repo.provider_plan(uow.session, account=account.account_key, plan_key=key)

    known = await uow_factory.read(PLATFORM, find)
    if known is not None:
        return known.provider_plan_id
    # Deterministic request ids: replicas racing to create the same plan get the same PayPal objects.
    product = await account.client.create_product(
        name=PRODUCT_NAME,
        description="AI sales & marketing MCP suite",
        request_id=request_id(account.account_key, "product"),
    )
    created = await account.client.create_plan(
        product_id=product.id,
        name=f"PromptSales {plan.name}",
        price=plan.price.amount,
        currency=plan.price.currency,
        interval_unit="YEAR" if plan.price.interval == "year" else "MONTH",
        trial_days=plan.trial_days,
        request_id=request_id(account.account_key, "plan", key),
    )

    async def remember(uow: UnitOfWork) -> None:
        await uow.session.execute(
            insert_ignore(uow.session, ProviderPlanRecord).values(
                account=account.account_key,
                plan_key=key,
                provider_product_id=product.id,
                provider_plan_id=created.id,
                details={"plan": plan.id, "name": created.name},
                created_at=uow.now,
            )
        )

    async with uow_factory.begin(PLATFORM) as uow:
        await remember(uow)
    return created.id
