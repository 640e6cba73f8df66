"""The integrations tools through the gateway (in-memory client, SQLite): connect a sandbox HubSpot portal, test
it, sync its contacts into the CRM (twice: no duplicates), follow the runs, disconnect, and the errors."""

from collections.abc import Callable
from typing import Any

from fastmcp import Client

from promptsales.domain_core.integrations.hubspot.simulator import HubSpotSimulator
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm


def integrations(crm: Crm) -> Crm:
    return Crm(crm.client, prefix="integrations_")


async def test_list_connectors_shows_every_platform_and_what_the_plan_allows(crm: Crm) -> None:
    listing = await integrations(crm).ok("list_connectors")
    platforms = {item["platform"]: item for item in listing["items"]}
    assert {"hubspot", "salesforce", "zendesk", "whatsapp", "twilio", "google_ads", "meta_ads", "mailchimp"} <= set(
        platforms
    )
    assert platforms["hubspot"]["available"] is True
    assert platforms["hubspot"]["connection"] is None
    assert all(item["live_allowed"] is True for item in listing["items"])  # these tests run on Enterprise


async def test_sandbox_hubspot_connects_at_once_and_syncs_contacts_without_duplicates(crm: Crm) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform="hubspot")
    assert connection["status"] == "connected" and connection["mode"] == "sandbox"
    assert connection["account_id"] and connection["authorization_url"] is None
    assert "token" not in str(connection).lower().replace("token_expires_at", "")

    check = await tools.ok("test_connection", platform="hubspot")
    assert check["ok"] is True, check

    run = await tools.ok("sync", platform="hubspot")
    assert run["status"] == "succeeded", run
    # 5 companies and 5 contacts created; 2 deals moved leads (the lost one changes nothing).
    assert (run["created"], run["updated"], run["skipped"], run["failed"]) == (10, 2, 1, 0), run
    people = await crm.ok("search_contacts", query="demo.example.com")
    emails = sorted(c["email"] for c in people["items"])
    assert len(emails) == 5 and "ana.garcia@acme-demo.example.com" in emails
    companies = await crm.ok("search_organizations", domain="initech-demo.example.com")
    assert [o["name"] for o in companies["items"]] == ["Initech Demo"]
    stages = {}
    for email in ("li.wei@globex-demo.example.com", "sam.okafor@initech-demo.example.com"):
        contact = (await crm.ok("search_contacts", query=email))["items"][0]
        view = await crm.ok("get_customer_360", contact_id=contact["id"])
        assert view["organization"]["domain"] == email.split("@")[1]
        stages[email] = [lead["stage"] for lead in view["leads"]]
    assert stages == {
        "li.wei@globex-demo.example.com": ["opportunity"],
        "sam.okafor@initech-demo.example.com": ["customer"],
    }

    again = await tools.ok("sync", platform="hubspot", full=True)
    assert again["status"] == "succeeded" and again["created"] == again["updated"] == 0 and again["skipped"] == 13
    assert len((await crm.ok("search_contacts", query="demo.example.com"))["items"]) == 5

    runs = await tools.ok("list_sync_runs", platform="hubspot")
    assert [r["id"] for r in runs["items"]] == [again["id"], run["id"]]
    assert (await tools.ok("get_sync_run", run_id=run["id"]))["created"] == 10


async def test_a_change_in_hubspot_flows_in_on_the_next_incremental_sync(crm: Crm, runtime: Runtime) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform="hubspot")
    await tools.ok("sync", platform="hubspot")
    simulator = runtime.integrations.sandbox.simulator("hubspot")
    assert isinstance(simulator, HubSpotSimulator)
    portal = int(connection["account_id"])
    contact_id = next(iter(simulator.portal(portal).records["contacts"]))
    from datetime import UTC, datetime, timedelta

    simulator.touch(
        portal,
        "contacts",
        contact_id,
        {"jobtitle": "Chief Revenue Officer"},
        at=datetime.now(UTC) + timedelta(seconds=1),
    )
    run = await tools.ok("sync", platform="hubspot")
    assert run["incremental_since"] is not None
    assert run["updated"] == 1 and run["created"] == 0, run
    found = await crm.ok("search_contacts", query="Chief Revenue Officer")
    assert len(found["items"]) == 1


async def test_disconnect_forgets_credentials_and_sync_then_says_what_to_do(crm: Crm) -> None:
    tools = integrations(crm)
    await tools.ok("connect", platform="hubspot")
    gone = await tools.ok("disconnect", platform="hubspot")
    assert gone["status"] == "disconnected"
    message = await tools.error("sync", platform="hubspot")
    assert "integrations_connect" in message


async def test_bad_platform_and_unconfigured_live_mode_are_refused_clearly(crm: Crm) -> None:
    tools = integrations(crm)
    assert "hubspot" in await tools.error("connect", platform="myspace")
    assert "PROMPTSALES_INTEGRATIONS_APPS" in await tools.error("connect", platform="hubspot", mode="live")
    assert "api_key" in await tools.error("connect", platform="meta_ads", mode="live")  # a system user's token
    message = await tools.error("sync", platform="hubspot", capability="crm_sync")
    assert "connect" in message.lower()


