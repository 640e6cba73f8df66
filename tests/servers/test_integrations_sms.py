"""SMS on Twilio through the integrations tools (in-memory client, SQLite, the sandbox Twilio simulator).

A send needs the contact's ``sms`` consent in the CRM, goes out once per idempotency key, is kept ``unconfirmed``
when Twilio does not answer, and reports the segments Twilio counts. The simulator's signed callbacks come back
through ``/webhooks/twilio`` as a live delivery would: statuses move the message on, STOP and START change the
contact's ``sms`` consent, other texts become inbound interactions (or a new SMS lead); forged ones are refused.
"""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from promptsales.domain_core.crm.commands import UpdateContact
from promptsales.domain_core.crm.dto import ConsentGrant, ConsentInput
from promptsales.domain_core.integrations.commands import Connect, SendMessage
from promptsales.domain_core.integrations.dto import InboundRequest
from promptsales.domain_core.integrations.model.errors import AuthExpired
from promptsales.domain_core.integrations.twilio.simulator import SANDBOX_AUTH_TOKEN, Callback, TwilioSimulator
from promptsales.domain_core.integrations.twilio.webhooks import SIGNATURE_HEADER, form_params, sign
from promptsales.domain_core.shared.errors import ComplianceBlocked, ValidationFailed
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import DB_FILE, Crm, database_settings

PHONE = "+14155550100"
SMS_OK = {"sms": {"granted": True, "source": "web_form"}}
LIVE_ACCOUNT, LIVE_TOKEN, LIVE_SENDER = "AC" + "7" * 32, "live-twilio-auth-token-0001", "+14155550199"


async def connected(crm: Crm, runtime: Runtime) -> tuple[Crm, TwilioSimulator, str]:
    """The integrations tools, the tenant's Twilio simulator and its sandbox AccountSid, once connected."""
    tools = Crm(crm.client, prefix="integrations_")
    connection = await tools.ok("connect", platform="twilio")
    assert connection["status"] == "connected" and connection["mode"] == "sandbox"
    simulator = runtime.integrations.sandbox.simulator("twilio")
    assert isinstance(simulator, TwilioSimulator)
    return tools, simulator, connection["account_id"]


async def person(crm: Crm, *, consent: dict[str, Any] | None = SMS_OK, phone: str = PHONE) -> str:
    created = await crm.ok("create_contact", first_name="Ana", last_name="García", phone=phone, consent=consent)
    return str(created["id"])


async def timeline(crm: Crm, contact_id: str, direction: str) -> list[dict[str, Any]]:
    view = await crm.ok("get_customer_360", contact_id=contact_id)
    return [i for i in view["timeline"] if i["channel"] == "sms" and i["direction"] == direction]


async def sms_consent(crm: Crm, contact_id: str) -> dict[str, Any]:
    return dict((await crm.ok("get_contact", contact_id=contact_id))["consent"]["sms"])


def request(callback: Callback, **headers: str) -> InboundRequest:
    merged = {k.lower(): v for k, v in {**callback.headers, **headers}.items()}
    return InboundRequest(method="POST", url=callback.url, headers=merged, query={}, body=callback.body)


async def test_twilio_connects_in_sandbox_and_only_a_well_formed_live_key_is_taken(crm: Crm, runtime: Runtime) -> None:
    tools, _, account = await connected(crm, runtime)
    assert account.startswith("AC") and len(account) == 34
    check = await tools.ok("test_connection", platform="twilio")
    assert check["ok"] is True and account in check["detail"], check
    listing = await tools.ok("list_connectors")
    twilio = next(i for i in listing["items"] if i["platform"] == "twilio")
    assert twilio["available"] is True and "messaging" in twilio["capabilities"]
    refused = await tools.error("connect", platform="twilio", mode="live", api_key="AC123:token")
    assert "AccountSid:AuthToken:Sender" in refused


async def test_an_sms_needs_sms_consent_then_goes_out_with_its_segments_and_is_logged(
    crm: Crm, runtime: Runtime
) -> None:
    tools, simulator, account = await connected(crm, runtime)
    never_asked = await person(crm, consent={"whatsapp": {"granted": True, "source": "web_form"}})
    refused = await tools.error("send_message", channel="sms", contact_id=never_asked, text="Hi Ana")
    assert never_asked in refused and "consent channel sms" in refused and "not opted in" in refused
    assert simulator.account(account).messages == {}

    await crm.ok("update_contact", contact_id=never_asked, consent=SMS_OK)
    text = "Hi Ana, your demo is on Friday at 10:00. " * 5  # 205 characters: two segments
    sent = await tools.ok("send_message", channel="sms", contact_id=never_asked, text=text)
    assert (sent["platform"], sent["kind"], sent["to"], sent["segments"]) == ("twilio", "text", PHONE, 2)
    assert sent["message_id"].startswith("SM") and sent["interaction_id"]
    logged = await timeline(crm, never_asked, "outbound")
    assert [(i["id"], i["transcript"]) for i in logged] == [(sent["interaction_id"], text)]

    await runtime.integrations.drain()  # queued → sent → delivered came back through /webhooks/twilio
    view = await runtime.integrations.get_message(runtime.caller(None), message_id=sent["message_id"])
    assert (view.status, view.segments, view.contact_id) == ("delivered", 2, never_asked)

    template = await tools.error("send_message", channel="sms", contact_id=never_asked, template_name="hello_world")
    assert "no templates" in template
    too_long = await tools.error("send_message", channel="sms", contact_id=never_asked, text="x" * 1601)
    assert "1600" in too_long
    assert len(simulator.account(account).messages) == 1


