"""WhatsApp deliveries racing on PostgreSQL (row-level security forced, READ COMMITTED): one inbound message posted
20 times at once is one contact and one interaction; a send's status webhooks racing its own record land on one
message row with the furthest status."""

import asyncio

import pytest

from promptsales.domain_core.crm.commands import CreateContact
from promptsales.domain_core.crm.dto import ConsentGrant, ConsentInput
from promptsales.domain_core.integrations.commands import Connect, SendMessage
from promptsales.domain_core.integrations.dto import InboundRequest
from promptsales.domain_core.integrations.whatsapp.simulator import WhatsAppSimulator
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import owner_count

pytestmark = pytest.mark.postgres


@pytest.fixture
def runtime(pg_runtime: Runtime) -> Runtime:
    return pg_runtime


async def test_twenty_identical_deliveries_and_racing_statuses_apply_once(runtime: Runtime, pg_database: str) -> None:
    facade, caller, tenant = runtime.integrations, runtime.caller(None), runtime.settings.tenant
    connection = await facade.connect(caller, Connect(platform="whatsapp"))
    number = connection.account_id
    assert number is not None
    simulator = facade.sandbox.simulator("whatsapp")
    assert isinstance(simulator, WhatsAppSimulator)

    loopback, simulator.deliver = simulator.deliver, None  # hold the inbound delivery
    await simulator.receive(number, "+34600111222", "Hola", profile_name="Marta Rossi")
    delivery = simulator.outbox[-1]
    request = InboundRequest(
        method="POST",
        url="http://127.0.0.1:8000/webhooks/whatsapp",
        headers={k.lower(): v for k, v in delivery.headers.items()},
        query={},
        body=delivery.body,
    )
    outcomes = await asyncio.gather(*(facade.handle_webhook("whatsapp", request) for _ in range(20)))
    assert {o.status_code for o in outcomes} == {200}
    await facade.drain()
    where = "FROM crm_contacts WHERE tenant_id = %s AND phone = '+34600111222'"
    assert owner_count(pg_database, tenant, "SELECT count(*) " + where) == 1
    inbound = "SELECT count(*) FROM crm_interactions WHERE tenant_id = %s AND channel = 'whatsapp'"
    assert owner_count(pg_database, tenant, inbound + " AND direction = 'inbound'") == 1

    # The sandbox loops its sent/delivered/read webhooks back while the send is being recorded.
    simulator.deliver = loopback
    consent = ConsentInput(whatsapp=ConsentGrant(granted=True, source="web_form"))
    contact = await runtime.crm.create_contact(
        caller, CreateContact(first_name="Ana", phone="+14155550100", consent=consent)
    )
    sends = [SendMessage(contact_id=contact.id, template_name="hello_world") for _ in range(5)]
    sent = await asyncio.gather(*(facade.send_message(caller, s, idempotency_key=f"k{n}") for n, s in enumerate(sends)))
    await facade.drain()
    links = "SELECT count(*) FROM integrations_external_links WHERE tenant_id = %s AND object_type = 'message'"
    assert owner_count(pg_database, tenant, links) == 1 + 5  # the inbound message and five sends, one row each
    for message in sent:
        assert (await facade.get_message(caller, message_id=message.id)).status == "read"
