"""Mailchimp, Canva and Adobe Express through the integrations context (gateway tools on SQLite, sandbox simulators):
a CRM segment synced into the Mailchimp audience (consenting contacts only, merge fields and a tag, no duplicates on
re-runs), the audience webhook turning an unsubscribe into one CRM consent change, designs listed and exported."""

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from promptsales.domain_core.crm.tables import ConsentEventRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.integrations.adobe_express.client import FireflyClient, FireflyGenerateRequest
from promptsales.domain_core.integrations.adobe_express.simulator import AdobeExpressSimulator
from promptsales.domain_core.integrations.bootstrap import build_integrations
from promptsales.domain_core.integrations.commands import Connect
from promptsales.domain_core.integrations.dto import InboundRequest
from promptsales.domain_core.integrations.facade import IntegrationsFacade
from promptsales.domain_core.integrations.mailchimp.simulator import MailchimpSimulator
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm

PNG = b"\x89PNG\r\n\x1a\n"
GERMANY = {"all": [{"field": "country", "op": "eq", "value": "DE"}]}
API_KEY = "0123456789abcdef0123456789abcdef-us6"


def tools(crm: Crm) -> Crm:
    return Crm(crm.client, prefix="integrations_")


async def newsletter_segment(crm: Crm) -> tuple[str, dict[str, str]]:
    """Four German contacts (email consent granted, revoked, never asked; one without address), one French one who
    consented; the saved segment of the German ones."""
    people = {
        "ana": {"email": "ana@example.com", "consent": {"email": {"granted": True, "source": "web_form"}}},
        "bo": {"email": "bo@example.com", "consent": {"email": {"granted": False}}},
        "cy": {"email": "cy@example.com"},
        "di": {"phone": "+4915112345678", "consent": {"email": {"granted": True}}},
    }
    ids = {}
    for first, fields in people.items():
        made = await crm.ok("create_contact", first_name=first.title(), last_name="Muster", country="DE", **fields)
        ids[first] = made["id"]
    await crm.ok(
        "create_contact", first_name="Eve", email="eve@example.com", country="FR", consent=people["ana"]["consent"]
    )
    segment = await crm.ok("create_segment", name="Spring newsletter", rule=GERMANY)
    return segment["id"], ids


def mailchimp(runtime: Runtime) -> MailchimpSimulator:
    simulator = runtime.integrations.sandbox.simulator("mailchimp")
    assert isinstance(simulator, MailchimpSimulator)
    return simulator


async def test_a_segment_syncs_into_the_audience_once_with_merge_fields_and_a_tag(crm: Crm, runtime: Runtime) -> None:
    segment_id, _ = await newsletter_segment(crm)
    connection = await tools(crm).ok("connect", platform="mailchimp")
    assert connection["status"] == "connected" and connection["account_id"]
    assert (await tools(crm).ok("test_connection", platform="mailchimp"))["ok"] is True

    run = await tools(crm).ok("sync", platform="mailchimp", capability="email_marketing", segment_id=segment_id)
    assert run["status"] == "succeeded", run
    # ana consented; bo revoked, cy was never asked and di has no address: skipped, not failed.
    assert (run["created"], run["updated"], run["skipped"], run["failed"]) == (1, 0, 3, 0)

    simulator = mailchimp(runtime)
    account = connection["account_id"]
    audience = simulator.audience(account, simulator.default_audience(account))
    members = list(audience.members.values())
    assert [m["email_address"] for m in members] == ["ana@example.com"]
    assert members[0]["status"] == "subscribed"
    assert members[0]["merge_fields"]["FNAME"] == "Ana" and members[0]["merge_fields"]["LNAME"] == "Muster"
    assert members[0]["tags"] == ["Spring newsletter"]
    [hook] = audience.webhooks
    assert "/webhooks/mailchimp?secret=" in hook["url"] and hook["events"]["unsubscribe"] is True

    again = await tools(crm).ok("sync", platform="mailchimp", capability="email_marketing", segment_id=segment_id)
    assert again["status"] == "succeeded" and (again["created"], again["skipped"]) == (0, 4), again
    everyone = await tools(crm).ok(
        "sync", platform="mailchimp", capability="email_marketing", segment_id=segment_id, full=True
    )
    assert (everyone["created"], everyone["updated"]) == (0, 1), everyone
    assert len(audience.members) == 1 and len(audience.webhooks) == 1
    assert audience.members[members[0]["id"]]["tags"] == ["Spring newsletter"]


