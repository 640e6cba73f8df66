"""The LinkedIn Marketing API client and adapter against the in-process LinkedIn simulator (httpx.ASGITransport).

Time is faked: the policy's sleep advances one clock that the policy and the simulator both read, so delivery days
really pass and no test waits.
"""

import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from promptsales.domain_core.integrations.ads import AdGroupSpec, CreativeSpec
from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.linkedin_ads.adapter import LinkedInAdsAdapter
from promptsales.domain_core.integrations.linkedin_ads.client import LINKEDIN_VERSION, LinkedInAdsClient
from promptsales.domain_core.integrations.linkedin_ads.simulator import LinkedInAdsSimulator
from promptsales.domain_core.integrations.linkedin_ads.simulator.app import geo_urn, interest_urn
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.shared.errors import ValidationFailed
from tests.integration.ads_fakes import CUSTOMERS, DAY0, GROUP, activate, build_chain, campaign_spec, listed
from tests.integration.connector_fakes import FakeTime

TOKEN = "li-AQX-0123456789abcdef0001"
OTHER_TOKEN = "li-AQX-0123456789abcdef0002"
ACCOUNT, OTHER_ACCOUNT = "512345678", "598765432"


@pytest.fixture
def sim(time_: FakeTime) -> LinkedInAdsSimulator:
    return LinkedInAdsSimulator(tokens={TOKEN: ACCOUNT, OTHER_TOKEN: OTHER_ACCOUNT}, clock=time_.now)


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and keeps them with their answers (to check the wire)."""

    def __init__(self, sim: LinkedInAdsSimulator) -> None:
        self.inner = httpx.ASGITransport(app=sim.app)
        self.sent: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.sent.append((request, response))
        return response


def client(
    sim: LinkedInAdsSimulator,
    time_: FakeTime,
    *,
    token: str = TOKEN,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LinkedInAdsClient:
    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return LinkedInAdsClient.connect(
        tenant_id="tenant-a",
        base_url=get_connector("linkedin_ads").sandbox_base_url,
        auth=auth,
        policy=RequestPolicy(max_attempts=4, deadline_s=600.0),
        transport=transport or httpx.ASGITransport(app=sim.app),
        **time_.policy(),
    )


def adapter(
    sim: LinkedInAdsSimulator,
    time_: FakeTime,
    *,
    token: str = TOKEN,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LinkedInAdsAdapter:
    return LinkedInAdsAdapter(client(sim, time_, token=token, transport=transport), clock=time_.now)


CAMPAIGN = campaign_spec("60.00")
CREATIVE = CreativeSpec(
    name="Shoes ad",
    headlines=("Fast running shoes", "Free returns"),
    descriptions=("Light and tough. Ships in a day.", "Winter sale now."),
    final_url="https://shop.example/shoes",
)


async def test_create_chain_makes_paused_objects_with_their_targeting(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    group = await ads.create_ad_group(ACCOUNT, campaign.id, GROUP)
    ad = await ads.create_ad(ACCOUNT, group.id, CREATIVE)

    assert (campaign.kind, campaign.name, campaign.status) == ("campaign", "Winter sale", "paused")
    assert (group.status, group.parent_id, ad.status, ad.parent_id) == ("paused", campaign.id, "paused", group.id)
    assert all(len(i) == 9 and i.isdigit() for i in (campaign.id, group.id, ad.id))
    [stored] = sim.objects(ACCOUNT, "adCampaignGroups")
    assert (stored["status"], stored["objectiveType"]) == ("PAUSED", "WEBSITE_VISIT")
    assert stored["dailyBudget"] == {"amount": "60.00", "currencyCode": "USD"}
    assert stored["budgetOptimization"] == {"budgetOptimizationStrategy": "DYNAMIC"}
    [stored_campaign] = sim.objects(ACCOUNT, "adCampaigns")
    assert stored_campaign["campaignGroup"] == f"urn:li:sponsoredCampaignGroup:{campaign.id}"
    assert (stored_campaign["status"], stored_campaign["type"], stored_campaign["costType"]) == (
        "PAUSED",
        "SPONSORED_UPDATES",
        "CPC",
    )
    assert stored_campaign["unitCost"] == {"amount": "1.50", "currencyCode": "USD"}
    assert "dailyBudget" not in stored_campaign  # the group's budget is shared (budget optimisation)
    assert stored_campaign["targetingCriteria"]["include"]["and"] == [
        {"or": {"urn:li:adTargetingFacet:locations": [geo_urn("US"), geo_urn("CA")]}},
        {"or": {"urn:li:adTargetingFacet:ageRanges": ["urn:li:ageRange:(25,34)", "urn:li:ageRange:(35,54)"]}},
        {"or": {"urn:li:adTargetingFacet:interests": [interest_urn("Running")]}},
    ]
    [stored_ad] = sim.objects(ACCOUNT, "creatives")
    assert (stored_ad["intendedStatus"], stored_ad["campaign"]) == ("PAUSED", f"urn:li:sponsoredCampaign:{group.id}")
    assert stored_ad["commentary"] == "Light and tough. Ships in a day."
    assert stored_ad["article"] == {
        "source": "https://shop.example/shoes",
        "title": "Fast running shoes",
        "description": "Winter sale now.",
    }


async def test_the_wire_is_linkedins(sim: LinkedInAdsSimulator, time_: FakeTime) -> None:
    recorder = Recorder(sim)
    ads = adapter(sim, time_, transport=recorder)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    await ads.set_daily_budget(ACCOUNT, chain[0], Decimal(70))
    await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], DAY0, DAY0 + timedelta(days=1))
    requests = [r for r, _ in recorder.sent]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in requests)
    assert all(r.headers["linkedin-version"] == LINKEDIN_VERSION for r in requests)
    assert all(r.headers["x-restli-protocol-version"] == "2.0.0" for r in requests)
    assert all(r.url.path.startswith("/rest/") for r in requests)

    creates = [(r, a) for r, a in recorder.sent if r.method == "POST" and r.headers.get("x-restli-method") == "CREATE"]
    assert [r.url.path.rsplit("/", 1)[1] for r, _ in creates] == ["adCampaignGroups", "adCampaigns", "creatives"]
    assert all(a.status_code == 201 and a.content == b"" for _, a in creates)
    assert [a.headers["x-restli-id"] for _, a in creates] == [*chain[:2], f"urn:li:sponsoredCreative:{chain[2]}"]
    assert json.loads(creates[0][0].content)["account"] == f"urn:li:sponsoredAccount:{ACCOUNT}"

    [update] = [r for r in requests if r.headers.get("x-restli-method") == "PARTIAL_UPDATE"]
    assert update.method == "POST" and update.url.path == f"/rest/adAccounts/{ACCOUNT}/adCampaignGroups/{chain[0]}"
    assert json.loads(update.content) == {
        "patch": {"$set": {"dailyBudget": {"amount": "70.00", "currencyCode": "USD"}}}
    }

    [report] = [r for r in requests if r.url.path == "/rest/adAnalytics"]
    query = report.url.query.decode()
    assert "q=analytics&pivot=CAMPAIGN_GROUP&timeGranularity=DAILY" in query
    assert "dateRange=(start:(year:2026,month:12,day:1),end:(year:2026,month:12,day:2))" in query
    assert f"campaignGroups=List(urn%3Ali%3AsponsoredCampaignGroup%3A{chain[0]})" in query


async def test_accounts_are_the_members_ad_accounts(sim: LinkedInAdsSimulator, time_: FakeTime) -> None:
    sim.open_account(ACCOUNT, name="Acme Shoes")
    [account] = await adapter(sim, time_).list_accounts()
    assert (account.id, account.name, account.currency, account.time_zone) == (ACCOUNT, "Acme Shoes", "USD", "UTC")
    assert await client(sim, time_).account_ids() == [ACCOUNT]
    with pytest.raises(PermissionMissing):
        await adapter(sim, time_, token=OTHER_TOKEN).create_campaign(ACCOUNT, CAMPAIGN)
    assert sim.objects(ACCOUNT, "adCampaignGroups") == []


async def test_status_budget_and_bid_changes_are_partial_updates_read_back(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, ad_id = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    campaign = await ads.set_status(ACCOUNT, "campaign", campaign_id, "active")
    assert (campaign.id, campaign.name, campaign.status) == (campaign_id, "Winter sale", "active")
    budget = await ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("75.50"))
    assert budget.status == "active"
    assert sim.objects(ACCOUNT, "adCampaignGroups")[0]["dailyBudget"]["amount"] == "75.50"
    group = await ads.set_bid(ACCOUNT, group_id, Decimal("2.25"))
    assert (group.name, group.parent_id, group.status) == ("Runners", campaign_id, "paused")
    assert sim.objects(ACCOUNT, "adCampaigns")[0]["unitCost"]["amount"] == "2.25"
    ad = await ads.set_status(ACCOUNT, "ad", ad_id, "removed")
    assert (ad.status, ad.parent_id) == ("removed", group_id)
    assert sim.objects(ACCOUNT, "creatives")[0]["intendedStatus"] == "ARCHIVED"
    with pytest.raises(PlatformValidationError) as caught:
        await ads.set_status(ACCOUNT, "ad", ad_id, "active")
    assert "archived" in (caught.value.detail or "")
    with pytest.raises(ValidationFailed) as unknown:
        await ads.set_status(ACCOUNT, "ad_group", "399999999", "paused")
    assert unknown.value.field == "object_id"


async def test_bad_input_is_refused_before_any_request(sim: LinkedInAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, ad_id = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    before = len(sim.requests)
    refused = [
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("-5")), "daily_budget"),
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("50000.01")), "daily_budget"),
        (ads.set_bid(ACCOUNT, group_id, Decimal("0")), "bid"),
        (ads.set_status(ACCOUNT, "ad", ad_id, "archived"), "status"),  # type: ignore[arg-type]
        (ads.set_status(ACCOUNT, "ad", "urn:li:sponsoredCreative:1", "paused"), "object_id"),
        (ads.set_bid("urn:li:sponsoredAccount:1", group_id, Decimal(1)), "account_id"),
        (ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"name": "n" * 101})), "name"),
        (ads.create_ad_group(ACCOUNT, campaign_id, GROUP.model_copy(update={"countries": ()})), "countries"),
        (ads.create_ad_group(ACCOUNT, campaign_id, GROUP.model_copy(update={"age_min": 16})), "age_min"),
        (ads.create_ad(ACCOUNT, group_id, CREATIVE.model_copy(update={"descriptions": ()})), "descriptions"),
        (ads.create_ad(ACCOUNT, group_id, CREATIVE.model_copy(update={"headlines": ("h" * 201,)})), "headlines"),
        (ads.create_ad(ACCOUNT, group_id, CREATIVE.model_copy(update={"final_url": "http://x.example"})), "final_url"),
        (ads.daily_performance(ACCOUNT, "ad", [], DAY0, DAY0), "object_ids"),
    ]
    for call, field in refused:
        with pytest.raises(ValidationFailed) as caught:
            await call
        assert caught.value.field == field
    assert len(sim.requests) == before


async def test_targeting_is_looked_up_and_unknown_values_name_the_field(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    with pytest.raises(ValidationFailed) as caught:
        await ads.create_ad_group(ACCOUNT, campaign.id, GROUP.model_copy(update={"countries": ("US", "XX")}))
    assert caught.value.field == "countries" and "'XX'" in str(caught.value)
    with pytest.raises(ValidationFailed) as caught:
        await ads.create_ad_group(ACCOUNT, campaign.id, GROUP.model_copy(update={"interests": ("quantum yodeling",)}))
    assert caught.value.field == "interests"
    everyone = await ads.create_ad_group(
        ACCOUNT, campaign.id, AdGroupSpec(name="Broad", countries=("DE", "GB"), interests=("software", "travel"))
    )
    [stored] = [c for c in sim.objects(ACCOUNT, "adCampaigns") if c["id"] == everyone.id]
    assert stored["optimizationTargetType"] == "MAX_CLICK" and "unitCost" not in stored
    assert stored["targetingCriteria"]["include"]["and"] == [
        {"or": {"urn:li:adTargetingFacet:locations": [geo_urn("DE"), geo_urn("GB")]}},
        {"or": {"urn:li:adTargetingFacet:interests": [interest_urn("Software Development"), interest_urn("Travel")]}},
    ]  # every adult: no age facet


async def test_linkedins_own_refusals_are_validation_errors_with_its_message(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    with pytest.raises(PlatformValidationError) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"daily_budget": Decimal("5")}))
    assert "at least 10" in (caught.value.detail or "") and caught.value.platform_code == "INVALID_VALUE"
    assert sim.objects(ACCOUNT, "adCampaignGroups") == []


async def test_a_request_without_linkedins_version_headers_is_refused(sim: LinkedInAdsSimulator) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="https://li.test") as raw:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        missing = await raw.get("/rest/adAccountUsers?q=authenticatedUser", headers=bearer)
        stale = await raw.get(
            "/rest/adAccountUsers?q=authenticatedUser",
            headers={**bearer, "LinkedIn-Version": "202301", "X-Restli-Protocol-Version": "2.0.0"},
        )
    assert (missing.status_code, missing.json()["code"]) == (400, "VERSION_MISSING")
    assert (stale.status_code, stale.json()["code"]) == (426, "NONEXISTENT_VERSION")
    assert set(stale.json()) == {"status", "serviceErrorCode", "code", "message"}


async def test_analytics_fill_the_days_linkedin_leaves_out_and_every_level_agrees(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    window = (DAY0 - timedelta(days=1), DAY0 + timedelta(days=4))
    time_.elapsed += 86_400
    paused = await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], *window)
    assert len(paused) == 6 and all(p.impressions == 0 and p.spend == 0 for p in paused)

    await activate(ads, ACCOUNT, chain)
    time_.elapsed += 3 * 86_400 - 1
    raw = await client(sim, time_).analytics("CAMPAIGN_GROUP", [chain[0]], *window, ["impressions"])
    assert [r.day for r in raw] == [DAY0 + timedelta(days=i) for i in (1, 2, 3)]  # empty days are left out
    report = await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], *window)
    live = [p for p in report if p.spend > 0]
    assert [p.day for p in report] == [window[0] + timedelta(days=i) for i in range(6)]
    assert [p.day for p in live] == [DAY0 + timedelta(days=i) for i in (1, 2, 3)]
    assert all(0 < p.spend <= Decimal("60.00") and p.clicks > 0 and p.conversions > 0 for p in live)
    assert all(p.impressions > p.clicks and p.conversion_value > 0 for p in live)
    assert report == await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], *window)
    by_ad = await ads.daily_performance(ACCOUNT, "ad", [chain[2]], *window)
    by_group = await ads.daily_performance(ACCOUNT, "ad_group", [chain[1]], *window)
    assert [p.spend for p in by_ad] == [p.spend for p in report] == [p.spend for p in by_group]

    await ads.set_status(ACCOUNT, "ad_group", chain[1], "paused")
    time_.elapsed += 2 * 86_400
    assert await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], *window) == report  # nothing after the pause


async def test_a_429_is_backed_off_for_reads_and_updates_and_a_create_is_not_resent(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    sim.fail_next(429, times=2)
    assert len(await ads.list_accounts()) == 1
    assert time_.sleeps == [0.125, 0.25]  # LinkedIn gives no Retry-After: the policy's back-off

    sim.fail_next(429)
    with pytest.raises(RateLimited) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN)
    assert caught.value.platform_code == "TOO_MANY_REQUESTS" and sim.objects(ACCOUNT, "adCampaignGroups") == []

    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    sim.fail_next(429)  # a partial update sets absolute values: retried
    assert (await ads.set_status(ACCOUNT, "campaign", campaign.id, "active")).status == "active"


async def test_a_create_is_sent_once_on_a_5xx_and_says_it_may_have_applied(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    sim.fail_next(500)
    sim.fail_next(503)
    assert len(await ads.list_accounts()) == 1 and len(time_.sleeps) == 2
    sim.fail_next(500, after_apply=True)
    before = len(sim.requests)
    with pytest.raises(PlatformDown) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN)
    assert caught.value.may_have_applied
    creates = [p for m, p in sim.requests[before:] if m == "POST"]
    assert len(creates) == 1 and len(sim.objects(ACCOUNT, "adCampaignGroups")) == 1  # applied once, not twice


async def test_a_revoked_or_missing_token_is_auth_expired_and_never_shown(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    sim.revoke(TOKEN)
    with pytest.raises(AuthExpired) as caught:
        await adapter(sim, time_).list_accounts()
    assert TOKEN not in caught.value.public_message() and caught.value.platform_code == "INVALID_ACCESS_TOKEN"
    with pytest.raises(AuthExpired):
        await adapter(sim, time_, token="").list_accounts()


async def test_a_scheduled_campaign_delivers_only_inside_its_run_schedule(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    spec = CAMPAIGN.model_copy(update={"start_date": DAY0 + timedelta(days=2), "end_date": DAY0 + timedelta(days=3)})
    chain = await build_chain(ads, ACCOUNT, spec, CREATIVE)
    await activate(ads, ACCOUNT, chain)
    time_.elapsed += 6 * 86_400
    report = await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], DAY0, DAY0 + timedelta(days=5))
    assert [p.spend > 0 for p in report] == [False, False, True, True, False, False]


async def test_a_dmp_segment_becomes_an_ad_segment_that_campaigns_target_and_counts_size(
    sim: LinkedInAdsSimulator, time_: FakeTime
) -> None:
    recorder = Recorder(sim)
    ads = adapter(sim, time_, transport=recorder)
    audience = await ads.create_customer_list(ACCOUNT, CUSTOMERS)
    assert (audience.size, audience.status) == (550, "ready")  # matchedMemberCount; ready from 300 members
    [upload] = [q for q, _ in recorder.sent if q.url.path.endswith("/users")]
    assert upload.headers["x-restli-method"] == "BATCH_CREATE"
    first = json.loads(upload.content)["elements"][0]
    assert first == {"action": "ADD", "userIds": [{"idType": "SHA256_EMAIL", "idValue": CUSTOMERS.hashed_emails[0]}]}

    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    await ads.create_ad_group(ACCOUNT, campaign.id, listed(audience.id))
    [stored] = sim.objects(ACCOUNT, "adCampaigns")
    facets = {f: v for c in stored["targetingCriteria"]["include"]["and"] for f, v in c["or"].items()}
    assert facets["urn:li:adTargetingFacet:audienceMatchingSegments"] == [f"urn:li:adSegment:{audience.id}"]

    broad = await ads.estimate_audience(ACCOUNT, GROUP)
    narrow = await ads.estimate_audience(ACCOUNT, listed(audience.id))
    assert narrow.basis == "linkedin_audience_counts"
    assert 0 < narrow.lower < narrow.upper < broad.lower  # active members, then all members

    before = len(recorder.sent)
    with pytest.raises(ValidationFailed) as refused:
        await ads.create_customer_list(ACCOUNT, CUSTOMERS.model_copy(update={"hashed_phones": (f"{1:064x}",)}))
    assert refused.value.field == "hashed_phones" and len(recorder.sent) == before
    other = await adapter(sim, time_, token=OTHER_TOKEN).create_customer_list(OTHER_ACCOUNT, CUSTOMERS)
    with pytest.raises(PlatformValidationError, match="ad segment"):
        await ads.estimate_audience(ACCOUNT, listed(other.id))
