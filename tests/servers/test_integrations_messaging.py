"""WhatsApp through the integrations tools (in-memory client, SQLite, the sandbox Cloud API simulator).

Sends are checked against the CRM's WhatsApp consent and the 24-hour window, sent once per idempotency key, and
logged on the contact's timeline. The simulator's signed webhooks reach the facade as a live delivery would (the
sandbox loops them back; tests that need to hold them take them from its outbox): inbound messages become CRM
interactions (and drive a chat flow), statuses move the message on, forged deliveries and handshakes are refused.
"""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from promptsales.domain_core.integrations.commands import Connect
from promptsales.domain_core.integrations.dto import InboundRequest
from promptsales.domain_core.integrations.model.errors import AuthExpired
from promptsales.domain_core.integrations.sandbox import SANDBOX_APP
from promptsales.domain_core.integrations.whatsapp.simulator import WebhookDelivery, WhatsAppSimulator
from promptsales.domain_core.integrations.whatsapp.webhook_handler import SANDBOX_VERIFY_TOKEN
from promptsales.domain_core.integrations.whatsapp.webhooks import sign
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm, database_settings

PHONE, DIGITS = "+14155550100", "14155550100"
WHATSAPP_OK = {"whatsapp": {"granted": True, "source": "web_form"}}
LIVE_NUMBER, LIVE_TOKEN = "106540352242922", "EAAGm0PX4ZCpsBAlivesystemusertoken0001"
LIVE_APP = {
    "client_id": "1234567890",
    "client_secret": "live-app-secret-for-tests",
    "webhook_secret": "our-verify-token",
}


async def connected(crm: Crm, runtime: Runtime) -> tuple[Crm, WhatsAppSimulator, str]:
    """The integrations tools, the tenant's WhatsApp simulator and its sandbox number, once connected."""
    tools = Crm(crm.client, prefix="integrations_")
    connection = await tools.ok("connect", platform="whatsapp")
    assert connection["status"] == "connected" and connection["mode"] == "sandbox"
    simulator = runtime.integrations.sandbox.simulator("whatsapp")
    assert isinstance(simulator, WhatsAppSimulator)
    return tools, simulator, connection["account_id"]


async def person(crm: Crm, *, consent: dict[str, Any] | None = WHATSAPP_OK, phone: str = PHONE) -> str:
    created = await crm.ok("create_contact", first_name="Ana", last_name="García", phone=phone, consent=consent)
    return str(created["id"])


def inbound(delivery: WebhookDelivery, **headers: str) -> InboundRequest:
    merged = {k.lower(): v for k, v in {**delivery.headers, **headers}.items()}
    return InboundRequest(
        method="POST", url="http://127.0.0.1:8000/webhooks/whatsapp", headers=merged, query={}, body=delivery.body
    )


async def timeline(crm: Crm, contact_id: str, direction: str) -> list[dict[str, Any]]:
    view = await crm.ok("get_customer_360", contact_id=contact_id)
    return [i for i in view["timeline"] if i["channel"] == "whatsapp" and i["direction"] == direction]


def sent_to(simulator: WhatsAppSimulator, number: str, digits: str = DIGITS) -> list[Any]:
    return [m for m in simulator.account(number).sent.values() if m.to == digits]


async def test_whatsapp_connects_in_sandbox_and_the_probe_reads_the_number(crm: Crm, runtime: Runtime) -> None:
    tools, _, number = await connected(crm, runtime)
    assert len(number) == 15 and number.isdigit()
    check = await tools.ok("test_connection", platform="whatsapp")
    assert check["ok"] is True and "PromptSales Sandbox" in check["detail"], check
    message = await tools.error("connect", platform="whatsapp", mode="live")
    assert "api_key" in message
    listing = await tools.ok("list_connectors")
    assert next(i for i in listing["items"] if i["platform"] == "whatsapp")["available"] is True


