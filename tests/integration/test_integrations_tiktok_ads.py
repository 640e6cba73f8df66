"""The TikTok Marketing API client and adapter against the in-process TikTok simulator (httpx.ASGITransport).

Time is faked: the policy's sleep advances one clock that the policy and the simulator both read, so delivery days
really pass and no test waits.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from promptsales.domain_core.integrations.ads import AdGroupSpec, CreativeSpec
from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.integrations.tiktok_ads.adapter import TikTokAdsAdapter
from promptsales.domain_core.integrations.tiktok_ads.client import TikTokAdsClient
from promptsales.domain_core.integrations.tiktok_ads.simulator import TikTokAdsSimulator
from promptsales.domain_core.integrations.tiktok_ads.simulator.app import interest_id, location_id
from promptsales.domain_core.shared.errors import ValidationFailed
from tests.integration.ads_fakes import CUSTOMERS, DAY0, GROUP, PNG, activate, build_chain, campaign_spec, listed
from tests.integration.connector_fakes import FakeTime

TOKEN = "tt-act-0123456789abcdef0001"
OTHER_TOKEN = "tt-act-0123456789abcdef0002"
ACCOUNT, OTHER_ACCOUNT = "7012345678901234567", "7098765432109876543"


@pytest.fixture
def sim(time_: FakeTime) -> TikTokAdsSimulator:
    return TikTokAdsSimulator(tokens={TOKEN: ACCOUNT, OTHER_TOKEN: OTHER_ACCOUNT}, clock=time_.now)


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and keeps them (to check the wire)."""

    def __init__(self, sim: TikTokAdsSimulator) -> None:
        self.inner = httpx.ASGITransport(app=sim.app)
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


