"""The PayPal sandbox simulator speaks PayPal's wire format: auth, errors, idempotency, billing and signed webhooks."""

import asyncio
import base64
import json
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from promptsales.domain_core.business.paypal import signing
from promptsales.domain_core.business.paypal.simulator import EmittedEvent, PayPalSimulator, SimulatorError
from promptsales.domain_core.business.paypal.wire import PayPalOrder, PayPalSubscription, PayPalWebhookEvent

CLIENT_ID = "sim-client-id"
CLIENT_SECRET = "sim-secret"
WEBHOOK_ID = "8PT597110X687430LKGECATA"
START = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


class SimClock:
    """The simulator's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Receiver:
    """A webhook endpoint stand-in: records deliveries and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.deliveries: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, headers: dict[str, str], body: bytes) -> int:
        self.deliveries.append((headers, body))
        return self.status

    @property
    def types(self) -> list[str]:
        return [json.loads(body)["event_type"] for _, body in self.deliveries]


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def simulator(clock: SimClock, receiver: Receiver) -> PayPalSimulator:
    return PayPalSimulator(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, webhook_id=WEBHOOK_ID, clock=clock, deliver=receiver, seed=3
    )


@pytest.fixture
async def http(simulator: PayPalSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client with a valid bearer token (no PayPalClient logic in between)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=simulator.app), base_url="https://api-m.sandbox.paypal.com"
    ) as raw:
        answer = await raw.post(
            "/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"}
        )
        raw.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield raw


def cycle(tenure: str, sequence: int, *, unit: str, count: int, total: int, price: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "frequency": {"interval_unit": unit, "interval_count": count},
        "tenure_type": tenure,
        "sequence": sequence,
        "total_cycles": total,
    }
    if price is not None:
        body["pricing_scheme"] = {"fixed_price": {"value": price, "currency_code": "USD"}}
    return body


async def create_plan(http: httpx.AsyncClient, *, trial_days: int = 0, threshold: int = 3) -> str:
    product = await http.post("/v1/catalogs/products", json={"name": "PromptSales", "type": "SERVICE"})
    assert product.status_code == 201 and product.json()["id"].startswith("PROD-")
    cycles = [cycle("REGULAR", 1, unit="MONTH", count=1, total=0, price="29.00")]
    if trial_days:
        cycles = [
            cycle("TRIAL", 1, unit="DAY", count=trial_days, total=1, price="0"),
            {**cycles[0], "sequence": 2},
        ]
    plan = await http.post(
        "/v1/billing/plans",
        json={
            "product_id": product.json()["id"],
            "name": "Pro",
            "billing_cycles": cycles,
            "payment_preferences": {"auto_bill_outstanding": True, "payment_failure_threshold": threshold},
        },
    )
    assert plan.status_code == 201, plan.text
    assert plan.json()["id"].startswith("P-") and plan.json()["status"] == "ACTIVE"
    return str(plan.json()["id"])


