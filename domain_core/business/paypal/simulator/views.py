"""The JSON PayPal answers with for products, plans, subscriptions and orders."""

from decimal import Decimal
from typing import Any

from promptsales.domain_core.business.paypal.simulator.formats import iso, money_json
from promptsales.domain_core.business.paypal.simulator.models import Order, Plan, Product, Subscription
from promptsales.domain_core.business.paypal.simulator.state import SimulatorState


class SimulatorViews(SimulatorState):
    """Renders the simulator's objects as PayPal's REST representations."""

    def _product_json(self, product: Product) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "type": product.type,
            "create_time": iso(product.created),
            "update_time": iso(product.created),
            "links": self._links(f"/v1/catalogs/products/{product.id}", edit=True),
        }
        if product.description:
            body["description"] = product.description
        return body

    def _plan_json(self, plan: Plan) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": plan.id,
            "product_id": plan.product_id,
            "name": plan.name,
            "status": plan.status,
            "usage_type": "LICENSED",
            "billing_cycles": plan.cycles,
            "payment_preferences": {
                "service_type": "PREPAID",
                "auto_bill_outstanding": plan.auto_bill_outstanding,
                "setup_fee": money_json(Decimal(0), plan.currency),
                "setup_fee_failure_action": "CANCEL",
                "payment_failure_threshold": plan.failure_threshold,
            },
            "quantity_supported": False,
            "create_time": iso(plan.created),
            "update_time": iso(plan.created),
            "links": self._links(f"/v1/billing/plans/{plan.id}", edit=True),
        }
        if plan.description:
            body["description"] = plan.description
        return body

    def _subscription_json(self, subscription: Subscription) -> dict[str, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_get
        plan = self._plans[subscription.plan_id]
        body: dict[str, Any] = {
            "id": subscription.id,
            "plan_id": subscription.plan_id,
            "status": subscription.status,
            "status_update_time": iso(subscription.status_updated),
            "start_time": iso(subscription.start_time),
            "quantity": "1",
            "plan_overridden": False,
            "create_time": iso(subscription.created),
            "update_time": iso(subscription.updated),
        }
        if subscription.custom_id:
            body["custom_id"] = subscription.custom_id
        if subscription.status_change_note:
            body["status_change_note"] = subscription.status_change_note
        subscriber: dict[str, Any] = {}
        if subscription.email:
            subscriber["email_address"] = subscription.email
        if subscription.payer_id:
            subscriber["payer_id"] = subscription.payer_id
            subscriber["name"] = {"given_name": "Sandbox", "surname": "Buyer"}
        if subscriber:
            body["subscriber"] = subscriber
        if subscription.status != "APPROVAL_PENDING":
            billing: dict[str, Any] = {
                "outstanding_balance": money_json(subscription.outstanding, plan.currency),
                "cycle_executions": [
                    {
                        "tenure_type": cycle["tenure_type"],
                        "sequence": cycle["sequence"],
                        "cycles_completed": done,
                        "cycles_remaining": max(int(cycle["total_cycles"]) - done, 0),
                        "current_pricing_scheme_version": 1,
                        "total_cycles": cycle["total_cycles"],
                    }
                    for cycle, done in zip(plan.cycles, subscription.completed, strict=False)
                ],
                "failed_payments_count": subscription.failed_payments_count,
            }
            if subscription.last_payment:
                billing["last_payment"] = subscription.last_payment
            if subscription.last_failed_payment:
                billing["last_failed_payment"] = subscription.last_failed_payment
            if subscription.next_billing_time and subscription.status in ("ACTIVE", "SUSPENDED"):
                billing["next_billing_time"] = iso(subscription.next_billing_time)
            body["billing_info"] = billing
        links = self._links(f"/v1/billing/subscriptions/{subscription.id}", edit=True)
        if subscription.status == "APPROVAL_PENDING":
            approve = f"{self.approval_base_url}/webapps/billing/subscriptions?ba_token={subscription.approval_token}"
            links.insert(0, {"href": approve, "rel": "approve", "method": "GET"})
        body["links"] = links
        return body

    def _order_json(self, order: Order) -> dict[str, Any]:
        # https://developer.paypal.com/docs/api/orders/v2/#orders_get
        unit = dict(order.unit)
        if order.captures:
            unit["payments"] = {"captures": order.captures}
        body: dict[str, Any] = {
            "id": order.id,
            "intent": "CAPTURE",
            "status": order.status,
            "purchase_units": [unit],
            "create_time": iso(order.created),
            "update_time": iso(order.updated),
        }
        if order.payer_id:
            body["payer"] = {
                "name": {"given_name": "Sandbox", "surname": "Buyer"},
                "email_address": f"buyer-{order.payer_id.lower()}@example.com",
                "payer_id": order.payer_id,
            }
        links = self._links(f"/v2/checkout/orders/{order.id}")
        approve = f"{self.approval_base_url}/checkoutnow?token={order.id}"
        if order.status == "CREATED":
            links.append({"href": approve, "rel": "approve", "method": "GET"})
        elif order.status == "PAYER_ACTION_REQUIRED":
            links.append({"href": approve, "rel": "payer-action", "method": "GET"})
        elif order.status == "APPROVED":
            href = f"{self.api_base_url}/v2/checkout/orders/{order.id}/capture"
            links.append({"href": href, "rel": "capture", "method": "POST"})
        body["links"] = links
        return body
