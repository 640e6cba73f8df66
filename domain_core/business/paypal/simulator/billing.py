"""What happens outside the API: the buyer approving or backing out at PayPal, and PayPal billing a cycle."""

from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from promptsales.domain_core.business.paypal.simulator.errors import SimulatorError
from promptsales.domain_core.business.paypal.simulator.events import EventBuilder
from promptsales.domain_core.business.paypal.simulator.formats import add_interval, iso, money_json, with_query
from promptsales.domain_core.business.paypal.simulator.models import Plan, Subscription
from promptsales.domain_core.business.paypal.simulator.records import EmittedEvent


class BuyerAndBilling(EventBuilder):
    """Buyer and billing actions; each delivers its webhooks before it returns."""

    def approval_token_for(self, approve_url: str) -> str:
        """The token in an approval link (``ba_token`` for subscriptions, ``token`` for orders)."""
        query = parse_qs(urlsplit(approve_url).query)
        for key in ("ba_token", "token"):
            for value in query.get(key, []):
                if value in self._approvals:
                    return value
        raise SimulatorError("the link carries no approval token issued by this simulator")

    async def approve(self, token: str) -> str | None:
        """The buyer approves whatever ``token`` belongs to; returns the return_url PayPal redirects to."""
        kind, object_id = self._approval(token)
        if kind == "order":
            await self.approve_order(object_id)
            order = self._orders[object_id]
            target = order.context.get("return_url")
            return with_query(target, {"token": order.id, "PayerID": order.payer_id or ""}) if target else None
        subscription = self._subscriptions[object_id]
        # Each link approves only what it was issued for: a spent sign-up link cannot confirm a later revision.
        if token == subscription.revision_token:
            await self._send_now(self._apply_revision(subscription))
        elif subscription.status == "APPROVAL_PENDING":
            await self.approve_subscription(object_id)
        else:
            raise SimulatorError(f"subscription {object_id} is {subscription.status}; this link was already used")
        target = subscription.context.get("return_url")
        if not target:
            return None
        return with_query(target, {"subscription_id": subscription.id, "ba_token": token, "token": self._ref("EC-")})

    def cancel_approval(self, token: str) -> str | None:
        """The buyer backs out at PayPal; nothing changes and PayPal sends them to the cancel_url."""
        kind, object_id = self._approval(token)
        context = self._orders[object_id].context if kind == "order" else self._subscriptions[object_id].context
        target = context.get("cancel_url")
        return with_query(target, {"token": token}) if target else None

    async def approve_subscription(self, subscription_id: str) -> None:
        """The buyer approves: ACTIVE, then the first cycle bills (no sale during a free trial).

        On an ACTIVE/SUSPENDED subscription with a pending revision, applies the revision instead.
        """
        subscription = self._subscription(subscription_id)
        if subscription.status != "APPROVAL_PENDING":
            if subscription.pending_plan_id is None:
                raise SimulatorError(f"subscription {subscription_id} is {subscription.status}; nothing to approve")
            await self._send_now(self._apply_revision(subscription))
            return
        now = self.clock()
        subscription.payer_id = subscription.payer_id or self._ref("", 13)
        subscription.start_time = now
        self._set_status(subscription, "ACTIVE", now)
        emitted = [self._subscription_event(subscription, "BILLING.SUBSCRIPTION.ACTIVATED", "Subscription activated")]
        emitted += self._bill(subscription, at=now, succeed=True)
        await self._send_now(emitted)

    async def bill_cycle(self, subscription_id: str, *, succeed: bool = True) -> None:
        """PayPal runs the due billing cycle: PAYMENT.SALE.COMPLETED, or BILLING.SUBSCRIPTION.PAYMENT.FAILED."""
        subscription = self._subscription(subscription_id)
        if subscription.status != "ACTIVE" or subscription.next_billing_time is None:
            raise SimulatorError(f"subscription {subscription_id} is {subscription.status}; nothing is billed")
        await self._send_now(self._bill(subscription, at=subscription.next_billing_time, succeed=succeed))

    async def approve_order(self, order_id: str) -> None:
        """The buyer approves the order at PayPal: APPROVED, CHECKOUT.ORDER.APPROVED."""
        order = self._order(order_id)
        if order.status not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            raise SimulatorError(f"order {order_id} is {order.status}; it cannot be approved")
        order.status = "APPROVED"
        order.payer_id = self._ref("", 13)
        order.updated = self.clock()
        event = self._event(
            "CHECKOUT.ORDER.APPROVED",
            "checkout-order",
            "2.0",
            "An order has been approved by buyer",
            self._order_json(order),
        )
        await self._send_now([event])

    def _bill(self, subscription: Subscription, *, at: datetime, succeed: bool) -> list[EmittedEvent]:
        """Run the cycle due ``at``; the events it causes (none for a free cycle)."""
        plan = self._plans[subscription.plan_id]
        now = self.clock()
        if subscription.cycle_index >= len(plan.cycles):
            self._set_status(subscription, "EXPIRED", now)
            subscription.next_billing_time = None
            return [self._subscription_event(subscription, "BILLING.SUBSCRIPTION.EXPIRED", "Subscription expired")]
        index = subscription.cycle_index
        cycle, price = plan.cycles[index], plan.price(index)
        if not succeed and price > 0:
            return self._fail_payment(subscription, plan, price, now)
        subscription.completed[index] += 1
        if cycle["total_cycles"] and subscription.completed[index] >= cycle["total_cycles"]:
            subscription.cycle_index += 1
        frequency = cycle["frequency"]
        subscription.next_billing_time = add_interval(at, frequency["interval_unit"], frequency["interval_count"])
        subscription.updated = now
        if price == 0:
            return []
        subscription.failed_payments_count = 0  # [~] PayPal resets the count once a cycle is paid
        subscription.outstanding = Decimal(0)
        subscription.last_payment = {"amount": money_json(price, plan.currency), "time": iso(now)}
        return [self._sale_event(subscription, price, plan.currency, now)]

    def _fail_payment(
        self, subscription: Subscription, plan: Plan, price: Decimal, now: datetime
    ) -> list[EmittedEvent]:
        subscription.failed_payments_count += 1
        if plan.auto_bill_outstanding:
            subscription.outstanding += price
        subscription.last_failed_payment = {
            "amount": money_json(price, plan.currency),
            "time": iso(now),
            "reason_code": "PAYMENT_DENIED",
        }
        subscription.updated = now
        events = [
            self._subscription_event(subscription, "BILLING.SUBSCRIPTION.PAYMENT.FAILED", "Subscription payment failed")
        ]
        if plan.failure_threshold and subscription.failed_payments_count >= plan.failure_threshold:
            subscription.status_change_note = "Payment failure threshold reached"
            self._set_status(subscription, "SUSPENDED", now)
            events.append(
                self._subscription_event(subscription, "BILLING.SUBSCRIPTION.SUSPENDED", "Subscription suspended")
            )
        return events

    def _apply_revision(self, subscription: Subscription) -> list[EmittedEvent]:
        plan = self._plans[str(subscription.pending_plan_id)]
        subscription.plan_id = plan.id
        subscription.completed = [0] * len(plan.cycles)
        subscription.cycle_index = plan.regular_index  # a plan switch does not grant the new plan's trial
        subscription.pending_plan_id = None
        if subscription.revision_token:
            self._approvals.pop(subscription.revision_token, None)
        subscription.revision_token = None
        subscription.updated = self.clock()
        return [self._subscription_event(subscription, "BILLING.SUBSCRIPTION.UPDATED", "Subscription updated")]
