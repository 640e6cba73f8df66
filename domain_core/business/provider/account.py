"""The PayPal merchant account the suite bills through, and the request ids that make its calls retry-safe."""

import hashlib
from dataclasses import dataclass

from promptsales.domain_core.business.model.plans import Plan
from promptsales.domain_core.business.paypal.client import PayPalClient
from promptsales.domain_core.shared.caller import Caller

PROVIDER = "paypal"
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


def account_key(base_url: str, client_id: str) -> str:
    """Provider plans are cached per merchant account: the host plus the app's client id identify it."""
    return hashlib.sha256(f"{base_url}|{client_id}".encode()).hexdigest()[:32]
