"""The one connector request policy against a loopback fake platform (a tiny Starlette app over ASGITransport).

Waits are injected (a fake sleep that moves a fake clock), so no test really waits except the hanging-platform
one, which is bounded by the policy's own deadline (well under a second).
"""

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from structlog.testing import capture_logs

from promptsales.domain_core.infrastructure.rate_limit import InProcessRateLimiter, Limit
from promptsales.domain_core.integrations.budget import PlatformBudget, tool_class
from promptsales.domain_core.integrations.http import ConnectorHttp, Envelope, RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    ConnectorError,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)

TOKEN = "tok-SECRET-7f3a9c2e11"
QUERY_SECRET = "qs-SECRET-55aa66bb"


@dataclass
class Scripted:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0


@dataclass
class FakePlatform:
    """Answers requests from a script, in order; the last answer repeats. Records what it received."""

    script: list[Scripted]
    received: list[Request] = field(default_factory=list)
    received_headers: list[dict[str, str]] = field(default_factory=list)
    received_bodies: list[bytes] = field(default_factory=list)

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> Response:
            self.received.append(request)
            self.received_headers.append(dict(request.headers))
            self.received_bodies.append(await request.body())
            answer = self.script[min(len(self.received) - 1, len(self.script) - 1)]
            if answer.hang_s:
                await asyncio.sleep(answer.hang_s)
            if isinstance(answer.body, str):
                return Response(answer.body, answer.status, answer.headers, media_type="text/plain")
            content = b"" if answer.body is None else json.dumps(answer.body).encode()
            return Response(content, answer.status, answer.headers, media_type="application/json")

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


class FakeTime:
    """A monotonic clock that only the fake sleep moves; records every wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingLimiter:
    """The project's in-process limiter, counting what is spent."""

    def __init__(self) -> None:
        self.inner = InProcessRateLimiter()
        self.spent: list[tuple[str, str]] = []

    async def acquire(self, *, tenant_id: str, tool_class: str, limit: Limit, cost: float = 1.0) -> None:
        await self.inner.acquire(tenant_id=tenant_id, tool_class=tool_class, limit=limit, cost=cost)
        self.spent.append((tenant_id, tool_class))


async def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def client(
    platform: FakePlatform,
    *,
    connector_id: str = "hubspot",
    fake: FakeTime | None = None,
    limiter: Any = None,
    budget_limits: dict[str, Limit] | None = None,
    tenant_id: str = "ten_A",
    policy: RequestPolicy | None = None,
    clock: Callable[[], float] | None = None,
    envelope: Envelope | None = None,
) -> ConnectorHttp:
    fake = fake or FakeTime()
    connector = get_connector(connector_id)
    budget = None
    if limiter is not None:
        budget = PlatformBudget(limiter, limits=budget_limits) if budget_limits else PlatformBudget(limiter)
    return ConnectorHttp(
        connector,
        base_url=connector.sandbox_base_url,
        tenant_id=tenant_id,
        auth=_auth,
        budget=budget,
        policy=policy or RequestPolicy(attempt_timeout_s=5.0, deadline_s=120.0, max_attempts=4),
        transport=httpx.ASGITransport(app=platform.app()),
        sleep=fake.sleep,
        clock=clock or fake.clock,
        jitter=lambda: 0.0,
        envelope=envelope,
    )


async def test_429_with_retry_after_is_waited_out_exactly_and_each_attempt_spends_budget() -> None:
    platform = FakePlatform(
        [
            Scripted(429, {"status": "error", "message": "slow down"}, {"Retry-After": "3"}),
            Scripted(200, {"results": []}),
        ]
    )
    fake, limiter = FakeTime(), RecordingLimiter()
    async with client(platform, fake=fake, limiter=limiter) as http:
        response = await http.request("GET", "/crm/v3/objects/contacts", params={"limit": "100"})
    assert response.json() == {"results": []}
    assert fake.sleeps == [3.0]
    assert len(platform.received) == 2
    assert limiter.spent == [("ten_A", tool_class("hubspot"))] * 2