async def test_an_email_sync_without_a_segment_says_which_argument_is_missing(crm: Crm) -> None:
    await tools(crm).ok("connect", platform="mailchimp")
    run = await tools(crm).ok("sync", platform="mailchimp", capability="email_marketing")
    assert run["status"] == "interrupted" and "segment_id" in run["error"], run
    run = await tools(crm).ok("sync", platform="mailchimp", capability="email_marketing", segment_id="seg_missing")
    assert run["status"] == "interrupted" and "seg_missing" in run["error"], run


async def unsubscribe_delivery(runtime: Runtime, account: str) -> tuple[str, bytes]:
    """ana follows the unsubscribe link; the registered URL and the body Mailchimp posts."""
    simulator = mailchimp(runtime)
    list_id = simulator.default_audience(account)
    posted: list[bytes] = []

    async def capture(headers: Mapping[str, str], body: bytes) -> int:
        posted.append(body)
        return 200

    simulator.deliver = capture
    await simulator.user_unsubscribes(account, list_id, "ana@example.com")
    simulator.deliver = None
    [hook] = simulator.audience(account, list_id).webhooks
    return hook["url"], posted[0]


def inbound(url: str, body: bytes, method: str = "POST") -> InboundRequest:
    query = dict(httpx.URL(url).params)
    return InboundRequest(
        method=method,
        url=url,
        headers={"content-type": "application/x-www-form-urlencoded", "user-agent": "MailChimp"},
        query=query,
        body=body,
    )


