"""The WhatsApp client against the in-process Cloud API simulator (httpx.ASGITransport into ConnectorHttp).

Time is faked (tests.integration.connector_fakes): retries sleep on a fake clock that the simulator reads too, so
the 24-hour window and rate windows really pass and no test waits. Every webhook the simulator emits is checked
with the connector's own signature check before it is parsed.
"""

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.integrations.whatsapp.client import TEXT_MAX, WhatsAppClient
from promptsales.domain_core.integrations.whatsapp.simulator import WebhookDelivery, WhatsAppSimulator
from promptsales.domain_core.integrations.whatsapp.webhooks import (
    SIGNATURE_HEADER,
    InboundMessage,
    SignatureVerdict,
    StatusUpdate,
    WhatsAppEvent,
    check,
    parse_payload,
)
from tests.integration.connector_fakes import T0, FakeTime

TOKEN = "EAAGm0PX4ZCpsBAsimulatedSystemUserTokenAcme0001"
OTHER_TOKEN = "EAAGm0PX4ZCpsBAsimulatedSystemUserTokenGlobex002"
NUMBER, OTHER_NUMBER = "106540352242922", "106540352249999"
APP_SECRET = "wa-app-secret-for-tests"
CUSTOMER, CUSTOMER_DIGITS = "+1 (415) 555-0100", "14155550100"
DAY = 24 * 3600.0


@pytest.fixture
def sim(time_: FakeTime) -> WhatsAppSimulator:
    return WhatsAppSimulator(tokens={TOKEN: NUMBER, OTHER_TOKEN: OTHER_NUMBER}, clock=time_.now, app_secret=APP_SECRET)


def client(
    sim: WhatsAppSimulator,
    time_: FakeTime,
    *,
    number: str = NUMBER,
    token: str = TOKEN,
    attempts: int = 4,
    deadline_s: float = 600.0,
) -> WhatsAppClient:
    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return WhatsAppClient.for_phone_number(
        number,
        tenant_id=f"tenant-{number}",
        base_url=get_connector("whatsapp").sandbox_base_url,
        auth=auth,
        policy=RequestPolicy(max_attempts=attempts, deadline_s=deadline_s),
        transport=httpx.ASGITransport(app=sim.app),
        **time_.policy(),
        secrets=(token,),
    )


def verified(deliveries: list[WebhookDelivery]) -> list[WhatsAppEvent]:
    """Every delivery's events, after its signature is found VALID with the app secret."""
    events: list[WhatsAppEvent] = []
    for delivery in deliveries:
        assert check(app_secret=APP_SECRET, body=delivery.body, signature=delivery.headers[SIGNATURE_HEADER]) is (
            SignatureVerdict.VALID
        )
        events.extend(parse_payload(delivery.body))
    return events


def statuses(sim: WhatsAppSimulator) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = [
        (e.message_id, e.status) for e in verified(sim.outbox) if isinstance(e, StatusUpdate)
    ]
    sim.outbox.clear()
    return found