def client(
    sim: TikTokAdsSimulator,
    time_: FakeTime,
    *,
    token: str = TOKEN,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TikTokAdsClient:
    async def auth() -> Mapping[str, str]:
        return {"Access-Token": token}

    return TikTokAdsClient.connect(
        tenant_id="tenant-a",
        base_url=get_connector("tiktok_ads").sandbox_base_url,
        auth=auth,
        policy=RequestPolicy(max_attempts=4, deadline_s=600.0),
        transport=transport or httpx.ASGITransport(app=sim.app),
        **time_.policy(),
    )


def adapter(
    sim: TikTokAdsSimulator,
    time_: FakeTime,
    *,
    token: str = TOKEN,
    page_size: int = 200,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TikTokAdsAdapter:
    return TikTokAdsAdapter(
        client(sim, time_, token=token, transport=transport), advertiser_ids=[ACCOUNT], page_size=page_size
    )


CAMPAIGN = campaign_spec("60.00")
CREATIVE = CreativeSpec(
    name="Shoes ad",
    headlines=("Fast running shoes", "Free returns"),
    descriptions=("Light and tough. Ships in a day.", "Winter sale now."),
    final_url="https://shop.example/shoes",
    image_png=PNG,
)


async def test_create_chain_makes_disabled_objects_with_their_targeting(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    group = await ads.create_ad_group(ACCOUNT, campaign.id, GROUP)
    ad = await ads.create_ad(ACCOUNT, group.id, CREATIVE)

    assert (campaign.kind, campaign.name, campaign.status) == ("campaign", "Winter sale", "paused")
    assert (group.status, group.parent_id, ad.status, ad.parent_id) == ("paused", campaign.id, "paused", group.id)
    assert all(len(i) == 19 and i.isdigit() for i in (campaign.id, group.id, ad.id))
    [stored] = sim.objects(ACCOUNT, "campaign")
    assert (stored["operation_status"], stored["budget_mode"], stored["budget"]) == (
        "DISABLE",
        "BUDGET_MODE_DAY",
        "60.00",
    )
    assert stored["objective_type"] == "TRAFFIC" and stored["budget_optimize_on"] is True
    [stored_group] = sim.objects(ACCOUNT, "adgroup")
    assert stored_group["operation_status"] == "DISABLE"
    assert stored_group["location_ids"] == [location_id("US"), location_id("CA")]
    assert stored_group["age_groups"] == ["AGE_25_34", "AGE_35_44"]
    assert stored_group["interest_category_ids"] == [interest_id("Running")]
    assert (stored_group["bid_type"], stored_group["bid_price"]) == ("BID_TYPE_CUSTOM", "1.50")
    assert (stored_group["optimization_goal"], stored_group["billing_event"]) == ("CLICK", "CPC")
    assert "budget" not in stored_group  # the campaign's budget is shared (budget optimisation)
    [stored_ad] = sim.objects(ACCOUNT, "ad")
    assert (stored_ad["operation_status"], stored_ad["ad_format"]) == ("DISABLE", "SINGLE_IMAGE")
    assert (stored_ad["display_name"], stored_ad["ad_text"]) == (
        "Fast running shoes",
        "Light and tough. Ships in a day.",
    )
    [image] = sim.images(ACCOUNT)
    assert stored_ad["image_ids"] == [image["image_id"]] and image["signature"] == hashlib.md5(PNG).hexdigest()


async def test_the_wire_is_tiktoks(sim: TikTokAdsSimulator, time_: FakeTime) -> None:
    recorder = Recorder(sim)
    ads = adapter(sim, time_, transport=recorder)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], DAY0, DAY0)
    assert all(r.headers["access-token"] == TOKEN and "authorization" not in r.headers for r in recorder.sent)
    assert all(r.url.path.endswith("/") and r.url.path.startswith("/open_api/v1.3/") for r in recorder.sent)
    upload = next(r for r in recorder.sent if r.url.path.endswith("/file/image/ad/upload/"))
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b"UPLOAD_BY_FILE" in upload.content and hashlib.md5(PNG).hexdigest().encode() in upload.content
    create = next(r for r in recorder.sent if r.url.path.endswith("/campaign/create/"))
    assert json.loads(create.content)["advertiser_id"] == ACCOUNT
    report = next(r for r in recorder.sent if r.url.path.endswith("/report/integrated/get/"))
    query = {k: v[0] for k, v in parse_qs(urlsplit(str(report.url)).query).items()}
    assert json.loads(query["dimensions"]) == ["campaign_id", "stat_time_day"]
    assert query["data_level"] == "AUCTION_CAMPAIGN" and query["report_type"] == "BASIC"
    assert json.loads(json.loads(query["filtering"])[0]["filter_value"]) == [chain[0]]


async def test_accounts_are_the_granted_advertisers(sim: TikTokAdsSimulator, time_: FakeTime) -> None:
    sim.open_advertiser(ACCOUNT, name="Acme Shoes")
    [account] = await adapter(sim, time_).list_accounts()
    assert (account.id, account.name, account.currency, account.time_zone) == (ACCOUNT, "Acme Shoes", "USD", "UTC")
    probe = await client(sim, time_).user()
    assert probe["display_name"]
    with pytest.raises(PermissionMissing):
        await adapter(sim, time_, token=OTHER_TOKEN).create_campaign(ACCOUNT, CAMPAIGN)
    assert sim.objects(ACCOUNT, "campaign") == []


async def test_status_budget_and_bid_changes_are_read_back(sim: TikTokAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, ad_id = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    campaign = await ads.set_status(ACCOUNT, "campaign", campaign_id, "active")
    assert (campaign.id, campaign.name, campaign.status) == (campaign_id, "Winter sale", "active")
    budget = await ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("75.50"))
    assert budget.status == "active" and sim.objects(ACCOUNT, "campaign")[0]["budget"] == "75.50"
    group = await ads.set_bid(ACCOUNT, group_id, Decimal("2.25"))
    assert (group.name, group.parent_id, group.status) == ("Runners", campaign_id, "paused")
    assert sim.objects(ACCOUNT, "adgroup")[0]["bid_price"] == "2.25"
    ad = await ads.set_status(ACCOUNT, "ad", ad_id, "removed")
    assert (ad.status, ad.parent_id) == ("removed", group_id)
    with pytest.raises(PlatformValidationError) as caught:
        await ads.set_status(ACCOUNT, "ad", ad_id, "active")
    assert "deleted" in (caught.value.detail or "")


async def test_bad_input_is_refused_before_any_request(sim: TikTokAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, ad_id = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    before = len(sim.requests)
    refused = [
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("-5")), "daily_budget"),
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("50000.01")), "daily_budget"),
        (ads.set_bid(ACCOUNT, group_id, Decimal("0")), "bid"),
        (ads.set_status(ACCOUNT, "ad", ad_id, "archived"), "status"),  # type: ignore[arg-type]
        (ads.set_status(ACCOUNT, "ad", "../me", "paused"), "object_id"),
        (ads.set_bid("act_1", group_id, Decimal(1)), "account_id"),
        (ads.create_ad_group(ACCOUNT, campaign_id, GROUP.model_copy(update={"countries": ()})), "countries"),
        (ads.create_ad_group(ACCOUNT, campaign_id, GROUP.model_copy(update={"age_min": 12})), "age_min"),
        (ads.create_ad(ACCOUNT, group_id, CREATIVE.model_copy(update={"image_png": None})), "image_png"),
        (ads.create_ad(ACCOUNT, group_id, CREATIVE.model_copy(update={"descriptions": ("x" * 101,)})), "descriptions"),
        (ads.create_ad(ACCOUNT, group_id, CREATIVE.model_copy(update={"headlines": ("h" * 41,)})), "headlines"),
        (ads.create_ad(ACCOUNT, group_id, CREATIVE.model_copy(update={"final_url": "http://x.example"})), "final_url"),
        (ads.daily_performance(ACCOUNT, "ad", [], DAY0, DAY0), "object_ids"),
    ]
    for call, field in refused:
        with pytest.raises(ValidationFailed) as caught:
            await call
        assert caught.value.field == field
    assert len(sim.requests) == before


