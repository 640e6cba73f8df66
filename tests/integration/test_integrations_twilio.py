"""The Twilio client against the in-process Programmable Messaging simulator (httpx.ASGITransport into
ConnectorHttp, Basic AccountSid:AuthToken as Twilio takes it). Every callback the simulator makes is checked with
the connector's own signature check before it is parsed."""

import base64
from collections.abc import Mapping

import httpx
import pytest

from promptsales.domain_core.integrations.http import ConnectorHttp, RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.integrations.twilio.client import TwilioClient
from promptsales.domain_core.integrations.twilio.simulator import Callback, TwilioSimulator
from promptsales.domain_core.integrations.twilio.webhooks import (
    SIGNATURE_HEADER,
    InboundSms,
    SignatureVerdict,
    StatusCallback,
    TwilioEvent,
    check,
    form_params,
    parse_event,
)
from tests.integration.connector_fakes import FakeTime

ACCOUNT, OTHER = "AC" + "1" * 32, "AC" + "2" * 32
TOKEN = "live-auth-token-for-tests"
SENDER, SERVICE = "+14155550199", "MG" + "3" * 32
CUSTOMER = "+14155550100"
CALLBACK = "https://promptsales.example.com/webhooks/twilio"


@pytest.fixture
def sim(time_: FakeTime) -> TwilioSimulator:
    simulator = TwilioSimulator(clock=time_.now)
    simulator.add_account(ACCOUNT, auth_token=TOKEN, number=SENDER, service_sid=SERVICE, sms_url=CALLBACK)
    simulator.add_account(OTHER, auth_token="other-token", number="+14155550198")
    return simulator


def client(
    sim: TwilioSimulator, time_: FakeTime, *, account: str = ACCOUNT, token: str = TOKEN, path: str | None = None
) -> TwilioClient:
    """A client authenticating as ``account`` and addressing ``path`` (default: the same account)."""

    async def auth() -> Mapping[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()}

    connector = get_connector("twilio")
    http = ConnectorHttp(
        connector,
        base_url=connector.sandbox_base_url,
        tenant_id="tenant-acme",
        auth=auth,
        policy=RequestPolicy(max_attempts=4, deadline_s=600.0),
        transport=httpx.ASGITransport(app=sim.app),
        secrets=(token,),
        **time_.policy(),
    )
    return TwilioClient(http, path or account)


def verified(callbacks: list[Callback], *, token: str = TOKEN) -> list[TwilioEvent]:
    """Each callback's event, after its signature is found VALID with the account's auth token."""
    events: list[TwilioEvent] = []
    for callback in callbacks:
        params = form_params(callback.body)
        signature = callback.headers[SIGNATURE_HEADER]
        assert check(auth_token=token, url=callback.url, params=params, signature=signature) is SignatureVerdict.VALID
        events.append(parse_event(params))
    return events


async def test_a_send_answers_its_sid_and_segments_and_its_signed_statuses_follow(
    sim: TwilioSimulator, time_: FakeTime
) -> None:
    sent = await client(sim, time_).send_sms(
        CUSTOMER, "Hi Ana, your demo is booked.", sender=SENDER, status_callback=CALLBACK
    )
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert (sent.status, sent.to, sent.num_segments) == ("queued", CUSTOMER, 1)
    statuses = verified(sim.outbox)
    assert [(e.message_sid, e.status) for e in statuses if isinstance(e, StatusCallback)] == [
        (sent.sid, "queued"),
        (sent.sid, "sent"),
        (sent.sid, "delivered"),
    ]
    # Signed with this account's token: another token does not verify it.
    wrong = sim.outbox[0]
    params = form_params(wrong.body)
    assert check(auth_token="other-token", url=wrong.url, params=params, signature=wrong.headers[SIGNATURE_HEADER]) is (
        SignatureVerdict.BAD_SIGNATURE
    )


