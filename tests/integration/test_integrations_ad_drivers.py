"""The ad platforms' drivers: what live and sandbox sessions send (developer token, manager id, Access-Token), the
deployment settings they need, their probes, sandbox accounts, and TikTok's OAuth flavour (app_id, advertiser_ids)."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from promptsales.domain_core.integrations.bootstrap import drivers, parse_apps
from promptsales.domain_core.integrations.google_ads.driver import SANDBOX_DEVELOPER_TOKEN, GoogleAdsDriver
from promptsales.domain_core.integrations.google_ads.simulator import GoogleAdsSimulator
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.linkedin_ads.client import LINKEDIN_VERSION
from promptsales.domain_core.integrations.linkedin_ads.simulator import LinkedInAdsSimulator
from promptsales.domain_core.integrations.meta_ads.simulator import MetaAdsSimulator
from promptsales.domain_core.integrations.model.ad_limits import AdLimits
from promptsales.domain_core.integrations.model.errors import AuthExpired
from promptsales.domain_core.integrations.model.oauth_apps import OAUTH_ENDPOINTS
from promptsales.domain_core.integrations.oauth.client import AppCredentials, OAuthClient
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.tiktok_ads.simulator import TikTokAdsSimulator
from promptsales.domain_core.shared.errors import ValidationFailed

TOKEN = "ya29.a0-driver-test-token-0001"
DEVELOPER_TOKEN = "devtok-DRIVERTEST-0001"
MANAGER, CLIENT = "1234567890", "2345678901"


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


def session(driver: Any, link: Link, transport: httpx.AsyncBaseTransport) -> ConnectorHttp:
    async def auth() -> Mapping[str, str]:
        return driver.auth_headers(link.secret)

    base = driver.sandbox_base_url(link.url_parts) if link.sandbox else driver.live_base_url(link.url_parts)
    return ConnectorHttp(driver.connector, base_url=base, tenant_id="t1", auth=auth, transport=transport)


def link(platform: str, mode: str, secret: dict[str, Any], account_id: str | None = None) -> Link:
    return Link(platform, mode, account_id, {}, secret, None)


def google_apps(**extra: str) -> dict[str, AppCredentials]:
    entry = {"client_id": "cid.apps.googleusercontent.com", "client_secret": "gsecret-0001", **extra}
    return parse_apps(json.dumps({"google_ads": entry}))


async def test_google_live_sends_the_deployments_developer_token_and_manager_id() -> None:
    sim = GoogleAdsSimulator(tokens={TOKEN: MANAGER}, developer_token=DEVELOPER_TOKEN)
    sim.grant(TOKEN, CLIENT)
    apps = google_apps(developer_token=DEVELOPER_TOKEN, login_customer_id="123-456-7890")
    assert DEVELOPER_TOKEN not in repr(apps["google_ads"])
    driver = drivers(apps)["google_ads"]
    recorder = Recorder(sim.app)
    live = link("google_ads", "live", {"access_token": TOKEN})
    async with session(driver, live, recorder) as http:
        accounts = await driver.ads(http, live, AdLimits()).list_accounts()  # type: ignore[attr-defined]
    assert sorted(a.id for a in accounts) == [MANAGER, CLIENT]
    assert {r.headers["developer-token"] for r in recorder.sent} == {DEVELOPER_TOKEN}
    assert {r.headers.get("login-customer-id") for r in recorder.sent[1:]} == {MANAGER}
    assert recorder.sent[0].url.host == "googleads.googleapis.com"


async def test_google_sandbox_sends_neither_the_deployment_token_nor_a_manager_id() -> None:
    driver = drivers(google_apps(developer_token=DEVELOPER_TOKEN, login_customer_id=MANAGER))["google_ads"]
    sim = driver.new_simulator(lambda: datetime.now(UTC))
    account = driver.sandbox_account("tenant-a")
    driver.seed_sandbox(sim, account, datetime.now(UTC))
    sim.grant(TOKEN, account.account_id)
    recorder = Recorder(sim.app)
    sandbox = link("google_ads", "sandbox", {"access_token": TOKEN}, account.account_id)
    async with session(driver, sandbox, recorder) as http:
        [listed] = await driver.ads(http, sandbox, AdLimits()).list_accounts()  # type: ignore[attr-defined]
    assert (listed.id, listed.name) == (account.account_id, "Sandbox test customer")
    assert {r.headers["developer-token"] for r in recorder.sent} == {SANDBOX_DEVELOPER_TOKEN}
    assert all("login-customer-id" not in r.headers for r in recorder.sent)


def test_google_live_needs_a_developer_token_and_a_well_formed_manager_id() -> None:
    driver = drivers(google_apps())["google_ads"]
    with pytest.raises(ValidationFailed) as caught:
        driver.live_base_url({})
    assert "developer_token" in (caught.value.hint or "") and "PROMPTSALES_INTEGRATIONS_APPS" in (
        caught.value.hint or ""
    )
    assert drivers({})["google_ads"].sandbox_base_url({}).startswith("https://google-ads.sandbox")
    with pytest.raises(ValidationFailed) as refused:
        GoogleAdsDriver(developer_token=DEVELOPER_TOKEN, login_customer_id="12-34")
    assert refused.value.field == "integrations_apps"


async def test_meta_probe_lists_what_the_system_users_token_reaches() -> None:
    sim = MetaAdsSimulator(tokens={"EAAGsystemusertoken0001": "act_1111111111"})
    sim.grant("EAAGsystemusertoken0001", "act_2222222222")
    driver = drivers()["meta_ads"]
    live = link("meta_ads", "live", {"access_token": "EAAGsystemusertoken0001"})
    async with session(driver, live, httpx.ASGITransport(app=sim.app)) as http:
        label = await driver.probe(http, None)
        accounts = await driver.ads(http, live, AdLimits()).list_accounts()  # type: ignore[attr-defined]
    assert label == "Meta answered: the token reaches 2 ad account(s) (act_1111111111, act_2222222222)."
    assert [a.id for a in accounts] == ["act_1111111111", "act_2222222222"]


async def test_tiktok_acts_for_the_advertisers_its_grant_named() -> None:
    sim = TikTokAdsSimulator(tokens={"tt-token-0001": "7000000000000000001"})
    sim.grant("tt-token-0001", "7000000000000000002")
    driver = drivers()["tiktok_ads"]
    recorder = Recorder(sim.app)
    granted = link(
        "tiktok_ads",
        "live",
        {"access_token": "tt-token-0001", "advertiser_ids": ["7000000000000000001", "7000000000000000002"]},
        "7000000000000000001",
    )
    async with session(driver, granted, recorder) as http:
        assert "TikTok answered" in await driver.probe(http, None)
        accounts = await driver.ads(http, granted, AdLimits()).list_accounts()  # type: ignore[attr-defined]
    assert [a.id for a in accounts] == ["7000000000000000001", "7000000000000000002"]
    assert all(r.headers["access-token"] == "tt-token-0001" for r in recorder.sent)
    assert recorder.sent[0].url.host == "business-api.tiktok.com"


async def test_linkedin_acts_for_the_members_ad_accounts_with_bearer_and_its_version() -> None:
    sim = LinkedInAdsSimulator(tokens={"li-token-0001": "500000001"})
    sim.grant("li-token-0001", "500000002")
    driver = drivers()["linkedin_ads"]
    recorder = Recorder(sim.app)
    granted = link("linkedin_ads", "live", {"access_token": "li-token-0001"})
    async with session(driver, granted, recorder) as http:
        assert "2 ad account(s)" in await driver.probe(http, None)
        accounts = await driver.ads(http, granted, AdLimits()).list_accounts()  # type: ignore[attr-defined]
    assert [a.id for a in accounts] == ["500000001", "500000002"]
    assert all(r.headers["authorization"] == "Bearer li-token-0001" for r in recorder.sent)
    assert all(r.headers["linkedin-version"] == LINKEDIN_VERSION for r in recorder.sent)
    assert recorder.sent[0].url.host == "api.linkedin.com" and recorder.sent[0].url.path == "/rest/adAccountUsers"


def test_linkedin_authorization_asks_for_the_ads_scopes() -> None:
    client = OAuthClient(
        drivers()["linkedin_ads"].connector,
        OAUTH_ENDPOINTS["linkedin_ads"],
        AppCredentials(client_id="86li-client", client_secret="li-secret-0001"),
        redirect_uri="https://promptsales.example/oauth/callback/linkedin_ads",
    )
    url = urlsplit(client.authorization_url(state="st-3", challenge="unused"))
    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("www.linkedin.com", "/oauth/v2/authorization")
    assert query["scope"] == ["rw_ads r_ads r_ads_reporting"] and query["response_type"] == ["code"]
    assert "code_challenge" not in query


def test_sandbox_accounts_are_stable_per_tenant_and_shaped_like_the_platforms() -> None:
    found = {p: d.sandbox_account("tenant-a") for p, d in drivers().items() if p != "hubspot"}
    assert found == {p: d.sandbox_account("tenant-a") for p, d in drivers().items() if p != "hubspot"}
    assert len(found["google_ads"].account_id) == 10 and found["google_ads"].account_id.isdigit()
    assert found["meta_ads"].account_id.startswith("act_") and len(found["meta_ads"].account_id) == 19
    assert len(found["tiktok_ads"].account_id) == 19 and found["tiktok_ads"].account_id.isdigit()
    assert len(found["linkedin_ads"].account_id) == 9 and found["linkedin_ads"].account_id.isdigit()
    assert found["google_ads"].account_id != drivers()["google_ads"].sandbox_account("tenant-b").account_id


def tiktok_token_endpoint(answer: dict[str, Any], seen: list[dict[str, Any]]) -> Starlette:
    async def token(request: Request) -> JSONResponse:
        seen.append(json.loads(await request.body()))
        return JSONResponse(answer)  # TikTok answers 200 either way; the code says what happened

    return Starlette(routes=[Route("/open_api/v1.3/oauth2/access_token/", token, methods=["POST"])])


def tiktok_oauth(app: Starlette) -> OAuthClient:
    return OAuthClient(
        drivers()["tiktok_ads"].connector,
        OAUTH_ENDPOINTS["tiktok_ads"],
        AppCredentials(client_id="7100000000000000000", client_secret="tiktok-app-secret-0001"),
        redirect_uri="https://promptsales.example/oauth/callback/tiktok_ads",
        transport=httpx.ASGITransport(app=app),
    )


async def test_tiktok_oauth_takes_app_id_and_keeps_the_granted_advertisers() -> None:
    seen: list[dict[str, Any]] = []
    granted = {
        "code": 0,
        "message": "OK",
        "request_id": "r1",
        "data": {"access_token": "tt-live-token-0001", "advertiser_ids": ["7000000000000000009"], "scope": [4, 6]},
    }
    client = tiktok_oauth(tiktok_token_endpoint(granted, seen))
    url = urlsplit(client.authorization_url(state="st-1", challenge="unused"))
    query = parse_qs(url.query)
    assert url.netloc == "business-api.tiktok.com" and url.path == "/portal/auth"
    assert query == {
        "app_id": ["7100000000000000000"],
        "state": ["st-1"],
        "redirect_uri": ["https://promptsales.example/oauth/callback/tiktok_ads"],
    }
    tokens = await client.exchange(code="auth-code-1", verifier="v", now=datetime.now(UTC))
    assert seen == [{"app_id": "7100000000000000000", "secret": "tiktok-app-secret-0001", "auth_code": "auth-code-1"}]
    assert tokens.access_token == "tt-live-token-0001" and tokens.refresh_token is None
    assert tokens.extra["advertiser_ids"] == ["7000000000000000009"]


async def test_a_refused_tiktok_grant_in_a_200_is_auth_expired_without_the_secret() -> None:
    refused = {"code": 40002, "message": "auth_code is invalid or expired", "request_id": "r2", "data": {}}
    client = tiktok_oauth(tiktok_token_endpoint(refused, []))
    with pytest.raises(AuthExpired) as caught:
        await client.exchange(code="auth-code-2", verifier="v", now=datetime.now(UTC))
    assert "auth_code is invalid" in caught.value.public_message()
    assert "tiktok-app-secret-0001" not in caught.value.public_message()


def test_google_authorization_asks_for_offline_access_so_a_refresh_token_comes_back() -> None:
    client = OAuthClient(
        drivers()["google_ads"].connector,
        OAUTH_ENDPOINTS["google_ads"],
        AppCredentials(client_id="cid.apps.googleusercontent.com", client_secret="gsecret-0001"),
        redirect_uri="https://promptsales.example/oauth/callback/google_ads",
    )
    query = parse_qs(urlsplit(client.authorization_url(state="st-2", challenge="ch-2")).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["scope"] == ["https://www.googleapis.com/auth/adwords"] and query["code_challenge"] == ["ch-2"]