async def create_subscription(http: httpx.AsyncClient, plan_id: str, **extra: Any) -> dict[str, Any]:
    answer = await http.post(
        "/v1/billing/subscriptions",
        json={
            "plan_id": plan_id,
            "custom_id": "t-acme",
            "application_context": {
                "return_url": "https://app.example.com/return",
                "cancel_url": "https://app.example.com/cancel",
            },
            **extra,
        },
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def create_order(http: httpx.AsyncClient, *, payment_source: bool = True) -> dict[str, Any]:
    context = {"return_url": "https://app.example.com/return", "cancel_url": "https://app.example.com/cancel"}
    body: dict[str, Any] = {
        "intent": "CAPTURE",
        "purchase_units": [{"custom_id": "t-acme", "amount": {"currency_code": "USD", "value": "15.00"}}],
    }
    if payment_source:
        body["payment_source"] = {"paypal": {"experience_context": context}}
    else:
        body["application_context"] = context
    answer = await http.post("/v2/checkout/orders", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def assert_paypal_error(answer: httpx.Response, status: int, name: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["name"] == name and body["message"]
    assert body["debug_id"] == answer.headers["paypal-debug-id"]
    assert isinstance(body["details"], list) and body["links"][0]["rel"] == "information_link"
    return body


def events_of(simulator: PayPalSimulator, event_type: str) -> list[EmittedEvent]:
    return [e for e in simulator.events if e.event_type == event_type]


# -------------------------------------------------------------------------------------------- OAuth, auth


async def test_token_endpoint_checks_basic_credentials_and_grant(simulator: PayPalSimulator) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator.app), base_url="https://sim") as raw:
        good = await raw.post(
            "/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"}
        )
        wrong = await raw.post("/v1/oauth2/token", auth=(CLIENT_ID, "nope"), data={"grant_type": "client_credentials"})
        anonymous = await raw.post("/v1/oauth2/token", data={"grant_type": "client_credentials"})
        no_grant = await raw.post("/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "password"})
        no_bearer = await raw.get("/v1/billing/plans/P-1")
        bad_bearer = await raw.get("/v1/billing/plans/P-1", headers={"Authorization": "Bearer forged"})
    body = good.json()
    assert good.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 32400
    assert body["access_token"].startswith("A21AA") and {"scope", "app_id", "nonce"} <= set(body)
    for refused in (wrong, anonymous):
        assert refused.status_code == 401
        assert refused.json() == {"error": "invalid_client", "error_description": "Client Authentication failed"}
    assert no_grant.status_code == 400 and no_grant.json()["error"] == "unsupported_grant_type"
    assert_paypal_error(no_bearer, 401, "AUTHENTICATION_FAILURE")
    assert_paypal_error(bad_bearer, 401, "AUTHENTICATION_FAILURE")


async def test_tokens_expire_on_the_simulator_clock(
    http: httpx.AsyncClient, simulator: PayPalSimulator, clock: SimClock
) -> None:
    plan_id = await create_plan(http)
    clock.now += timedelta(seconds=32399)
    assert (await http.get(f"/v1/billing/plans/{plan_id}")).status_code == 200
    clock.now += timedelta(seconds=1)
    assert_paypal_error(await http.get(f"/v1/billing/plans/{plan_id}"), 401, "AUTHENTICATION_FAILURE")


# ------------------------------------------------------------------------------------ validation, errors


async def test_validation_errors_name_the_field_and_issue(http: httpx.AsyncClient) -> None:
    missing_name = assert_paypal_error(await http.post("/v1/catalogs/products", json={}), 400, "INVALID_REQUEST")
    assert missing_name["details"] == [
        {
            "field": "/name",
            "location": "body",
            "issue": "MISSING_REQUIRED_PARAMETER",
            "description": "A required field / parameter is missing.",
        }
    ]
    bad_type = await http.post("/v1/catalogs/products", json={"name": "X", "type": "BOAT"})
    assert assert_paypal_error(bad_type, 400, "INVALID_REQUEST")["details"][0]["field"] == "/type"

    malformed = await http.post(
        "/v1/catalogs/products", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_paypal_error(malformed, 400, "MALFORMED_REQUEST_JSON")

    product_id = (await http.post("/v1/catalogs/products", json={"name": "X"})).json()["id"]
    two_regular = {
        "product_id": product_id,
        "name": "Broken",
        "billing_cycles": [
            cycle("REGULAR", 1, unit="MONTH", count=1, total=0, price="10"),
            cycle("REGULAR", 2, unit="MONTH", count=1, total=0, price="10"),
        ],
    }
    answer = assert_paypal_error(await http.post("/v1/billing/plans", json=two_regular), 400, "INVALID_REQUEST")
    assert answer["details"][0]["field"] == "/billing_cycles"
    too_precise = {
        **two_regular,
        "billing_cycles": [cycle("REGULAR", 1, unit="MONTH", count=13, total=0, price="9.999")],
    }
    issues = assert_paypal_error(await http.post("/v1/billing/plans", json=too_precise), 400, "INVALID_REQUEST")
    assert {d["issue"] for d in issues["details"]} == {"INVALID_PARAMETER_VALUE", "DECIMAL_PRECISION"}


async def test_unknown_ids_and_routes_are_404_resource_not_found(http: httpx.AsyncClient) -> None:
    for path in (
        "/v1/catalogs/products/PROD-NOPE",
        "/v1/billing/plans/P-NOPE",
        "/v1/billing/subscriptions/I-NOPE",
        "/v2/checkout/orders/NOPE",
        "/v1/no/such/route",
    ):
        assert_paypal_error(await http.get(path), 404, "RESOURCE_NOT_FOUND")
    unknown_product = await http.post(
        "/v1/billing/plans",
        json={
            "product_id": "PROD-NOPE",
            "name": "P",
            "billing_cycles": [cycle("REGULAR", 1, unit="MONTH", count=1, total=0, price="1")],
        },
    )
    body = assert_paypal_error(unknown_product, 404, "RESOURCE_NOT_FOUND")
    assert body["details"][0] == {
        "field": "/product_id",
        "location": "body",
        "issue": "INVALID_RESOURCE_ID",
        "description": "The specified product does not exist.",
    }


# ------------------------------------------------------------------------------------- idempotency, faults


async def test_same_request_id_on_the_same_route_replays_the_first_answer(
    http: httpx.AsyncClient, simulator: PayPalSimulator
) -> None:
    headers = {"PayPal-Request-Id": "req-1"}
    first = await http.post("/v1/catalogs/products", json={"name": "A"}, headers=headers)
    again = await http.post("/v1/catalogs/products", json={"name": "B"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and len(simulator.product_ids) == 1
    assert again.headers["paypal-debug-id"] != first.headers["paypal-debug-id"]
    other = await http.post("/v1/catalogs/products", json={"name": "A"}, headers={"PayPal-Request-Id": "req-2"})
    without = await http.post("/v1/catalogs/products", json={"name": "A"})
    assert other.status_code == without.status_code == 201 and len(simulator.product_ids) == 3

    plan_id = await create_plan(http)
    subscription = {"plan_id": plan_id}
    one = await http.post("/v1/billing/subscriptions", json=subscription, headers=headers)  # same id, other route
    two = await http.post("/v1/billing/subscriptions", json=subscription, headers=headers)
    assert (one.status_code, two.status_code) == (201, 200) and one.json() == two.json()
    assert len(simulator.subscription_ids) == 1

    subscription_id = one.json()["id"]
    await simulator.approve_subscription(subscription_id)
    cancel = f"/v1/billing/subscriptions/{subscription_id}/cancel"
    done = await http.post(cancel, json={"reason": "bye"}, headers={"PayPal-Request-Id": "cancel-1"})
    replay = await http.post(cancel, json={"reason": "bye"}, headers={"PayPal-Request-Id": "cancel-1"})
    fresh = await http.post(cancel, json={"reason": "bye"}, headers={"PayPal-Request-Id": "cancel-2"})
    assert (done.status_code, replay.status_code) == (204, 204) and replay.content == b""
    assert (
        assert_paypal_error(fresh, 422, "UNPROCESSABLE_ENTITY")["details"][0]["issue"] == "SUBSCRIPTION_STATUS_INVALID"
    )
    assert len(events_of(simulator, "BILLING.SUBSCRIPTION.CANCELLED")) == 1


async def test_fail_next_injects_paypal_shaped_failures(http: httpx.AsyncClient, simulator: PayPalSimulator) -> None:
    simulator.fail_next(429, times=2, retry_after=7)
    token = await http.post(
        "/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"}
    )
    assert token.status_code == 200  # the token endpoint is spared unless asked
    limited = await http.get("/v1/catalogs/products")
    body = assert_paypal_error(limited, 429, "RATE_LIMIT_REACHED")
    assert (
        body["message"] == "Too many requests. Blocked due to rate limiting." and limited.headers["retry-after"] == "7"
    )
    assert (await http.get("/v1/catalogs/products")).status_code == 429
    assert (await http.get("/v1/catalogs/products")).status_code == 200

    simulator.fail_next(503, path_prefix="/v2/checkout/orders")
    assert (await http.get("/v1/catalogs/products")).status_code == 200
    assert_paypal_error(await http.get("/v2/checkout/orders/X"), 503, "SERVICE_UNAVAILABLE")

    simulator.fail_next(500, include_token=True, name="INTERNAL_SERVICE_ERROR")
    failed_token = await http.post(
        "/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"}
    )
    assert_paypal_error(failed_token, 500, "INTERNAL_SERVICE_ERROR")

    simulator.fail_next(502, after_processing=True)
    applied = await http.post("/v1/catalogs/products", json={"name": "A"}, headers={"PayPal-Request-Id": "p-502"})
    assert applied.status_code == 502 and len(simulator.product_ids) == 1
    retried = await http.post("/v1/catalogs/products", json={"name": "A"}, headers={"PayPal-Request-Id": "p-502"})
    assert retried.status_code == 200 and retried.json()["id"] == simulator.product_ids[0]


async def test_requests_are_recorded_with_their_headers_and_bodies(
    http: httpx.AsyncClient, simulator: PayPalSimulator
) -> None:
    await http.post("/v1/catalogs/products?x=1", json={"name": "A"}, headers={"PayPal-Request-Id": "r-1"})
    token_request, product_request = simulator.requests
    assert token_request.path == "/v1/oauth2/token" and token_request.headers["authorization"].startswith("Basic ")
    assert product_request.method == "POST" and product_request.path == "/v1/catalogs/products"
    assert product_request.query == "x=1" and product_request.headers["paypal-request-id"] == "r-1"
    assert product_request.json() == {"name": "A"}


# ------------------------------------------------------------------------------------- subscription billing


async def test_approval_without_trial_activates_then_bills_the_first_cycle(
    http: httpx.AsyncClient, simulator: PayPalSimulator, receiver: Receiver, clock: SimClock
) -> None:
    plan_id = await create_plan(http)
    created = await create_subscription(http, plan_id, subscriber={"email_address": "owner@acme.example"})
    assert created["id"].startswith("I-") and created["status"] == "APPROVAL_PENDING"
    approve = next(link["href"] for link in created["links"] if link["rel"] == "approve")
    assert approve.startswith("https://www.sandbox.paypal.com/webapps/billing/subscriptions?ba_token=BA-")

    clock.now = START + timedelta(minutes=5)
    redirect = await simulator.approve(simulator.approval_token_for(approve))
    assert redirect is not None and redirect.startswith(
        f"https://app.example.com/return?subscription_id={created['id']}"
    )
    await simulator.drain()
    assert receiver.types == [
        "BILLING.SUBSCRIPTION.CREATED",
        "BILLING.SUBSCRIPTION.ACTIVATED",
        "PAYMENT.SALE.COMPLETED",
    ]

    shown = (await http.get(f"/v1/billing/subscriptions/{created['id']}")).json()
    assert shown["status"] == "ACTIVE" and shown["start_time"] == "2026-01-31T09:35:00Z"
    assert shown["billing_info"]["next_billing_time"] == "2026-02-28T09:35:00Z"  # month end clamps
    assert shown["billing_info"]["last_payment"] == {
        "amount": {"currency_code": "USD", "value": "29.00"},
        "time": "2026-01-31T09:35:00Z",
    }
    assert shown["billing_info"]["cycle_executions"][0]["cycles_completed"] == 1
    assert not any(link["rel"] == "approve" for link in shown["links"])
    assert PayPalSubscription.from_api(shown).custom_id == "t-acme"

    sale = PayPalWebhookEvent.model_validate_json(receiver.deliveries[-1][1])
    assert sale.resource_type == "sale" and sale.billing_agreement_id == created["id"]
    assert sale.custom_id == "t-acme" and sale.amount == Decimal("29.00") and sale.currency == "USD"
    assert sale.resource["state"] == "completed" and sale.resource["amount"]["total"] == "29.00"


async def test_a_trial_bills_nothing_until_its_end_then_cycles_advance_one_interval(
    http: httpx.AsyncClient, simulator: PayPalSimulator
) -> None:
    plan_id = await create_plan(http, trial_days=14)
    subscription_id = (await create_subscription(http, plan_id))["id"]
    await simulator.approve_subscription(subscription_id)
    assert not events_of(simulator, "PAYMENT.SALE.COMPLETED")
    shown = PayPalSubscription.from_api((await http.get(f"/v1/billing/subscriptions/{subscription_id}")).json())
    assert shown.status == "ACTIVE" and shown.next_billing_time == START + timedelta(days=14)
    assert shown.last_payment_amount is None

    await simulator.bill_cycle(subscription_id)
    await simulator.bill_cycle(subscription_id)
    assert len(events_of(simulator, "PAYMENT.SALE.COMPLETED")) == 2
    shown = PayPalSubscription.from_api((await http.get(f"/v1/billing/subscriptions/{subscription_id}")).json())
    assert shown.next_billing_time == datetime(2026, 4, 14, 9, 30, tzinfo=UTC)
    assert shown.last_payment_amount == Decimal("29.00")


async def test_failed_payments_count_up_and_suspend_at_the_threshold(
    http: httpx.AsyncClient, simulator: PayPalSimulator
) -> None:
    plan_id = await create_plan(http, threshold=3)
    subscription_id = (await create_subscription(http, plan_id))["id"]
    await simulator.approve_subscription(subscription_id)
    due = (await http.get(f"/v1/billing/subscriptions/{subscription_id}")).json()["billing_info"]["next_billing_time"]

    await simulator.bill_cycle(subscription_id, succeed=False)
    await simulator.bill_cycle(subscription_id, succeed=False)
    shown = (await http.get(f"/v1/billing/subscriptions/{subscription_id}")).json()
    assert shown["status"] == "ACTIVE" and shown["billing_info"]["failed_payments_count"] == 2
    assert shown["billing_info"]["next_billing_time"] == due  # the unpaid cycle stays due
    assert shown["billing_info"]["outstanding_balance"] == {"currency_code": "USD", "value": "58.00"}

    await simulator.bill_cycle(subscription_id, succeed=False)
    failed = events_of(simulator, "BILLING.SUBSCRIPTION.PAYMENT.FAILED")
    assert len(failed) == 3 and failed[-1].event["resource"]["billing_info"]["failed_payments_count"] == 3
    (suspended,) = events_of(simulator, "BILLING.SUBSCRIPTION.SUSPENDED")
    assert simulator.events[-1] is suspended and suspended.event["resource"]["status"] == "SUSPENDED"
    with pytest.raises(SimulatorError):
        await simulator.bill_cycle(subscription_id)

    reactivate = f"/v1/billing/subscriptions/{subscription_id}/activate"
    assert (await http.post(reactivate, json={"reason": "Card updated"})).status_code == 204
    await simulator.bill_cycle(subscription_id)
    shown = (await http.get(f"/v1/billing/subscriptions/{subscription_id}")).json()
    assert shown["status"] == "ACTIVE" and shown["billing_info"]["failed_payments_count"] == 0


async def test_invalid_subscription_transitions_are_422(http: httpx.AsyncClient, simulator: PayPalSimulator) -> None:
    plan_id = await create_plan(http)
    subscription_id = (await create_subscription(http, plan_id))["id"]
    base = f"/v1/billing/subscriptions/{subscription_id}"
    for action in ("cancel", "suspend", "activate"):
        body = assert_paypal_error(
            await http.post(f"{base}/{action}", json={"reason": "x"}), 422, "UNPROCESSABLE_ENTITY"
        )
        assert body["details"][0]["issue"] == "SUBSCRIPTION_STATUS_INVALID"
    revise = await http.post(f"{base}/revise", json={"plan_id": plan_id})
    assert (
        assert_paypal_error(revise, 422, "UNPROCESSABLE_ENTITY")["details"][0]["issue"] == "SUBSCRIPTION_STATUS_INVALID"
    )

    await simulator.approve_subscription(subscription_id)
    assert_paypal_error(await http.post(f"{base}/suspend", json={}), 400, "INVALID_REQUEST")  # reason is required
    assert (await http.post(f"{base}/suspend", json={"reason": "pause"})).status_code == 204
    assert_paypal_error(await http.post(f"{base}/suspend", json={"reason": "again"}), 422, "UNPROCESSABLE_ENTITY")
    assert (await http.post(f"{base}/cancel", json={"reason": "done"})).status_code == 204
    assert_paypal_error(await http.post(f"{base}/activate", json={"reason": "back"}), 422, "UNPROCESSABLE_ENTITY")
    with pytest.raises(SimulatorError):
        await simulator.approve_subscription(subscription_id)
    with pytest.raises(SimulatorError):
        await simulator.approve_subscription("I-UNKNOWN")


async def test_inactive_plans_cannot_be_subscribed_to(http: httpx.AsyncClient) -> None:
    product_id = (await http.post("/v1/catalogs/products", json={"name": "X"})).json()["id"]
    plan = await http.post(
        "/v1/billing/plans",
        json={
            "product_id": product_id,
            "name": "Draft",
            "status": "CREATED",
            "billing_cycles": [cycle("REGULAR", 1, unit="MONTH", count=1, total=0, price="5")],
        },
    )
    answer = await http.post("/v1/billing/subscriptions", json={"plan_id": plan.json()["id"]})
    assert assert_paypal_error(answer, 422, "UNPROCESSABLE_ENTITY")["details"][0]["issue"] == "PLAN_STATUS_INVALID"


# -------------------------------------------------------------------------------------------------- orders


async def test_order_flow_and_its_state_errors(
    http: httpx.AsyncClient, simulator: PayPalSimulator, receiver: Receiver
) -> None:
    legacy = await create_order(http, payment_source=False)
    assert legacy["status"] == "CREATED" and any(link["rel"] == "approve" for link in legacy["links"])

    created = await create_order(http)
    assert created["status"] == "PAYER_ACTION_REQUIRED"
    action = next(link["href"] for link in created["links"] if link["rel"] == "payer-action")
    assert action == f"https://www.sandbox.paypal.com/checkoutnow?token={created['id']}"
    capture = f"/v2/checkout/orders/{created['id']}/capture"
    early = assert_paypal_error(await http.post(capture, json={}), 422, "UNPROCESSABLE_ENTITY")
    assert early["details"][0]["issue"] == "ORDER_NOT_APPROVED"

    assert simulator.cancel_approval(created["id"]) == f"https://app.example.com/cancel?token={created['id']}"
    redirect = await simulator.approve(simulator.approval_token_for(action))
    assert redirect is not None and redirect.startswith(
        f"https://app.example.com/return?token={created['id']}&PayerID="
    )
    approved = PayPalWebhookEvent.model_validate_json(receiver.deliveries[-1][1])
    assert approved.event_type == "CHECKOUT.ORDER.APPROVED" and approved.resource_type == "checkout-order"
    assert approved.order_id == created["id"] and approved.custom_id == "t-acme"
    with pytest.raises(SimulatorError):
        await simulator.approve_order(created["id"])

    captured = await http.post(capture, content=b"", headers={"Content-Type": "application/json"})
    assert captured.status_code == 201
    order = PayPalOrder.from_api(captured.json())
    assert order.status == "COMPLETED" and order.paid and order.captures[0].amount == Decimal("15.00")
    await simulator.drain()
    completed = PayPalWebhookEvent.model_validate_json(receiver.deliveries[-1][1])
    assert completed.event_type == "PAYMENT.CAPTURE.COMPLETED" and completed.order_id == created["id"]
    assert completed.resource_id == order.captures[0].id and completed.amount == Decimal("15.00")
    again = assert_paypal_error(await http.post(capture, json={}), 422, "UNPROCESSABLE_ENTITY")
    assert again["details"][0]["issue"] == "ORDER_ALREADY_CAPTURED"


async def test_a_declined_capture_completes_the_order_and_emits_declined(
    http: httpx.AsyncClient, simulator: PayPalSimulator
) -> None:
    created = await create_order(http)
    await simulator.approve_order(created["id"])
    simulator.decline_next_capture()
    captured = (await http.post(f"/v2/checkout/orders/{created['id']}/capture", json={})).json()
    assert captured["status"] == "COMPLETED"
    assert captured["purchase_units"][0]["payments"]["captures"][0]["status"] == "DECLINED"
    assert simulator.events[-1].event_type == "PAYMENT.CAPTURE.DECLINED"
    second = await create_order(http)
    await simulator.approve_order(second["id"])
    again = (await http.post(f"/v2/checkout/orders/{second['id']}/capture", json={})).json()
    assert again["purchase_units"][0]["payments"]["captures"][0]["status"] == "COMPLETED"  # only the next one


async def test_order_validation(http: httpx.AsyncClient) -> None:
    bad = await http.post(
        "/v2/checkout/orders",
        json={"intent": "AUTHORIZE", "purchase_units": [{"amount": {"currency_code": "usd", "value": "1"}}]},
    )
    fields = {d["field"] for d in assert_paypal_error(bad, 400, "INVALID_REQUEST")["details"]}
    assert fields == {"/intent", "/purchase_units/0/amount/currency_code"}
    zero = await http.post(
        "/v2/checkout/orders",
        json={"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "0.00"}}]},
    )
    assert assert_paypal_error(zero, 400, "INVALID_REQUEST")["details"][0]["issue"] == "INVALID_PARAMETER_VALUE"


# ------------------------------------------------------------------------------------------------ webhooks


async def emitted_sale(http: httpx.AsyncClient, simulator: PayPalSimulator) -> EmittedEvent:
    plan_id = await create_plan(http)
    subscription_id = (await create_subscription(http, plan_id))["id"]
    await simulator.approve_subscription(subscription_id)
    return events_of(simulator, "PAYMENT.SALE.COMPLETED")[-1]


async def test_events_are_signed_over_the_crc32_string_with_the_published_certificate(
    http: httpx.AsyncClient, simulator: PayPalSimulator
) -> None:
    sale = await emitted_sale(http, simulator)
    headers, event = sale.headers, sale.event
    assert event["id"].startswith("WH-") and event["event_version"] == "1.0" and event["resource_version"] == "1.0"
    assert event["create_time"] == "2026-01-31T09:30:00Z" and event["summary"]
    assert [link["rel"] for link in event["links"]] == ["self", "resend"]
    assert headers[signing.AUTH_ALGO] == "SHA256withRSA" and headers[signing.CERT_URL] == simulator.cert_url
    assert headers[signing.TRANSMISSION_TIME] == "2026-01-31T09:30:00Z"

    cert_path = simulator.cert_url.removeprefix(simulator.api_base_url)
    pem = await http.get(cert_path, headers={"Authorization": ""})  # public, like PayPal's cert URLs
    assert pem.status_code == 200 and pem.content == simulator.certificate_pem
    assert (await http.get("/v1/notifications/certs/CERT-other")).status_code == 404

    # Recompute the signed string independently: id|time|webhook id|unsigned decimal CRC32 of the raw bytes.
    crc = zlib.crc32(sale.raw_body) & 0xFFFFFFFF
    message = f"{headers[signing.TRANSMISSION_ID]}|{headers[signing.TRANSMISSION_TIME]}|{WEBHOOK_ID}|{crc}".encode()
    public_key = x509.load_pem_x509_certificate(pem.content).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(base64.b64decode(headers[signing.TRANSMISSION_SIG]), message, padding.PKCS1v15(), hashes.SHA256())
    assert signing.verify_transmission(
        headers=headers, raw_body=sale.raw_body, webhook_id=WEBHOOK_ID, certificate_pem=pem.content
    )
    assert not signing.verify_transmission(
        headers=headers, raw_body=sale.raw_body + b" ", webhook_id=WEBHOOK_ID, certificate_pem=pem.content
    )
    assert not signing.verify_transmission(
        headers=headers, raw_body=sale.raw_body, webhook_id="OTHER", certificate_pem=pem.content
    )


async def test_verify_webhook_signature_succeeds_only_for_genuine_transmissions(
    http: httpx.AsyncClient, simulator: PayPalSimulator
) -> None:
    sale = await emitted_sale(http, simulator)
    activated = events_of(simulator, "BILLING.SUBSCRIPTION.ACTIVATED")[-1]

    def request(event: EmittedEvent, **override: Any) -> dict[str, Any]:
        body = {
            "auth_algo": event.headers[signing.AUTH_ALGO],
            "cert_url": event.headers[signing.CERT_URL],
            "transmission_id": event.headers[signing.TRANSMISSION_ID],
            "transmission_sig": event.headers[signing.TRANSMISSION_SIG],
            "transmission_time": event.headers[signing.TRANSMISSION_TIME],
            "webhook_id": WEBHOOK_ID,
            "webhook_event": json.loads(event.raw_body),
        }
        return {**body, **override}

    async def status(body: dict[str, Any]) -> str:
        answer = await http.post("/v1/notifications/verify-webhook-signature", json=body)
        assert answer.status_code == 200  # a failed check is still HTTP 200
        return str(answer.json()["verification_status"])

    tampered = json.loads(sale.raw_body)
    tampered["resource"]["amount"]["total"] = "0.01"
    assert await status(request(sale)) == "SUCCESS"
    assert await status(request(activated)) == "SUCCESS"
    assert await status(request(sale, webhook_id="OTHERWEBHOOK")) == "FAILURE"
    assert await status(request(sale, webhook_event=tampered)) == "FAILURE"
    assert await status(request(sale, webhook_event=json.loads(activated.raw_body))) == "FAILURE"  # replayed headers
    assert await status(request(sale, transmission_sig=activated.headers[signing.TRANSMISSION_SIG])) == "FAILURE"
    assert await status(request(sale, transmission_sig="bm90IGEgc2lnbmF0dXJl")) == "FAILURE"
    assert await status(request(sale, transmission_id="00000000-0000-4000-8000-000000000000")) == "FAILURE"
    assert await status(request(sale, cert_url="https://evil.example/cert.pem")) == "FAILURE"
    assert await status(request(sale, transmission_time="2026-01-31T09:31:00Z")) == "FAILURE"

    incomplete = request(sale)
    del incomplete["transmission_sig"]
    missing = await http.post("/v1/notifications/verify-webhook-signature", json=incomplete)
    assert assert_paypal_error(missing, 400, "INVALID_REQUEST")["details"][0]["field"] == "/transmission_sig"


async def test_redelivery_resends_the_same_bytes_and_failures_are_recorded(
    http: httpx.AsyncClient, simulator: PayPalSimulator, receiver: Receiver
) -> None:
    receiver.status = 500
    sale = await emitted_sale(http, simulator)
    await simulator.drain()
    assert simulator.deliveries[-1].event_id == sale.id and not simulator.deliveries[-1].ok
    assert simulator.deliveries[-1].status == 500

    receiver.status = 200
    attempts = await simulator.redeliver(sale.id, times=2)
    assert [a.ok for a in attempts] == [True, True]
    original, *resent = [d for d in receiver.deliveries if d[1] == sale.raw_body]
    assert len(resent) == 2 and all(headers == original[0] for headers, _ in resent)
    with pytest.raises(SimulatorError):
        await simulator.redeliver("WH-UNKNOWN")

    async def crashing(headers: dict[str, str], body: bytes) -> int:
        raise RuntimeError("receiver bug")

    simulator.deliver = crashing
    (crashed,) = await simulator.redeliver(sale.id)
    assert crashed.status is None and crashed.error == "RuntimeError: receiver bug" and not crashed.ok


async def test_api_triggered_webhooks_arrive_after_the_api_answer(
    http: httpx.AsyncClient, simulator: PayPalSimulator
) -> None:
    plan_id = await create_plan(http)
    subscription_id = (await create_subscription(http, plan_id))["id"]
    await simulator.approve_subscription(subscription_id)
    release = asyncio.Event()
    seen: list[str] = []

    async def slow_receiver(headers: dict[str, str], body: bytes) -> int:
        await release.wait()  # e.g. a handler waiting for a lock the API caller still holds
        seen.append(json.loads(body)["event_type"])
        return 200

    simulator.deliver = slow_receiver
    cancel = await http.post(f"/v1/billing/subscriptions/{subscription_id}/cancel", json={"reason": "bye"})
    assert cancel.status_code == 204 and seen == []
    release.set()
    await simulator.drain()
    assert seen == ["BILLING.SUBSCRIPTION.CANCELLED"]


async def test_the_same_seed_and_clock_give_the_same_objects(clock: SimClock) -> None:
    bodies = []
    for _ in range(2):
        sim = PayPalSimulator(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, webhook_id=WEBHOOK_ID, clock=clock, seed=42
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="https://sim") as raw:
            token = (
                await raw.post(
                    "/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"}
                )
            ).json()["access_token"]
            answer = await raw.post(
                "/v1/catalogs/products", json={"name": "A"}, headers={"Authorization": f"Bearer {token}"}
            )
        bodies.append(answer.json())
    assert bodies[0] == bodies[1]


async def test_each_approval_link_approves_only_what_it_was_issued_for(
    http: httpx.AsyncClient, simulator: PayPalSimulator, receiver: Receiver
) -> None:
    plan_id = await create_plan(http)
    other_plan = await create_plan(http)
    created = await create_subscription(http, plan_id)
    signup = next(link["href"] for link in created["links"] if link["rel"] == "approve")
    await simulator.approve(simulator.approval_token_for(signup))
    revision = (
        await http.post(f"/v1/billing/subscriptions/{created['id']}/revise", json={"plan_id": other_plan})
    ).json()
    assert revision["plan_id"] == other_plan
    update = next(link["href"] for link in revision["links"] if link["rel"] == "approve")

    with pytest.raises(SimulatorError):
        await simulator.approve(simulator.approval_token_for(signup))  # the spent sign-up link
    shown = (await http.get(f"/v1/billing/subscriptions/{created['id']}")).json()
    assert shown["plan_id"] == plan_id
    await simulator.approve(simulator.approval_token_for(update))
    shown = (await http.get(f"/v1/billing/subscriptions/{created['id']}")).json()
    assert shown["plan_id"] == other_plan and receiver.types[-1] == "BILLING.SUBSCRIPTION.UPDATED"
    with pytest.raises(SimulatorError):
        simulator.approval_token_for(update)  # used up


def test_approval_tokens_must_come_from_this_simulator(simulator: PayPalSimulator) -> None:
    with pytest.raises(SimulatorError):
        simulator.approval_token_for("https://www.sandbox.paypal.com/checkoutnow?token=FOREIGN")
    with pytest.raises(SimulatorError):
        simulator.cancel_approval("BA-FOREIGN")