async def test_a_template_send_is_accepted_and_its_signed_statuses_follow(
    sim: WhatsAppSimulator, time_: FakeTime
) -> None:
    whatsapp = client(sim, time_)

    sent = await whatsapp.send_template(CUSTOMER, "order_update", "en_US", ["Ana", "A-1001"])

    assert sent.message_id.startswith("wamid.") and (sent.to, sent.wa_id) == (CUSTOMER_DIGITS, CUSTOMER_DIGITS)
    assert sent.message_status == "accepted"
    events = verified(sim.outbox)
    assert [(e.message_id, e.status) for e in events if isinstance(e, StatusUpdate)] == [
        (sent.message_id, "sent"),
        (sent.message_id, "delivered"),
        (sent.message_id, "read"),
    ]
    first = events[0]
    assert isinstance(first, StatusUpdate) and first.recipient_id == CUSTOMER_DIGITS
    assert (first.pricing_category, first.phone_number_id, first.waba_id) == ("utility", NUMBER, sim.waba_id(NUMBER))
    assert len({e.event_id for e in events}) == 3
    # The body is signed with the app secret: the same bytes under another secret, or altered bytes, are refused.
    delivery = sim.outbox[0]
    signature = delivery.headers[SIGNATURE_HEADER]
    assert check(app_secret="not-the-app-secret", body=delivery.body, signature=signature) is (
        SignatureVerdict.BAD_SIGNATURE
    )
    assert check(
        app_secret=APP_SECRET, body=delivery.body.replace(b'"status":"sent"', b'"status":"read"'), signature=signature
    ) is (SignatureVerdict.BAD_SIGNATURE)
    # Another language of the same template; a template that does not exist; the wrong number of parameters.
    assert (await whatsapp.send_template(CUSTOMER, "follow_up", "es_ES", ["Ana", "PromptSales"])).message_id
    with pytest.raises(PlatformValidationError) as missing:
        await whatsapp.send_template(CUSTOMER, "no_such_template", "en_US")
    assert (missing.value.status, missing.value.field) == (404, "template.name") and "132001" in str(missing.value)
    assert "APPROVED" in (missing.value.hint or "")
    with pytest.raises(PlatformValidationError) as mismatch:
        await whatsapp.send_template(CUSTOMER, "order_update", "en_US", ["Ana"])
    assert (mismatch.value.status, mismatch.value.field) == (400, "template.components")


async def test_session_text_is_allowed_only_within_24_hours_of_the_customers_last_message(
    sim: WhatsAppSimulator, time_: FakeTime
) -> None:
    whatsapp = client(sim, time_)

    # Nobody wrote yet: accepted, then failed in a status webhook with 131047 (§7: often asynchronous).
    cold = await whatsapp.send_text(CUSTOMER, "Hi there")
    (failed,) = [e for e in verified(sim.outbox) if isinstance(e, StatusUpdate)]
    sim.outbox.clear()
    assert (failed.message_id, failed.status) == (cold.message_id, "failed")
    assert failed.errors[0].code == 131047 and failed.errors[0].title == "Re-engagement message"

    inbound_id = await sim.receive(NUMBER, CUSTOMER_DIGITS, "Hola, ¿precio?", profile_name="Ana")
    (inbound,) = verified(sim.outbox)
    sim.outbox.clear()
    assert isinstance(inbound, InboundMessage) and inbound.message_id == inbound_id
    assert (inbound.from_phone, inbound.profile_name, inbound.text, inbound.timestamp) == (
        CUSTOMER_DIGITS,
        "Ana",
        "Hola, ¿precio?",
        T0,
    )
    await whatsapp.mark_read(inbound_id)
    assert sim.account(NUMBER).inbound[inbound_id] is True

    time_.elapsed = DAY  # exactly 24 h later: still inside the window
    warm = await whatsapp.send_text(CUSTOMER, "It is 10 USD.", preview_url=True)
    assert statuses(sim) == [(warm.message_id, s) for s in ("sent", "delivered", "read")]

    time_.elapsed = DAY + 1
    late = await whatsapp.send_text(CUSTOMER, "Still there?")
    assert statuses(sim) == [(late.message_id, "failed")]
    # A template is allowed at any time.
    template = await whatsapp.send_template(CUSTOMER, "hello_world", "en_US")
    assert statuses(sim)[0] == (template.message_id, "sent")
    with pytest.raises(PlatformValidationError) as unknown:
        await whatsapp.mark_read("wamid.never-received")
    assert unknown.value.field == "message_id" and "131009" in str(unknown.value)


async def test_outside_the_window_a_synchronous_refusal_names_the_type(time_: FakeTime) -> None:
    sim = WhatsAppSimulator(tokens={TOKEN: NUMBER}, clock=time_.now, app_secret=APP_SECRET, window_errors="sync")
    whatsapp = client(sim, time_)

    with pytest.raises(PlatformValidationError) as refused:
        await whatsapp.send_text(CUSTOMER, "Hi there")

    assert (refused.value.status, refused.value.field) == (400, "type")
    assert "131047" in str(refused.value) and "template" in (refused.value.hint or "")
    assert sim.outbox == [] and sim.account(NUMBER).sent == {}