async def test_segments_are_counted_for_long_and_non_latin_texts(sim: TwilioSimulator, time_: FakeTime) -> None:
    twilio = client(sim, time_)
    assert (await twilio.send_sms(CUSTOMER, "a" * 160, sender=SENDER)).num_segments == 1
    assert (await twilio.send_sms(CUSTOMER, "a" * 161, sender=SENDER)).num_segments == 2  # 153 per part
    assert (await twilio.send_sms(CUSTOMER, "ж" * 71, sender=SENDER)).num_segments == 2  # UCS-2: 70, then 67
    via_service = await twilio.send_sms(CUSTOMER, "Hi", sender=SERVICE)
    assert via_service.status == "accepted"


async def test_after_stop_the_recipient_is_refused_with_21610_until_start(
    sim: TwilioSimulator, time_: FakeTime
) -> None:
    twilio = client(sim, time_)
    await sim.receive(ACCOUNT, CUSTOMER, "stop")
    inbound = verified(sim.outbox)
    assert [(e.from_phone, e.body, e.keyword) for e in inbound if isinstance(e, InboundSms)] == [
        (CUSTOMER, "stop", "opt_out")
    ]
    with pytest.raises(PlatformValidationError) as refused:
        await twilio.send_sms(CUSTOMER, "Still there?", sender=SENDER)
    assert refused.value.platform_code == "21610" and refused.value.field == "To"
    assert "STOP" in (refused.value.hint or "") and "consent.sms" in (refused.value.hint or "")
    await sim.receive(ACCOUNT, CUSTOMER, "START")
    assert (await twilio.send_sms(CUSTOMER, "Welcome back", sender=SENDER)).sid.startswith("SM")


async def test_a_send_is_posted_once_and_a_lost_answer_may_have_gone_out(sim: TwilioSimulator, time_: FakeTime) -> None:
    twilio = client(sim, time_)
    sim.fail_next(500, after_apply=True)
    with pytest.raises(PlatformDown) as down:
        await twilio.send_sms(CUSTOMER, "Hi", sender=SENDER)
    assert down.value.may_have_applied is True
    assert len(sim.account(ACCOUNT).messages) == 1  # it went out, and it was not sent again
    assert [m for m, _ in sim.requests] == ["POST"]

    sim.fail_next(429, retry_after=1)
    with pytest.raises(RateLimited) as limited:
        await twilio.send_sms(CUSTOMER, "Hi", sender=SENDER)
    assert limited.value.platform_code == "20429" and "nothing was sent" in (limited.value.hint or "")
    assert len(sim.account(ACCOUNT).messages) == 1

    sim.fail_next(503)
    account = await twilio.account()  # a read is retried
    assert (account.sid, account.status) == (ACCOUNT, "active")


async def test_wrong_credentials_another_account_and_bad_requests(sim: TwilioSimulator, time_: FakeTime) -> None:
    with pytest.raises(AuthExpired) as expired:
        await client(sim, time_, token="not-the-token").account()
    assert "not-the-token" not in str(expired.value)
    with pytest.raises(PermissionMissing):
        await client(sim, time_, path=OTHER).account()  # ACCOUNT's credentials on OTHER's resources
    twilio = client(sim, time_)
    with pytest.raises(PlatformValidationError) as not_ours:
        await twilio.send_sms(CUSTOMER, "Hi", sender="+14155550123")
    assert not_ours.value.platform_code == "21606"
    with pytest.raises(ValueError, match="Body"):
        await twilio.send_sms(CUSTOMER, "x" * 1601, sender=SENDER)
    with pytest.raises(ValueError, match="To"):
        await twilio.send_sms("12", "Hi", sender=SENDER)
    assert sim.account(ACCOUNT).messages == {}


async def test_an_unreachable_handset_ends_undelivered_with_its_error_code(
    sim: TwilioSimulator, time_: FakeTime
) -> None:
    sim.mark_unreachable(CUSTOMER)
    sent = await client(sim, time_).send_sms(CUSTOMER, "Hi", sender=SENDER, status_callback=CALLBACK)
    last = verified(sim.outbox)[-1]
    assert isinstance(last, StatusCallback)
    assert (last.message_sid, last.status, last.error_code) == (sent.sid, "undelivered", "30003")