async def test_meta_usage_header_wait_is_honoured_on_a_throttled_400() -> None:
    usage = json.dumps(
        {
            "act_1": [
                {
                    "type": "ads_management",
                    "call_count": 100,
                    "total_cputime": 5,
                    "total_time": 5,
                    "estimated_time_to_regain_access": 1,
                }
            ]
        }
    )
    throttled = Scripted(
        400,
        {
            "error": {
                "message": "User request limit reached",
                "type": "OAuthException",
                "code": 17,
                "error_subcode": 2446079,
            }
        },
        {"X-Business-Use-Case-Usage": usage},
    )
    platform = FakePlatform([throttled, Scripted(200, {"data": []})])
    fake = FakeTime()
    async with client(platform, connector_id="meta_ads", fake=fake) as http:
        await http.request("GET", "/act_1/insights")
    assert fake.sleeps == [60.0]


async def test_5xx_is_retried_with_exponential_backoff_then_succeeds() -> None:
    platform = FakePlatform([Scripted(503), Scripted(502), Scripted(200, {"ok": True})])
    fake = FakeTime()
    async with client(platform, fake=fake) as http:
        response = await http.request("GET", "/crm/v3/objects/companies")
    assert response.status_code == 200
    assert fake.sleeps == [0.125, 0.25]  # equal jitter at jitter=0: half of 0.25 * 2**(n-1)


async def test_5xx_until_attempts_run_out_is_platform_down() -> None:
    platform = FakePlatform([Scripted(500, {"message": "internal"})])
    fake = FakeTime()
    async with client(platform, fake=fake) as http:
        with pytest.raises(PlatformDown) as caught:
            await http.request("GET", "/crm/v3/objects/deals")
    assert caught.value.status == 500 and caught.value.attempts == 4
    assert len(platform.received) == 4 and len(fake.sleeps) == 3


@pytest.mark.parametrize("status", [429, 500, 503])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_write_without_an_idempotency_key_is_sent_once(status: int, method: str) -> None:
    platform = FakePlatform([Scripted(status, headers={"Retry-After": "1"}), Scripted(201, {"id": "1"})])
    fake = FakeTime()
    async with client(platform, fake=fake) as http:
        with pytest.raises((PlatformDown, RateLimited)) as caught:
            await http.request(method, "/crm/v3/objects/contacts", json_body={"properties": {"email": "a@b.co"}})
    assert len(platform.received) == 1 and fake.sleeps == []
    if status == 429:
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after_seconds == 1.0


async def test_a_write_with_an_idempotency_key_is_retried_with_the_same_key() -> None:
    platform = FakePlatform(
        [Scripted(500), Scripted(429, headers={"Retry-After": "1"}), Scripted(201, {"ticket": {"id": 9}})]
    )
    fake = FakeTime()
    async with client(platform, connector_id="zendesk", fake=fake) as http:
        response = await http.request(
            "POST", "/tickets", json_body={"ticket": {"subject": "hi"}}, idempotency_key="k-123"
        )
    assert response.status_code == 201
    assert [h["idempotency-key"] for h in platform.received_headers] == ["k-123"] * 3
    assert fake.sleeps == [0.125, 1.0]


async def test_an_idempotency_key_is_refused_where_the_platform_takes_none() -> None:
    platform = FakePlatform([Scripted(201, {})])
    async with client(platform, connector_id="hubspot") as http:
        with pytest.raises(ValueError, match="accepts no idempotency key"):
            await http.request("POST", "/crm/v3/objects/contacts", idempotency_key="k")
    assert platform.received == []


async def test_a_write_idempotent_by_construction_may_be_retried() -> None:
    platform = FakePlatform([Scripted(503), Scripted(201, {"id": "00Q1", "success": True, "created": True})])
    async with client(platform, connector_id="salesforce") as http:
        response = await http.request(
            "PATCH", "/sobjects/Lead/Ext_Id__c/L-1", json_body={"LastName": "Ng"}, idempotent_write=True
        )
    assert response.status_code == 201 and len(platform.received) == 2


