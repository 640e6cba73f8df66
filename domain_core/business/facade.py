"""The business context's only public surface: plans, subscriptions, entitlements, usage and PayPal billing.

Each method opens the units of work and calls the services; where PayPal must be called, it is called
between units (never inside a transaction), and paid calls go through ``mutate_paid`` so a replayed
idempotency key returns the first result without calling PayPal again.
"""

from collections.abc import Mapping, Sequence

import structlog

from promptsales.domain_core.business.commands import (
    ApplyPaypalEvent,
    CancelSubscription,
    GrantSubscription,
    RecordPlanRevision,
    RememberProviderPlan,
    SetPaypalAccount,
    StartCheckout,
)
from promptsales.domain_core.business.dto import (
    CancellationView,
    CheckoutView,
    EntitlementCheck,
    PaymentAccountView,
    PaymentPage,
    PlanList,
    SubscriptionView,
    UsageReport,
    WebhookOutcome,
)
from promptsales.domain_core.business.model.entitlements import Standing, ToolInfo, tool_refusal
from promptsales.domain_core.business.model.plans import Plan
from promptsales.domain_core.business.provider import calls
from promptsales.domain_core.business.provider.account import PLATFORM, PayPalAccount, plan_key, request_id
from promptsales.domain_core.business.provider.calls import ProviderObject
from promptsales.domain_core.business.provider.clients import PaymentAccounts
from promptsales.domain_core.business.service import (
    accounts,
    checkout,
    entitlements,
    metering,
    payments,
    plans,
    provider_plans,
    subscriptions,
    webhooks,
)
from promptsales.domain_core.business.service.standing import Policy, StandingCache
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotEntitled, UpstreamError
from promptsales.domain_core.shared.ids import new_id

__all__ = ["BusinessFacade", "ToolInfo"]
log = structlog.get_logger(__name__)


