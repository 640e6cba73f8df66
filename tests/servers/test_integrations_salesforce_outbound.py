"""Salesforce Outbound Messages at /webhooks/salesforce (the HTTP app, SQLite): acknowledged in SOAP, each
notification applied once however often it is redelivered, unknown orgs and malformed or DTD-laden bodies
refused, and nothing in a message trusted but its ids (the record is read back from Salesforce)."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from promptsales.domain_core.integrations.salesforce.outbound import Notice, message
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm
from tests.servers.test_integrations_salesforce_twoway import by_email, connected

ACTION = "04k000000000001AAA"


async def test_a_contact_change_redelivered_twenty_times_is_applied_once(crm: Crm, runtime: Runtime) -> None:
    tools, simulator, org = await connected(crm, runtime)
    await tools.ok("sync", platform="salesforce")
    email, record = next(iter(by_email(simulator, org).items()))
    simulator.touch(org, "Contact", record["Id"], {"Title": "Head of Outbound"}, at=datetime.now(UTC) + timedelta(1))
    body = message(org, ACTION, [Notice("04l000000000001AAA", "Contact", record["Id"])])
    app = http_app(build_gateway(runtime), runtime)  # the started runtime; routes on a gateway of this test's own
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        answers = await asyncio.gather(*(http.post("/webhooks/salesforce", content=body) for _ in range(20)))
        assert {a.status_code for a in answers} == {200}
        assert all("<Ack>true</Ack>" in a.text and a.headers["content-type"].startswith("text/xml") for a in answers)
        await runtime.integrations.drain()
        found = await crm.ok("search_contacts", query=email)
        assert (await crm.ok("get_contact", contact_id=found["items"][0]["id"]))["title"] == "Head of Outbound"
        audit = await runtime.uow.read(runtime.caller(None), _webhook_audits)
        assert audit == 1

        unknown = message("00D000000000999AAA", ACTION, [Notice("04l000000000002AAA", "Contact", record["Id"])])
        assert (await http.post("/webhooks/salesforce", content=unknown)).status_code == 404
        assert (await http.post("/webhooks/salesforce", content=b"<not-soap")).status_code == 400
        bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
        refused = await http.post("/webhooks/salesforce", content=bomb)
        assert refused.status_code == 400 and "DTD" in refused.text


async def _webhook_audits(uow: object) -> int:
    from sqlalchemy import text

    result = await uow.session.execute(  # type: ignore[attr-defined]
        text(
            "SELECT count(*) FROM audit_log WHERE action = 'integrations.webhook' AND target_type = 'salesforce_event'"
        )
    )
    return int(result.scalar_one())


async def test_a_contact_deleted_in_salesforce_is_unlinked_kept_in_the_crm_and_not_recreated(
    crm: Crm, runtime: Runtime
) -> None:
    tools, simulator, org = await connected(crm, runtime)
    await tools.ok("sync", platform="salesforce")
    email, record = next(iter(by_email(simulator, org).items()))
    simulator.delete(org, "Contact", record["Id"], at=datetime.now(UTC))
    run = await tools.ok("sync", platform="salesforce")
    assert run["status"] == "succeeded" and run["updated"] >= 1, run
    local = (await crm.ok("search_contacts", query=email))["items"][0]
    assert local["email"] == email  # the CRM keeps the person

    before = len(simulator.requests)
    await crm.ok("update_contact", contact_id=local["id"], title="Kept in the CRM")
    await runtime.drain_events()
    written = [(m, p) for m, p in simulator.requests[before:] if m in ("POST", "PATCH")]
    assert written == [], "a CRM change recreated a Contact deleted in Salesforce"
    assert email not in by_email(simulator, org)
