"""The business context's only public surface: plans, subscriptions, entitlements, usage and PayPal billing."""

import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from pydantic import ValidationError

from promptsales.domain_core.business import repository as repo
from promptsales.domain_core.business.dto import (
    CancellationView,
    CheckoutView,
    EntitlementCheck,
    PaymentAccountView,
    PaymentPage,
    PlanList,
    PlanView,
    SubscriptionView,
    UsageReport,
    WebhookOutcome,
)
from promptsales.domain_core.business.model.entitlements import Standing, tool_refusal
from promptsales.domain_core.business.model.plans import Plan
from promptsales.domain_core.business.paypal.wire import PayPalCapture, PayPalWebhookEvent
from promptsales.domain_core.business.service import checkout, entitlements, metering, payments, subscriptions, webhooks
from promptsales.domain_core.business.service.accounts import PaymentAccounts
from promptsales.domain_core.business.service.metering import BusinessMeter
from promptsales.domain_core.business.service.provider import (
    PLATFORM,
    PROVIDER,
    PayPalAccount,
    provider_plan_id,
    request_id,
)
from promptsales.domain_core.business.service.standing import Policy, load_standing
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import NotEntitled, UpstreamError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """What entitlement checks need to know of a tool: its gateway name, context and whether it only reads."""

    name: str
    context: str | None
    read_only: bool


def plan_view(plan: Plan) -> PlanView:
    """A catalogue plan as the facade returns it."""
    return PlanView(
        id=plan.id,
        name=plan.name,
        rank=plan.rank,
        description=plan.description,
        price=str(plan.price.amount),
        currency=plan.price.currency,
        interval=plan.price.interval,
        trial_days=plan.trial_days,
        contexts=sorted(plan.contexts),
        excluded_tools=sorted(plan.excluded_tools),
        channels=sorted(plan.channels),
        analytics_models=sorted(plan.analytics_models),
        live_connectors=plan.live_connectors,
        quotas=dict(plan.quotas),
    )


