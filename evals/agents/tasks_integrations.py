"""Integrations tasks: sandbox connections, syncs in both directions, messaging and disconnection."""

from evals.agents.fixtures import ANA, capture
from evals.agents.spec import CheckContext, Step, Task, need


async def check_hubspot_synced(ctx: CheckContext) -> None:
    people = (await ctx.read("crm_search_contacts", query="demo.example.com"))["items"]
    need(len(people) == 5, f"{len(people)} HubSpot contacts in the CRM, expected 5")
    runs = (await ctx.read("integrations_list_sync_runs", platform="hubspot"))["items"]
    need(runs and runs[0]["status"] == "succeeded", f"sync runs {runs}")


async def check_connectors(ctx: CheckContext) -> None:
    listing = ctx.last_ok("integrations_list_connectors").data or {}
    need(len(listing.get("items", [])) >= 8, "the listing is incomplete")


async def check_tested(ctx: CheckContext) -> None:
    call = ctx.last_ok("integrations_test_connection")
    need(call.arguments.get("platform") == "google_ads", "tested another platform")


async def check_ad_accounts(ctx: CheckContext) -> None:
    call = ctx.last_ok("integrations_list_ad_accounts")
    need(call.arguments.get("platform") == "meta_ads", "listed another platform's accounts")
    need((call.data or {}).get("items"), "no ad accounts listed")


async def check_mailchimp(ctx: CheckContext) -> None:
    runs = (await ctx.read("integrations_list_sync_runs", platform="mailchimp"))["items"]
    need(runs and runs[0]["status"] == "succeeded", f"mailchimp runs {runs}")
    need(runs[0]["created"] + runs[0]["updated"] >= 1, "nobody was sent to the audience")


async def check_sync_run_read(ctx: CheckContext) -> None:
    call = ctx.last_ok("integrations_get_sync_run")
    need(call.arguments.get("run_id") == ctx.saved["run"]["id"], "read another run")


async def check_disconnected(ctx: CheckContext) -> None:
    listing = (await ctx.read("integrations_list_connectors"))["items"]
    zendesk = next(item for item in listing if item["platform"] == "zendesk")
    connection = zendesk["connection"]
    need(connection is None or connection["status"] == "disconnected", f"zendesk still {connection}")


async def check_whatsapp(ctx: CheckContext) -> None:
    found = (await ctx.read("crm_search_contacts", query=ANA["email"]))["items"][0]
    view = await ctx.read("crm_get_customer_360", contact_id=found["id"])
    sent = [i for i in view["timeline"] if i["channel"] == "whatsapp" and i["direction"] == "outbound"]
    need(len(sent) == 1, f"{len(sent)} outbound WhatsApp messages on Ana's timeline, expected 1")


async def check_connected_mailchimp(ctx: CheckContext) -> None:
    listing = (await ctx.read("integrations_list_connectors"))["items"]
    mailchimp = next(item for item in listing if item["platform"] == "mailchimp")
    need(mailchimp["connection"] and mailchimp["connection"]["status"] == "connected", "mailchimp not connected")
    need(mailchimp["connection"]["mode"] == "sandbox", "not a sandbox connection")


WHATSAPP_ANA = {**ANA, "phone": "+34600111222", "consent": {"whatsapp": {"granted": True, "source": "web_form"}}}
NEWSLETTER = {"all": [{"field": "consent.email", "op": "eq", "value": "granted"}]}

TASKS = [
    Task(
        id="integrations-hubspot-sync",
        context="integrations",
        request="Connect our HubSpot in sandbox mode and bring its contacts into the CRM.",
        path=(
            Step("integrations_connect", {"platform": "hubspot"}),
            Step("integrations_sync", {"platform": "hubspot"}),
        ),
        check=check_hubspot_synced,
    ),
    Task(
        id="integrations-what-can-connect",
        context="integrations",
        request="Which platforms can we connect, and which are connected already?",
        path=(Step("integrations_list_connectors"),),
        check=check_connectors,
    ),
    Task(
        id="integrations-test-google-ads",
        context="integrations",
        request="Is our Google Ads connection still working?",
        setup=(Step("integrations_connect", {"platform": "google_ads"}),),
        path=(Step("integrations_test_connection", {"platform": "google_ads"}),),
        check=check_tested,
    ),
    Task(
        id="integrations-meta-ad-accounts",
        context="integrations",
        request="Which Meta ad accounts can we run campaigns from?",
        setup=(Step("integrations_connect", {"platform": "meta_ads"}),),
        path=(Step("integrations_list_ad_accounts", {"platform": "meta_ads"}),),
        check=check_ad_accounts,
    ),
    Task(
        id="integrations-mailchimp-newsletter",
        context="integrations",
        request="Send our 'Newsletter' segment to the Mailchimp audience.",
        setup=(
            capture("ana", {**ANA, "consent": {"email": {"granted": True, "source": "web_form"}}}),
            Step("crm_create_segment", {"name": "Newsletter", "rule": NEWSLETTER}, save="segment"),
            Step("integrations_connect", {"platform": "mailchimp"}),
        ),
        path=(
            Step("crm_list_segments", save="segments"),
            Step(
                "integrations_sync",
                {"platform": "mailchimp", "capability": "email_marketing", "segment_id": "$segments.items.0.id"},
            ),
        ),
        check=check_mailchimp,
    ),
    Task(
        id="integrations-last-sync-failures",
        context="integrations",
        request="Did the last HubSpot sync have any failed records? Show me the details.",
        setup=(
            Step("integrations_connect", {"platform": "hubspot"}),
            Step("integrations_sync", {"platform": "hubspot"}, save="run"),
        ),
        path=(
            Step("integrations_list_sync_runs", {"platform": "hubspot"}, save="runs"),
            Step("integrations_get_sync_run", {"run_id": "$runs.items.0.id"}),
        ),
        check=check_sync_run_read,
    ),
    Task(
        id="integrations-disconnect-zendesk",
        context="integrations",
        request="We stopped using Zendesk: disconnect it.",
        setup=(Step("integrations_connect", {"platform": "zendesk"}),),
        path=(Step("integrations_disconnect", {"platform": "zendesk"}),),
        check=check_disconnected,
    ),
    Task(
        id="integrations-whatsapp-hello",
        context="integrations",
        request="Send Ana García our 'hello_world' WhatsApp template.",
        setup=(capture("ana", WHATSAPP_ANA), Step("integrations_connect", {"platform": "whatsapp"})),
        path=(
            Step("crm_search_contacts", {"query": "García"}, save="found"),
            Step(
                "integrations_send_message",
                {"contact_id": "$found.items.0.id", "channel": "whatsapp", "template_name": "hello_world"},
            ),
        ),
        check=check_whatsapp,
    ),
    Task(
        id="integrations-connect-mailchimp",
        context="integrations",
        request="Hook up Mailchimp (sandbox is fine for now).",
        path=(Step("integrations_connect", {"platform": "mailchimp", "mode": "sandbox"}),),
        check=check_connected_mailchimp,
    ),
]