async def test_live_connections_need_a_plan_that_includes_them(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(default_plan="free")
    async with Client(build_gateway(runtime)) as client:
        tools = Crm(client, prefix="integrations_")
        listing = await tools.ok("list_connectors")
        assert all(item["live_allowed"] is False for item in listing["items"])
        message = await tools.error("connect", platform="hubspot", mode="live", api_key="pat-na1-12345678")
        assert "sandbox connectors only" in message and "business_list_plans" in message
        assert (await tools.ok("connect", platform="hubspot"))["status"] == "connected"


async def test_revoked_sandbox_tokens_mark_the_connection_needs_reauth(crm: Crm, runtime: Runtime) -> None:
    tools = integrations(crm)
    await tools.ok("connect", platform="hubspot")
    facade = runtime.integrations
    secret: dict[str, Any] = {}

    async def grab(uow: Any) -> None:
        secret.update(await facade.sessions.credentials.get(uow, "integrations.hubspot") or {})

    await runtime.uow.read(runtime.caller(None), grab)
    facade.sandbox.revoke("hubspot", access_token=secret["access_token"], refresh_token=secret["refresh_token"])
    check = await tools.ok("test_connection", platform="hubspot")
    assert check["ok"] is False and check["status"] == "needs_reauth"
    listing = await tools.ok("list_connectors")
    hubspot = next(i for i in listing["items"] if i["platform"] == "hubspot")
    assert hubspot["connection"]["status"] == "needs_reauth"
    assert "integrations_connect" in await tools.error("sync", platform="hubspot")
    again = await tools.ok("connect", platform="hubspot")
    assert again["status"] == "connected" and again["last_error"] is None


async def test_crm_changes_are_pushed_to_hubspot_and_sync_echoes_are_not(crm: Crm, runtime: Runtime) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform="hubspot")
    await tools.ok("sync", platform="hubspot")
    simulator = runtime.integrations.sandbox.simulator("hubspot")
    assert isinstance(simulator, HubSpotSimulator)
    portal = simulator.portal(int(connection["account_id"]))
    await runtime.drain_events()
    upserts_after_sync = [r for r in simulator.requests if r[1].endswith("/batch/upsert")]
    assert upserts_after_sync == [], "a sync's own writes are echoes: nothing is pushed back"

    found = await crm.ok("search_contacts", query="li.wei@globex-demo.example.com")
    contact_id = found["items"][0]["id"]
    await crm.ok("update_contact", contact_id=contact_id, title="Chief Revenue Officer")
    created = await crm.ok("create_contact", email="new.person@crm-only.example.com", first_name="Nia")
    await runtime.drain_events()

    by_email = {r["properties"].get("email"): r for r in portal.records["contacts"].values()}
    assert by_email["li.wei@globex-demo.example.com"]["properties"]["jobtitle"] == "Chief Revenue Officer"
    assert by_email["new.person@crm-only.example.com"]["properties"]["firstname"] == "Nia"
    # The pushed contact is linked, so the next sync updates it instead of creating a duplicate.
    run = await tools.ok("sync", platform="hubspot", full=True)
    assert run["created"] == 0, run
    assert (await crm.ok("get_contact", contact_id=created["id"]))["first_name"] == "Nia"


async def test_a_sync_killed_mid_listing_resumes_to_the_same_end_state_without_duplicates(
    crm: Crm, runtime: Runtime
) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform="hubspot")
    simulator = runtime.integrations.sandbox.simulator("hubspot")
    assert isinstance(simulator, HubSpotSimulator)
    portal = int(connection["account_id"])
    for n in range(150):
        simulator.seed(portal, "contacts", {"email": f"bulk{n}@bulk.example.com", "firstname": f"Bulk{n}"})
    # The second page fails past every retry: the run stops after committing the first page.
    second_page = str(sorted(int(i) for i in simulator.portal(portal).records["contacts"])[100])
    simulator.fail_page(second_page, status=502, times=4)  # every attempt of one request (RequestPolicy: 4)
    stopped = await tools.ok("sync", platform="hubspot")
    assert stopped["status"] == "interrupted" and "HubSpot" in (stopped["error"] or ""), stopped
    assert (stopped["created"], stopped["updated"]) == (105, 0)  # the 5 companies, then one page of contacts

    resumed = await tools.ok("sync", platform="hubspot")
    assert resumed["id"] == stopped["id"] and resumed["attempts"] == 2
    assert resumed["status"] == "succeeded" and (resumed["created"], resumed["updated"]) == (160, 2), resumed
    contacts = 0
    cursor = None
    while True:
        page = await crm.ok("search_contacts", limit=100, **({"cursor": cursor} if cursor else {}))
        contacts += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert contacts == 155
