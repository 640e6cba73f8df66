"""What reaches the integrations context from outside, over HTTP (the ASGI app), on Postgres and SQLite:
HubSpot webhooks (signed, stale, forged, tampered, unknown portal, the same event 20 times at once) and the live
OAuth flow (authorization URL, callback once, PKCE, expiry, refresh before expiry, revocation → needs_reauth).

Live platforms are loopback simulators behind the runtime's live transport: the HubSpot API and HubSpot's OAuth
token endpoint share the api.hubapi.com host, routed by path as HubSpot serves them.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from promptsales.domain_core.crm.commands import UpdateContact
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.integrations.commands import Connect, StartSync
from promptsales.domain_core.integrations.hubspot.simulator import HubSpotSimulator
from promptsales.domain_core.integrations.oauth.simulator import OAuthSimulator
from promptsales.domain_core.integrations.sandbox import SANDBOX_APP
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import owner_connect, pg_url

PUBLIC = "http://127.0.0.1:8000"
LIVE_APP = {"client_id": "live-client", "client_secret": "live-secret-0123456789"}
LIVE_PORTAL = "777001"


class LiveHubSpot:
    """api.hubapi.com on loopback: the OAuth token endpoint and the CRM API, as HubSpot routes them."""

    def __init__(self) -> None:
        self.api = HubSpotSimulator(tokens={})
        self.oauth = OAuthSimulator(
            client_id=LIVE_APP["client_id"],
            client_secret=LIVE_APP["client_secret"],
            token_path="/oauth/v1/token",
            on_grant=self.api.grant,
            on_revoke=self.api.revoke,
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self.oauth.app if scope.get("path", "").startswith("/oauth/") else self.api.app
        await app(scope, receive, send)


@dataclass
class World:
    runtime: Runtime
    http: httpx.AsyncClient
    caller: Caller
    live: LiveHubSpot
    database: str | None

    def owner_sql(self, statement: str, *params: Any) -> None:
        """Tamper as the database owner (outside RLS)."""
        assert self.database is not None
        with owner_connect(self.database) as connection:
            connection.execute(statement, params)


@pytest_asyncio.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    database = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    settings = Settings(
        database_url=pg_url(database) if database else None,
        data_dir=tmp_path,
        tenant=tenant,
        default_plan="enterprise",
        rate_limits_enabled=False,
        entitlement_cache_seconds=0,
        redis_url=None,
        public_url=PUBLIC,
        integrations_apps=json.dumps({"hubspot": LIVE_APP}),
        database_pool_size=30,
    )
    live = LiveHubSpot()
    runtime = Runtime(settings, integrations_transport=httpx.ASGITransport(app=live))
    app = http_app(build_gateway(runtime), runtime)
    await runtime.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as client:
            yield World(runtime, client, runtime.caller(None), live, database)
    finally:
        await runtime.stop()


# ------------------------------------------------------------------------------------------------ webhooks


def delivery(
    simulator: HubSpotSimulator,
    portal: int,
    changes: list[tuple[str, str]],
    *,
    secret: str = SANDBOX_APP.client_secret,
    age_s: float = 0,
) -> tuple[bytes, dict[str, str]]:
    """The simulator's signed delivery of ``changes`` to our webhook URL (sent ``age_s`` seconds ago)."""
    at = datetime.now(UTC) - timedelta(seconds=age_s)
    headers, body = simulator.webhook(portal, changes, client_secret=secret, url=f"{PUBLIC}/webhooks/hubspot", at=at)
    return body, headers


async def synced_portal(world: World) -> tuple[HubSpotSimulator, int, str]:
    facade = world.runtime.integrations
    connection = await facade.connect(world.caller, Connect(platform="hubspot"))
    await facade.sync(world.caller, StartSync(platform="hubspot"))
    simulator = facade.sandbox.simulator("hubspot")
    assert isinstance(simulator, HubSpotSimulator) and connection.account_id
    portal = int(connection.account_id)
    contact_id = sorted(simulator.portal(portal).records["contacts"])[0]
    return simulator, portal, contact_id