async def test_an_unsubscribe_revokes_email_consent_once_and_only_with_the_url_secret(
    crm: Crm, runtime: Runtime
) -> None:
    segment_id, ids = await newsletter_segment(crm)
    connection = await tools(crm).ok("connect", platform="mailchimp")
    await tools(crm).ok("sync", platform="mailchimp", capability="email_marketing", segment_id=segment_id)
    url, body = await unsubscribe_delivery(runtime, connection["account_id"])
    facade = runtime.integrations

    validation = await facade.handle_webhook("mailchimp", inbound(url, b"", method="GET"))
    assert validation.status_code == 200
    bare = url.split("?", 1)[0]
    for wrong in (bare, bare + "?secret=nope", url[:-2] + "xx"):
        refused = await facade.handle_webhook("mailchimp", inbound(wrong, body))
        assert refused.status_code == 403, wrong
    assert (await facade.handle_webhook("mailchimp", inbound(url, b"type=unsubscribe"))).status_code == 400
    await facade.drain()
    assert (await crm.ok("get_contact", contact_id=ids["ana"]))["consent"]["email"]["status"] == "granted"

    answers = await asyncio.gather(*(facade.handle_webhook("mailchimp", inbound(url, body)) for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    await facade.drain()
    consent = (await crm.ok("get_contact", contact_id=ids["ana"]))["consent"]["email"]
    assert consent["status"] == "revoked" and consent["source"] == "mailchimp"

    async def changes(uow: UnitOfWork) -> list[Any]:
        rows = await uow.session.execute(
            select(ConsentEventRecord).where(
                col(ConsentEventRecord.contact_id) == ids["ana"], col(ConsentEventRecord.source) == "mailchimp"
            )
        )
        return list(rows.scalars())

    assert len(await runtime.uow.read(runtime.caller(None), changes)) == 1
    # The next sync leaves the unsubscribed member alone (no consent any more) and re-subscribes nobody.
    run = await tools(crm).ok("sync", platform="mailchimp", capability="email_marketing", segment_id=segment_id)
    assert (run["created"], run["updated"], run["failed"]) == (0, 0, 0), run
    simulator = mailchimp(runtime)
    audience = simulator.audience(connection["account_id"], simulator.default_audience(connection["account_id"]))
    assert [m["status"] for m in audience.members.values()] == ["unsubscribed"]


async def test_canva_designs_are_listed_by_page_and_exported_as_png_through_the_facade(
    crm: Crm, runtime: Runtime
) -> None:
    await tools(crm).ok("connect", platform="canva")
    first = await tools(crm).ok("list_designs", platform="canva", limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await tools(crm).ok("list_designs", platform="canva", limit=2, cursor=first["next_cursor"])
    designs = first["items"] + rest["items"]
    assert rest["next_cursor"] is None and len({d["design_id"] for d in designs}) == 3
    banner = next(d for d in designs if d["title"] == "Spring launch: web banner")

    caller = runtime.caller(None)
    png = await runtime.integrations.export_design(caller, platform="canva", design_id=banner["design_id"])
    assert png.bytes.startswith(PNG) and png.content_type == "image/png"
    assert (png.width, png.height, png.title) == (1200, 628, "Spring launch: web banner")
    assert png.source_url is not None and "?" not in png.source_url
    pdf = await runtime.integrations.export_design(
        caller, platform="canva", design_id=banner["design_id"], format="pdf"
    )
    assert pdf.bytes.startswith(b"%PDF-")
    message = await tools(crm).error("list_designs", platform="canva", cursor="bm90LWEtY3Vyc29y")
    assert "cursor" in message


async def test_adobe_express_exports_a_generation_as_png_and_says_it_keeps_no_design_list(
    crm: Crm, runtime: Runtime
) -> None:
    await tools(crm).ok("connect", platform="adobe_express")
    assert (await tools(crm).ok("test_connection", platform="adobe_express"))["ok"] is True
    assert "generation job" in await tools(crm).error("list_designs", platform="adobe_express")
    caller = runtime.caller(None)
    request = FireflyGenerateRequest(prompt="A spring sale banner", width=64, height=64)
    job = await runtime.integrations.sessions.run(
        caller, "adobe_express", lambda http, link: FireflyClient(http).generate_images(request)
    )
    exported = await runtime.integrations.export_design(caller, platform="adobe_express", design_id=job.job_id)
    assert exported.bytes.startswith(PNG) and (exported.width, exported.height) == (64, 64)
    # Sandbox tokens of a key-based platform refresh through the sandbox's authorization server too.
    sessions = runtime.integrations.sessions
    link = await sessions.open(caller, "adobe_express")
    renewed = await sessions.refresh(caller, link)
    assert renewed.secret["access_token"] != link.secret["access_token"] and renewed.expires_at is not None
    assert (await tools(crm).ok("test_connection", platform="adobe_express"))["ok"] is True


def live_facade(runtime: Runtime, app: Any) -> IntegrationsFacade:
    """A second integrations facade on the runtime's database whose live requests reach ``app``."""

    async def allowed(caller: Caller) -> bool:
        return True

    return build_integrations(
        runtime.uow,
        runtime.settings,
        crm=runtime.crm,
        live_allowed=allowed,
        limiter=None,
        live_transport=httpx.ASGITransport(app=app),
    )


async def test_live_keys_name_the_mailchimp_data_centre_and_adobe_tokens_renew(crm: Crm, runtime: Runtime) -> None:
    caller = runtime.caller(None)
    chimp = MailchimpSimulator()
    chimp.grant(API_KEY, "live-account")
    facade = live_facade(runtime, chimp.app)
    connected = await facade.connect(caller, Connect(platform="mailchimp", mode="live", api_key=API_KEY))
    assert connected.status == "connected" and "1 audience" in (connected.account_label or "")
    assert (await facade.test_connection(caller, "mailchimp")).ok is True
    assert chimp.requests[-1] == ("GET", "/3.0/lists")  # on https://us6.api.mailchimp.com, the key's centre

    adobe = AdobeExpressSimulator()
    adobe.add_client("adobe-client-id", "adobe-client-secret", "acme-org")
    facade = live_facade(runtime, adobe.app)
    refused = Connect(platform="adobe_express", mode="live", api_key="adobe-client-id-without-secret")
    with pytest.raises(ValidationFailed, match="CLIENT_ID:CLIENT_SECRET"):
        await facade.connect(caller, refused)
    credential = Connect(platform="adobe_express", mode="live", api_key="adobe-client-id:adobe-client-secret")
    linked = await facade.connect(caller, credential)
    assert linked.status == "connected" and linked.token_expires_at is not None
    assert adobe.token_requests == 1
    adobe.revoke_tokens("adobe-client-id")  # the stored token stops working: renewed once, then it works
    assert (await facade.test_connection(caller, "adobe_express")).ok is True
    assert adobe.token_requests == 2
    adobe.revoke_client("adobe-client-id")  # the credential itself is removed: the connection needs reauth
    check = await facade.test_connection(caller, "adobe_express")
    assert check.ok is False and check.status == "needs_reauth"
