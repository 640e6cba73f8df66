"""Salesforce both ways through the gateway (in-memory client, SQLite) and the outbox (``runtime.drain_events()``).

In: a sandbox org's Accounts become CRM organizations, its Contacts contacts, its Opportunities move their contacts'
leads (open → opportunity, won → customer, lost → nothing), again without duplicates; incremental runs bring a
stage change and a contact role added to an Opportunity; a run interrupted in one phase resumes with that phase.
Out: a CRM change to a synced contact is written to its Salesforce Contact by Id (no second Contact); a CRM-made
contact is created once in Salesforce and linked (a later email change goes to the same Contact); one Salesforce
already has (same email, not linked) is updated instead; pushes of one new contact at the same moment create one
Contact; a sync's own writes are not pushed back.
"""

import asyncio
from datetime import UTC, datetime
from typing import Any

from promptsales.domain_core.integrations.salesforce.simulator import SalesforceSimulator
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm
from tests.servers.test_integrations_salesforce_zendesk import PRIYA, contact_of, integrations, salesforce_sim, view_360

TOM = "tom.keller@stark-demo.example.com"  # the open Opportunity's contact
AISHA = "aisha.bello@wayne-demo.example.com"  # the won one's
DIEGO = "diego.santos@cyberdyne-demo.example.com"  # the lost one's
EMMA = "emma.larsen@soylent-demo.example.com"


async def stages(crm: Crm, email: str) -> list[str]:
    return [lead["stage"] for lead in (await view_360(crm, email))["leads"]]


async def connected(crm: Crm, runtime: Runtime) -> tuple[Crm, SalesforceSimulator, str]:
    tools = integrations(crm)
    org = (await tools.ok("connect", platform="salesforce"))["account_id"]
    return tools, salesforce_sim(runtime), org


def by_email(simulator: SalesforceSimulator, org: str, object_type: str = "Contact") -> dict[str, dict[str, Any]]:
    return {str(r.get("Email")).lower(): r for r in simulator.org(org).records[object_type].values()}


def writes(simulator: SalesforceSimulator) -> list[tuple[str, str]]:
    return [(method, path) for method, path in simulator.requests if method in ("POST", "PATCH")]


async def test_accounts_become_organizations_and_opportunities_move_their_contacts_leads(
    crm: Crm, runtime: Runtime
) -> None:
    tools, simulator, org = await connected(crm, runtime)

    run = await tools.ok("sync", platform="salesforce")
    assert run["status"] == "succeeded", run["failures"]
    # 5 Accounts and 5 Contacts created; the open and the won Opportunity moved leads, the lost one did nothing.
    assert (run["created"], run["updated"], run["skipped"], run["failed"]) == (10, 2, 1, 0), run
    (stark,) = (await crm.ok("search_organizations", domain="stark-demo.example.com"))["items"]
    assert (stark["name"], stark["industry"], stark["employee_count"], stark["country"]) == (
        "Stark Demo",
        "Manufacturing",
        1200,
        "DE",
    )
    tom = await view_360(crm, TOM)
    assert tom["organization"]["id"] == stark["id"]  # the Contact landed on its Account's organization
    assert (await stages(crm, TOM), await stages(crm, AISHA), await stages(crm, DIEGO)) == (
        ["opportunity"],
        ["customer"],
        [],
    )

    again = await tools.ok("sync", platform="salesforce", full=True)
    assert (again["created"], again["updated"], again["skipped"], again["failed"]) == (0, 0, 13, 0), again
    assert len((await crm.ok("search_organizations", query="Demo", limit=50))["items"]) == 5
    assert len((await crm.ok("search_contacts", query="demo.example.com"))["items"]) == 5
    assert await stages(crm, TOM) == ["opportunity"]

    # In Salesforce: Tom's Opportunity is won, and Emma is added to the won one (a role: its stamp does not move).
    opportunities = {r["Name"]: r["Id"] for r in simulator.org(org).records["Opportunity"].values()}
    now = datetime.now(UTC)
    simulator.touch(org, "Opportunity", opportunities["Stark Demo - annual plan"], {"StageName": "Closed Won"}, at=now)
    emma = by_email(simulator, org)[EMMA]["Id"]
    simulator.seed(
        org, "OpportunityContactRole", {"OpportunityId": opportunities["Wayne Demo - pilot"], "ContactId": emma}
    )
    later = await tools.ok("sync", platform="salesforce")
    assert later["incremental_since"] is not None and (later["created"], later["failed"]) == (0, 0), later
    assert (await stages(crm, TOM), await stages(crm, EMMA), await stages(crm, DIEGO)) == (
        ["customer"],
        ["customer"],
        [],
    )
    assert len((await crm.ok("search_contacts", query="demo.example.com"))["items"]) == 5


async def test_a_run_interrupted_between_phases_resumes_with_the_next_phase_not_from_the_start(
    crm: Crm, runtime: Runtime
) -> None:
    tools, simulator, _ = await connected(crm, runtime)
    # Salesforce is down when the run reaches the Opportunities' contact roles, past every retry (4 attempts).
    simulator.fail_query("OpportunityContactRole", status=503, times=4)

    stopped = await tools.ok("sync", platform="salesforce")
    assert stopped["status"] == "interrupted" and "salesforce" in (stopped["error"] or "").lower(), stopped
    assert (stopped["created"], stopped["updated"]) == (10, 0)  # the Accounts and the Contacts are committed
    assert await stages(crm, AISHA) == []
    asked = len(simulator.queries)

    resumed = await tools.ok("sync", platform="salesforce")
    assert resumed["id"] == stopped["id"] and resumed["attempts"] == 2
    assert resumed["status"] == "succeeded", resumed
    assert (resumed["created"], resumed["updated"], resumed["skipped"], resumed["failed"]) == (10, 2, 1, 0), resumed
    assert (await stages(crm, TOM), await stages(crm, AISHA), await stages(crm, DIEGO)) == (
        ["opportunity"],
        ["customer"],
        [],
    )
    # The resumed run went on with the Opportunities: the Accounts and Contacts were not read again.
    again = [q.split(" FROM ", 1)[1].split(" ", 1)[0] for q in simulator.queries[asked:]]
    assert again == ["Opportunity", "OpportunityContactRole"]
    assert len((await crm.ok("search_organizations", query="Demo", limit=50))["items"]) == 5
    assert len((await crm.ok("search_contacts", query="demo.example.com"))["items"]) == 5