async def test_a_wait_past_the_deadline_is_not_started() -> None:
    platform = FakePlatform([Scripted(429, {"message": "later"}, {"Retry-After": "600"}), Scripted(200, {})])
    fake = FakeTime()
    async with client(platform, fake=fake) as http:
        with pytest.raises(RateLimited) as caught:
            await http.request("GET", "/crm/v3/objects/contacts")
    assert fake.sleeps == [] and len(platform.received) == 1
    assert caught.value.retry_after_seconds == 600.0
    assert "Retry in 600 s" in caught.value.public_message()


async def test_a_hanging_platform_costs_at_most_the_deadline() -> None:
    platform = FakePlatform([Scripted(200, {}, hang_s=30.0)])
    fake = FakeTime()
    policy = RequestPolicy(attempt_timeout_s=0.2, deadline_s=0.5, max_attempts=10, backoff_base_s=0.01)
    async with client(platform, fake=fake, policy=policy, clock=time.monotonic) as http:
        started = time.monotonic()
        with pytest.raises(PlatformDown) as caught:
            await http.request("GET", "/crm/v3/objects/contacts")
        elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert caught.value.deadline_hit
    assert 2 <= len(platform.received) <= 4


async def test_a_post_that_timed_out_is_not_resent_and_says_it_may_have_applied() -> None:
    platform = FakePlatform([Scripted(201, {}, hang_s=30.0)])
    policy = RequestPolicy(attempt_timeout_s=0.1, deadline_s=5.0)
    async with client(platform, policy=policy, clock=time.monotonic) as http:
        with pytest.raises(PlatformDown) as caught:
            await http.request("POST", "/crm/v3/objects/contacts", json_body={})
    assert len(platform.received) == 1
    assert caught.value.may_have_applied and "may have been applied" in caught.value.public_message()


@pytest.mark.parametrize(
    ("connector_id", "answer", "error_type", "field"),
    [
        (
            "hubspot",
            Scripted(401, {"status": "error", "message": "expired", "category": "EXPIRED_AUTHENTICATION"}),
            AuthExpired,
            None,
        ),
        (
            "meta_ads",
            Scripted(
                400, {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}
            ),
            AuthExpired,
            None,
        ),
        (
            "hubspot",
            Scripted(403, {"status": "error", "message": "missing scopes", "category": "MISSING_SCOPES"}),
            PermissionMissing,
            None,
        ),
        (
            "zendesk",
            Scripted(
                422,
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"requester": [{"description": "Requester: is invalid"}]},
                },
            ),
            PlatformValidationError,
            "requester",
        ),
        (
            "mailchimp",
            Scripted(
                400,
                {
                    "title": "Invalid Resource",
                    "status": 400,
                    "detail": "Bad email",
                    "errors": [{"field": "email_address", "message": "invalid"}],
                },
            ),
            PlatformValidationError,
            "email_address",
        ),
        (
            "salesforce",
            Scripted(
                403,
                [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                {"Sforce-Limit-Info": "api-usage=15000/15000"},
            ),
            RateLimited,
            None,
        ),
        ("canva", Scripted(404, {"code": "design_not_found", "message": "Design not found"}), ConnectorError, None),
    ],
)
async def test_platform_answers_become_typed_errors(
    connector_id: str, answer: Scripted, error_type: type[ConnectorError], field: str | None
) -> None:
    platform = FakePlatform([answer])
    async with client(platform, connector_id=connector_id) as http:
        with pytest.raises(error_type) as caught:
            await http.request("GET", "/thing")
    assert type(caught.value) is error_type
    assert caught.value.field == field
    assert caught.value.platform == get_connector(connector_id).display_name
    assert len(platform.received) == 1


