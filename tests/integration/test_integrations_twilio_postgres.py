"""Twilio STOP and START on PostgreSQL (row-level security forced, READ COMMITTED): each keyword posted 10 times at
once through /webhooks/twilio changes the contact's sms consent once; a send in between is refused by the CRM."""

import asyncio

import pytest

from promptsales.domain_core.crm.commands import CreateContact
from promptsales.domain_core.crm.dto import ConsentGrant, ConsentInput
from promptsales.domain_core.integrations.commands import Connect, SendMessage
from promptsales.domain_core.integrations.dto import InboundRequest
from promptsales.domain_core.integrations.twilio.simulator import TwilioSimulator
from promptsales.domain_core.shared.errors import ComplianceBlocked
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import owner_count

pytestmark = pytest.mark.postgres
PHONE = "+14155550100"


@pytest.fixture
def runtime(pg_runtime: Runtime) -> Runtime:
    return pg_runtime


async def test_stop_and_start_delivered_ten_times_at_once_each_change_consent_once(
    runtime: Runtime, pg_database: str
) -> None:
    facade, caller, tenant = runtime.integrations, runtime.caller(None), runtime.settings.tenant
    account = (await facade.connect(caller, Connect(platform="twilio"))).account_id
    assert account is not None
    simulator = facade.sandbox.simulator("twilio")
    assert isinstance(simulator, TwilioSimulator)
    consent = ConsentInput(sms=ConsentGrant(granted=True, source="web_form"))
    contact = await runtime.crm.create_contact(caller, CreateContact(first_name="Ana", phone=PHONE, consent=consent))
    loopback, simulator.deliver = simulator.deliver, None  # hold the inbound deliveries

    async def deliver_ten_times(text: str) -> None:
        await simulator.receive(account, PHONE, text)
        callback = simulator.outbox[-1]
        headers = {k.lower(): v for k, v in callback.headers.items()}
        request = InboundRequest(method="POST", url=callback.url, headers=headers, query={}, body=callback.body)
        outcomes = await asyncio.gather(*(facade.handle_webhook("twilio", request) for _ in range(10)))
        assert {o.status_code for o in outcomes} == {200}
        await facade.drain()

    await deliver_ten_times("STOP")
    assert (await runtime.crm.get_contact(caller, contact_id=contact.id)).consent.sms.status == "revoked"
    simulator.deliver = loopback
    with pytest.raises(ComplianceBlocked):
        await facade.send_message(caller, SendMessage(channel="sms", contact_id=contact.id, text="Hi"))
    simulator.deliver = None
    await deliver_ten_times("start")
    assert (await runtime.crm.get_contact(caller, contact_id=contact.id)).consent.sms.status == "granted"

    events = "SELECT count(*) FROM crm_consent_events WHERE tenant_id = %s AND channel = 'sms'"
    assert owner_count(pg_database, tenant, events + " AND source = 'twilio'") == 2  # one STOP, one START
    receipts = "SELECT count(*) FROM integrations_webhook_receipts WHERE tenant_id = %s AND platform = 'twilio'"
    assert owner_count(pg_database, tenant, receipts) == 2

    simulator.deliver = loopback  # queued/sent/delivered come back while the send is being recorded
    sent = await facade.send_message(caller, SendMessage(channel="sms", contact_id=contact.id, text="Welcome back"))
    await facade.drain()
    assert (await facade.get_message(caller, message_id=sent.id)).status == "delivered"
