"""Live Salesforce and Zendesk connections, with the platforms' hosts served by their simulators (SQLite).

Salesforce: the OAuth web-server flow with PKCE; the token names the org's ``instance_url`` and every later call
goes there. Zendesk: an API token given as ``email/token:TOKEN`` with the subdomain; webhooks are verified with the
deployment's signing secret (the sandbox one is refused).
"""

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from promptsales.domain_core.integrations.bootstrap import build_integrations
from promptsales.domain_core.integrations.commands import Connect, StartSync
from promptsales.domain_core.integrations.dto import InboundRequest
from promptsales.domain_core.integrations.facade import IntegrationsFacade
from promptsales.domain_core.integrations.salesforce.driver import SalesforceDriver
from promptsales.domain_core.integrations.salesforce.simulator import SalesforceSimulator
from promptsales.domain_core.integrations.zendesk.simulator import ZendeskSimulator
from promptsales.domain_core.integrations.zendesk.webhooks import SANDBOX_WEBHOOK_SECRET
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm
from tests.servers.test_integrations_salesforce_zendesk import PRIYA, contact_of, signed, title_of, view_360

# ------------------------------------------------------------------------------------------------ live mode


class HostRouter(httpx.AsyncBaseTransport):
    """The "internet" of a live-mode test: each platform host is served by its simulator."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self._transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transports.get(request.url.host)
        assert transport is not None, f"the test reached an unexpected host: {request.url.host}"
        return await transport.handle_async_request(request)


def live_facade(runtime: Runtime, apps: dict[str, Any], registered: dict[str, Any]) -> IntegrationsFacade:
    settings = runtime.settings.model_copy(update={"integrations_apps": SecretStr(json.dumps(registered))})

    async def allowed(_caller: Caller) -> bool:
        return True

    return build_integrations(
        runtime.uow, settings, crm=runtime.crm, live_allowed=allowed, limiter=None, live_transport=HostRouter(apps)
    )


async def test_live_salesforce_connects_through_oauth_and_calls_the_org_instance(crm: Crm, runtime: Runtime) -> None:
    org = SalesforceSimulator(tokens={})
    SalesforceDriver().seed_sandbox(org, SalesforceDriver().sandbox_account("acme-live"), datetime.now(UTC))
    org_id = SalesforceDriver().sandbox_account("acme-live").account_id

    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        assert form["grant_type"] == "authorization_code" and form["code"] == "code-1" and form["code_verifier"]
        org.grant("00Dlive!session", org_id)
        document = {"access_token": "00Dlive!session", "refresh_token": "5Aep-refresh", "token_type": "Bearer"}
        return JSONResponse(document | {"instance_url": "https://acme.my.salesforce.com"})

    login = Starlette(routes=[Route("/services/oauth2/token", token, methods=["POST"])])
    facade = live_facade(
        runtime,
        {"login.salesforce.com": login, "acme.my.salesforce.com": org.app},
        {"salesforce": {"client_id": "consumer-key", "client_secret": "consumer-secret"}},
    )
    caller = runtime.caller(None)

    pending = await facade.connect(caller, Connect(platform="salesforce", mode="live"))
    assert pending.status == "pending" and pending.authorization_url is not None
    query = parse_qs(urlsplit(pending.authorization_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["scope"] == ["api refresh_token"]
    done = await facade.complete_authorization("salesforce", state=query["state"][0], code="code-1", error=None)
    assert done.ok, done.message

    check = await facade.test_connection(caller, "salesforce")
    assert check.ok and "acme.my.salesforce.com" in check.detail, check
    run = await facade.sync(caller, StartSync(platform="salesforce"))
    assert (run.status, run.created) == ("succeeded", 10)  # 5 Accounts, 5 Contacts
    assert org.queries and all(q.startswith("SELECT") for q in org.queries)
    assert (await title_of(crm, PRIYA)) == "Director of Operations"


async def test_live_zendesk_connects_with_an_api_token_and_verifies_webhooks_with_the_app_secret(
    crm: Crm, runtime: Runtime
) -> None:
    desk = ZendeskSimulator(tokens={"zd-live-token-123": "acme"})
    desk.seed_ticket("acme", "Broken widget", comment="It broke.", requester_email="buyer@shop.example", status="open")
    facade = live_facade(
        runtime,
        {"acme.zendesk.com": desk.app},
        {"zendesk": {"client_id": "zd-client", "client_secret": "zd-secret", "webhook_secret": "whsec-live"}},
    )
    caller = runtime.caller(None)

    connection = await facade.connect(
        caller,
        Connect(platform="zendesk", mode="live", subdomain="acme", api_key="agent@acme.com/token:zd-live-token-123"),
    )
    assert (connection.status, connection.account_id, connection.mode) == ("connected", "acme", "live")
    run = await facade.sync(caller, StartSync(platform="zendesk"))
    assert (run.status, run.created) == ("succeeded", 1), run
    contact = await contact_of(crm, "buyer@shop.example")
    assert [t.subject for t in (await facade.open_tickets(caller, contact_id=contact["id"])).items] == ["Broken widget"]

    desk.add_comment("acme", 1, "Thanks, fixed now?", author_email="buyer@shop.example")
    event = desk.ticket_event("acme", 1)
    for secret, expected in ((SANDBOX_WEBHOOK_SECRET, 401), ("whsec-live", 200)):
        body, headers = signed(event, secret=secret)
        delivery = InboundRequest(
            method="POST",
            url="http://127.0.0.1:8000/webhooks/zendesk?subdomain=acme",
            headers={k.lower(): v for k, v in headers.items()},
            query={"subdomain": "acme"},
            body=body,
        )
        assert (await facade.handle_webhook("zendesk", delivery)).status_code == expected
    await facade.drain()
    timeline = (await view_360(crm, "buyer@shop.example"))["timeline"]
    assert [i["direction"] for i in timeline] == ["inbound", "inbound"]
