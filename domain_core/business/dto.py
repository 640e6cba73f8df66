"""Frozen DTOs the business facade returns; tools expose them as typed MCP outputs."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from promptsales.domain_core.shared.dto import Dto


class PlanView(Dto):
    """A plan on offer: price, what it includes and its quotas (null = unlimited)."""

    id: str
    name: str
    rank: int
    description: str
    price: str = Field(description="Decimal amount per interval, e.g. '29.00'.")
    currency: str
    interval: Literal["month", "year"]
    trial_days: int
    contexts: list[str]
    excluded_tools: list[str]
    channels: list[str]
    analytics_models: list[str]
    live_connectors: bool
    quotas: dict[str, int | None]


class PlanList(Dto):
    """Every plan, cheapest first."""

    plans: list[PlanView]


class QuotaUsage(Dto):
    """One quota in the current period."""

    quota: str
    limit: int | None = Field(description="null = unlimited.")
    used: int
    remaining: int | None
    resets_at: datetime | None = Field(description="When the count starts again; null for stock quotas (contacts).")


class SubscriptionView(Dto):
    """The tenant's subscription as it applies now."""

    plan: str
    plan_name: str
    status: Literal["none", "trialing", "active", "past_due", "canceled", "suspended"]
    access: Literal["full", "read_only"]
    reason: str
    provider: str | None
    subscription_id: str | None
    current_period_start: datetime
    current_period_end: datetime
    ends_at: datetime | None = Field(description="Set once canceled: access to the plan stops then.")
    scheduled_plan: str | None = Field(description="A downgrade that applies at current_period_end.")
    pending_checkout_url: str | None = Field(description="Approval link of a checkout not yet approved.")


class UsageReport(Dto):
    """Usage of every quota in the current period."""

    plan: str
    period_start: datetime
    period_end: datetime
    quotas: list[QuotaUsage]


class EntitlementCheck(Dto):
    """Whether a feature or quota is available now, and what would lift a limit."""

    feature: str
    allowed: bool
    reason: str
    plan: str
    quota: QuotaUsage | None = None
    upgrade_plan: str | None = Field(description="Cheapest plan that includes it (or raises the quota).")


class CheckoutView(Dto):
    """A started checkout: send the buyer to approve_url (null when nothing needs paying)."""

    checkout_id: str | None
    kind: Literal["subscribe", "upgrade", "downgrade"]
    plan: str
    status: Literal["pending", "scheduled"]
    approve_url: str | None
    amount: str = Field(description="Charged on approval, decimal, e.g. '12.40' (prorated for upgrades).")
    currency: str
    message: str


class CancellationView(Dto):
    """A cancellation preview (with its confirmation token) or the confirmed outcome."""

    status: Literal["preview", "canceled"]
    subscription_id: str
    plan: str
    ends_at: datetime = Field(description="When access to the plan stops (end of the paid period).")
    refund: str = Field(description="Amount refunded (cancellations take effect at period end: '0.00').")
    confirmation_token: str | None = Field(description="Pass it back to confirm; valid 15 minutes.")
    message: str


class PaymentView(Dto):
    """A payment reported by PayPal."""

    id: str
    provider_payment_id: str
    kind: Literal["cycle", "proration"]
    plan: str
    amount: str
    currency: str
    status: Literal["completed", "failed", "declined"]
    occurred_at: datetime


class PaymentPage(Dto):
    """Payments newest first."""

    items: list[PaymentView]
    next_cursor: str | None


class WebhookOutcome(Dto):
    """What the webhook endpoint answers."""

    status_code: int
    outcome: str


class PaymentAccountView(Dto):
    """Which PayPal account bills the tenant (the secret is never shown)."""

    provider: Literal["paypal"]
    own_account: bool = Field(description="true: the tenant's own PayPal app; false: the deployment's.")
    client: str | None = Field(description="Hint of the client id, e.g. 'client …3fa9'.")
    webhook_id: str