async def test_targeting_is_looked_up_and_unknown_values_name_the_field(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    with pytest.raises(ValidationFailed) as caught:
        await ads.create_ad_group(ACCOUNT, campaign.id, GROUP.model_copy(update={"countries": ("US", "CN")}))
    assert caught.value.field == "countries" and "'CN'" in str(caught.value)
    with pytest.raises(ValidationFailed) as caught:
        await ads.create_ad_group(ACCOUNT, campaign.id, GROUP.model_copy(update={"interests": ("quantum yodeling",)}))
    assert caught.value.field == "interests" and "Running" in (caught.value.hint or "")
    everyone = await ads.create_ad_group(
        ACCOUNT, campaign.id, AdGroupSpec(name="Broad", countries=("DE",), interests=("software", "travel"))
    )
    [stored] = [g for g in sim.objects(ACCOUNT, "adgroup") if g["adgroup_id"] == everyone.id]
    assert stored["age_groups"] == [] and stored["bid_type"] == "BID_TYPE_NO_BID"
    assert stored["interest_category_ids"] == [interest_id("Software & Apps"), interest_id("Travel")]


async def test_tiktoks_own_refusals_are_validation_errors_with_its_message(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    await ads.create_campaign(ACCOUNT, CAMPAIGN)
    with pytest.raises(PlatformValidationError) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN)  # TikTok keeps campaign names unique
    assert "already exists" in (caught.value.detail or "") and caught.value.platform_code == "40002"
    with pytest.raises(PlatformValidationError) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"name": "Tiny", "daily_budget": Decimal("20")}))
    assert "at least 50" in (caught.value.detail or "")
    assert len(sim.objects(ACCOUNT, "campaign")) == 1


async def test_daily_performance_is_deterministic_and_only_after_activation(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    window = (DAY0 - timedelta(days=1), DAY0 + timedelta(days=4))
    time_.elapsed += 86_400
    paused = await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], *window)
    assert len(paused) == 6 and all(p.impressions == 0 and p.spend == 0 for p in paused)

    await activate(ads, ACCOUNT, chain)
    time_.elapsed += 3 * 86_400 - 1
    report = await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], *window)
    live = [p for p in report if p.spend > 0]
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


async def test_long_windows_are_read_30_days_at_a_time_and_pages_to_the_end(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_, page_size=2)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    await activate(ads, ACCOUNT, chain)
    time_.elapsed += 40 * 86_400
    before = len(sim.requests)
    report = await ads.daily_performance(ACCOUNT, "ad", [chain[2]], DAY0, DAY0 + timedelta(days=44))
    reports = [p for _, p in sim.requests[before:] if p.endswith("/report/integrated/get/")]
    assert len(reports) == 15 + 5  # 30 rows in 15 pages, then the 10 delivered days of the rest in 5
    assert len(report) == 45 and all(p.spend > 0 for p in report[:40]) and all(p.spend == 0 for p in report[41:])