async def test_one_key_sends_once_and_an_unanswered_send_stays_unconfirmed(crm: Crm, runtime: Runtime) -> None:
    tools, simulator, account = await connected(crm, runtime)
    contact_id = await person(crm)
    call = {"channel": "sms", "contact_id": contact_id, "text": "Welcome!", "idempotency_key": "welcome-ana"}
    results = await asyncio.gather(*(tools.raw("send_message", call) for _ in range(5)))
    assert not any(r.is_error for r in results), [r.content for r in results]
    assert len({r.structured_content["message_id"] for r in results if r.structured_content}) == 1
    assert len(simulator.account(account).messages) == 1

    simulator.fail_next(502, after_apply=True)  # the text goes out, the answer is lost
    lost = {**call, "text": "Your code is 1234", "idempotency_key": "code-1"}
    first = await tools.ok("send_message", **lost)
    assert first["status"] == "unconfirmed" and first["message_id"] is None and "may have gone out" in first["error"]
    assert await tools.ok("send_message", **lost) == first
    assert len(simulator.account(account).messages) == 2  # sent once, never again
    assert len(await timeline(crm, contact_id, "outbound")) == 1  # an unconfirmed send is not logged as sent


async def test_stop_revokes_sms_consent_and_start_grants_it_again(crm: Crm, runtime: Runtime) -> None:
    tools, simulator, account = await connected(crm, runtime)
    contact_id = await person(crm)
    await simulator.receive(account, PHONE, "Stop")
    await runtime.integrations.drain()
    consent = await sms_consent(crm, contact_id)
    assert (consent["status"], consent["source"]) == ("revoked", "twilio")
    refused = await tools.error("send_message", channel="sms", contact_id=contact_id, text="Still there?")
    assert "opted out of SMS" in refused
    assert await timeline(crm, contact_id, "inbound") == []  # a keyword is a choice, not a conversation

    await simulator.receive(account, PHONE, "START")
    await runtime.integrations.drain()
    assert (await sms_consent(crm, contact_id))["status"] == "granted"
    sent = await tools.ok("send_message", channel="sms", contact_id=contact_id, text="Welcome back")
    assert sent["message_id"].startswith("SM")


async def test_a_stop_delivered_ten_times_at_once_is_one_consent_change(
    crm: Crm, runtime: Runtime, data_dir: Path
) -> None:
    _, simulator, account = await connected(crm, runtime)
    contact_id = await person(crm)
    simulator.deliver = None  # hold the delivery
    await simulator.receive(account, PHONE, "UNSUBSCRIBE")
    stop = simulator.outbox[-1]
    facade = runtime.integrations
    outcomes = await asyncio.gather(*(facade.handle_webhook("twilio", request(stop)) for _ in range(10)))
    assert {o.status_code for o in outcomes} == {200}
    await facade.drain()
    assert (await sms_consent(crm, contact_id))["status"] == "revoked"
    with sqlite3.connect(data_dir / DB_FILE) as db:
        events = db.execute(
            "SELECT status, source FROM crm_consent_events WHERE contact_id = ? AND channel = 'sms'", (contact_id,)
        ).fetchall()
    assert events == [("granted", "web_form"), ("revoked", "twilio")]


async def test_other_texts_are_inbound_interactions_and_an_unknown_number_is_a_new_sms_lead(
    crm: Crm, runtime: Runtime
) -> None:
    _, simulator, account = await connected(crm, runtime)
    contact_id = await person(crm)
    await simulator.receive(account, PHONE, "Can we move the demo to Monday?")
    await simulator.receive(account, "+34600111222", "Hola, ¿precio?")
    await runtime.integrations.drain()
    received = await timeline(crm, contact_id, "inbound")
    assert [i["transcript"] for i in received] == ["Can we move the demo to Monday?"]
    found = (await crm.ok("search_contacts", query="34600111222"))["items"]
    assert len(found) == 1
    leads = (await crm.ok("get_customer_360", contact_id=found[0]["id"]))["leads"]
    assert [lead["source_channel"] for lead in leads] == ["sms"]
    assert [i["transcript"] for i in await timeline(crm, found[0]["id"], "inbound")] == ["Hola, ¿precio?"]