async def test_secrets_never_reach_errors_or_logs() -> None:
    echo = {
        "status": "error",
        # Echoed bare, so only knowing the secret values (not their shape) can hide them.
        "message": f"got {TOKEN} and {QUERY_SECRET}",
        "category": "VALIDATION_ERROR",
    }
    platform = FakePlatform([Scripted(503, echo), Scripted(400, echo)])
    fake = FakeTime()
    with capture_logs() as logs:
        async with client(platform, fake=fake) as http:
            with pytest.raises(PlatformValidationError) as caught:
                await http.request("GET", "/crm/v3/objects/contacts", params={"access_token": QUERY_SECRET})
    assert platform.received_headers[0]["authorization"] == f"Bearer {TOKEN}"  # it was sent...
    assert platform.received[0].query_params["access_token"] == QUERY_SECRET
    error = caught.value
    shown = " ".join([error.public_message(), str(error), repr(error.args), str(error.detail)])
    assert TOKEN not in shown and QUERY_SECRET not in shown  # ...and is shown nowhere
    assert "[redacted]" in shown
    assert error.__cause__ is None
    assert logs, "the retry was logged"
    assert TOKEN not in repr(logs) and QUERY_SECRET not in repr(logs)


async def test_budget_used_up_fails_fast_with_the_wait_and_tenants_do_not_share_it() -> None:
    limiter = RecordingLimiter()
    tight = {"hubspot": Limit(capacity=2, refill_per_second=1 / 60)}
    platform = FakePlatform([Scripted(200, {})])
    async with client(platform, limiter=limiter, budget_limits=tight, tenant_id="ten_A") as http:
        await http.request("GET", "/a")
        await http.request("GET", "/b")
        with pytest.raises(RateLimited) as caught:
            await http.request("GET", "/c")
    assert len(platform.received) == 2
    assert caught.value.status is None and "request budget" in caught.value.public_message()
    assert caught.value.retry_after_seconds is not None and 0 < caught.value.retry_after_seconds <= 60
    async with client(platform, limiter=limiter, budget_limits=tight, tenant_id="ten_B") as other:
        await other.request("GET", "/d")
    assert len(platform.received) == 3


@pytest.mark.parametrize("attempt", [1, 2, 3, 6, 10])
@pytest.mark.parametrize("jitter", [0.0, 0.5, 0.999])
def test_backoff_is_equal_jitter_and_capped(attempt: int, jitter: float) -> None:
    policy = RequestPolicy(backoff_base_s=0.5, backoff_max_s=4.0)
    nominal = min(4.0, 0.5 * 2 ** (attempt - 1))
    wait = policy.backoff(attempt, jitter)
    assert nominal / 2 <= wait <= nominal


@pytest.mark.parametrize(
    "settings", [{"max_attempts": 0}, {"deadline_s": 0.0}, {"attempt_timeout_s": -1.0}, {"backoff_max_s": float("inf")}]
)
def test_a_policy_with_impossible_settings_is_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RequestPolicy(**settings)


def _google_quota(delay: str) -> dict[str, Any]:
    failure = {
        "@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
        "errors": [
            {
                "errorCode": {"quotaError": "RESOURCE_EXHAUSTED"},
                "message": "Too many requests.",
                "details": {"quotaErrorDetails": {"rateScope": "DEVELOPER", "retryDelay": delay}},
            }
        ],
    }
    return {
        "error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED", "details": [failure]}
    }


async def test_googles_retry_delay_in_the_body_is_waited_when_no_header_says() -> None:
    platform = FakePlatform([Scripted(429, _google_quota("12s")), Scripted(200, {"resourceNames": []})])
    fake = FakeTime()
    async with client(platform, connector_id="google_ads", fake=fake) as http:
        await http.request("GET", "/customers:listAccessibleCustomers")
    assert fake.sleeps == [12.0]


