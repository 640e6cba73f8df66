"""Route handlers for /v2/checkout/orders: create, show, capture."""

from typing import Any

from promptsales.domain_core.business.paypal.simulator.errors import invalid, issue, not_found, unprocessable
from promptsales.domain_core.business.paypal.simulator.events import EventBuilder
from promptsales.domain_core.business.paypal.simulator.formats import iso, money_json
from promptsales.domain_core.business.paypal.simulator.models import Call, Order
from promptsales.domain_core.business.paypal.simulator.validation import read_money, read_text, read_url


class OrderRoutes(EventBuilder):
    """The one-time payment (CAPTURE order) endpoints."""

    def _create_order(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/orders/v2/#orders_create
        body = call.body
        issues: list[dict[str, str]] = []
        if body.get("intent") is None:
            issues.append(issue("/intent", "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing."))
        elif body.get("intent") != "CAPTURE":
            issues.append(issue("/intent", "INVALID_PARAMETER_VALUE", "This sandbox simulates intent CAPTURE only."))
        units = body.get("purchase_units")
        unit: dict[str, Any] = {}
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            issues.append(
                issue("/purchase_units", "INVALID_PARAMETER_VALUE", "This sandbox takes exactly one purchase unit.")
            )
        else:
            raw = units[0]
            money = read_money(raw.get("amount"), "/purchase_units/0/amount", allow_zero=False)
            if isinstance(money, dict):
                issues.append(money)
            else:
                unit["amount"] = money_json(*money)
            unit["reference_id"] = (
                read_text(raw, "reference_id", "/purchase_units/0/reference_id", issues, required=False, max_length=256)
                or "default"
            )
            for key in ("custom_id", "description"):
                value = read_text(raw, key, f"/purchase_units/0/{key}", issues, required=False, max_length=127)
                if value is not None:
                    unit[key] = value
        source = body.get("payment_source")
        paypal = source.get("paypal") if isinstance(source, dict) else None
        if isinstance(paypal, dict):
            context_path = "/payment_source/paypal/experience_context"
            raw_context = paypal.get("experience_context")
        else:
            context_path, raw_context = "/application_context", body.get("application_context")
        context: dict[str, Any] = dict(raw_context) if isinstance(raw_context, dict) else {}
        for key in ("return_url", "cancel_url"):
            context[key] = read_url(context.get(key), f"{context_path}/{key}", issues)
        if issues:
            raise invalid(*issues)
        now = self.clock()
        # With a payment_source PayPal answers PAYER_ACTION_REQUIRED + rel=payer-action, else CREATED + rel=approve.
        via_source = isinstance(paypal, dict)
        order = Order(
            id=self._ref("", 17),
            status="PAYER_ACTION_REQUIRED" if via_source else "CREATED",
            unit=unit,
            context=context,
            via_payment_source=via_source,
            created=now,
            updated=now,
        )
        self._orders[order.id] = order
        self._approvals[order.id] = ("order", order.id)
        return 201, self._order_json(order)

    def _get_order(self, call: Call) -> tuple[int, Any]:
        return 200, self._order_json(self._order_for(call))

    def _capture(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/orders/v2/#orders_capture
        order = self._order_for(call)
        if order.status == "COMPLETED":
            raise unprocessable(
                "ORDER_ALREADY_CAPTURED",
                "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
            )
        if order.status != "APPROVED":
            raise unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
        now = self.clock()
        declined, self._decline_next_capture = self._decline_next_capture, False
        capture: dict[str, Any] = {
            "id": self._ref("", 17),
            "status": "DECLINED" if declined else "COMPLETED",
            "amount": order.unit["amount"],
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED"]},
            "create_time": iso(now),
            "update_time": iso(now),
        }
        if "custom_id" in order.unit:
            capture["custom_id"] = order.unit["custom_id"]
        capture["links"] = self._links(f"/v2/payments/captures/{capture['id']}")
        order.captures.append(capture)
        order.status = "COMPLETED"  # a declined capture still completes the order; captures[].status tells
        order.updated = now
        resource = {**capture, "supplementary_data": {"related_ids": {"order_id": order.id}}}
        if declined:
            event = self._event(
                "PAYMENT.CAPTURE.DECLINED", "capture", "2.0", "A payment capture was declined", resource
            )
        else:
            amount = capture["amount"]
            summary = f"Payment completed for {amount['value']} {amount['currency_code']}"
            event = self._event("PAYMENT.CAPTURE.COMPLETED", "capture", "2.0", summary, resource)
        self._send_later([event])
        return 201, self._order_json(order)

    def _order_for(self, call: Call) -> Order:
        order = self._orders.get(call.params["order_id"])
        if order is None:
            raise not_found("order_id", "The specified order does not exist.")
        return order
