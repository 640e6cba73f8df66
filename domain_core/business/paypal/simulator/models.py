"""The simulated merchant app's objects (products, plans, subscriptions, orders), faults and incoming calls."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass
class Fault:
    status: int
    remaining: int
    name: str
    message: str
    retry_after: int | None
    include_token: bool
    path_prefix: str | None
    after_processing: bool


@dataclass
class Call:
    params: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]


@dataclass
class Product:
    id: str
    name: str
    type: str
    description: str | None
    created: datetime


@dataclass
class Plan:
    id: str
    product_id: str
    name: str
    status: str
    description: str | None
    cycles: list[dict[str, Any]]  # sorted by sequence, as PayPal shows them
    failure_threshold: int
    auto_bill_outstanding: bool
    created: datetime

    def price(self, index: int) -> Decimal:
        fixed = self.cycles[index].get("pricing_scheme", {}).get("fixed_price")
        return Decimal(fixed["value"]) if fixed else Decimal(0)

    @property
    def currency(self) -> str:
        for cycle in self.cycles:
            fixed = cycle.get("pricing_scheme", {}).get("fixed_price")
            if fixed:
                return str(fixed["currency_code"])
        return "USD"

    @property
    def regular_index(self) -> int:
        return next(i for i, cycle in enumerate(self.cycles) if cycle["tenure_type"] == "REGULAR")


@dataclass
class Subscription:
    id: str
    plan_id: str
    status: str
    custom_id: str | None
    email: str | None
    context: dict[str, Any]
    created: datetime
    updated: datetime
    status_updated: datetime
    start_time: datetime
    approval_token: str
    completed: list[int]
    cycle_index: int = 0
    next_billing_time: datetime | None = None
    failed_payments_count: int = 0
    outstanding: Decimal = Decimal(0)
    last_payment: dict[str, Any] | None = None
    last_failed_payment: dict[str, Any] | None = None
    payer_id: str | None = None
    status_change_note: str | None = None
    pending_plan_id: str | None = None
    revision_token: str | None = None


@dataclass
class Order:
    id: str
    status: str
    unit: dict[str, Any]
    context: dict[str, Any]
    via_payment_source: bool
    created: datetime
    updated: datetime
    payer_id: str | None = None
    captures: list[dict[str, Any]] = field(default_factory=list)
