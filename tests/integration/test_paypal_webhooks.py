"""POST /webhooks/paypal on Postgres: signatures verified with PayPal, each event applied once, order-independent."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from promptsales.domain_core.business.commands import StartCheckout
from promptsales.domain_core.business.paypal.simulator import EmittedEvent, PayPalSimulator
from promptsales.domain_core.business.tables import PaymentRecord, SubscriptionRecord, WebhookReceiptRecord
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.tables import AuditEntryRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import pg_url

pytestmark = pytest.mark.postgres


class Clock:
    """The simulator's clock, moved by the test so events carry distinct times."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass
class Shop:
    """One tenant's runtime on Postgres, its HTTP app, and the sandbox PayPal behind it."""

    runtime: Runtime
    http: httpx.AsyncClient
    paypal: PayPalSimulator
    clock: Clock
    tenant: str

    async def post(
        self, event: EmittedEvent, *, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> httpx.Response:
        return await self.http.post(
            "/webhooks/paypal",
            content=event.raw_body if body is None else body,
            headers=event.headers if headers is None else headers,
        )

    async def checkout(self, plan: str) -> str:
        result = await self.runtime.business.start_checkout(self.caller, StartCheckout(plan=plan))
        assert result.approve_url is not None
        return result.approve_url

    @property
    def caller(self) -> Caller:
        return Caller(tenant_id=self.tenant, actor_id="agent-1")

    async def count(self, record: Any, **where: Any) -> int:
        async def work(uow: UnitOfWork) -> int:
            query = select(func.count()).select_from(record).where(record.tenant_id == self.tenant)
            for name, value in where.items():
                query = query.where(getattr(record, name) == value)
            return int((await uow.session.execute(query)).scalar_one())

        return await self.runtime.uow.read(self.caller, work)

    async def subscription(self) -> SubscriptionRecord:
        async def work(uow: UnitOfWork) -> SubscriptionRecord:
            rows = await uow.session.execute(
                select(SubscriptionRecord).where(SubscriptionRecord.tenant_id == self.tenant)
            )
            found = [row for row in rows.scalars() if row.provider_subscription_id]
            assert len(found) == 1
            return found[0]

        return await self.runtime.uow.read(self.caller, work)

    def events(self, event_type: str) -> list[EmittedEvent]:
        return [e for e in self.paypal.events if e.event_type == event_type]


@pytest_asyncio.fixture(loop_scope="session")
async def shop(pg_database: str, tmp_path: Path) -> AsyncIterator[Shop]:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    plans = tmp_path / "plans.json"
    plans.write_text(json.dumps({"plans": [{"id": "starter", "trial_days": 0}]}))
    runtime = Runtime(
        Settings(
            database_url=pg_url(pg_database),
            data_dir=tmp_path,
            tenant=tenant,
            default_plan="free",
            plans_file=plans,
            entitlement_cache_seconds=0,
            rate_limits_enabled=False,
        )
    )
    gateway = build_gateway(runtime)
    app = http_app(gateway, runtime)
    await runtime.start()
    try:
        paypal = runtime.paypal_simulator
        assert paypal is not None
        clock = Clock()
        paypal.clock = clock
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http:
            shop = Shop(runtime, http, paypal, clock, tenant)

            async def over_http(headers: dict[str, str], body: bytes) -> int:
                return (await http.post("/webhooks/paypal", content=body, headers=headers)).status_code

            paypal.deliver = over_http
            yield shop
    finally:
        await runtime.stop()


async def test_a_delivered_event_applies_and_a_forged_one_is_rejected(shop: Shop) -> None:
    url = await shop.checkout("starter")
    shop.paypal.deliver = None  # hold deliveries: the test posts them itself
    await shop.paypal.approve(shop.paypal.approval_token_for(url))
    activated = shop.events("BILLING.SUBSCRIPTION.ACTIVATED")[0]

    forged = dict(activated.headers)
    signature_header = next(k for k in forged if k.lower() == "paypal-transmission-sig")
    forged[signature_header] = "A" * 344
    assert (await shop.post(activated, headers=forged)).status_code == 401
    tampered = activated.raw_body.replace(b"BILLING.SUBSCRIPTION.ACTIVATED", b"BILLING.SUBSCRIPTION.CANCELLED")
    assert (await shop.post(activated, body=tampered)).status_code == 401
    assert (await shop.post(activated, headers={})).status_code == 401
    assert (await shop.http.post("/webhooks/paypal", content=b"not json")).status_code == 400
    assert (await shop.subscription()).status == "pending"  # nothing forged got through

    answer = await shop.post(activated)
    assert answer.status_code == 200 and "pending -> active" in answer.json()["outcome"]
    assert (await shop.subscription()).status == "active"


async def test_an_event_redelivered_25_times_at_once_applies_once(shop: Shop) -> None:
    url = await shop.checkout("starter")
    shop.paypal.deliver = None
    await shop.paypal.approve(shop.paypal.approval_token_for(url))
    activated = shop.events("BILLING.SUBSCRIPTION.ACTIVATED")[0]
    sale = shop.events("PAYMENT.SALE.COMPLETED")[0]

    answers = await asyncio.gather(*(shop.post(activated) for _ in range(25)), *(shop.post(sale) for _ in range(25)))
    assert {a.status_code for a in answers} == {200}
    outcomes = [a.json()["outcome"] for a in answers]
    for deliveries in (outcomes[:25], outcomes[25:]):  # each event was handled once, every other copy deduped
        assert sum(not o.startswith("duplicate") for o in deliveries) == 1, deliveries
    assert await shop.count(WebhookReceiptRecord) == 2
    transitions = await shop.count(AuditEntryRecord, action="business.subscription_transition")
    assert 1 <= transitions <= 2  # at most one per event (the sale may arrive first and activate)
    assert await shop.count(PaymentRecord) == 1
    assert (await shop.subscription()).status == "active"
    # PayPal's own redelivery (same bytes, same headers) is a duplicate too.
    attempts = await (_with_delivery(shop)).redeliver(activated.id, times=3)
    assert [a.status for a in attempts] == [200, 200, 200]
    assert await shop.count(AuditEntryRecord, action="business.subscription_transition") == transitions


def _with_delivery(shop: Shop) -> PayPalSimulator:
    async def over_http(headers: dict[str, str], body: bytes) -> int:
        return (await shop.http.post("/webhooks/paypal", content=body, headers=headers)).status_code

    shop.paypal.deliver = over_http
    return shop.paypal


async def test_events_delivered_out_of_order_end_in_the_state_of_the_latest(shop: Shop) -> None:
    url = await shop.checkout("starter")
    shop.paypal.deliver = None
    await shop.paypal.approve(shop.paypal.approval_token_for(url))  # ACTIVATED + SALE.COMPLETED at 09:00
    subscription = shop.paypal.subscription_ids[-1]
    shop.clock.tick(60 * 24 * 31)
    await shop.paypal.bill_cycle(subscription, succeed=False)  # PAYMENT.FAILED a month later
    failed = shop.events("BILLING.SUBSCRIPTION.PAYMENT.FAILED")[0]
    activated = shop.events("BILLING.SUBSCRIPTION.ACTIVATED")[0]
    sale = shop.events("PAYMENT.SALE.COMPLETED")[0]

    for event in (failed, sale, activated):  # newest first
        assert (await shop.post(event)).status_code == 200
    record = await shop.subscription()
    assert record.status == "past_due"
    assert await shop.count(PaymentRecord, status="completed") == 1  # the late sale is still recorded
    assert await shop.count(PaymentRecord, status="failed") == 1


async def test_a_cancellation_delivered_before_the_activation_wins(shop: Shop) -> None:
    url = await shop.checkout("starter")
    shop.paypal.deliver = None
    await shop.paypal.approve(shop.paypal.approval_token_for(url))
    shop.clock.tick(5)
    await shop.runtime.business.account.client.cancel_subscription(
        subscription_id=shop.paypal.subscription_ids[-1], reason="buyer canceled in PayPal"
    )
    await shop.paypal.drain()
    cancelled = shop.events("BILLING.SUBSCRIPTION.CANCELLED")[0]
    activated = shop.events("BILLING.SUBSCRIPTION.ACTIVATED")[0]
    assert (await shop.post(cancelled)).status_code == 200
    assert (await shop.post(activated)).status_code == 200
    assert (await shop.subscription()).status == "canceled"


async def test_an_event_about_an_object_we_never_created_is_acknowledged_and_ignored(shop: Shop) -> None:
    client = shop.runtime.business.account.client
    product = await client.create_product(name="Made in the PayPal dashboard")
    plan = await client.create_plan(product_id=product.id, name="Elsewhere", price=Decimal("5.00"))
    foreign = await client.create_subscription(
        plan_id=plan.id, custom_id="not-a-tenant", return_url="https://x.example/r", cancel_url="https://x.example/c"
    )
    shop.paypal.deliver = None
    await shop.paypal.approve_subscription(foreign.id)
    answer = await shop.post(shop.events("BILLING.SUBSCRIPTION.ACTIVATED")[-1])
    assert answer.status_code == 202 and "not ours" in answer.json()["outcome"]