async def test_a_crm_change_to_a_synced_contact_is_written_to_its_salesforce_contact_by_id(
    crm: Crm, runtime: Runtime
) -> None:
    tools, simulator, org = await connected(crm, runtime)
    await tools.ok("sync", platform="salesforce")
    await runtime.drain_events()
    assert writes(simulator) == [], "a sync's own writes are echoes: nothing is pushed back"
    priya_id = by_email(simulator, org)[PRIYA]["Id"]

    contact = await contact_of(crm, PRIYA)
    await crm.ok("update_contact", contact_id=contact["id"], title="COO", first_name="Priyanka")
    await runtime.drain_events()

    assert writes(simulator) == [("PATCH", f"/services/data/v66.0/sobjects/Contact/{priya_id}")]
    contacts = simulator.org(org).records["Contact"]
    assert len(contacts) == 5
    assert (contacts[priya_id]["Title"], contacts[priya_id]["FirstName"]) == ("COO", "Priyanka")

    # The next sync reads that Contact again: it holds what the CRM has, so nothing changes on either side.
    run = await tools.ok("sync", platform="salesforce")
    assert (run["created"], run["updated"], run["failed"]) == (0, 0, 0), run
    await runtime.drain_events()
    assert len(writes(simulator)) == 1
    assert (await view_360(crm, PRIYA))["contact"]["first_name"] == "Priyanka"

    # A change made in Salesforce flows in and is not sent back.
    simulator.touch(org, "Contact", priya_id, {"Title": "CEO"}, at=datetime.now(UTC))
    run = await tools.ok("sync", platform="salesforce")
    assert (run["created"], run["updated"]) == (0, 1), run
    await runtime.drain_events()
    assert len(writes(simulator)) == 1
    assert (await view_360(crm, PRIYA))["contact"]["title"] == "CEO"


async def test_a_crm_made_contact_is_created_once_in_salesforce_and_linked(crm: Crm, runtime: Runtime) -> None:
    tools, simulator, org = await connected(crm, runtime)
    await tools.ok("sync", platform="salesforce")
    await runtime.drain_events()

    made = await crm.ok("create_contact", email="Nia.Obi@crm-only.example.com", first_name="Nia", last_name="Obi")
    await runtime.drain_events()
    nia = by_email(simulator, org)["nia.obi@crm-only.example.com"]
    assert (nia["FirstName"], nia["LastName"]) == ("Nia", "Obi")
    assert writes(simulator) == [("POST", "/services/data/v66.0/sobjects/Contact")]

    # Linked: the next change goes to that Contact by its Id (a new email too: a lookup by email would miss it),
    # and a sync finds no one new.
    await crm.ok("update_contact", contact_id=made["id"], email="nia@obi-new.example.com")
    await runtime.drain_events()
    assert writes(simulator)[1:] == [("PATCH", f"/services/data/v66.0/sobjects/Contact/{nia['Id']}")]
    assert simulator.org(org).records["Contact"][nia["Id"]]["Email"] == "nia@obi-new.example.com"
    run = await tools.ok("sync", platform="salesforce", full=True)
    assert (run["created"], run["updated"], run["failed"]) == (0, 0, 0), run
    assert len(simulator.org(org).records["Contact"]) == 6

    # Someone Salesforce already has (same email, in another case), never synced: found by email and updated.
    known = simulator.seed(org, "Contact", {"Email": "Lee.Park@partner.example.com", "LastName": "Park"})
    await crm.ok("create_contact", email="lee.park@partner.example.com", first_name="Lee", title="Partner")
    await runtime.drain_events()
    assert writes(simulator)[2:] == [("PATCH", f"/services/data/v66.0/sobjects/Contact/{known}")]
    assert len(simulator.org(org).records["Contact"]) == 7
    assert simulator.org(org).records["Contact"][known]["FirstName"] == "Lee"


async def test_pushes_of_one_new_contact_at_the_same_moment_create_one_salesforce_contact(
    crm: Crm, runtime: Runtime
) -> None:
    _, simulator, org = await connected(crm, runtime)
    made = await crm.ok("create_contact", email="kai@crm-only.example.com", last_name="Kai")
    # The runtime's own pusher (the outbox consumer of contact_created) races with these pushes, so they go through
    # the same instance and take turns with it.
    push = runtime.integrations._push
    caller = runtime.caller(None)

    # A create is sent once and not deduplicated by Salesforce: two pushes of one contact must take turns.
    outcomes = await asyncio.gather(*(push.push(caller, "salesforce", made["id"]) for _ in range(3)))
    await runtime.drain_events()
    assert sorted(outcomes) in (["echo", "echo", "pushed"], ["echo", "echo", "echo"])  # or the consumer went first
    assert writes(simulator) == [("POST", "/services/data/v66.0/sobjects/Contact")]
    assert [r["LastName"] for r in simulator.org(org).records["Contact"].values()].count("Kai") == 1
