"""Async PayPal REST client: cached OAuth2 token, PayPal-Request-Id idempotency, retries with backoff."""

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from promptsales.domain_core.business.paypal import signing
from promptsales.domain_core.business.paypal.errors import PayPalError as PayPalError
from promptsales.domain_core.business.paypal.retries import RETRYABLE_STATUSES as RETRYABLE_STATUSES
from promptsales.domain_core.business.paypal.transport import TOKEN_EXPIRY_MARGIN_S as TOKEN_EXPIRY_MARGIN_S
from promptsales.domain_core.business.paypal.transport import PayPalTransport
from promptsales.domain_core.business.paypal.values import ZERO_DECIMAL_CURRENCIES as ZERO_DECIMAL_CURRENCIES
from promptsales.domain_core.business.paypal.values import money_value as money_value
from promptsales.domain_core.business.paypal.values import path_segment
from promptsales.domain_core.business.paypal.wire import (
    PayPalOrder,
    PayPalPlan,
    PayPalProduct,
    PayPalSubscription,
    link_href,
)
from promptsales.domain_core.shared.errors import ValidationFailed


class PayPalClient(PayPalTransport):
    """One PayPal REST application (client id + secret) on one environment (live host or the simulator)."""

    def __repr__(self) -> str:
        return f"PayPalClient(base_url={self._base_url!r}, client_id={self._client_id!r})"

    async def check_credentials(self) -> None:
        """Prove the client id and secret work (one token request); raises PayPalError otherwise."""
        await self._access_token()

    # ------------------------------------------------------------------------------------------ catalog

    async def create_product(
        self, *, name: str, type: str = "SERVICE", description: str | None = None, request_id: str | None = None
    ) -> PayPalProduct:
        """Create a catalog product; plans hang off it."""
        # https://developer.paypal.com/docs/api/catalog-products/v1/#products_create
        # {name, type: PHYSICAL|DIGITAL|SERVICE, description?} → 201 {id: "PROD-…", name, …}
        body: dict[str, Any] = {"name": name, "type": type}
        if description:
            body["description"] = description
        response = await self._call("POST", "/v1/catalogs/products", body=body, request_id=request_id)
        return self._parse(response, PayPalProduct.model_validate)

    # -------------------------------------------------------------------------------------------- plans

    async def create_plan(
        self,
        *,
        product_id: str,
        name: str,
        price: Decimal,
        currency: str = "USD",
        interval_unit: str = "MONTH",
        interval_count: int = 1,
        trial_days: int = 0,
        request_id: str | None = None,
    ) -> PayPalPlan:
        """Create an ACTIVE plan: an optional free trial of ``trial_days`` days, then ``price`` every interval."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#plans_create
        # billing_cycles[] = {frequency{interval_unit, interval_count}, tenure_type: TRIAL|REGULAR, sequence,
        #   total_cycles (0 = infinite for REGULAR), pricing_scheme{fixed_price{currency_code, value}}}
        if trial_days < 0:
            raise ValidationFailed("trial_days must be zero or more.", field="trial_days")
        if interval_count < 1:
            raise ValidationFailed("interval_count must be at least 1.", field="interval_count")
        cycles: list[dict[str, Any]] = []
        if trial_days:
            cycles.append(
                {
                    "frequency": {"interval_unit": "DAY", "interval_count": trial_days},
                    "tenure_type": "TRIAL",
                    "sequence": 1,
                    "total_cycles": 1,
                    "pricing_scheme": {
                        "fixed_price": {
                            "value": money_value(Decimal(0), currency, field="price", allow_zero=True),
                            "currency_code": currency,
                        }
                    },
                }
            )
        cycles.append(
            {
                "frequency": {"interval_unit": interval_unit, "interval_count": interval_count},
                "tenure_type": "REGULAR",
                "sequence": len(cycles) + 1,
                "total_cycles": 0,
                "pricing_scheme": {
                    "fixed_price": {"value": money_value(price, currency, field="price"), "currency_code": currency}
                },
            }
        )
        body = {
            "product_id": product_id,
            "name": name,
            "status": "ACTIVE",
            "billing_cycles": cycles,
            # Unpaid cycles are added to the next bill; three failed payments suspend the subscription.
            "payment_preferences": {"auto_bill_outstanding": True, "payment_failure_threshold": 3},
        }
        response = await self._call("POST", "/v1/billing/plans", body=body, request_id=request_id)
        return self._parse(response, PayPalPlan.model_validate)

    async def get_plan(self, *, plan_id: str) -> PayPalPlan:
        """Show a plan."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#plans_get
        response = await self._call("GET", f"/v1/billing/plans/{path_segment(plan_id, field='plan_id')}")
        return self._parse(response, PayPalPlan.model_validate)

    # ------------------------------------------------------------------------------------ subscriptions

    async def create_subscription(
        self,
        *,
        plan_id: str,
        custom_id: str,
        return_url: str,
        cancel_url: str,
        subscriber_email: str | None = None,
        brand_name: str = "PromptSales",
        request_id: str | None = None,
    ) -> PayPalSubscription:
        """Create an APPROVAL_PENDING subscription; send the buyer to its ``approve_url``."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_create
        # {plan_id, custom_id, subscriber{email_address}, application_context{brand_name, user_action, return_url,
        #  cancel_url}} → 201 {id: "I-…", status: APPROVAL_PENDING, links[{rel: approve}]}
        body: dict[str, Any] = {
            "plan_id": plan_id,
            "custom_id": custom_id,
            "application_context": {
                "brand_name": brand_name,
                "user_action": "SUBSCRIBE_NOW",
                "shipping_preference": "NO_SHIPPING",
                "return_url": return_url,
                "cancel_url": cancel_url,
            },
        }
        if subscriber_email:
            body["subscriber"] = {"email_address": subscriber_email}
        response = await self._call("POST", "/v1/billing/subscriptions", body=body, request_id=request_id)
        return self._parse(response, PayPalSubscription.from_api)

    async def get_subscription(self, *, subscription_id: str) -> PayPalSubscription:
        """Show a subscription (status, next billing time, failed payments, last payment)."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_get
        response = await self._call("GET", self._subscription_path(subscription_id))
        return self._parse(response, PayPalSubscription.from_api)

    async def revise_subscription(
        self, *, subscription_id: str, plan_id: str, request_id: str | None = None
    ) -> PayPalSubscription:
        """Ask to move a subscription to ``plan_id``; the buyer confirms at ``approve_url`` before it applies.

        The returned subscription is the current one (still on its old plan) with the revision's approval link.
        """
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_revise
        # {plan_id} → 200 {plan_id, effective_time, links[{rel: approve}]} (the answer is not a subscription)
        response = await self._call(
            "POST",
            f"{self._subscription_path(subscription_id)}/revise",
            body={"plan_id": plan_id},
            request_id=request_id,
        )
        approve_url = self._parse(response, lambda body: link_href(body, "approve"))
        current = await self.get_subscription(subscription_id=subscription_id)
        return current.model_copy(update={"approve_url": approve_url})

    async def cancel_subscription(self, *, subscription_id: str, reason: str, request_id: str | None = None) -> None:
        """Cancel an ACTIVE or SUSPENDED subscription for good."""
        await self._lifecycle(subscription_id, "cancel", reason, request_id)

    async def suspend_subscription(self, *, subscription_id: str, reason: str, request_id: str | None = None) -> None:
        """Pause billing of an ACTIVE subscription."""
        await self._lifecycle(subscription_id, "suspend", reason, request_id)

    async def activate_subscription(self, *, subscription_id: str, reason: str, request_id: str | None = None) -> None:
        """Resume a SUSPENDED subscription."""
        await self._lifecycle(subscription_id, "activate", reason, request_id)

    async def _lifecycle(self, subscription_id: str, action: str, reason: str, request_id: str | None) -> None:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_cancel (…_suspend, …_activate)
        # {reason} → 204 No Content
        path = f"{self._subscription_path(subscription_id)}/{action}"
        await self._call("POST", path, body={"reason": reason}, request_id=request_id)

    @staticmethod
    def _subscription_path(subscription_id: str) -> str:
        return f"/v1/billing/subscriptions/{path_segment(subscription_id, field='subscription_id')}"

    # ------------------------------------------------------------------------------------------- orders

    async def create_order(
        self,
        *,
        amount: Decimal,
        currency: str,
        custom_id: str,
        description: str,
        return_url: str,
        cancel_url: str,
        brand_name: str = "PromptSales",
        request_id: str | None = None,
    ) -> PayPalOrder:
        """Create a CAPTURE order for one purchase unit; send the buyer to its ``approve_url``."""
        # https://developer.paypal.com/docs/api/orders/v2/#orders_create
        # {intent: CAPTURE, purchase_units[{custom_id, description, amount{currency_code, value}}],
        #  payment_source{paypal{experience_context{return_url, cancel_url, …}}}}
        #  → 200/201 {id, status: CREATED|PAYER_ACTION_REQUIRED, links[{rel: approve|payer-action}]}
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": "default",
                    "custom_id": custom_id,
                    "description": description,
                    "amount": {"currency_code": currency, "value": money_value(amount, currency, field="amount")},
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "brand_name": brand_name,
                        "shipping_preference": "NO_SHIPPING",
                        "user_action": "PAY_NOW",
                        "return_url": return_url,
                        "cancel_url": cancel_url,
                    }
                }
            },
        }
        response = await self._call("POST", "/v2/checkout/orders", body=body, request_id=request_id)
        return self._parse(response, PayPalOrder.from_api)

    async def get_order(self, *, order_id: str) -> PayPalOrder:
        """Show an order."""
        # https://developer.paypal.com/docs/api/orders/v2/#orders_get
        response = await self._call("GET", self._order_path(order_id))
        return self._parse(response, PayPalOrder.from_api)

    async def capture_order(self, *, order_id: str, request_id: str | None = None) -> PayPalOrder:
        """Capture an APPROVED order; check ``captures`` (a COMPLETED order may hold a DECLINED capture)."""
        # https://developer.paypal.com/docs/api/orders/v2/#orders_capture  (JSON body may be empty)
        response = await self._call("POST", f"{self._order_path(order_id)}/capture", body={}, request_id=request_id)
        return self._parse(response, PayPalOrder.from_api)

    @staticmethod
    def _order_path(order_id: str) -> str:
        return f"/v2/checkout/orders/{path_segment(order_id, field='order_id')}"

    # ----------------------------------------------------------------------------------------- webhooks

    async def verify_webhook_signature(self, *, headers: Mapping[str, str], raw_body: bytes, webhook_id: str) -> bool:
        """Ask PayPal whether a delivery (its headers + the exact raw body) is genuine for ``webhook_id``."""
        # https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature
        # {auth_algo, cert_url, transmission_id, transmission_sig, transmission_time, webhook_id, webhook_event}
        # → 200 {verification_status: SUCCESS|FAILURE}; a failed check is still HTTP 200.
        lowered = {key.lower(): value for key, value in headers.items()}
        values = {name: lowered.get(name.lower()) for name in signing.SIGNATURE_HEADERS}
        if any(not value for value in values.values()) or not webhook_id:
            return False
        try:
            event = json.loads(raw_body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return False
        if not isinstance(event, dict):
            return False
        body = {
            "auth_algo": values[signing.AUTH_ALGO],
            "cert_url": values[signing.CERT_URL],
            "transmission_id": values[signing.TRANSMISSION_ID],
            "transmission_sig": values[signing.TRANSMISSION_SIG],
            "transmission_time": values[signing.TRANSMISSION_TIME],
            "webhook_id": webhook_id,
            "webhook_event": event,
        }
        response = await self._call("POST", "/v1/notifications/verify-webhook-signature", body=body, prefer=False)
        return self._parse(response, lambda answer: answer.get("verification_status") == "SUCCESS")