async def test_consent_is_checked_against_the_crm_then_a_template_goes_out_and_is_logged(
    crm: Crm, runtime: Runtime
) -> None:
    tools, simulator, number = await connected(crm, runtime)
    never_asked = await person(crm, consent=None)
    refused = await tools.error("send_message", contact_id=never_asked, template_name="hello_world")
    assert never_asked in refused and "whatsapp" in refused and "not opted in" in refused
    revoked = await person(crm, consent={"whatsapp": {"granted": False}}, phone="+14155550111")
    assert "opted out" in await tools.error("send_message", contact_id=revoked, template_name="hello_world")
    assert simulator.account(number).sent == {}

    await crm.ok("update_contact", contact_id=never_asked, consent=WHATSAPP_OK)
    sent = await tools.ok(
        "send_message", contact_id=never_asked, template_name="follow_up", parameters=["Ana", "PromptSales"]
    )
    assert (sent["kind"], sent["to"]) == ("template", PHONE)
    assert sent["status"] in ("accepted", "sent", "delivered", "read")  # its webhooks may already have come back
    assert sent["message_id"].startswith("wamid.") and sent["interaction_id"]
    assert len(sent_to(simulator, number)) == 1
    logged = await timeline(crm, never_asked, "outbound")
    assert [i["id"] for i in logged] == [sent["interaction_id"]]
    assert "follow_up" in logged[0]["summary"] and "Ana, PromptSales" in logged[0]["summary"]

    # The sandbox's sent → delivered → read webhooks came back (some before the send was recorded).
    await runtime.integrations.drain()
    view = await runtime.integrations.get_message(runtime.caller(None), message_id=sent["message_id"])
    assert (view.status, view.interaction_id, view.contact_id) == ("read", sent["interaction_id"], never_asked)

    wrong = await tools.error("send_message", contact_id=never_asked, template_name="no_such_template")
    assert "template" in wrong.lower()
    both = await tools.error("send_message", contact_id=never_asked, template_name="hello_world", text="Hi")
    assert "exactly one" in both


async def test_one_idempotency_key_sent_concurrently_sends_one_message(crm: Crm, runtime: Runtime) -> None:
    tools, simulator, number = await connected(crm, runtime)
    contact_id = await person(crm)
    call = {"contact_id": contact_id, "template_name": "hello_world", "idempotency_key": "welcome-ana"}
    results = await asyncio.gather(*(tools.raw("send_message", call) for _ in range(5)))
    assert not any(r.is_error for r in results), [r.content for r in results]
    assert len({r.structured_content["message_id"] for r in results if r.structured_content}) == 1
    assert len(sent_to(simulator, number)) == 1
    again = await tools.ok("send_message", **call)
    assert again["message_id"] == results[0].structured_content["message_id"]  # type: ignore[index]
    assert len(sent_to(simulator, number)) == 1
    assert len(await timeline(crm, contact_id, "outbound")) == 1


async def test_a_send_whatsapp_did_not_answer_is_kept_unconfirmed_and_never_sent_again(
    crm: Crm, runtime: Runtime
) -> None:
    tools, simulator, number = await connected(crm, runtime)
    contact_id = await person(crm)
    simulator.fail_next(503, after_apply=True)  # the message goes out, the answer is lost
    call = {"contact_id": contact_id, "template_name": "hello_world", "idempotency_key": "promo-1"}
    first = await tools.ok("send_message", **call)
    assert first["status"] == "unconfirmed" and first["message_id"] is None and "may have gone out" in first["error"]
    again = await tools.ok("send_message", **call)
    assert again == first
    assert len(sent_to(simulator, number)) == 1


async def test_a_session_text_needs_the_persons_message_within_24_hours(crm: Crm, runtime: Runtime) -> None:
    tools, simulator, number = await connected(crm, runtime)
    contact_id = await person(crm)
    refused = await tools.error("send_message", contact_id=contact_id, text="Are you free for a call today?")
    assert "24 hours" in refused and "template_name" in refused
    assert simulator.account(number).sent == {}

    await simulator.receive(number, PHONE, "Hi! Is the offer still on?", profile_name="Ana García")
    await runtime.integrations.drain()
    received = await timeline(crm, contact_id, "inbound")  # found by phone: no new contact
    assert [i["transcript"] for i in received] == ["Hi! Is the offer still on?"]
    assert len((await crm.ok("search_contacts", query=DIGITS))["items"]) == 1

    sent = await tools.ok("send_message", contact_id=contact_id, text="Yes, until Friday. Shall I book a call?")
    assert sent["kind"] == "text" and sent["error"] is None
    await runtime.integrations.drain()
    view = await runtime.integrations.get_message(runtime.caller(None), message_id=sent["id"])
    assert view.status == "read" and view.error is None