async def test_one_event_delivered_twenty_times_at_once_is_applied_once(world: World) -> None:
    simulator, portal, contact_id = await synced_portal(world)
    from datetime import UTC, datetime, timedelta

    simulator.touch(
        portal, "contacts", contact_id, {"jobtitle": "Head of Webhooks"}, at=datetime.now(UTC) + timedelta(seconds=1)
    )
    body, headers = delivery(simulator, portal, [("contact.propertyChange", contact_id)])
    answers = await asyncio.gather(
        *(world.http.post("/webhooks/hubspot", content=body, headers=headers) for _ in range(20))
    )
    assert {a.status_code for a in answers} == {200}
    await world.runtime.drain_events()
    crm = world.runtime.crm
    found = await crm.search_contacts(world.caller, text="Head of Webhooks", filters={}, cursor=None, limit=10)
    assert len(found.items) == 1

    async def receipts(uow: Any) -> int:
        from sqlalchemy import text

        result = await uow.session.execute(
            text("SELECT count(*) FROM integrations_webhook_receipts WHERE tenant_id = :t"),
            {"t": world.caller.tenant_id},
        )
        return int(result.scalar_one())

    assert await world.runtime.uow.read(world.caller, receipts) == 1


async def test_forged_stale_tampered_and_foreign_deliveries_are_refused(world: World) -> None:
    simulator, portal, contact_id = await synced_portal(world)
    change = [("contact.creation", contact_id)]
    body, headers = delivery(simulator, portal, change, secret="not-the-app-secret")
    assert (await world.http.post("/webhooks/hubspot", content=body, headers=headers)).status_code == 401
    body, headers = delivery(simulator, portal, change, age_s=600)
    stale = await world.http.post("/webhooks/hubspot", content=body, headers=headers)
    assert stale.status_code == 401 and "stale" in stale.json()["outcome"]
    body, headers = delivery(simulator, portal, change)
    tampered = body.replace(b"contact.creation", b"contact.deletion")
    assert (await world.http.post("/webhooks/hubspot", content=tampered, headers=headers)).status_code == 401
    body, headers = delivery(simulator, 1, change)
    assert (await world.http.post("/webhooks/hubspot", content=body, headers=headers)).status_code == 401
    assert (await world.http.post("/webhooks/hubspot", content=b"{not json", headers=headers)).status_code == 400
    assert (await world.http.post("/webhooks/nowhere", content=body, headers=headers)).status_code == 404


# ------------------------------------------------------------------------------------------------ live OAuth


async def start_live(world: World) -> tuple[str, dict[str, list[str]]]:
    view = await world.runtime.integrations.connect(world.caller, Connect(platform="hubspot", mode="live"))
    assert view.status == "pending" and view.authorization_url
    parts = urlsplit(view.authorization_url)
    assert parts.netloc == "app.hubspot.com"
    query = parse_qs(parts.query)
    assert query["redirect_uri"] == [f"{PUBLIC}/oauth/callback/hubspot"]
    assert query["client_id"] == [LIVE_APP["client_id"]]
    return view.authorization_url, query


async def test_live_oauth_connects_once_and_the_callback_cannot_be_replayed(world: World) -> None:
    _, query = await start_live(world)
    back = world.live.oauth.approve(
        account=LIVE_PORTAL, redirect_uri=query["redirect_uri"][0], state=query["state"][0], code_challenge=None
    )
    answer = await world.http.get(back.removeprefix(PUBLIC))
    assert answer.status_code == 200 and "is connected" in answer.text
    listing = await world.runtime.integrations.list_connectors(world.caller)
    hubspot = next(item for item in listing.items if item.platform == "hubspot")
    assert hubspot.connection is not None and (hubspot.connection.status, hubspot.connection.mode) == (
        "connected",
        "live",
    )
    assert (await world.runtime.integrations.test_connection(world.caller, "hubspot")).ok
    replay = await world.http.get(back.removeprefix(PUBLIC))
    assert replay.status_code == 400 and "already used" in replay.text


