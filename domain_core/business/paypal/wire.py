"""Typed, frozen views of the PayPal REST objects PromptSales reads; fields we do not use are ignored."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def link_href(body: Mapping[str, Any], *rels: str) -> str | None:
    """The ``href`` of the first HATEOAS link whose ``rel`` is one of ``rels``, in the order given."""
    # https://developer.paypal.com/api/rest/responses/ (HATEOAS links: {href, rel, method})
    links = body.get("links")
    if not isinstance(links, list):
        return None
    for rel in rels:
        for link in links:
            if isinstance(link, dict) and link.get("rel") == rel and isinstance(link.get("href"), str):
                return str(link["href"])
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(value: Any) -> dict[str, Any]:
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


class PayPalProduct(_Wire):
    """A catalog product (``PROD-…``)."""

    # https://developer.paypal.com/docs/api/catalog-products/v1/#products_create  → {id, name, type, …}
    id: str
    name: str


class PayPalPlan(_Wire):
    """A billing plan (``P-…``) of a product."""

    # https://developer.paypal.com/docs/api/subscriptions/v1/#plans_create  → {id, product_id, name, status, …}
    id: str
    product_id: str
    name: str
    status: str


class PayPalSubscription(_Wire):
    """A subscription (``I-…``) as the show/create endpoints report it, flattened to what we use."""

    id: str
    status: str
    plan_id: str
    custom_id: str | None = None
    approve_url: str | None = None
    start_time: datetime | None = None
    next_billing_time: datetime | None = None
    failed_payments_count: int = 0
    last_payment_amount: Decimal | None = None
    last_payment_currency: str | None = None
    last_payment_time: datetime | None = None
    subscriber_email: str | None = None

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> "PayPalSubscription":
        """Read PayPal's subscription JSON (billing details live under ``billing_info``)."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_get
        # {id, plan_id, status, custom_id, start_time, subscriber{email_address},
        #  billing_info{next_billing_time, failed_payments_count, last_payment{amount{currency_code, value}, time}},
        #  links[{rel: approve|edit|self}]}
        billing = _dict(body.get("billing_info"))
        last_payment = _dict(billing.get("last_payment"))
        last_amount = _dict(last_payment.get("amount"))
        return cls.model_validate(
            {
                "id": body.get("id"),
                "status": body.get("status"),
                "plan_id": body.get("plan_id"),
                "custom_id": body.get("custom_id"),
                "approve_url": link_href(body, "approve"),
                "start_time": body.get("start_time"),
                "next_billing_time": billing.get("next_billing_time"),
                "failed_payments_count": billing.get("failed_payments_count", 0),
                "last_payment_amount": last_amount.get("value"),
                "last_payment_currency": last_amount.get("currency_code"),
                "last_payment_time": last_payment.get("time"),
                "subscriber_email": _dict(body.get("subscriber")).get("email_address"),
            }
        )


class PayPalCapture(_Wire):
    """One capture of an order's purchase unit; its status is what says whether money moved."""

    # https://developer.paypal.com/docs/api/orders/v2/#orders_capture
    # purchase_units[].payments.captures[] = {id, status: COMPLETED|DECLINED|PENDING|…, amount, status_details{reason}}
    id: str
    status: str
    amount: Decimal
    currency: str
    status_reason: str | None = None

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> "PayPalCapture":
        """Read one ``captures[]`` entry."""
        amount = _dict(body.get("amount"))
        return cls.model_validate(
            {
                "id": body.get("id"),
                "status": body.get("status"),
                "amount": amount.get("value"),
                "currency": amount.get("currency_code"),
                "status_reason": _dict(body.get("status_details")).get("reason"),
            }
        )


class PayPalOrder(_Wire):
    """A checkout order (one purchase unit) with its captures.

    A ``COMPLETED`` order can still hold a ``DECLINED`` capture: read ``captures`` (or ``paid``), not ``status``.
    """

    id: str
    status: str
    approve_url: str | None = None
    custom_id: str | None = None
    amount: Decimal
    currency: str
    captures: list[PayPalCapture] = []

    @property
    def paid(self) -> bool:
        """Whether at least one capture completed."""
        return any(capture.status == "COMPLETED" for capture in self.captures)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> "PayPalOrder":
        """Read PayPal's order JSON; the approval link is ``approve`` or, with a payment_source, ``payer-action``."""
        # https://developer.paypal.com/docs/api/orders/v2/#orders_get
        # {id, status, purchase_units[{custom_id, amount{currency_code, value}, payments{captures[]}}], links[]}
        unit = _first(body.get("purchase_units"))
        captures = [
            PayPalCapture.from_api(entry)
            for entry in _dict(unit.get("payments")).get("captures", [])
            if isinstance(entry, dict)
        ]
        amount = _dict(unit.get("amount"))
        if not amount and captures:  # a return=minimal capture answer omits the unit's amount
            amount = {"value": str(captures[0].amount), "currency_code": captures[0].currency}
        return cls.model_validate(
            {
                "id": body.get("id"),
                "status": body.get("status"),
                "approve_url": link_href(body, "approve", "payer-action"),
                "custom_id": unit.get("custom_id"),
                "amount": amount.get("value"),
                "currency": amount.get("currency_code"),
                "captures": captures,
            }
        )


class PayPalWebhookEvent(_Wire):
    """A webhook notification; ``resource`` is the subscription, sale, order or capture it is about."""

    # https://developer.paypal.com/api/rest/webhooks/event-names/
    # {id: "WH-…", event_version, create_time, resource_type, resource_version, event_type, summary, resource, links}
    id: str
    event_type: str
    create_time: datetime
    resource_type: str
    resource_version: str | None = None
    summary: str | None = None
    resource: dict[str, Any]

    @property
    def resource_id(self) -> str | None:
        """Id of the resource (subscription ``I-…``, sale, order or capture id)."""
        value = self.resource.get("id")
        return value if isinstance(value, str) else None

    @property
    def custom_id(self) -> str | None:
        """Our reference: top-level ``custom_id`` (subscriptions, captures), ``custom`` (sales) or the order's unit."""
        for value in (
            self.resource.get("custom_id"),
            self.resource.get("custom"),
            _first(self.resource.get("purchase_units")).get("custom_id"),
        ):
            if isinstance(value, str) and value:
                return value
        return None

    @property
    def billing_agreement_id(self) -> str | None:
        """The subscription a recurring sale belongs to (``PAYMENT.SALE.*`` events)."""
        value = self.resource.get("billing_agreement_id")
        return value if isinstance(value, str) else None

    @property
    def order_id(self) -> str | None:
        """The order a capture belongs to, or the order itself for ``CHECKOUT.ORDER.*`` events."""
        if self.resource_type == "checkout-order":
            return self.resource_id
        related = _dict(_dict(self.resource.get("supplementary_data")).get("related_ids"))
        value = related.get("order_id")
        return value if isinstance(value, str) else None

    @property
    def amount(self) -> Decimal | None:
        """Money moved by a sale (``amount.total``) or capture (``amount.value``)."""
        amount = _dict(self.resource.get("amount"))
        value = amount.get("total", amount.get("value"))
        if not isinstance(value, str | int | float):
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None

    @property
    def currency(self) -> str | None:
        """Currency of ``amount``: ``amount.currency`` on sales, ``amount.currency_code`` on captures."""
        amount = _dict(self.resource.get("amount"))
        value = amount.get("currency", amount.get("currency_code"))
        return value if isinstance(value, str) else None
