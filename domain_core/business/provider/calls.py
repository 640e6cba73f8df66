"""The PayPal calls the business use cases make, outside any transaction.

Request ids derive from what makes each request unique (tenant, plan, the caller's idempotency key), so a
retried call reuses the PayPal object instead of creating or charging a second one.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from promptsales.domain_core.business.model.plans import Plan
from promptsales.domain_core.business.paypal.wire import PayPalCapture
from promptsales.domain_core.business.provider.account import PayPalAccount, request_id
from promptsales.domain_core.shared.errors import Conflict, UpstreamError

PRODUCT_NAME = "PromptSales subscription"
Verdict = Literal["verified", "forged", "unverifiable"]


@dataclass(frozen=True, slots=True)
class ProviderObject:
    """What PayPal created: its id and the link where the buyer approves it (None: nothing to approve)."""

    id: str
    approve_url: str | None


@dataclass(frozen=True, slots=True)
class CreatedPlan:
    """A PayPal billing plan (and its product) made for one of our plans."""

    product_id: str
    plan_id: str
    name: str


async def create_billing_plan(account: PayPalAccount, plan: Plan, *, key: str) -> CreatedPlan:
    """The product and billing plan for ``plan`` (deterministic request ids: racing replicas get the same ones)."""
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
    return CreatedPlan(product_id=product.id, plan_id=created.id, name=created.name)


async def subscribe(
    account: PayPalAccount, *, paypal_plan: str, tenant_id: str, plan: Plan, nonce: str
) -> ProviderObject:
    """A PayPal subscription the buyer approves; raises Conflict when PayPal gives no approval link."""
    created = await account.client.create_subscription(
        plan_id=paypal_plan,
        custom_id=tenant_id,
        return_url=account.return_url,
        cancel_url=account.cancel_url,
        request_id=request_id(tenant_id, "subscribe", plan.id, nonce),
    )
    if not created.approve_url:
        raise Conflict("PayPal returned no approval link for the subscription; nothing was charged.", hint="Retry.")
    return ProviderObject(created.id, created.approve_url)


async def order_upgrade(
    account: PayPalAccount, *, amount: Decimal, tenant_id: str, plan: Plan, nonce: str
) -> ProviderObject:
    """An order for the prorated price of an upgrade; raises Conflict when PayPal gives no approval link."""
    order = await account.client.create_order(
        amount=amount,
        currency=plan.price.currency,
        custom_id=tenant_id,
        description=f"PromptSales upgrade to {plan.name} (prorated)",
        return_url=account.return_url,
        cancel_url=account.cancel_url,
        request_id=request_id(tenant_id, "upgrade", plan.id, nonce),
    )
    if not order.approve_url:
        raise Conflict("PayPal returned no approval link for the upgrade; nothing was charged.", hint="Retry.")
    return ProviderObject(order.id, order.approve_url)


async def revise(
    account: PayPalAccount, *, provider_subscription_id: str, paypal_plan: str, request: str
) -> str | None:
    """Move a subscription's recurring price to another billing plan; the buyer's approval link, if needed."""
    revision = await account.client.revise_subscription(
        subscription_id=provider_subscription_id, plan_id=paypal_plan, request_id=request
    )
    return revision.approve_url


async def cancel(account: PayPalAccount, provider_subscription_id: str) -> None:
    """Stop renewal in PayPal; a subscription already canceled or expired there needs nothing more."""
    client = account.client
    try:
        await client.cancel_subscription(
            subscription_id=provider_subscription_id,
            reason="Canceled by the customer in PromptSales",
            request_id=request_id(provider_subscription_id, "cancel"),
        )
    except UpstreamError:
        # Already canceled there (e.g. by the buyer in PayPal): nothing left to stop.
        current = await client.get_subscription(subscription_id=provider_subscription_id)
        if current.status not in ("CANCELLED", "EXPIRED"):
            raise


async def capture_order(account: PayPalAccount, order_id: str) -> PayPalCapture | None:
    """Take the money of an order the buyer approved (idempotent: the request id is the order's)."""
    order = await account.client.capture_order(order_id=order_id, request_id=request_id(order_id, "capture"))
    return order.captures[0] if order.captures else None


async def verify(account: PayPalAccount, headers: Mapping[str, str], raw_body: bytes) -> Verdict:
    """Ask PayPal whether it signed this delivery for the account's webhook."""
    try:
        verified = await account.client.verify_webhook_signature(
            headers=headers, raw_body=raw_body, webhook_id=account.webhook_id
        )
    except UpstreamError:
        return "unverifiable"
    return "verified" if verified else "forged"