class BusinessFacade:
    """Use cases of the business context, and the entitlement checks every tool call passes."""

    def __init__(
        self, uow: UnitOfWorkFactory, policy: Policy, accounts: PaymentAccounts, *, standing_ttl_s: float = 5.0
    ) -> None:
        self._uow = uow
        self._policy = policy
        self._accounts = accounts
        self._ttl = standing_ttl_s
        self._standings: dict[str, tuple[float, Standing]] = {}
        self.meter = BusinessMeter(policy)

    @property
    def account(self) -> PayPalAccount:
        """The deployment's PayPal account (tenants may bill through their own in live mode)."""
        return self._accounts.deployment

    async def aclose(self) -> None:
        """Close the PayPal clients."""
        await self._accounts.aclose()

    # ------------------------------------------------------------------------------ entitlement checks

    async def standing(self, caller: Caller) -> Standing:
        """The caller's tenant standing, cached a few seconds per process (quotas are exact regardless:
        they are counted in the transaction of the change). Raises Unavailable when it cannot be read."""
        cached = self._standings.get(caller.tenant_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]

        async def work(uow: UnitOfWork) -> Standing:
            return (await load_standing(uow, self._policy))[0]

        value = await self._uow.read(caller, work)
        self._standings[caller.tenant_id] = (time.monotonic() + self._ttl, value)
        return value

    def forget_standing(self, tenant_id: str) -> None:
        """Drop the cached standing after this process changed the tenant's subscription."""
        self._standings.pop(tenant_id, None)

    async def authorize_tool(self, caller: Caller, tool: ToolInfo) -> Standing:
        """Refuse (NotEntitled) a tool the tenant's plan or standing does not allow; the standing otherwise."""
        standing = await self.standing(caller)
        refusal = tool_refusal(
            self._policy.catalogue, standing, tool=tool.name, context=tool.context, read_only=tool.read_only
        )
        if refusal is not None:
            raise NotEntitled(
                refusal, hint="business_check_entitlement explains the plan; business_list_plans compares them."
            )
        return standing

    async def allowed_tools(self, caller: Caller, tools: Mapping[str, ToolInfo]) -> set[str]:
        """Which of ``tools`` (keyed by served name) the tenant's plan includes: what tools/list shows it."""
        plan = (await self.standing(caller)).plan
        return {served for served, info in tools.items() if plan.includes_tool(info.context, info.name)}

    def calls_per_minute(self, standing: Standing) -> int | None:
        """The plan's tool-call rate (None: unlimited)."""
        return standing.plan.quotas["tool_calls_per_minute"]

    # --------------------------------------------------------------------------------------- use cases

    def list_plans(self) -> PlanList:
        """Every plan, cheapest first."""
        return PlanList(plans=[plan_view(plan) for plan in self._policy.catalogue.plans])

    async def get_subscription(self, caller: Caller) -> SubscriptionView:
        """The tenant's subscription and what it grants now."""
        return await self._uow.read(caller, lambda uow: subscriptions.get_subscription(uow, self._policy))

    async def get_usage(self, caller: Caller) -> UsageReport:
        """Usage of every quota this period."""

        async def work(uow: UnitOfWork) -> UsageReport:
            standing, _ = await load_standing(uow, self._policy)
            return UsageReport(
                plan=standing.plan.id,
                period_start=standing.period_start,
                period_end=standing.period_end,
                quotas=await metering.usage_of(uow, standing),
            )

        return await self._uow.read(caller, work)

    async def check_entitlement(
        self, caller: Caller, feature: str, *, tool: ToolInfo | None = None
    ) -> EntitlementCheck:
        """Whether ``feature`` is available now, with the quota left and the plan that would lift a limit."""
        context, read_only = (tool.context, tool.read_only) if tool is not None else (None, True)
        name = tool.name if tool is not None else feature
        return await self._uow.read(
            caller,
            lambda uow: entitlements.check(
                uow, self._policy, feature=name, tool_context=context, tool_read_only=read_only
            ),
        )

    async def start_checkout(self, caller: Caller, *, plan: str, idempotency_key: str | None = None) -> CheckoutView:
        """Subscribe to (or change to) ``plan``; returns the PayPal approval link when payment is due."""
        account = await self._accounts.for_tenant(caller)
        result = await checkout.start_checkout(
            self._uow, caller, self._policy, account, plan_id=plan, idempotency_key=idempotency_key
        )
        self.forget_standing(caller.tenant_id)
        return result

    async def cancel_subscription(
        self, caller: Caller, *, confirmation_token: str | None = None, idempotency_key: str | None = None
    ) -> CancellationView:
        """Without a token: preview the cancellation and get a token. With it: cancel at period end."""
        if confirmation_token is None:
            return await self._uow.mutate(
                caller,
                action="business.cancel_subscription.preview",
                arguments={},
                idempotency_key=idempotency_key,
                work=subscriptions.preview_cancellation,
                result_type=CancellationView,
            )
        token = confirmation_token
        record = await self._uow.read(caller, lambda uow: subscriptions.check_cancellation(uow, token))
        if record.provider == PROVIDER and record.provider_subscription_id:
            await self._cancel_at_provider(await self._accounts.for_tenant(caller), record.provider_subscription_id)
        result = await self._uow.mutate(
            caller,
            action=subscriptions.CANCEL_ACTION,
            arguments={"confirmation_token": token},
            idempotency_key=idempotency_key,
            work=lambda uow: subscriptions.confirm_cancellation(uow, token),
            result_type=CancellationView,
        )
        self.forget_standing(caller.tenant_id)
        return result

    async def _cancel_at_provider(self, account: PayPalAccount, provider_subscription_id: str) -> None:
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

    async def set_paypal_account(
        self,
        caller: Caller,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        idempotency_key: str | None = None,
    ) -> PaymentAccountView:
        """Bill this tenant through its own PayPal app (live mode); the secret is checked, then sealed."""
        return await self._accounts.store(
            caller,
            client_id=client_id,
            client_secret=client_secret,
            webhook_id=webhook_id,
            idempotency_key=idempotency_key,
        )

    async def get_paypal_account(self, caller: Caller) -> PaymentAccountView:
        """Which PayPal account bills the tenant."""
        return await self._accounts.describe(caller)

    async def list_payments(
        self, caller: Caller, *, cursor: str | None = None, limit: int | None = None
    ) -> PaymentPage:
        """Payments newest first."""
        return await self._uow.read(caller, lambda uow: payments.list_payments(uow, cursor=cursor, limit=limit))

    async def grant_subscription(self, caller: Caller, *, plan: str, status: str = "trialing", days: int = 14) -> None:
        """Give the tenant a subscription without payment (operators: demos, pilots)."""
        async with self._uow.begin(caller) as uow:
            await subscriptions.grant_subscription(uow, self._policy, plan_id=plan, status=status, days=days)
        self.forget_standing(caller.tenant_id)

    # ----------------------------------------------------------------------------------------- webhooks

    async def handle_paypal_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> WebhookOutcome:
        """Verify a PayPal delivery with PayPal, then apply it once (redeliveries and forgeries change nothing)."""
        try:
            event = PayPalWebhookEvent.model_validate_json(raw_body)
        except ValidationError:
            return WebhookOutcome(status_code=400, outcome="rejected: not a PayPal event")
        # The (unverified) event only chooses whose PayPal account verifies it; nothing is applied before that.
        tenant = await self._tenant_of(event)
        if tenant is None:
            # Not an object we created (or not committed yet: PayPal announces creations before we record them,
            # and those need no action). Acknowledged unverified, since nothing at all is done with it.
            log.info("paypal_webhook_unknown_resource", event_id=event.id, event_type=event.event_type)
            return WebhookOutcome(status_code=202, outcome="ignored: the resource is not ours")
        account = await self._accounts.for_tenant(Caller(tenant_id=tenant, actor_id="paypal", actor_kind="system"))
        try:
            verified = await account.client.verify_webhook_signature(
                headers=headers, raw_body=raw_body, webhook_id=account.webhook_id
            )
        except UpstreamError:
            log.warning("paypal_webhook_unverifiable", event_id=event.id)
            return WebhookOutcome(status_code=503, outcome="retry: PayPal could not verify the signature now")
        if not verified:
            log.warning("paypal_webhook_forged", event_id=event.id, event_type=event.event_type)
            return WebhookOutcome(status_code=401, outcome="rejected: signature verification failed")
        caller = Caller(tenant_id=tenant, actor_id="paypal", actor_kind="system", source="webhook")
        if await self._uow.read(caller, lambda uow: webhooks.already_received(uow, event.id)):
            return WebhookOutcome(status_code=200, outcome="duplicate: already applied")
        capture = await self._capture_approved_order(account, event)
        applied = await self._uow.mutate(
            caller,
            action="business.paypal_webhook",
            arguments={},
            idempotency_key=None,
            work=lambda uow: self._apply(uow, event, capture),
            result_type=_AppliedDto,
        )
        self.forget_standing(tenant)
        if applied.revise_subscription and applied.revise_plan:
            await self._revise(caller, account, applied.revise_subscription, applied.revise_plan)
        return WebhookOutcome(status_code=200, outcome=applied.outcome)

    async def _apply(self, uow: UnitOfWork, event: PayPalWebhookEvent, capture: PayPalCapture | None) -> "_AppliedDto":
        applied = await webhooks.apply_event(uow, self._policy, event, capture)
        subscription, plan = applied.revise or (None, None)
        return _AppliedDto(outcome=applied.outcome, revise_subscription=subscription, revise_plan=plan)

    async def _tenant_of(self, event: PayPalWebhookEvent) -> str | None:
        refs = webhooks.lookup_refs(event)

        async def work(uow: UnitOfWork) -> str | None:
            for ref in refs:
                tenant = await repo.tenant_of_provider_ref(uow.session, ref)
                if tenant is not None:
                    return tenant
            return None

        return await self._uow.read(PLATFORM, work)

    async def _capture_approved_order(self, account: PayPalAccount, event: PayPalWebhookEvent) -> PayPalCapture | None:
        """Take the money of an order the buyer approved (idempotent: the request id is the order's)."""
        if event.event_type != webhooks.ORDER_APPROVED or not event.order_id:
            return None
        order = await account.client.capture_order(
            order_id=event.order_id, request_id=request_id(event.order_id, "capture")
        )
        return order.captures[0] if order.captures else None

    async def _revise(
        self, caller: Caller, account: PayPalAccount, provider_subscription_id: str, plan_id: str
    ) -> None:
        """Move the PayPal subscription to the upgraded plan's price; PayPal has the buyer approve it."""
        plan = self._policy.catalogue.get(plan_id)
        try:
            paypal_plan = await provider_plan_id(self._uow, account, plan)
            revision = await account.client.revise_subscription(
                subscription_id=provider_subscription_id,
                plan_id=paypal_plan,
                request_id=request_id(provider_subscription_id, "revise", plan_id),
            )
        except UpstreamError as exc:
            # The upgrade is paid and applied; only next cycle's price is still the old one. Logged for billing ops.
            log.error("paypal_revise_failed", subscription=provider_subscription_id, plan=plan_id, code=exc.code)
            return
        if not revision.approve_url:
            return
        approve_url = revision.approve_url

        async def work(uow: UnitOfWork) -> CheckoutView:
            record = await repo.subscription_by_provider_id(uow.session, uow.tenant_id, provider_subscription_id)
            assert record is not None  # the upgrade just applied to it
            return await checkout.record_revision(uow, plan=plan, subscription_id=record.id, approve_url=approve_url)

        await self._uow.mutate(
            caller,
            action="business.record_revision",
            arguments={},
            idempotency_key=None,
            work=work,
            result_type=CheckoutView,
        )


class _AppliedDto(Dto):
    """What applying an event did (internal: carries the follow-up revision out of the transaction)."""

    outcome: str
    revise_subscription: str | None = None
    revise_plan: str | None = None
