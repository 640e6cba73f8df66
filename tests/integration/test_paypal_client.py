"""PayPalClient against the in-process PayPal simulator (httpx.ASGITransport): auth, idempotency, retries, flows."""

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from promptsales.domain_core.business.paypal import signing
from promptsales.domain_core.business.paypal.client import PayPalClient, PayPalError
from promptsales.domain_core.business.paypal.simulator import PayPalSimulator, RecordedRequest
from promptsales.domain_core.shared.errors import UpstreamError, ValidationFailed

CLIENT_ID = "sim-client-id"
CLIENT_SECRET = "sim-secret-never-shown"
WEBHOOK_ID = "8PT597110X687430LKGECATA"
BASE_URL = "https://api-m.sandbox.paypal.com"
TOKEN_PATH = "/v1/oauth2/token"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingSleep:
    """Stands in for asyncio.sleep: records the requested waits and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class FlakyTransport(httpx.AsyncBaseTransport):
    """Raises a transport error for the first ``failures`` requests, then passes requests on."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int, error: type[httpx.TransportError]) -> None:
        self.inner, self.failures, self.error = inner, failures, error

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures > 0:
            self.failures -= 1
            raise self.error("simulated network failure", request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def simulator() -> PayPalSimulator:
    return PayPalSimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, webhook_id=WEBHOOK_ID, seed=11)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(
    simulator: PayPalSimulator,
    sleeps: RecordingSleep,
    clock: FakeClock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> PayPalClient:
    return PayPalClient(
        base_url=BASE_URL,
        client_id=options.pop("client_id", CLIENT_ID),
        client_secret=options.pop("client_secret", CLIENT_SECRET),
        transport=transport or httpx.ASGITransport(app=simulator.app),
        clock=clock,
        sleep=sleeps,
        **options,
    )


@pytest.fixture
async def client(simulator: PayPalSimulator, sleeps: RecordingSleep, clock: FakeClock) -> AsyncIterator[PayPalClient]:
    async with make_client(simulator, sleeps, clock) as paypal:
        yield paypal


def token_requests(simulator: PayPalSimulator) -> list[RecordedRequest]:
    return [r for r in simulator.requests if r.path == TOKEN_PATH]


def api_requests(simulator: PayPalSimulator, path: str | None = None) -> list[RecordedRequest]:
    return [r for r in simulator.requests if r.path != TOKEN_PATH and (path is None or r.path == path)]


async def monthly_plan(client: PayPalClient, *, trial_days: int = 0) -> str:
    product = await client.create_product(name="PromptSales", description="AI sales suite")
    plan = await client.create_plan(
        product_id=product.id, name="Pro monthly", price=Decimal("29.00"), trial_days=trial_days
    )
    return plan.id


async def pending_subscription(client: PayPalClient, plan_id: str, custom_id: str = "t-acme") -> str:
    subscription = await client.create_subscription(
        plan_id=plan_id,
        custom_id=custom_id,
        return_url="https://app.example.com/billing/return",
        cancel_url="https://app.example.com/billing/cancel",
        subscriber_email="owner@acme.example",
    )
    return subscription.id


# ------------------------------------------------------------------------------------------ OAuth token


async def test_token_is_fetched_once_and_sent_only_where_it_belongs(
    client: PayPalClient, simulator: PayPalSimulator
) -> None:
    plan_id = await monthly_plan(client)
    await client.get_plan(plan_id=plan_id)
    await client.get_plan(plan_id=plan_id)

    (token_request,) = token_requests(simulator)
    assert token_request.method == "POST"
    assert token_request.headers["authorization"].startswith("Basic ")
    assert token_request.body == b"grant_type=client_credentials"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    calls = api_requests(simulator)
    assert len(calls) == 4
    bearer = {r.headers["authorization"] for r in calls}
    assert len(bearer) == 1 and next(iter(bearer)).startswith("Bearer A21AA")
    # Credentials travel only in the token request's Basic header, never in an API call or a body.
    for request in calls:
        assert CLIENT_SECRET not in json.dumps(request.headers) and CLIENT_SECRET.encode() not in request.body
        assert "basic" not in request.headers["authorization"].lower()
    assert CLIENT_SECRET.encode() not in token_request.body


async def test_token_is_refreshed_once_its_lifetime_minus_a_minute_has_passed(
    client: PayPalClient, simulator: PayPalSimulator, clock: FakeClock
) -> None:
    plan_id = await monthly_plan(client)
    clock.now += 32400 - 61  # still inside expires_in minus the 60 s margin
    await client.get_plan(plan_id=plan_id)
    assert len(token_requests(simulator)) == 1
    clock.now += 2
    await client.get_plan(plan_id=plan_id)
    assert len(token_requests(simulator)) == 2
    tokens = [r.headers["authorization"] for r in api_requests(simulator)]
    assert tokens[0] == tokens[-2] != tokens[-1]


async def test_a_401_drops_the_token_and_retries_once_with_a_fresh_one(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep
) -> None:
    plan_id = await monthly_plan(client)
    simulator.revoke_tokens()
    plan = await client.get_plan(plan_id=plan_id)
    assert plan.id == plan_id
    assert len(token_requests(simulator)) == 2
    gets = api_requests(simulator, f"/v1/billing/plans/{plan_id}")
    assert len(gets) == 2 and gets[0].headers["authorization"] != gets[1].headers["authorization"]
    assert sleeps.calls == []


async def test_a_401_that_persists_surfaces_without_looping(client: PayPalClient, simulator: PayPalSimulator) -> None:
    plan_id = await monthly_plan(client)
    simulator.fail_next(401, times=5, path_prefix="/v1/billing/plans/")
    with pytest.raises(PayPalError) as caught:
        await client.get_plan(plan_id=plan_id)
    assert caught.value.status == 401 and caught.value.name == "AUTHENTICATION_FAILURE"
    assert len(api_requests(simulator, f"/v1/billing/plans/{plan_id}")) == 2


async def test_concurrent_callers_share_one_token_refresh(client: PayPalClient, simulator: PayPalSimulator) -> None:
    products = await asyncio.gather(*(client.create_product(name=f"Product {n}") for n in range(6)))
    assert len({p.id for p in products}) == 6
    assert len(token_requests(simulator)) == 1


async def test_wrong_credentials_are_an_error_naming_invalid_client(
    simulator: PayPalSimulator, sleeps: RecordingSleep, clock: FakeClock
) -> None:
    async with make_client(simulator, sleeps, clock, client_secret="not-the-secret") as paypal:
        with pytest.raises(PayPalError) as caught:
            await paypal.create_product(name="PromptSales")
    error = caught.value
    assert error.status == 401 and error.name == "invalid_client"
    assert error.message == "Client Authentication failed"
    assert isinstance(error, UpstreamError) and "client id and secret" in error.public_message()
    assert len(token_requests(simulator)) == 1 and api_requests(simulator) == []
    assert "not-the-secret" not in error.public_message()


# ----------------------------------------------------------------------------------- idempotency, retries


async def test_every_post_carries_a_request_id_that_retries_reuse(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep
) -> None:
    simulator.fail_next(503, times=2, path_prefix="/v1/catalogs/products")
    product = await client.create_product(name="PromptSales")
    plan = await client.create_plan(product_id=product.id, name="Pro", price=Decimal("29"))
    await client.get_plan(plan_id=plan.id)

    attempts = api_requests(simulator, "/v1/catalogs/products")
    assert len(attempts) == 3
    ids = {r.headers["paypal-request-id"] for r in attempts}
    assert len(ids) == 1 and len(next(iter(ids))) == 32
    posts = [r for r in simulator.requests if r.method == "POST"]
    assert posts and all(r.headers.get("paypal-request-id") for r in posts)
    plan_post = api_requests(simulator, "/v1/billing/plans")[0]
    assert plan_post.headers["paypal-request-id"] not in ids
    assert plan_post.headers["prefer"] == "return=representation"
    assert all("paypal-request-id" not in r.headers for r in simulator.requests if r.method == "GET")
    assert len(sleeps.calls) == 2


async def test_token_requests_are_retried_too_with_one_request_id(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep
) -> None:
    simulator.fail_next(503, include_token=True)
    await client.create_product(name="PromptSales")
    first, second = token_requests(simulator)
    assert first.headers["paypal-request-id"] == second.headers["paypal-request-id"]
    assert len(sleeps.calls) == 1 and len(api_requests(simulator)) == 1


async def test_a_refusal_after_retries_reports_the_attempts_it_took(
    client: PayPalClient, simulator: PayPalSimulator
) -> None:
    simulator.fail_next(503)
    with pytest.raises(PayPalError) as caught:
        await client.get_plan(plan_id="P-MISSING")
    assert caught.value.status == 404 and caught.value.attempts == 2 and not caught.value.exhausted


async def test_429_with_retry_after_waits_exactly_that_long(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep
) -> None:
    simulator.fail_next(429, retry_after=2)
    product = await client.create_product(name="PromptSales")
    assert product.name == "PromptSales"
    assert sleeps.calls == [2.0]


async def test_503_twice_then_success_backs_off_with_capped_jitter(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep
) -> None:
    plan_id = await monthly_plan(client)
    simulator.fail_next(503, times=2)
    plan = await client.get_plan(plan_id=plan_id)
    assert plan.status == "ACTIVE"
    first, second = sleeps.calls
    assert 0.2 <= first <= 0.4 and 0.4 <= second <= 0.6  # base 0.2 s doubling, plus up to 0.2 s of jitter


async def test_backoff_never_exceeds_its_cap(
    simulator: PayPalSimulator, sleeps: RecordingSleep, clock: FakeClock
) -> None:
    async with make_client(simulator, sleeps, clock, max_attempts=8, backoff_base_s=1.0, backoff_max_s=3.0) as paypal:
        simulator.fail_next(502, times=7)
        await paypal.create_product(name="PromptSales")
    assert len(sleeps.calls) == 7 and max(sleeps.calls) == 3.0


async def test_a_400_surfaces_name_message_details_and_debug_id_without_retrying(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep
) -> None:
    with pytest.raises(PayPalError) as caught:
        await client.create_product(name="x" * 200)
    error = caught.value
    assert error.status == 400 and error.name == "INVALID_REQUEST"
    assert error.message == "Request is not well-formed, syntactically incorrect, or violates schema."
    assert error.details == [
        {
            "field": "/name",
            "location": "body",
            "issue": "INVALID_PARAMETER_SYNTAX",
            "description": "Must be a string of 1 to 127 characters.",
        }
    ]
    assert error.debug_id and len(error.debug_id) == 13
    text = str(error)
    assert text.startswith("PayPal refused the request: INVALID_REQUEST — Request is not well-formed")
    assert "/name: INVALID_PARAMETER_SYNTAX" in text and f"(debug id {error.debug_id})" in text
    assert "x" * 50 not in error.public_message()  # the request body is never echoed
    assert len(api_requests(simulator)) == 1 and sleeps.calls == []


async def test_exhausted_retries_raise_paypal_error(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep
) -> None:
    simulator.fail_next(503, times=10)
    with pytest.raises(PayPalError) as caught:
        await client.create_product(name="PromptSales")
    error = caught.value
    assert error.exhausted and error.status == 503 and error.name == "SERVICE_UNAVAILABLE" and error.attempts == 4
    assert "after 4 attempt(s)" in str(error) and "same request id" in error.public_message()
    assert len(api_requests(simulator)) == 4 and len(sleeps.calls) == 3
    assert simulator.product_ids == ()


async def test_a_retry_after_beyond_the_limit_is_handed_to_the_caller(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep
) -> None:
    simulator.fail_next(429, retry_after=120)
    with pytest.raises(PayPalError) as caught:
        await client.create_product(name="PromptSales")
    assert caught.value.name == "RATE_LIMIT_REACHED" and caught.value.retry_after_s == 120
    assert sleeps.calls == [] and len(api_requests(simulator)) == 1


async def test_transport_errors_are_retried_then_reported(
    simulator: PayPalSimulator, sleeps: RecordingSleep, clock: FakeClock
) -> None:
    inner = httpx.ASGITransport(app=simulator.app)
    async with make_client(simulator, sleeps, clock, transport=FlakyTransport(inner, 2, httpx.ConnectTimeout)) as ok:
        product = await ok.create_product(name="PromptSales")
    assert product.id in simulator.product_ids and len(sleeps.calls) == 2

    down = FlakyTransport(inner, 100, httpx.ConnectError)
    async with make_client(simulator, sleeps, clock, transport=down) as paypal:
        with pytest.raises(PayPalError) as caught:
            await paypal.get_plan(plan_id="P-1")
    assert caught.value.name == "UNREACHABLE" and caught.value.status is None and caught.value.exhausted


async def test_a_5xx_after_the_effect_is_retried_into_the_same_object(
    client: PayPalClient, simulator: PayPalSimulator
) -> None:
    simulator.fail_next(500, after_processing=True, path_prefix="/v1/catalogs/products")
    product = await client.create_product(name="PromptSales")
    assert simulator.product_ids == (product.id,)


async def test_the_same_request_id_twice_creates_one_product_and_one_subscription(
    client: PayPalClient, simulator: PayPalSimulator
) -> None:
    first = await client.create_product(name="PromptSales", request_id="product-1")
    again = await client.create_product(name="PromptSales", request_id="product-1")
    assert first == again and simulator.product_ids == (first.id,)

    plan = await client.create_plan(product_id=first.id, name="Pro", price=Decimal("29.00"))
    arguments: dict[str, Any] = {
        "plan_id": plan.id,
        "custom_id": "t-acme",
        "return_url": "https://app.example.com/r",
        "cancel_url": "https://app.example.com/c",
    }
    one = await client.create_subscription(**arguments, request_id="subscribe-acme-1")
    two = await client.create_subscription(**arguments, request_id="subscribe-acme-1")
    assert one == two and simulator.subscription_ids == (one.id,)
    other = await client.create_subscription(**arguments, request_id="subscribe-acme-2")
    assert other.id != one.id


# ------------------------------------------------------------------------------------------------- flows


async def test_plan_body_has_a_free_trial_then_an_infinite_regular_cycle(
    client: PayPalClient, simulator: PayPalSimulator
) -> None:
    product = await client.create_product(name="PromptSales")
    plan = await client.create_plan(
        product_id=product.id, name="Team yearly", price=Decimal("290"), interval_unit="YEAR", trial_days=14
    )
    assert plan.product_id == product.id and plan.name == "Team yearly" and plan.status == "ACTIVE"
    body = api_requests(simulator, "/v1/billing/plans")[0].json()
    trial, regular = body["billing_cycles"]
    assert trial == {
        "frequency": {"interval_unit": "DAY", "interval_count": 14},
        "tenure_type": "TRIAL",
        "sequence": 1,
        "total_cycles": 1,
        "pricing_scheme": {"fixed_price": {"value": "0.00", "currency_code": "USD"}},
    }
    assert regular["tenure_type"] == "REGULAR" and regular["total_cycles"] == 0 and regular["sequence"] == 2
    assert regular["pricing_scheme"]["fixed_price"] == {"value": "290.00", "currency_code": "USD"}
    assert body["payment_preferences"] == {"auto_bill_outstanding": True, "payment_failure_threshold": 3}


async def test_amounts_that_a_currency_cannot_carry_are_refused_before_any_request(
    client: PayPalClient, simulator: PayPalSimulator
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await client.create_plan(product_id="PROD-1", name="Pro", price=Decimal("29.999"))
    assert caught.value.field == "price"
    with pytest.raises(ValidationFailed):
        await client.create_order(
            amount=Decimal("100.5"),
            currency="JPY",
            custom_id="t-acme",
            description="Upgrade",
            return_url="https://app.example.com/r",
            cancel_url="https://app.example.com/c",
        )
    with pytest.raises(ValidationFailed):
        await client.create_plan(product_id="PROD-1", name="Pro", price=Decimal("-1"))
    assert simulator.requests == []


async def test_subscription_lifecycle(client: PayPalClient, simulator: PayPalSimulator) -> None:
    plan_id = await monthly_plan(client)
    created = await client.create_subscription(
        plan_id=plan_id,
        custom_id="t-acme",
        return_url="https://app.example.com/billing/return",
        cancel_url="https://app.example.com/billing/cancel",
        subscriber_email="owner@acme.example",
    )
    assert created.status == "APPROVAL_PENDING" and created.custom_id == "t-acme"
    assert created.approve_url and created.approve_url.startswith("https://www.sandbox.paypal.com/webapps/billing/")
    body = api_requests(simulator, "/v1/billing/subscriptions")[0].json()
    assert body["application_context"]["brand_name"] == "PromptSales"
    assert body["application_context"]["return_url"] == "https://app.example.com/billing/return"
    assert body["subscriber"] == {"email_address": "owner@acme.example"}

    await simulator.approve_subscription(created.id)
    active = await client.get_subscription(subscription_id=created.id)
    assert active.status == "ACTIVE" and active.approve_url is None and active.plan_id == plan_id
    assert active.start_time is not None and active.next_billing_time is not None
    assert active.next_billing_time > active.start_time
    assert active.last_payment_amount == Decimal("29.00") and active.last_payment_currency == "USD"
    assert active.failed_payments_count == 0 and active.subscriber_email == "owner@acme.example"

    await client.suspend_subscription(subscription_id=created.id, reason="Customer asked for a pause")
    assert (await client.get_subscription(subscription_id=created.id)).status == "SUSPENDED"
    await client.activate_subscription(subscription_id=created.id, reason="Back again")
    assert (await client.get_subscription(subscription_id=created.id)).status == "ACTIVE"
    await client.cancel_subscription(subscription_id=created.id, reason="Not needed anymore")
    cancelled = await client.get_subscription(subscription_id=created.id)
    assert cancelled.status == "CANCELLED" and cancelled.next_billing_time is None

    with pytest.raises(PayPalError) as caught:
        await client.cancel_subscription(subscription_id=created.id, reason="Again")
    error = caught.value
    assert error.status == 422 and error.name == "UNPROCESSABLE_ENTITY"
    assert error.details[0]["issue"] == "SUBSCRIPTION_STATUS_INVALID"
    assert "SUBSCRIPTION_STATUS_INVALID" in str(error) and "check its status" in error.public_message()


async def test_revise_returns_the_approval_link_and_applies_after_the_buyer_approves(
    client: PayPalClient, simulator: PayPalSimulator
) -> None:
    product = await client.create_product(name="PromptSales")
    pro = await client.create_plan(product_id=product.id, name="Pro", price=Decimal("29"))
    team = await client.create_plan(product_id=product.id, name="Team", price=Decimal("99"))
    subscription_id = await pending_subscription(client, pro.id)
    await simulator.approve_subscription(subscription_id)

    revised = await client.revise_subscription(subscription_id=subscription_id, plan_id=team.id)
    assert revised.id == subscription_id and revised.plan_id == pro.id and revised.status == "ACTIVE"
    assert revised.approve_url and "/webapps/billing/subscriptions/update" in revised.approve_url

    await simulator.approve(simulator.approval_token_for(revised.approve_url))
    assert (await client.get_subscription(subscription_id=subscription_id)).plan_id == team.id


async def test_unknown_ids_are_404_and_ids_cannot_escape_their_path(client: PayPalClient) -> None:
    plan_id = await monthly_plan(client)
    with pytest.raises(PayPalError) as caught:
        await client.get_subscription(subscription_id=f"../plans/{plan_id}")
    assert caught.value.status == 404 and caught.value.name == "RESOURCE_NOT_FOUND"
    assert "may belong to another PayPal account" in caught.value.public_message()
    with pytest.raises(PayPalError) as missing:
        await client.get_order(order_id="5O190127TN364715T")
    assert missing.value.status == 404


async def order_for(client: PayPalClient, amount: str = "12.50") -> str:
    order = await client.create_order(
        amount=Decimal(amount),
        currency="USD",
        custom_id="t-acme",
        description="PromptSales upgrade (prorated)",
        return_url="https://app.example.com/billing/return",
        cancel_url="https://app.example.com/billing/cancel",
    )
    assert order.status == "PAYER_ACTION_REQUIRED" and order.approve_url
    assert order.amount == Decimal(amount) and order.currency == "USD" and order.custom_id == "t-acme"
    assert order.captures == [] and not order.paid
    return order.id


async def test_order_create_approve_capture(client: PayPalClient, simulator: PayPalSimulator) -> None:
    order_id = await order_for(client)
    body = api_requests(simulator, "/v2/checkout/orders")[0].json()
    assert body["intent"] == "CAPTURE"
    assert body["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "12.50"}
    assert body["payment_source"]["paypal"]["experience_context"]["return_url"].endswith("/billing/return")

    with pytest.raises(PayPalError) as early:
        await client.capture_order(order_id=order_id)
    assert early.value.status == 422 and early.value.details[0]["issue"] == "ORDER_NOT_APPROVED"

    await simulator.approve_order(order_id)
    assert (await client.get_order(order_id=order_id)).status == "APPROVED"
    captured = await client.capture_order(order_id=order_id, request_id=f"capture-{order_id}")
    assert captured.status == "COMPLETED" and captured.paid
    (capture,) = captured.captures
    assert capture.status == "COMPLETED" and capture.amount == Decimal("12.50") and capture.currency == "USD"
    # Retrying the capture with its request id replays the first answer instead of failing.
    assert await client.capture_order(order_id=order_id, request_id=f"capture-{order_id}") == captured
    with pytest.raises(PayPalError) as twice:
        await client.capture_order(order_id=order_id)
    assert twice.value.details[0]["issue"] == "ORDER_ALREADY_CAPTURED"


async def test_a_completed_order_can_hold_a_declined_capture(client: PayPalClient, simulator: PayPalSimulator) -> None:
    order_id = await order_for(client, "40.00")
    await simulator.approve_order(order_id)
    simulator.decline_next_capture()
    captured = await client.capture_order(order_id=order_id)
    assert captured.status == "COMPLETED" and not captured.paid
    assert [c.status for c in captured.captures] == ["DECLINED"]
    assert (await client.get_order(order_id=order_id)).captures[0].status == "DECLINED"


# ---------------------------------------------------------------------------------------------- webhooks


async def test_webhook_signatures_verify_only_for_the_genuine_delivery(
    client: PayPalClient, simulator: PayPalSimulator
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def deliver(headers: dict[str, str], body: bytes) -> int:
        received.append((headers, body))
        return 200

    simulator.deliver = deliver
    plan_id = await monthly_plan(client)
    subscription_id = await pending_subscription(client, plan_id)
    await simulator.approve_subscription(subscription_id)
    await simulator.drain()
    assert [json.loads(body)["event_type"] for _, body in received] == [
        "BILLING.SUBSCRIPTION.CREATED",
        "BILLING.SUBSCRIPTION.ACTIVATED",
        "PAYMENT.SALE.COMPLETED",
    ]
    headers, body = received[-1]
    assert await client.verify_webhook_signature(headers=headers, raw_body=body, webhook_id=WEBHOOK_ID)
    lowered = {name.lower(): value for name, value in headers.items()}  # header names are case-insensitive
    assert await client.verify_webhook_signature(headers=lowered, raw_body=body, webhook_id=WEBHOOK_ID)

    other_headers, other_body = received[-2]
    forged = {**headers, signing.TRANSMISSION_SIG: other_headers[signing.TRANSMISSION_SIG]}
    tampered = body.replace(b'"total":"29.00"', b'"total":"2900.00"')
    assert tampered != body
    verify = client.verify_webhook_signature
    assert not await verify(headers=forged, raw_body=body, webhook_id=WEBHOOK_ID)
    assert not await verify(headers=headers, raw_body=tampered, webhook_id=WEBHOOK_ID)
    assert not await verify(headers=headers, raw_body=other_body, webhook_id=WEBHOOK_ID)
    assert not await verify(headers=headers, raw_body=body, webhook_id="WRONGWEBHOOKID")

    verify_calls = len(api_requests(simulator, "/v1/notifications/verify-webhook-signature"))
    missing = {k: v for k, v in headers.items() if k != signing.CERT_URL}
    assert not await verify(headers=missing, raw_body=body, webhook_id=WEBHOOK_ID)
    assert not await verify(headers=headers, raw_body=b"not json", webhook_id=WEBHOOK_ID)
    assert len(api_requests(simulator, "/v1/notifications/verify-webhook-signature")) == verify_calls
    sent = api_requests(simulator, "/v1/notifications/verify-webhook-signature")[0].json()
    assert set(sent) == {
        "auth_algo",
        "cert_url",
        "transmission_id",
        "transmission_sig",
        "transmission_time",
        "webhook_id",
        "webhook_event",
    }
    assert sent["webhook_event"] == json.loads(body)


# ----------------------------------------------------------------------------------------------- secrets


async def test_secret_and_token_never_appear_in_errors_or_repr(
    client: PayPalClient, simulator: PayPalSimulator, sleeps: RecordingSleep, clock: FakeClock
) -> None:
    errors: list[PayPalError] = []
    plan_id = await monthly_plan(client)
    for attempt in (
        client.create_product(name=""),
        client.get_subscription(subscription_id="I-NOPE"),
        client.cancel_subscription(subscription_id="I-NOPE", reason="x"),
        client.create_plan(product_id="PROD-MISSING", name="Pro", price=Decimal(5)),
    ):
        with pytest.raises(PayPalError) as caught:
            await attempt
        errors.append(caught.value)
    simulator.fail_next(503, times=4)
    with pytest.raises(PayPalError) as exhausted:
        await client.get_plan(plan_id=plan_id)
    errors.append(exhausted.value)
    async with make_client(simulator, sleeps, clock, client_secret="wrong-" + CLIENT_SECRET) as wrong:
        with pytest.raises(PayPalError) as refused:
            await wrong.get_plan(plan_id=plan_id)
        errors.append(refused.value)
        assert "wrong-" not in repr(wrong)

    tokens = {r.headers["authorization"].split(" ", 1)[1] for r in api_requests(simulator)}
    assert tokens
    texts = [repr(client), str(client.__dict__.get("_token"))]
    for error in errors:
        texts += [str(error), repr(error), error.public_message(), error.message, json.dumps(error.details)]
    for text in texts:
        assert CLIENT_SECRET not in text
        assert not any(token in text for token in tokens)
    assert repr(client) == f"PayPalClient(base_url='{BASE_URL}', client_id='{CLIENT_ID}')"