async def test_throttling_in_a_200_is_retried_for_reads_and_writes_are_not_resent(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    sim.fail_next(429, times=2)
    assert len(await ads.list_accounts()) == 1
    assert time_.sleeps == [0.125, 0.25]  # no wait hint from TikTok: the policy's back-off

    sim.fail_next(429)
    with pytest.raises(RateLimited) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN)
    assert caught.value.platform_code == "40100" and sim.objects(ACCOUNT, "campaign") == []

    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    sim.fail_next(429)  # setting a status is idempotent: retried
    assert (await ads.set_status(ACCOUNT, "campaign", campaign.id, "active")).status == "active"


async def test_system_errors_retry_reads_and_a_lost_create_says_it_may_have_applied(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    sim.fail_next(500)
    sim.fail_next(503)
    assert len(await ads.list_accounts()) == 1 and len(time_.sleeps) == 2
    sim.fail_next(500, after_apply=True)
    with pytest.raises(PlatformDown) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN)
    assert caught.value.may_have_applied
    assert len(sim.objects(ACCOUNT, "campaign")) == 1  # applied once, not twice


async def test_a_revoked_or_missing_token_is_auth_expired_and_never_shown(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    sim.revoke(TOKEN)
    with pytest.raises(AuthExpired) as caught:
        await adapter(sim, time_).list_accounts()
    assert TOKEN not in caught.value.public_message() and caught.value.platform_code == "40105"
    with pytest.raises(AuthExpired) as caught:
        await adapter(sim, time_, token="").list_accounts()
    assert caught.value.platform_code == "40104"


async def test_single_images_are_refused_on_tiktok_only_placements(sim: TikTokAdsSimulator, time_: FakeTime) -> None:
    tiktok = client(sim, time_)
    ads = adapter(sim, time_)
    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    group_id = await tiktok.create_adgroup(
        {
            "advertiser_id": ACCOUNT,
            "campaign_id": campaign.id,
            "adgroup_name": "In-feed only",
            "placement_type": "PLACEMENT_TYPE_NORMAL",
            "placements": ["PLACEMENT_TIKTOK"],
            "location_ids": [location_id("US")],
            "schedule_type": "SCHEDULE_FROM_NOW",
            "billing_event": "CPC",
            "operation_status": "DISABLE",
        }
    )
    with pytest.raises(PlatformValidationError) as caught:
        await ads.create_ad(ACCOUNT, group_id, CREATIVE)
    assert "not supported on the TikTok placement" in (caught.value.detail or "")


async def test_a_customer_file_audience_is_uploaded_targeted_and_sized(
    sim: TikTokAdsSimulator, time_: FakeTime
) -> None:
    recorder = Recorder(sim)
    ads = adapter(sim, time_, transport=recorder)
    audience = await ads.create_customer_list(ACCOUNT, CUSTOMERS)
    assert (audience.size, audience.status) == (500, "ready")  # cover_num as TikTok reads it back
    upload = next(r for r in recorder.sent if r.url.path.endswith("/dmp/custom_audience/file/upload/"))
    assert b'name="calculate_type"\r\n\r\nEMAIL_SHA256' in upload.content
    assert CUSTOMERS.hashed_emails[0].encode() in upload.content

    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    group = await ads.create_ad_group(ACCOUNT, campaign.id, listed(audience.id))
    [stored] = [g for g in sim.objects(ACCOUNT, "adgroup") if g["adgroup_id"] == group.id]
    assert stored["audience_ids"] == [audience.id]

    broad = await ads.estimate_audience(ACCOUNT, GROUP)
    narrow = await ads.estimate_audience(ACCOUNT, listed(audience.id))
    assert narrow.basis == "tiktok_audience_size_estimate"
    assert 0 <= narrow.lower < narrow.upper < broad.lower  # the listed people within ages and interests

    before = len(recorder.sent)
    mixed = CUSTOMERS.model_copy(update={"hashed_phones": (f"{1:064x}",)})
    with pytest.raises(ValidationFailed) as refused:
        await ads.create_customer_list(ACCOUNT, mixed)
    assert refused.value.field == "hashed_phones" and len(recorder.sent) == before
    with pytest.raises(PlatformValidationError, match="audience_ids"):
        await ads.estimate_audience(ACCOUNT, listed("1700000000000000001"))