async def test_a_header_wait_wins_over_the_body_and_a_body_wait_past_the_deadline_fails_at_once() -> None:
    platform = FakePlatform([Scripted(429, _google_quota("12s"), {"Retry-After": "2"}), Scripted(200, {})])
    fake = FakeTime()
    async with client(platform, connector_id="google_ads", fake=fake) as http:
        await http.request("GET", "/customers:listAccessibleCustomers")
    assert fake.sleeps == [2.0]

    platform = FakePlatform([Scripted(429, _google_quota("3600s")), Scripted(200, {})])
    fake = FakeTime()
    async with client(platform, connector_id="google_ads", fake=fake) as http:
        with pytest.raises(RateLimited) as caught:
            await http.request("GET", "/customers:listAccessibleCustomers")
    assert fake.sleeps == [] and caught.value.retry_after_seconds == 3600.0
    assert "Retry in 3600 s" in caught.value.public_message()


async def test_files_go_as_multipart_with_the_form_fields() -> None:
    platform = FakePlatform([Scripted(200, {"code": 0, "message": "OK", "data": {"image_id": "i1"}})])
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
    async with client(platform, connector_id="tiktok_ads") as http:
        await http.request(
            "POST",
            "/file/image/ad/upload/",
            form={"advertiser_id": "7001", "upload_type": "UPLOAD_BY_FILE"},
            files={"image_file": ("ad.png", png, "image/png")},
        )
        with pytest.raises(ValueError, match="form fields only"):
            await http.request("POST", "/x", json_body={}, files={"f": ("a", b"1", "text/plain")})
    content_type = platform.received_headers[0]["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    body = platform.received_bodies[0]
    assert b'name="advertiser_id"\r\n\r\n7001' in body
    assert b'name="image_file"; filename="ad.png"' in body and png in body
    assert len(platform.received) == 1


async def test_tiktoks_200_envelope_becomes_typed_errors_with_the_usual_retries() -> None:
    throttled = Scripted(200, {"code": 40100, "message": "Too many requests", "request_id": "r1"})
    ok = Scripted(200, {"code": 0, "message": "OK", "data": {"list": []}})
    platform = FakePlatform([throttled, Scripted(200, {"code": 50000, "message": "System error"}), ok])
    fake = FakeTime()
    async with client(platform, connector_id="tiktok_ads", fake=fake) as http:
        response = await http.request("GET", "/campaign/get/")
    assert response.json()["code"] == 0 and fake.sleeps == [0.125, 0.25] and len(platform.received) == 3

    platform = FakePlatform([throttled, ok])
    async with client(platform, connector_id="tiktok_ads") as http:
        with pytest.raises(RateLimited) as limited:
            await http.request("POST", "/campaign/create/", json_body={"campaign_name": "x"})
    assert len(platform.received) == 1 and limited.value.platform_code == "40100"

    for body, error_type in (
        ({"code": 40105, "message": "Access token is invalid"}, AuthExpired),
        ({"code": 40002, "message": "budget: must be at least 50"}, PlatformValidationError),
    ):
        platform = FakePlatform([Scripted(200, body)])
        async with client(platform, connector_id="tiktok_ads") as http:
            with pytest.raises(error_type) as caught:
                await http.request("GET", "/campaign/get/")
        assert caught.value.detail == body["message"] and len(platform.received) == 1


async def test_an_explicit_envelope_applies_to_any_platform() -> None:
    platform = FakePlatform([Scripted(200, {"ok": False, "error": {"message": "nope", "code": 7}})])

    def envelope(body: object) -> int | None:
        return 400 if isinstance(body, dict) and body.get("ok") is False else None

    async with client(platform, connector_id="hubspot", envelope=envelope) as http:
        with pytest.raises(PlatformValidationError):
            await http.request("GET", "/thing")
    platform = FakePlatform([Scripted(200, {"code": 40100, "message": "not TikTok"})])
    async with client(platform, connector_id="hubspot") as http:
        assert (await http.request("GET", "/thing")).json()["code"] == 40100  # only TikTok reads codes in 200s