async def test_an_inbound_message_delivered_twenty_times_at_once_is_one_interaction(crm: Crm, runtime: Runtime) -> None:
    _, simulator, number = await connected(crm, runtime)
    simulator.deliver = None  # hold the delivery
    await simulator.receive(number, "+34600111222", "Hola, ¿cuánto cuesta?", profile_name="Marta Rossi")
    delivery = simulator.outbox[-1]
    outcomes = await asyncio.gather(
        *(runtime.integrations.handle_webhook("whatsapp", inbound(delivery)) for _ in range(20))
    )
    assert {o.status_code for o in outcomes} == {200}
    await runtime.integrations.drain()
    found = (await crm.ok("search_contacts", query="34600111222"))["items"]
    assert len(found) == 1 and found[0]["name"] == "Marta Rossi"
    contact_id = found[0]["id"]
    assert [i["transcript"] for i in await timeline(crm, contact_id, "inbound")] == ["Hola, ¿cuánto cuesta?"]
    leads = (await crm.ok("get_customer_360", contact_id=contact_id))["leads"]
    assert [lead["source_channel"] for lead in leads] == ["whatsapp"]

    replayed = await runtime.integrations.handle_webhook("whatsapp", inbound(delivery))  # Meta retries for days
    await runtime.integrations.drain()
    assert replayed.status_code == 200
    assert len(await timeline(crm, contact_id, "inbound")) == 1


