"""Salesforce and Zendesk through the gateway (in-memory client, SQLite) and the webhook route (ASGI app).

Salesforce: a sandbox org's Contacts (with their Accounts) sync into CRM contacts, again without duplicates, and
changes flow in incrementally, including one made in the same millisecond as the last change seen. Zendesk: the
sandbox help desk's tickets become interactions on their requesters' contacts, the 360 shows the open tickets, a
re-run adds nothing, an export failing half-way leaves the run interrupted and the next sync ends in the same state;
signed webhooks apply once even when delivered 20 times at once, and forged or stale deliveries are refused.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio

from promptsales.domain_core.integrations.commands import Connect, StartSync
from promptsales.domain_core.integrations.salesforce.simulator import SalesforceSimulator
from promptsales.domain_core.integrations.zendesk.signatures import sign
from promptsales.domain_core.integrations.zendesk.simulator import ZendeskSimulator
from promptsales.domain_core.integrations.zendesk.webhooks import SANDBOX_WEBHOOK_SECRET
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm, served_over_http

ANA = "ana.garcia@acme-demo.example.com"
PRIYA = "priya.nair@vandelay-demo.example.com"
KIM = "kim.lee@northwind-demo.example.com"


def integrations(crm: Crm) -> Crm:
    return Crm(crm.client, prefix="integrations_")


async def contact_of(crm: Crm, email: str) -> dict[str, Any]:
    found = await crm.ok("search_contacts", query=email)
    matches = [c for c in found["items"] if c["email"] == email]
    assert len(matches) == 1, found
    return matches[0]


async def title_of(crm: Crm, email: str) -> str | None:
    title: str | None = (await view_360(crm, email))["contact"]["title"]
    return title


async def view_360(crm: Crm, email: str) -> dict[str, Any]:
    contact = await contact_of(crm, email)
    return await crm.ok("get_customer_360", contact_id=contact["id"], timeline_limit=50)


def salesforce_sim(runtime: Runtime) -> SalesforceSimulator:
    simulator = runtime.integrations.sandbox.simulator("salesforce")
    assert isinstance(simulator, SalesforceSimulator)
    return simulator


def zendesk_sim(runtime: Runtime) -> ZendeskSimulator:
    simulator = runtime.integrations.sandbox.simulator("zendesk")
    assert isinstance(simulator, ZendeskSimulator)
    return simulator


# ------------------------------------------------------------------------------------------------ Salesforce


async def test_sandbox_salesforce_contacts_sync_with_their_accounts_and_without_duplicates(crm: Crm) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform="salesforce")
    assert connection["status"] == "connected" and connection["account_id"].startswith("00D")
    check = await tools.ok("test_connection", platform="salesforce")
    assert check["ok"] is True and "Salesforce org" in check["detail"], check

    run = await tools.ok("sync", platform="salesforce")
    assert run["status"] == "succeeded" and run["capability"] == "crm_sync", run["failures"]
    # 5 Accounts and 5 Contacts created; the open and the won Opportunity moved leads, the lost one did nothing.
    assert (run["created"], run["updated"], run["skipped"], run["failed"]) == (10, 2, 1, 0)
    priya = await view_360(crm, PRIYA)
    assert (priya["contact"]["first_name"], priya["contact"]["title"]) == ("Priya", "Director of Operations")
    assert priya["organization"]["name"] == "Vandelay Demo"
    assert priya["organization"]["domain"] == "vandelay-demo.example.com"

    again = await tools.ok("sync", platform="salesforce", full=True)
    assert (again["status"], again["created"], again["updated"], again["skipped"]) == ("succeeded", 0, 0, 13)
    assert len((await crm.ok("search_contacts", query="demo.example.com"))["items"]) == 5


async def test_salesforce_changes_flow_in_even_in_the_millisecond_of_the_last_one_seen(
    crm: Crm, runtime: Runtime
) -> None:
    tools = integrations(crm)
    org = (await tools.ok("connect", platform="salesforce"))["account_id"]
    await tools.ok("sync", platform="salesforce")
    simulator = salesforce_sim(runtime)
    contacts = simulator.org(org).records["Contact"]
    by_email = {record["Email"]: record_id for record_id, record in contacts.items()}
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    simulator.touch(org, "Contact", by_email["tom.keller@stark-demo.example.com"], {"Title": "CFO"}, at=moment)

    run = await tools.ok("sync", platform="salesforce")
    assert run["incremental_since"] is not None
    assert (run["created"], run["updated"], run["failed"]) == (0, 1, 0), run
    assert await title_of(crm, "tom.keller@stark-demo.example.com") == "CFO"

    # Another Contact changes in that same millisecond, after the sync read it: the next run must not lose it.
    simulator.touch(org, "Contact", by_email["emma.larsen@soylent-demo.example.com"], {"Title": "CRO"}, at=moment)
    late = await tools.ok("sync", platform="salesforce")
    assert (late["created"], late["updated"]) == (0, 1), late
    assert await title_of(crm, "emma.larsen@soylent-demo.example.com") == "CRO"
    assert await title_of(crm, "tom.keller@stark-demo.example.com") == "CFO"
    assert len((await crm.ok("search_contacts", query="demo.example.com"))["items"]) == 5


# ------------------------------------------------------------------------------------------------ Zendesk


async def test_zendesk_tickets_become_interactions_and_the_360_shows_open_tickets(crm: Crm) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform="zendesk")
    assert connection["status"] == "connected" and connection["account_id"]
    assert (await tools.ok("test_connection", platform="zendesk"))["ok"] is True

    run = await tools.ok("sync", platform="zendesk")
    assert (run["status"], run["capability"]) == ("succeeded", "support_sync"), run
    assert (run["created"], run["updated"], run["failed"]) == (4, 0, 0)

    ana = await view_360(crm, ANA)
    assert (ana["contact"]["first_name"], ana["contact"]["last_name"]) == ("Ana", "García")
    timeline = ana["timeline"]
    assert len(timeline) == 4 and {i["channel"] for i in timeline} == {"email"}
    assert sorted(i["direction"] for i in timeline) == ["inbound", "inbound", "inbound", "outbound"]
    assert all(i["sentiment"] is not None and i["intent"] is not None for i in timeline)
    assert any("Cannot export the quarterly report" in (i["summary"] or "") for i in timeline)
    tickets = ana["sections"]["support_tickets"]
    assert tickets["open_count"] == 2
    assert [t["subject"] for t in tickets["items"]] == ["Invoice address change", "Cannot export the quarterly report"]
    assert [t["status"] for t in tickets["items"]] == ["new", "open"]
    priya = await view_360(crm, PRIYA)
    assert [t["status"] for t in priya["sections"]["support_tickets"]["items"]] == ["pending"]
    assert len(priya["timeline"]) == 2 and {i["channel"] for i in priya["timeline"]} == {"web"}
    kim = await view_360(crm, KIM)
    assert "support_tickets" not in kim["sections"] and len(kim["timeline"]) == 3  # solved: no open ticket

    again = await tools.ok("sync", platform="zendesk")
    assert again["status"] == "succeeded" and again["created"] == 0 and again["updated"] == 0
    full = await tools.ok("sync", platform="zendesk", full=True)
    assert (full["created"], full["updated"], full["skipped"]) == (0, 0, 4)
    assert len((await view_360(crm, ANA))["timeline"]) == 4


async def test_live_zendesk_needs_a_subdomain_and_a_token_in_email_slash_token_form(crm: Crm) -> None:
    tools = integrations(crm)
    no_subdomain = await tools.error(
        "connect", platform="zendesk", mode="live", api_key="agent@acme.com/token:abc12345"
    )
    assert "subdomain" in no_subdomain and "acme.zendesk.com" in no_subdomain
    malformed = await tools.error(
        "connect", platform="zendesk", mode="live", subdomain="acme", api_key="agent@acme.com:abc12345"
    )
    assert "api_key" in malformed and "/token:" in malformed and "abc12345" not in malformed
    listing = await tools.ok("list_connectors")
    available = {i["platform"]: i["available"] for i in listing["items"]}
    assert available["salesforce"] is True and available["zendesk"] is True


async def test_an_export_failing_half_way_is_resumed_by_the_next_sync_to_the_same_end(
    crm: Crm, runtime: Runtime
) -> None:
    tools = integrations(crm)
    subdomain = (await tools.ok("connect", platform="zendesk"))["account_id"]
    simulator = zendesk_sim(runtime)
    simulator.export_page_size = 2
    tickets = sorted(simulator.account(subdomain).tickets.values(), key=lambda t: (t["updated_at"], t["id"]))
    # The second export page fails on every retry of this sync.
    simulator.fail_cursor(simulator.export_cursor_after(subdomain, tickets[1]["id"]), status=503, times=4)

    broken = await tools.ok("sync", platform="zendesk")
    assert broken["status"] == "interrupted" and "Zendesk" in (broken["error"] or ""), broken
    assert broken["created"] == 2  # the first page was committed

    resumed = await tools.ok("sync", platform="zendesk")
    assert resumed["id"] == broken["id"] and resumed["attempts"] == 2
    assert (resumed["status"], resumed["created"], resumed["failed"]) == ("succeeded", 4, 0), resumed
    counts = {email: len((await view_360(crm, email))["timeline"]) for email in (ANA, PRIYA, KIM)}
    assert counts == {ANA: 4, PRIYA: 2, KIM: 3}
    assert (await view_360(crm, ANA))["sections"]["support_tickets"]["open_count"] == 2


# ------------------------------------------------------------------------------------------------ webhooks


@pytest_asyncio.fixture
async def served(make_runtime: Callable[..., Runtime]) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    async with served_over_http(make_runtime()) as served_app:
        yield served_app


def signed(
    event: dict[str, Any], *, secret: str = SANDBOX_WEBHOOK_SECRET, age: timedelta = timedelta()
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    timestamp = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "X-Zendesk-Webhook-Signature": sign(secret=secret, body=body, timestamp=timestamp),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        "Content-Type": "application/json",
    }
    return body, headers


async def test_a_signed_ticket_event_applies_once_even_delivered_20_times_at_once(
    served: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, http = served
    caller = Caller(tenant_id=runtime.settings.tenant, actor_id="agent-1")
    facade = runtime.integrations
    subdomain = (await facade.connect(caller, Connect(platform="zendesk"))).account_id
    assert subdomain is not None
    await facade.sync(caller, StartSync(platform="zendesk"))
    simulator = zendesk_sim(runtime)
    ticket = next(t for t in simulator.account(subdomain).tickets.values() if t["subject"].startswith("Cannot export"))
    simulator.add_comment(
        subdomain, ticket["id"], "Still broken this morning, we are losing patience!", author_email=ANA
    )
    simulator.touch(subdomain, ticket["id"], at=datetime.now(UTC), status="hold")
    body, headers = signed(simulator.ticket_event(subdomain, ticket["id"]))

    answers = await asyncio.gather(
        *(http.post(f"/webhooks/zendesk?subdomain={subdomain}", content=body, headers=headers) for _ in range(20))
    )
    await facade.drain()

    assert {a.status_code for a in answers} == {200}
    contact = (await facade.open_tickets(caller, contact_id=await _contact_id(runtime, caller, ANA))).items
    assert [(t.subject, t.status) for t in contact] == [
        ("Cannot export the quarterly report", "hold"),
        ("Invoice address change", "new"),
    ]
    view = await runtime.crm.get_customer_360(
        caller, contact_id=await _contact_id(runtime, caller, ANA), timeline_cursor=None, timeline_limit=50
    )
    latest = [i for i in view.timeline if i.transcript and "losing patience" in i.transcript]
    assert len(latest) == 1 and latest[0].direction == "inbound" and latest[0].sentiment == "negative"
    assert len(view.timeline) == 5

    # A new ticket from someone new: the webhook makes the contact and the open ticket.
    fresh = simulator.seed_ticket(
        subdomain, "Where is my order?", comment="Order 1234 has not arrived.", requester_email="new.buyer@example.org"
    )
    body, headers = signed(simulator.ticket_event(subdomain, fresh, event_type="zen:event-type:ticket.created"))
    assert (
        await http.post(f"/webhooks/zendesk?subdomain={subdomain}", content=body, headers=headers)
    ).status_code == 200
    await facade.drain()
    buyer = await facade.open_tickets(caller, contact_id=await _contact_id(runtime, caller, "new.buyer@example.org"))
    assert [t.subject for t in buyer.items] == ["Where is my order?"]


async def test_forged_tampered_and_stale_zendesk_deliveries_are_refused(
    served: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, http = served
    caller = Caller(tenant_id=runtime.settings.tenant, actor_id="agent-1")
    subdomain = (await runtime.integrations.connect(caller, Connect(platform="zendesk"))).account_id
    simulator = zendesk_sim(runtime)
    event = simulator.ticket_event(subdomain or "", 1)
    url = f"/webhooks/zendesk?subdomain={subdomain}"

    forged_body, forged = signed(event, secret="not-the-secret")
    assert (await http.post(url, content=forged_body, headers=forged)).status_code == 401
    body, headers = signed(event)
    tampered = body.replace(b"zen:ticket:1", b"zen:ticket:2")
    refused = await http.post(url, content=tampered, headers=headers)
    assert refused.status_code == 401 and "bad_signature" in refused.json()["outcome"]
    stale_body, stale = signed(event, age=timedelta(minutes=10))
    refused = await http.post(url, content=stale_body, headers=stale)
    assert refused.status_code == 401 and "stale" in refused.json()["outcome"]
    unsigned = await http.post(url, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert (await http.post("/webhooks/zendesk", content=body, headers=headers)).status_code == 400
    assert (
        await http.post("/webhooks/zendesk?subdomain=someone-else", content=body, headers=headers)
    ).status_code == 401
    await runtime.integrations.drain()
    assert (
        await runtime.crm.search_contacts(caller, text="demo.example.com", filters={}, cursor=None, limit=10)
    ).items == []


async def _contact_id(runtime: Runtime, caller: Caller, email: str) -> str:
    page = await runtime.crm.search_contacts(caller, text=email, filters={}, cursor=None, limit=5)
    (match,) = [c for c in page.items if c.email == email]
    return match.id