async def test_a_forged_or_expired_state_connects_nothing(world: World) -> None:
    _, query = await start_live(world)
    forged = await world.http.get("/oauth/callback/hubspot", params={"state": "x" * 43, "code": "abc"})
    assert forged.status_code == 400
    if world.database is not None:
        world.owner_sql("UPDATE integrations_oauth_states SET expires_at = now() - interval '1 minute'")
        back = world.live.oauth.approve(
            account=LIVE_PORTAL, redirect_uri=query["redirect_uri"][0], state=query["state"][0], code_challenge=None
        )
        expired = await world.http.get(back.removeprefix(PUBLIC))
        assert expired.status_code == 400 and "10 minutes" in expired.text
    denied = await world.http.get(
        "/oauth/callback/hubspot", params={"state": query["state"][0], "error": "access_denied"}
    )
    assert denied.status_code == 400


async def test_live_tokens_refresh_before_expiry_and_a_revoked_app_needs_reauth(world: World) -> None:
    _, query = await start_live(world)
    back = world.live.oauth.approve(
        account=LIVE_PORTAL, redirect_uri=query["redirect_uri"][0], state=query["state"][0], code_challenge=None
    )
    assert (await world.http.get(back.removeprefix(PUBLIC))).status_code == 200
    facade = world.runtime.integrations
    secret: dict[str, Any] = {}

    async def grab(uow: Any) -> None:
        secret.update(await facade.sessions.credentials.get(uow, "integrations.hubspot") or {})

    await world.runtime.uow.read(world.caller, grab)
    requests_before = world.live.oauth.token_requests
    if world.database is not None:  # about to expire: the next use refreshes first
        world.owner_sql("UPDATE integrations_connections SET token_expires_at = now() + interval '1 minute'")
        assert (await facade.test_connection(world.caller, "hubspot")).ok
        assert world.live.oauth.token_requests == requests_before + 1
        await world.runtime.uow.read(world.caller, grab)
    world.live.oauth.revoke(secret["refresh_token"])
    check = await facade.test_connection(world.caller, "hubspot")
    assert not check.ok and check.status == "needs_reauth"
    listing = await facade.list_connectors(world.caller)
    hubspot = next(item for item in listing.items if item.platform == "hubspot")
    assert hubspot.connection is not None and hubspot.connection.status == "needs_reauth"
    assert "refresh token" in (hubspot.connection.last_error or "")


async def test_a_contact_deleted_in_hubspot_is_unlinked_kept_in_the_crm_and_not_pushed_back(world: World) -> None:
    simulator, portal, contact_id = await synced_portal(world)
    email = simulator.portal(portal).records["contacts"][contact_id]["properties"]["email"]
    crm = world.runtime.crm
    found = await crm.search_contacts(world.caller, text=email, filters={}, cursor=None, limit=5)
    local = found.items[0].id
    del simulator.portal(portal).records["contacts"][contact_id]  # deleted by a HubSpot user
    body, headers = delivery(simulator, portal, [("contact.deletion", contact_id)])
    assert (await world.http.post("/webhooks/hubspot", content=body, headers=headers)).status_code == 200
    await world.runtime.drain_events()

    assert (await crm.get_contact(world.caller, contact_id=local)).email == email  # the CRM keeps the person
    await crm.update_contact(world.caller, UpdateContact(contact_id=local, title="Still a customer"))
    await world.runtime.drain_events()
    emails = [r["properties"].get("email") for r in simulator.portal(portal).records["contacts"].values()]
    assert email not in emails, "a CRM change recreated a contact deleted in HubSpot"