class BusinessFacade:
    """Use cases of the business context, and the entitlement checks every tool call passes."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        policy: Policy,
        accounts: PaymentAccounts,
        credentials: CredentialStore,
        standings: StandingCache,
    ) -> None:
        self._uow = uow
        self._policy = policy
        self._accounts = accounts
        self._credentials = credentials
        self._standings = standings

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
        known = self._standings.known(caller.tenant_id, self._uow.clock())
        return known if known is not None else await self._uow.read(caller, self._standings.standing)

    def forget_standing(self, tenant_id: str) -> None:
        """Drop the cached standing after this process changed the tenant's subscription."""
        self._standings.forget(tenant_id)

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

    # ------------------------------------------------------------------------------------------ reads

    def list_plans(self) -> PlanList:
        """Every plan, cheapest first."""
        return plans.plan_list(self._policy.catalogue)

    async def get_subscription(self, caller: Caller) -> SubscriptionView:
        """The tenant's subscription and what it grants now."""
        return await self._uow.read(caller, lambda uow: subscriptions.get_subscription(uow, policy=self._policy))

    async def get_usage(self, caller: Caller) -> UsageReport:
        """Usage of every quota this period."""
        return await self._uow.read(caller, lambda uow: metering.usage_report(uow, policy=self._policy))

    async def check_entitlement(
        self, caller: Caller, feature: str, *, tool: ToolInfo | None = None, creative_tools: Sequence[ToolInfo] = ()
    ) -> EntitlementCheck:
        """Whether ``feature`` is available now, with the quota left and the plan that would lift a limit
        (``tool``: the served tool a tool-name feature names; ``creative_tools``: the served content tools)."""
        return await self._uow.read(
            caller,
            lambda uow: entitlements.check(
                uow, policy=self._policy, feature=feature, tool=tool, creative_tools=creative_tools
            ),
        )

    async def list_payments(
        self, caller: Caller, *, cursor: str | None = None, limit: int | None = None
    ) -> PaymentPage:
        """Payments newest first."""
        return await self._uow.read(caller, lambda uow: payments.list_payments(uow, cursor=cursor, limit=limit))

    async def get_paypal_account(self, caller: Caller) -> PaymentAccountView:
        """Which PayPal account bills the tenant (no secret, only a hint of the client id)."""
        if not self._accounts.per_tenant:
            return accounts.account_view(label=None, webhook_id=self.account.webhook_id)
        label = await self._uow.read(caller, lambda uow: accounts.stored_label(uow, credentials=self._credentials))
        account = await self._account_for(caller) if label is not None else self.account
        return accounts.account_view(label=label, webhook_id=account.webhook_id)

    # -------------------------------------------------------------------------------------- use cases

    async def start_checkout(
        self, caller: Caller, command: StartCheckout, *, idempotency_key: str | None = None
    ) -> CheckoutView:
        """Subscribe to (or change to) a plan; returns the PayPal approval link when payment is due."""

        async def prepare() -> checkout.PreparedCheckout:
            step = await self._uow.read(caller, lambda uow: checkout.plan_checkout(uow, command, policy=self._policy))
            # Request ids derive from the key, so a retry after a failure reuses PayPal's objects.
            nonce = idempotency_key or new_id("co")
            created = await self._checkout_at_paypal(caller, step, nonce)
            return checkout.PreparedCheckout(step=step, created=created, nonce=nonce)

        result = await self._uow.mutate_paid(
            caller,
            action=checkout.ACTION,
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=checkout.record,
            result_type=CheckoutView,
        )
        self.forget_standing(caller.tenant_id)
        return result

    async def cancel_subscription(
        self, caller: Caller, command: CancelSubscription, *, idempotency_key: str | None = None
    ) -> CancellationView:
        """Without a token: preview the cancellation and get a token. With it: cancel at period end."""
        if command.confirmation_token is None:
            return await self._uow.mutate(
                caller,
                action=subscriptions.PREVIEW_ACTION,
                arguments=command,
                idempotency_key=idempotency_key,
                work=lambda uow: subscriptions.preview_cancellation(uow, command),
                result_type=CancellationView,
            )

        async def stop_renewal_at_paypal() -> None:
            provider_id = await self._uow.read(caller, lambda uow: subscriptions.check_cancellation(uow, command))
            if provider_id is not None:
                await calls.cancel(await self._account_for(caller), provider_id)

        result = await self._uow.mutate_paid(
            caller,
            action=subscriptions.CANCEL_ACTION,
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=stop_renewal_at_paypal,
            work=lambda uow, _: subscriptions.confirm_cancellation(uow, command),
            result_type=CancellationView,
        )
        self.forget_standing(caller.tenant_id)
        return result

    async def set_paypal_account(
        self, caller: Caller, command: SetPaypalAccount, *, idempotency_key: str | None = None
    ) -> PaymentAccountView:
        """Bill this tenant through its own PayPal app (live mode); the secret is checked, then sealed."""
        self._accounts.require_per_tenant()
        return await self._uow.mutate_paid(
            caller,
            action=accounts.ACTION,
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=lambda: self._accounts.check_with_paypal(command),
            work=lambda uow, _: accounts.store_paypal_account(uow, command, credentials=self._credentials),
            result_type=PaymentAccountView,
        )

    async def grant_subscription(self, caller: Caller, command: GrantSubscription) -> SubscriptionView:
        """Give the tenant a subscription without payment (operators: demos, pilots)."""
        result = await self._uow.mutate(
            caller,
            action=subscriptions.GRANT_ACTION,
            arguments=command,
            idempotency_key=None,
            work=lambda uow: subscriptions.grant_subscription(uow, command, policy=self._policy),
            result_type=SubscriptionView,
        )
        self.forget_standing(caller.tenant_id)
        return result

    # ----------------------------------------------------------------------------------------- webhooks

    async def handle_paypal_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> WebhookOutcome:
        """Verify a PayPal delivery with PayPal, then apply it once (redeliveries and forgeries change nothing)."""
        event = webhooks.parse_event(raw_body)
        if event is None:
            return WebhookOutcome(status_code=400, outcome="rejected: not a PayPal event")
        # The (unverified) event only chooses whose PayPal account verifies it; nothing is applied before that.
        tenant = await self._uow.read(PLATFORM, lambda uow: webhooks.tenant_of(uow, event))
        if tenant is None:
            # Not an object we created (or not committed yet: PayPal announces creations before we record them,
            # and those need no action). Acknowledged unverified, since nothing at all is done with it.
            log.info("paypal_webhook_unknown_resource", event_id=event.id, event_type=event.event_type)
            return WebhookOutcome(status_code=202, outcome="ignored: the resource is not ours")
        caller = Caller(tenant_id=tenant, actor_id="paypal", actor_kind="system", source="webhook")
        account = await self._account_for(caller)
        verdict = await calls.verify(account, headers, raw_body)
        if verdict == "unverifiable":
            log.warning("paypal_webhook_unverifiable", event_id=event.id)
            return WebhookOutcome(status_code=503, outcome="retry: PayPal could not verify the signature now")
        if verdict == "forged":
            log.warning("paypal_webhook_forged", event_id=event.id, event_type=event.event_type)
            return WebhookOutcome(status_code=401, outcome="rejected: signature verification failed")
        if await self._uow.read(caller, lambda uow: webhooks.already_received(uow, event.id)):
            return WebhookOutcome(status_code=200, outcome="duplicate: already applied")
        order = webhooks.order_to_capture(event)
        command = ApplyPaypalEvent(event=event, capture=await calls.capture_order(account, order) if order else None)
        applied = await self._uow.mutate(
            caller,
            action=webhooks.ACTION,
            arguments=command,
            idempotency_key=None,
            work=lambda uow: webhooks.apply_event(uow, command, policy=self._policy),
            result_type=webhooks.Applied,
        )
        self.forget_standing(tenant)
        if applied.revise_subscription and applied.revise_plan:
            await self._move_recurring_price(caller, account, applied.revise_subscription, applied.revise_plan)
        return WebhookOutcome(status_code=200, outcome=applied.outcome)

    # ------------------------------------------------------------------------------------ PayPal steps

    async def _account_for(self, caller: Caller) -> PayPalAccount:
        """The account that bills ``caller``'s tenant: its own app when it stored one (live mode)."""
        if not self._accounts.per_tenant:
            return self._accounts.deployment
        secret = await self._uow.read(
            caller, lambda uow: accounts.stored_credentials(uow, credentials=self._credentials)
        )
        return await self._accounts.resolve(caller.tenant_id, secret)

    async def _checkout_at_paypal(self, caller: Caller, step: checkout.CheckoutStep, nonce: str) -> ProviderObject:
        """Create what the checkout step needs in PayPal: a subscription, an upgrade order, or a price revision."""
        account = await self._account_for(caller)
        target, tenant = step.target, caller.tenant_id
        if step.kind == "upgrade":
            return await calls.order_upgrade(account, amount=step.amount, tenant_id=tenant, plan=target, nonce=nonce)
        paypal_plan = await self._paypal_plan(account, target)
        if step.kind == "subscribe":
            return await calls.subscribe(account, paypal_plan=paypal_plan, tenant_id=tenant, plan=target, nonce=nonce)
        assert step.provider_subscription_id is not None  # a change moves an existing subscription
        # Nothing to pay now (a downgrade, an upgrade during the trial, or the period is over): move the
        # recurring price; the new plan applies when the service records it.
        approve_url = await calls.revise(
            account,
            provider_subscription_id=step.provider_subscription_id,
            paypal_plan=paypal_plan,
            request=request_id(tenant, "revise", target.id, nonce),
        )
        return ProviderObject(step.provider_subscription_id, approve_url)

    async def _paypal_plan(self, account: PayPalAccount, plan: Plan) -> str:
        """The PayPal billing plan for ``plan``, created (with the product) the first time it is needed."""
        key = plan_key(plan)
        known = await self._uow.read(
            PLATFORM, lambda uow: provider_plans.known_plan(uow, account=account.account_key, plan_key=key)
        )
        if known is not None:
            return known
        created = await calls.create_billing_plan(account, plan, key=key)
        command = RememberProviderPlan(
            account=account.account_key,
            plan_key=key,
            plan=plan.id,
            provider_product_id=created.product_id,
            provider_plan_id=created.plan_id,
            provider_plan_name=created.name,
        )
        kept = await self._uow.mutate(
            PLATFORM,
            action=provider_plans.REMEMBER_ACTION,
            arguments=command,
            idempotency_key=None,
            work=lambda uow: provider_plans.remember_plan(uow, command),
            result_type=provider_plans.ProviderPlanRef,
        )
        return kept.provider_plan_id

    async def _move_recurring_price(
        self, caller: Caller, account: PayPalAccount, provider_subscription_id: str, plan_id: str
    ) -> None:
        """After a paid upgrade, move the PayPal subscription to the new plan's price; PayPal has the buyer
        approve it, and that link becomes the tenant's pending checkout."""
        plan = self._policy.catalogue.get(plan_id)
        try:
            approve_url = await calls.revise(
                account,
                provider_subscription_id=provider_subscription_id,
                paypal_plan=await self._paypal_plan(account, plan),
                request=request_id(provider_subscription_id, "revise", plan_id),
            )
        except UpstreamError as exc:
            # The upgrade is paid and applied; only next cycle's price is still the old one. Logged for billing ops.
            log.error("paypal_revise_failed", subscription=provider_subscription_id, plan=plan_id, code=exc.code)
            return
        if not approve_url:
            return
        command = RecordPlanRevision(
            plan=plan.id, provider_subscription_id=provider_subscription_id, approve_url=approve_url
        )
        await self._uow.mutate(
            caller,
            action=checkout.REVISION_ACTION,
            arguments=command,
            idempotency_key=None,
            work=lambda uow: checkout.record_revision(uow, command, policy=self._policy),
            result_type=CheckoutView,
        )