async def test_forged_and_foreign_callbacks_are_refused_and_change_nothing(crm: Crm, runtime: Runtime) -> None:
    _, simulator, account = await connected(crm, runtime)
    contact_id = await person(crm)
    simulator.deliver = None
    await simulator.receive(account, PHONE, "STOP")
    genuine = simulator.outbox[-1]
    facade = runtime.integrations
    tampered = Callback(genuine.url, genuine.headers, genuine.body.replace(b"STOP", b"START"))
    assert (await facade.handle_webhook("twilio", request(tampered))).status_code == 401
    forged = request(genuine, **{SIGNATURE_HEADER: sign(auth_token="guess", url=genuine.url, params=[])})
    assert (await facade.handle_webhook("twilio", forged)).status_code == 401
    elsewhere = request(genuine).model_copy(update={"url": "https://attacker.example/webhooks/twilio"})
    assert (await facade.handle_webhook("twilio", elsewhere)).status_code == 401
    await simulator.receive("AC" + "9" * 32, PHONE, "STOP")  # an account no tenant connected
    ignored = await facade.handle_webhook("twilio", request(simulator.outbox[-1]))
    assert (ignored.status_code, ignored.outcome) == (200, "ignored: not a connected account")
    await facade.drain()
    assert (await sms_consent(crm, contact_id))["status"] == "granted"


async def test_a_live_account_connects_with_its_key_and_its_own_token_signs_its_callbacks(
    data_dir: Path, migrated_template: Path
) -> None:
    live = TwilioSimulator()
    live.add_account(LIVE_ACCOUNT, auth_token=LIVE_TOKEN, number=LIVE_SENDER)
    runtime = Runtime(
        database_settings(data_dir, migrated_template), integrations_transport=httpx.ASGITransport(app=live.app)
    )
    app = http_app(build_gateway(runtime), runtime)
    await runtime.start()
    try:
        facade, caller = runtime.integrations, runtime.caller(None)
        wrong = Connect(platform="twilio", mode="live", api_key=f"{LIVE_ACCOUNT}:not-the-token:{LIVE_SENDER}")
        with pytest.raises(AuthExpired) as expired:
            await facade.connect(caller, wrong)
        assert "not-the-token" not in expired.value.public_message()
        malformed = Connect(platform="twilio", mode="live", api_key=f"{LIVE_ACCOUNT}:{LIVE_TOKEN}")
        with pytest.raises(ValidationFailed) as missing:
            await facade.connect(caller, malformed)
        assert missing.value.field == "api_key"
        key = f"{LIVE_ACCOUNT}:{LIVE_TOKEN}:{LIVE_SENDER}"
        connection = await facade.connect(caller, Connect(platform="twilio", mode="live", api_key=key))
        assert (connection.mode, connection.account_id) == ("live", LIVE_ACCOUNT)
        assert LIVE_TOKEN not in connection.model_dump_json()

        live.sms_url = runtime.settings.public_url.rstrip("/") + "/webhooks/twilio"
        await live.receive(LIVE_ACCOUNT, "+34600999888", "Quiero una demo")
        callback = live.outbox[-1]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http:
            posted = await http.post("/webhooks/twilio", content=callback.body, headers=callback.headers)
            assert posted.status_code == 200, posted.text
            params = form_params(callback.body)
            sandbox_signed = {
                **callback.headers,
                SIGNATURE_HEADER: sign(
                    auth_token=SANDBOX_AUTH_TOKEN,
                    url=callback.url,
                    params=params,
                ),
            }
            refused = await http.post("/webhooks/twilio", content=callback.body, headers=sandbox_signed)
            assert refused.status_code == 401
        await facade.drain()
        found = await runtime.crm.search_contacts(caller, text="+34600999888", filters={}, cursor=None, limit=5)
        assert len(found.items) == 1

        command = SendMessage(channel="sms", contact_id=found.items[0].id, text="Hola")
        with pytest.raises(ComplianceBlocked, match="not opted in"):
            await facade.send_message(caller, command, idempotency_key="hola-1")
        assert live.account(LIVE_ACCOUNT).messages == {}
        consent = ConsentInput(sms=ConsentGrant(granted=True, source="web_form"))
        await runtime.crm.update_contact(caller, UpdateContact(contact_id=found.items[0].id, consent=consent))
        sent = await facade.send_message(caller, command, idempotency_key="hola-2")
        [message] = live.account(LIVE_ACCOUNT).messages.values()
        assert (message.sid, message.to, message.sender) == (sent.message_id, "+34600999888", LIVE_SENDER)
        assert message.callback == live.sms_url  # statuses come back to /webhooks/twilio
    finally:
        await runtime.stop()
