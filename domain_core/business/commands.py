"""The business context's command models: one frozen input per mutating use case, from the tool to the service.

The parameter types double as the tools' typed parameters, so a limit is declared once and fits its column.
"""

import hashlib
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr

from promptsales.domain_core.business.paypal.wire import PayPalCapture, PayPalWebhookEvent
from promptsales.domain_core.shared.commands import Command

PlanId = Annotated[
    str,  # business_subscriptions.plan_id is 32 characters
    Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$", description="Plan id, e.g. 'pro'."),
]
ConfirmationToken = Annotated[
    str | None,
    Field(
        default=None,
        min_length=8,
        max_length=100,
        description="Omit to preview first.",
    ),
]
# PayPal REST app credentials are 80 characters today; they are kept sealed (8000-character column) and the
# client id only as a 4-character hint, so 200 leaves room without letting a huge value in.
PayPalClientId = Annotated[str, Field(min_length=1, max_length=200)]
PayPalClientSecret = Annotated[SecretStr, Field(min_length=1, max_length=200)]
PayPalWebhookId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9]+$",
        description="PayPal webhook for /webhooks/paypal.",
    ),
]


class StartCheckout(Command):
    """Subscribe to a paid plan, or change to it (upgrades prorated now, downgrades at period end)."""

    plan: PlanId


class CancelSubscription(Command):
    """Without a token: preview the cancellation. With the preview's token: cancel at period end."""

    confirmation_token: ConfirmationToken = None


class SetPaypalAccount(Command):
    """Bill the tenant through its own PayPal REST app (live mode)."""

    client_id: PayPalClientId
    client_secret: PayPalClientSecret
    webhook_id: PayPalWebhookId

    def digest_source(self) -> dict[str, Any]:
        """The secret counts in the idempotency digest as its hash (its JSON form is masked, so it would not)."""
        return {
            "client_id": self.client_id,
            "webhook_id": self.webhook_id,
            "secret": hashlib.sha256(self.client_secret.get_secret_value().encode()).hexdigest(),
        }


class GrantSubscription(Command):
    """An operator's subscription without payment (demos, pilots)."""

    plan: PlanId
    status: Literal["trialing", "active"] = "trialing"
    days: int = Field(default=14, ge=1, le=3660)


class ApplyPaypalEvent(Command):
    """A verified PayPal webhook event to apply once; ``capture`` is our capture of an order it approved."""

    event: PayPalWebhookEvent
    capture: PayPalCapture | None = None


class RecordPlanRevision(Command):
    """After a paid upgrade: the link where the buyer approves the new recurring price in PayPal."""

    plan: PlanId
    provider_subscription_id: str = Field(max_length=64)
    approve_url: str = Field(max_length=2048)


class RememberProviderPlan(Command):
    """The PayPal billing plan (and product) created for one of our plans on one merchant account."""

    account: str = Field(max_length=64)
    plan_key: str = Field(max_length=120)
    plan: PlanId
    provider_product_id: str = Field(max_length=64)
    provider_plan_id: str = Field(max_length=64)
    provider_plan_name: str = Field(max_length=200)