async def test_forged_deliveries_are_refused_and_change_nothing(crm: Crm, runtime: Runtime) -> None:
    _, simulator, number = await connected(crm, runtime)
    simulator.deliver = None
    await simulator.receive(number, "+447700900123", "Please call me", profile_name="Jon Berg")
    genuine = simulator.outbox[-1]
    tampered = WebhookDelivery(genuine.headers, genuine.body.replace(b"Please call me", b"Send me a refund"))
    facade = runtime.integrations
    assert (await facade.handle_webhook("whatsapp", inbound(tampered))).status_code == 401
    forged = inbound(genuine, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert (await facade.handle_webhook("whatsapp", forged)).status_code == 401
    unsigned = InboundRequest(method="POST", url="http://x/webhooks/whatsapp", headers={}, query={}, body=genuine.body)
    assert (await facade.handle_webhook("whatsapp", unsigned)).status_code == 401
    await facade.drain()
    assert (await crm.ok("search_contacts", query="447700900123"))["items"] == []

    # No live app is registered: the sandbox verify token subscribes, nothing else does.
    query = {"hub.mode": "subscribe", "hub.verify_token": SANDBOX_VERIFY_TOKEN, "hub.challenge": "42"}
    handshake = InboundRequest(method="GET", url="http://x/webhooks/whatsapp", headers={}, query=query, body=b"")
    assert (await facade.handle_webhook("whatsapp", handshake)).body == "42"
    guessed = handshake.model_copy(update={"query": {**query, "hub.verify_token": "guess"}})
    answer = await facade.handle_webhook("whatsapp", guessed)
    assert answer.status_code == 403 and answer.body is None


async def test_statuses_move_the_message_on_in_any_order_once(crm: Crm, runtime: Runtime) -> None:
    tools, simulator, _ = await connected(crm, runtime)
    contact_id = await person(crm)
    simulator.deliver = None  # hold the status webhooks
    sent = await tools.ok("send_message", contact_id=contact_id, template_name="hello_world")
    deliveries = {d.document()["entry"][0]["changes"][0]["value"]["statuses"][0]["status"]: d for d in simulator.outbox}
    assert set(deliveries) == {"sent", "delivered", "read"}
    facade, caller = runtime.integrations, runtime.caller(None)

    async def deliver(status: str) -> str:
        outcome = await facade.handle_webhook("whatsapp", inbound(deliveries[status]))
        assert outcome.status_code == 200
        await facade.drain()
        return (await facade.get_message(caller, message_id=sent["message_id"])).status

    assert (await facade.get_message(caller, message_id=sent["message_id"])).status == "accepted"
    assert await deliver("delivered") == "delivered"
    assert await deliver("sent") == "delivered"  # late and out of order: it does not move the message back
    assert await deliver("read") == "read"
    assert await deliver("delivered") == "read"  # a redelivery changes nothing


async def test_an_inbound_message_answers_the_contacts_chat_flow_and_the_bot_replies(
    crm: Crm, runtime: Runtime
) -> None:
    _, simulator, number = await connected(crm, runtime)
    captured = await crm.lead("ann@example.com", first_name="Ann", phone=PHONE)
    contact_id = captured["contact"]["id"]
    await crm.ok("start_flow", flow_id="bant-qualification", contact_id=contact_id, channel="chat")

    await simulator.receive(number, PHONE, "1", profile_name="Ann")  # "1) Urgent"
    await runtime.integrations.drain()
    lead = await crm.ok("get_lead", lead_id=captured["lead"]["id"])
    assert lead["qualification"] == {"need": "urgent"}
    replies = await timeline(crm, contact_id, "outbound")
    assert len(replies) == 1 and replies[0]["transcript"]  # the bot's next question, sent on WhatsApp
    assert len(sent_to(simulator, number)) == 1


async def test_a_live_number_connects_with_its_id_and_token_and_takes_only_its_apps_deliveries(
    data_dir: Path, migrated_template: Path
) -> None:
    live = WhatsAppSimulator(tokens={LIVE_TOKEN: LIVE_NUMBER}, app_secret=LIVE_APP["client_secret"])
    settings = database_settings(data_dir, migrated_template, integrations_apps=json.dumps({"whatsapp": LIVE_APP}))
    runtime = Runtime(settings, integrations_transport=httpx.ASGITransport(app=live.app))
    app = http_app(build_gateway(runtime), runtime)
    await runtime.start()
    try:
        facade, caller = runtime.integrations, runtime.caller(None)
        wrong_token = "EAAGm0PX4ZCpsBArevokedsystemusertoken9999"
        refused = Connect(platform="whatsapp", mode="live", api_key=wrong_token, phone_number_id=LIVE_NUMBER)
        with pytest.raises(AuthExpired) as expired:
            await facade.connect(caller, refused)
        assert wrong_token not in expired.value.public_message()
        unnamed = Connect(platform="whatsapp", mode="live", api_key=LIVE_TOKEN)
        with pytest.raises(ValidationFailed) as missing:
            await facade.connect(caller, unnamed)
        assert missing.value.field == "phone_number_id"
        command = Connect(platform="whatsapp", mode="live", api_key=LIVE_TOKEN, phone_number_id=LIVE_NUMBER)
        connection = await facade.connect(caller, command)
        assert (connection.mode, connection.account_id) == ("live", LIVE_NUMBER)
        assert (await facade.test_connection(caller, "whatsapp")).ok is True

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            query = {
                "hub.mode": "subscribe",
                "hub.verify_token": LIVE_APP["webhook_secret"],
                "hub.challenge": "1158201444",
            }
            answered = await http.get("/webhooks/whatsapp", params=query)
            assert answered.status_code == 200 and answered.text == "1158201444"
            assert answered.headers["content-type"].startswith("text/plain")
            for wrong in ({"hub.verify_token": SANDBOX_VERIFY_TOKEN}, {"hub.mode": "unsubscribe"}):
                refused = await http.get("/webhooks/whatsapp", params={**query, **wrong})
                assert refused.status_code == 403 and "1158201444" not in refused.text

            await live.receive(LIVE_NUMBER, "+34600999888", "Quiero una demo", profile_name="Luz Vidal")
            delivery = live.outbox[-1]
            posted = await http.post("/webhooks/whatsapp", content=delivery.body, headers=delivery.headers)
            assert posted.status_code == 200 and "accepted 1" in posted.text
            sandbox_signed = {
                **delivery.headers,
                "X-Hub-Signature-256": sign(app_secret=SANDBOX_APP.client_secret, body=delivery.body),
            }
            ignored = await http.post("/webhooks/whatsapp", content=delivery.body, headers=sandbox_signed)
            assert ignored.status_code == 200 and "ignored 1" in ignored.text  # no sandbox tenant has this number
        await facade.drain()
        found = await runtime.crm.search_contacts(caller, text="+34600999888", filters={}, cursor=None, limit=5)
        assert [c.name for c in found.items] == ["Luz Vidal"]
    finally:
        await runtime.stop()