async def test_webhooks_go_to_the_deliver_callback_and_failed_ones_are_redelivered_unchanged(
    sim: WhatsAppSimulator, time_: FakeTime
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    answers = iter([200, 500, 200, 200, 200])

    async def deliver(headers: dict[str, str], body: bytes) -> int:
        received.append((headers, body))
        return next(answers)

    sim.deliver = deliver
    sent = await client(sim, time_).send_template(CUSTOMER, "hello_world", "en_US")

    assert sim.outbox == [] and len(received) == 3 and len(sim.failed_deliveries) == 1
    assert await sim.redeliver() == 1 and sim.failed_deliveries == []
    bodies = [body for _, body in received]
    assert bodies[1] == bodies[3]  # the same bytes again: the receiver's dedupe sees the same event id
    ids = [parse_payload(body)[0].event_id for body in bodies]
    assert ids == [f"status:{sent.message_id}:{s}" for s in ("sent", "delivered", "read", "delivered")]
    assert all(
        h["Content-Type"] == "application/json" and h[SIGNATURE_HEADER].startswith("sha256=") for h, _ in received
    )


async def test_template_listing_follows_the_cursor_to_the_end_and_retries_a_failed_page(
    sim: WhatsAppSimulator, time_: FakeTime
) -> None:
    for i in range(6):
        sim.seed_template(NUMBER, f"promo_{i}", "en_US", "Hi {{1}}, {{2}} is {{3}}% off.", category="MARKETING")
    sim.seed_template(NUMBER, "draft_one", "en_US", "Draft", status="PENDING")
    sim.seed_template(OTHER_NUMBER, "globex_only", "en_US", "Not ours")
    whatsapp = client(sim, time_)
    waba = sim.waba_id(NUMBER)

    pages = [page async for page in whatsapp.template_pages(waba, limit=4)]

    assert [len(p.templates) for p in pages] == [4, 4, 3] and pages[-1].next_after is None
    names = [t.name for p in pages for t in p.templates]
    assert names[:4] == ["hello_world", "order_update", "follow_up", "follow_up"] and "globex_only" not in names
    promo = next(t for p in pages for t in p.templates if t.name == "promo_0")
    assert (promo.status, promo.category, promo.language, promo.body_parameter_count) == (
        "APPROVED",
        "MARKETING",
        "en_US",
        3,
    )
    assert [t.name for t in await whatsapp.templates(waba, status="PENDING")] == ["draft_one"]
    # The page at one cursor fails once with a 5xx: the GET is retried and the listing still ends complete.
    assert pages[0].next_after is not None
    sim.fail_cursor(pages[0].next_after, status=503)
    sleeps_before = len(time_.sleeps)
    assert len(await whatsapp.templates(waba, limit=4)) == 11
    assert time_.sleeps[sleeps_before:] == [0.125]
    # Resuming from a cursor reads only what follows it.
    rest = [page async for page in whatsapp.template_pages(waba, after=pages[1].next_after, limit=4)]
    assert [t.name for p in rest for t in p.templates] == names[8:]
    with pytest.raises(ValueError, match="limit"):
        await whatsapp.templates_page(waba, limit=0)
    # Another replica's simulator, meeting the numbers in the other order, agrees about the WABA ids.
    replica = WhatsAppSimulator(tokens={OTHER_TOKEN: OTHER_NUMBER, TOKEN: NUMBER}, clock=time_.now)
    assert (replica.waba_id(NUMBER), replica.waba_id(OTHER_NUMBER)) == (waba, sim.waba_id(OTHER_NUMBER))
    assert waba != sim.waba_id(OTHER_NUMBER)


async def test_a_429_retry_after_and_the_business_use_case_wait_are_honoured(time_: FakeTime) -> None:
    sim = WhatsAppSimulator(tokens={TOKEN: NUMBER}, clock=time_.now, app_secret=APP_SECRET, management_calls_per_hour=2)
    whatsapp = client(sim, time_, deadline_s=2 * 3600.0)
    waba = sim.waba_id(NUMBER)
    sim.fail_next(429, retry_after=7)

    assert len(await whatsapp.templates(waba)) == 4
    assert time_.sleeps == [7.0]  # exactly the Retry-After, not backoff

    await whatsapp.templates(waba)  # the second call of the hour
    # The third is refused with code 80007 and X-Business-Use-Case-Usage: regain access in 60 minutes.
    assert len(await whatsapp.templates(waba)) == 4
    assert time_.sleeps == [7.0, 3600.0]
    strict = client(sim, time_, attempts=1)
    await strict.templates(waba)
    with pytest.raises(RateLimited) as caught:
        await strict.templates(waba)
    assert caught.value.retry_after_seconds == 3600.0 and caught.value.status == 400


async def test_a_get_is_retried_on_5xx_but_a_send_is_not_and_may_have_been_applied(
    sim: WhatsAppSimulator, time_: FakeTime
) -> None:
    whatsapp = client(sim, time_)
    sim.fail_next(502)
    assert len(await whatsapp.templates(sim.waba_id(NUMBER))) == 4
    assert [m for _, m, _ in sim.requests] == ["GET", "GET"] and time_.sleeps == [0.125]
    sim.requests.clear()

    sim.fail_next(500, after_apply=True)
    with pytest.raises(PlatformDown) as caught:
        await whatsapp.send_template(CUSTOMER, "hello_world", "en_US")

    assert [m for _, m, _ in sim.requests] == ["POST"] and time_.sleeps == [0.125]
    assert caught.value.status == 500 and caught.value.may_have_applied
    assert "may have been applied" in (caught.value.hint or "")
    # The answer was lost, not the message: it went out, which is why it must not be resent blindly.
    assert len(sim.account(NUMBER).sent) == 1 and [s for _, s in statuses(sim)] == ["sent", "delivered", "read"]
    sim.fail_next(503)
    with pytest.raises(PlatformDown) as again:
        await whatsapp.send_text(CUSTOMER, "hello")
    assert again.value.may_have_applied and len(sim.requests) == 2


async def test_throughput_and_pair_limits_are_rate_limited_and_not_retried(time_: FakeTime) -> None:
    sim = WhatsAppSimulator(
        tokens={TOKEN: NUMBER}, clock=time_.now, app_secret=APP_SECRET, pair_limit=2, messages_per_second=3
    )
    whatsapp = client(sim, time_)
    for _ in range(2):
        await whatsapp.send_template(CUSTOMER, "hello_world", "en_US")

    with pytest.raises(RateLimited) as pair:
        await whatsapp.send_template(CUSTOMER, "hello_world", "en_US")

    assert pair.value.status == 400 and "131056" in str(pair.value) and "recipient" in (pair.value.hint or "")
    assert len(sim.requests) == 3 and time_.sleeps == []
    # Another recipient is fine until the number's throughput is used up for this second.
    await whatsapp.send_template("+34 600 000 001", "hello_world", "en_US")
    with pytest.raises(RateLimited) as throughput:
        await whatsapp.send_template("+34 600 000 002", "hello_world", "en_US")
    assert "130429" in str(throughput.value) and "throughput" in (throughput.value.hint or "")
    time_.elapsed += 1.0
    assert (await whatsapp.send_template("+34 600 000 002", "hello_world", "en_US")).message_id


async def test_a_revoked_token_is_auth_expired_without_the_token(sim: WhatsAppSimulator, time_: FakeTime) -> None:
    whatsapp = client(sim, time_)
    await whatsapp.send_template(CUSTOMER, "hello_world", "en_US")
    sim.revoke(TOKEN)

    for call in (
        whatsapp.send_template(CUSTOMER, "hello_world", "en_US"),
        whatsapp.templates(sim.waba_id(NUMBER)),
        client(sim, time_, token="EAAGm0PX4ZCpsBAunknownunknownunknown").send_text(CUSTOMER, "hi"),
    ):
        with pytest.raises(AuthExpired) as caught:
            await call
        text = f"{caught.value} {caught.value!r} {caught.value.hint}"
        assert caught.value.status == 401 and "WhatsApp" in text and TOKEN not in text and "unknownunknown" not in text
    assert time_.sleeps == []
    sim.grant(TOKEN, NUMBER)
    assert (await whatsapp.send_template(CUSTOMER, "hello_world", "en_US")).message_id
    # A valid token of another business reaches neither this number nor its WABA.
    intruder = client(sim, time_, token=OTHER_TOKEN)
    with pytest.raises(PermissionMissing):
        await intruder.send_template(CUSTOMER, "hello_world", "en_US")
    with pytest.raises(PermissionMissing):
        await intruder.templates(sim.waba_id(NUMBER))


async def test_invalid_recipients_and_texts(sim: WhatsAppSimulator, time_: FakeTime) -> None:
    whatsapp = client(sim, time_)
    for bad in ("not a number", "+0 415 555 0100", "12345", "+1415555010012345", "+1 415 555 0100 ext 2"):
        with pytest.raises(ValueError, match=r"^to: "):
            await whatsapp.send_text(bad, "hi")
    with pytest.raises(ValueError, match=r"^text: at most 4096"):
        await whatsapp.send_text(CUSTOMER, "x" * (TEXT_MAX + 1))
    with pytest.raises(ValueError, match=r"^template\.name"):
        await whatsapp.send_template(CUSTOMER, "Hello World", "en_US")
    assert sim.requests == []  # refused before anything was sent

    # A test number may only message its allowed recipients: refused at once, naming the field.
    sim.add_account("106540352240000", allowed_recipients=[CUSTOMER_DIGITS])
    sim.grant("EAAGm0PX4ZCpsBAsimulatedTestNumberToken0003", "106540352240000")
    tester = client(sim, time_, number="106540352240000", token="EAAGm0PX4ZCpsBAsimulatedTestNumberToken0003")
    with pytest.raises(PlatformValidationError) as refused:
        await tester.send_template("+44 7700 900123", "hello_world", "en_US")
    assert (refused.value.status, refused.value.field) == (400, "to") and "131030" in str(refused.value)
    assert (await tester.send_template(CUSTOMER, "hello_world", "en_US")).to == CUSTOMER_DIGITS

    # A number that is not on WhatsApp: accepted, then a failed status with 131026.
    sim.outbox.clear()
    sim.mark_not_on_whatsapp("+447700900999")
    sent = await whatsapp.send_template("+44 7700 900999", "hello_world", "en_US")
    (failed,) = [e for e in verified(sim.outbox) if isinstance(e, StatusUpdate)]
    assert (failed.message_id, failed.status, failed.errors[0].code) == (sent.message_id, "failed", 131026)


def _payload_shapes(sim: WhatsAppSimulator) -> list[Any]:
    return [delivery.document() for delivery in sim.outbox]


async def test_a_template_button_reply_reaches_the_business_as_a_button_event(
    sim: WhatsAppSimulator, time_: FakeTime
) -> None:
    sent = await client(sim, time_).send_template(CUSTOMER, "hello_world", "en_US")
    sim.outbox.clear()

    await sim.receive_button(
        NUMBER, CUSTOMER_DIGITS, text="Stop", payload="opt_out", context_message_id=sent.message_id
    )

    (document,) = _payload_shapes(sim)
    assert document["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] == NUMBER
    (reply,) = verified(sim.outbox)
    assert isinstance(reply, InboundMessage) and reply.message_type == "button"
    assert (reply.payload, reply.context_message_id, reply.profile_name) == ("opt_out", sent.message_id, "Customer")
