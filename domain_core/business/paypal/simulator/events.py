"""Webhook events: the JSON PayPal sends for subscription changes, recurring sales and order payments."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from promptsales.domain_core.business.paypal.simulator.delivery import WebhookDelivery
from promptsales.domain_core.business.paypal.simulator.formats import iso, money_json
from promptsales.domain_core.business.paypal.simulator.models import Subscription
from promptsales.domain_core.business.paypal.simulator.records import EmittedEvent
from promptsales.domain_core.business.paypal.simulator.views import SimulatorViews


class EventBuilder(SimulatorViews, WebhookDelivery):
    """Builds webhook events and hands them to signing; callers choose when they are delivered."""

    def _subscription_event(self, subscription: Subscription, event_type: str, summary: str) -> EmittedEvent:
        return self._event(event_type, "subscription", "2.0", summary, self._subscription_json(subscription))

    def _sale_event(self, subscription: Subscription, price: Decimal, currency: str, now: datetime) -> EmittedEvent:
        # Recurring charges arrive as PAYMENT.SALE.COMPLETED; the sale names its subscription in billing_agreement_id.
        # https://developer.paypal.com/docs/subscriptions/reference/webhooks/ (v1 sale: amount{total, currency})
        value = money_json(price, currency)["value"]
        sale_id = self._ref("", 17)
        sale: dict[str, Any] = {
            "id": sale_id,
            "state": "completed",
            "amount": {"total": value, "currency": currency, "details": {"subtotal": value}},
            "payment_mode": "INSTANT_TRANSFER",
            "protection_eligibility": "ELIGIBLE",
            "protection_eligibility_type": "ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE",
            "billing_agreement_id": subscription.id,
            "create_time": iso(now),
            "update_time": iso(now),
            "links": self._links(f"/v1/payments/sale/{sale_id}"),
        }
        if subscription.custom_id:
            sale["custom_id"] = subscription.custom_id
            sale["custom"] = subscription.custom_id  # [~] v1 sales have historically carried it as "custom"
        summary = f"Payment completed for {value} {currency}"
        return self._event("PAYMENT.SALE.COMPLETED", "sale", "1.0", summary, sale)

    def _event(
        self, event_type: str, resource_type: str, resource_version: str, summary: str, resource: dict[str, Any]
    ) -> EmittedEvent:
        """Build, sign and record one webhook transmission."""
        now = self.clock()
        event_id = f"WH-{self._ref('', 17)}-{self._ref('', 17)}"
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": iso(now),
            "resource_type": resource_type,
            "resource_version": resource_version,
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [
                {
                    "href": f"{self.api_base_url}/v1/notifications/webhooks-events/{event_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{self.api_base_url}/v1/notifications/webhooks-events/{event_id}/resend",
                    "rel": "resend",
                    "method": "POST",
                },
            ],
        }
        return self._transmit(event, now)
