"""The Google Ads client and adapter against the in-process Google Ads simulator (httpx.ASGITransport).

Time is faked: the policy's sleep advances one clock that the policy and the simulator both read, so delivery days
really pass and no test waits.
"""

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from promptsales.domain_core.integrations.ads import CreativeSpec
from promptsales.domain_core.integrations.google_ads.adapter import GoogleAdsAdapter
from promptsales.domain_core.integrations.google_ads.client import GoogleAdsClient, from_micros, to_micros
from promptsales.domain_core.integrations.google_ads.simulator import GoogleAdsSimulator
from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed
from tests.integration.ads_fakes import CUSTOMERS, DAY0, GROUP, PNG, activate, build_chain, campaign_spec, listed
from tests.integration.connector_fakes import FakeTime

TOKEN = "ya29.a0-test-access-token-0001"
OTHER_TOKEN = "ya29.a0-test-access-token-0002"
DEVELOPER_TOKEN = "devtok-ABCDEFGHIJKLMNOP"
ACCOUNT, OTHER_ACCOUNT = "1234567890", "9876543210"


@pytest.fixture
def sim(time_: FakeTime) -> GoogleAdsSimulator:
    return GoogleAdsSimulator(
        tokens={TOKEN: ACCOUNT, OTHER_TOKEN: OTHER_ACCOUNT},
        clock=time_.now,
        developer_token=DEVELOPER_TOKEN,
        page_size=3,
    )


def client(sim: GoogleAdsSimulator, time_: FakeTime, *, token: str = TOKEN, attempts: int = 4) -> GoogleAdsClient:
    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return GoogleAdsClient.connect(
        tenant_id="tenant-a",
        developer_token=DEVELOPER_TOKEN,
        base_url=get_connector("google_ads").sandbox_base_url,
        auth=auth,
        policy=RequestPolicy(max_attempts=attempts, deadline_s=120.0),
        transport=httpx.ASGITransport(app=sim.app),
        **time_.policy(),
    )


def adapter(sim: GoogleAdsSimulator, time_: FakeTime, **options: object) -> GoogleAdsAdapter:
    return GoogleAdsAdapter(client(sim, time_, **options))  # type: ignore[arg-type]


CAMPAIGN = campaign_spec("25.00")
CREATIVE = CreativeSpec(
    name="Shoes ad",
    headlines=("Fast running shoes", "Free returns", "Winter sale now"),
    descriptions=("Light and tough.", "Ships in a day."),
    final_url="https://shop.example/shoes",
    image_png=PNG,
)


async def test_create_chain_makes_paused_objects_with_their_targeting(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    group = await ads.create_ad_group(ACCOUNT, campaign.id, GROUP)
    ad = await ads.create_ad(ACCOUNT, group.id, CREATIVE)

    assert (campaign.kind, campaign.name, campaign.status, campaign.parent_id) == (
        "campaign",
        "Winter sale",
        "paused",
        None,
    )
    assert (group.kind, group.status, group.parent_id) == ("ad_group", "paused", campaign.id)
    assert (ad.kind, ad.name, ad.status, ad.parent_id) == ("ad", "Shoes ad", "paused", group.id)
    assert ad.id.startswith(f"{group.id}~")
    [stored_campaign] = sim.entities(ACCOUNT, "campaign")
    assert stored_campaign["status"] == "PAUSED"
    assert stored_campaign["contains_eu_political_advertising"] == "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"
    assert "target_spend" in stored_campaign
    [budget] = sim.entities(ACCOUNT, "campaign_budget")
    assert budget["amount_micros"] == 25_000_000 and budget["explicitly_shared"] is False
    [stored_group] = sim.entities(ACCOUNT, "ad_group")
    assert (stored_group["status"], stored_group["cpc_bid_micros"]) == ("PAUSED", 1_500_000)
    locations = {c["location"]["geo_target_constant"] for c in sim.entities(ACCOUNT, "campaign_criterion")}
    assert locations == {"geoTargetConstants/2840", "geoTargetConstants/2124"}
    criteria = sim.entities(ACCOUNT, "ad_group_criterion")
    assert {c["age_range"]["type"] for c in criteria if "age_range" in c} == {
        "AGE_RANGE_18_24",
        "AGE_RANGE_45_54",
        "AGE_RANGE_55_64",
        "AGE_RANGE_65_UP",
    }
    assert all(c["negative"] for c in criteria if "age_range" in c)
    assert [c["keyword"] for c in criteria if "keyword" in c] == [{"text": "running", "match_type": "BROAD"}]
    [stored_ad] = sim.entities(ACCOUNT, "ad_group_ad")
    assert stored_ad["status"] == "PAUSED"
    assert [h["text"] for h in stored_ad["ad"]["responsive_search_ad"]["headlines"]] == list(CREATIVE.headlines)
    assert [a["field_type"] for a in sim.entities(ACCOUNT, "ad_group_asset")] == ["AD_IMAGE"]
    # Nothing was created in the other account.
    assert sim.entities(OTHER_ACCOUNT, "campaign") == []


async def test_accounts_are_the_customers_the_token_reaches(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    sim.grant(TOKEN, "Second brand")
    accounts = await adapter(sim, time_).list_accounts()
    assert [(a.id, a.name, a.currency, a.time_zone) for a in accounts] == [
        (ACCOUNT, ACCOUNT, "USD", "UTC"),
        (sim.customer_id_of("Second brand"), "Second brand", "USD", "UTC"),
    ]
    with pytest.raises(PermissionMissing):
        await adapter(sim, time_, token=OTHER_TOKEN).create_campaign(ACCOUNT, CAMPAIGN)


async def test_status_budget_and_bid_changes_reach_the_platform(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, ad_id = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)

    campaign = await ads.set_status(ACCOUNT, "campaign", campaign_id, "active")
    assert (campaign.id, campaign.name, campaign.status) == (campaign_id, "Winter sale", "active")
    ad = await ads.set_status(ACCOUNT, "ad", ad_id, "active")
    assert (ad.id, ad.status, ad.parent_id, ad.name) == (ad_id, "active", group_id, "Fast running shoes")
    budget = await ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("40.00"))
    assert (budget.id, budget.status) == (campaign_id, "active")
    assert sim.entities(ACCOUNT, "campaign_budget")[0]["amount_micros"] == 40_000_000
    group = await ads.set_bid(ACCOUNT, group_id, Decimal("2.25"))
    assert (group.id, group.name, group.parent_id) == (group_id, "Runners", campaign_id)
    assert sim.entities(ACCOUNT, "ad_group")[0]["cpc_bid_micros"] == 2_250_000
    removed = await ads.set_status(ACCOUNT, "ad_group", group_id, "removed")
    assert (removed.status, removed.name) == ("removed", "Runners")


async def test_bad_changes_are_refused_before_any_request(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, ad_id = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    before = len(sim.requests)
    refused = [
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("-5")), "daily_budget"),
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("0")), "daily_budget"),
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("50000.01")), "daily_budget"),
        (ads.set_bid(ACCOUNT, group_id, Decimal("-0.10")), "bid"),
        (ads.set_bid(ACCOUNT, group_id, Decimal("1000.01")), "bid"),
        (ads.set_status(ACCOUNT, "campaign", campaign_id, "deleted"), "status"),  # type: ignore[arg-type]
        (ads.set_status(ACCOUNT, "keyword", campaign_id, "paused"), "kind"),  # type: ignore[arg-type]
        (ads.set_status(ACCOUNT, "ad", campaign_id, "paused"), "object_id"),
        (ads.set_bid("not-an-id", group_id, Decimal(1)), "account_id"),
        (ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"daily_budget": Decimal("-1")})), "daily_budget"),
        (ads.create_ad_group(ACCOUNT, campaign_id, GROUP.model_copy(update={"countries": ("XX",)})), "countries"),
        (ads.create_ad_group(ACCOUNT, campaign_id, GROUP.model_copy(update={"age_min": 70})), "age_min"),
        (ads.create_ad(ACCOUNT, group_id, CREATIVE.model_copy(update={"final_url": "http://x"})), "final_url"),
        (ads.daily_performance(ACCOUNT, "ad", [ad_id], DAY0, DAY0 - timedelta(days=1)), "until"),
    ]
    for call, field in refused:
        with pytest.raises(ValidationFailed) as caught:
            await call
        assert caught.value.field == field
    assert len(sim.requests) == before


async def test_daily_performance_is_deterministic_and_only_after_activation(
    sim: GoogleAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    campaign_id, group_id, ad_id = chain
    window = (DAY0 - timedelta(days=1), DAY0 + timedelta(days=4))
    time_.elapsed += 86_400  # a paused day passes
    paused = await ads.daily_performance(ACCOUNT, "campaign", [campaign_id], *window)
    assert len(paused) == 6 and all(p.impressions == 0 and p.spend == 0 for p in paused)

    await activate(ads, ACCOUNT, chain)  # at the start of day 1
    time_.elapsed += 3 * 86_400 - 1  # to the last second of day 3
    report = await ads.daily_performance(ACCOUNT, "campaign", [campaign_id], *window)
    by_day = {p.day: p for p in report}
    assert [d for d, p in by_day.items() if p.spend > 0] == [DAY0 + timedelta(days=i) for i in (1, 2, 3)]
    for day in (1, 2, 3):
        row = by_day[DAY0 + timedelta(days=day)]
        assert 0 < row.spend <= Decimal("25.00") and row.clicks > 0 and row.impressions > row.clicks
        assert row.conversions > 0 and row.conversion_value > 0
    assert report == await ads.daily_performance(ACCOUNT, "campaign", [campaign_id], *window)
    # The ad's rows add up to the campaign's (one ad), and the ad group's too.
    by_ad = await ads.daily_performance(ACCOUNT, "ad", [ad_id], *window)
    by_group = await ads.daily_performance(ACCOUNT, "ad_group", [group_id], *window)
    assert [p.spend for p in by_ad] == [p.spend for p in report] == [p.spend for p in by_group]
    assert {p.object_id for p in by_ad} == {ad_id}


async def test_pausing_mid_day_halves_that_day(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    await activate(ads, ACCOUNT, chain)
    time_.elapsed += 86_400 + 43_200  # noon of day 1
    await ads.set_status(ACCOUNT, "ad_group", chain[1], "paused")
    time_.elapsed += 86_400
    first, second, third = await ads.daily_performance(ACCOUNT, "ad", [chain[2]], DAY0, DAY0 + timedelta(days=2))
    assert first.spend > 0 and 0 < second.spend < first.spend and third.spend == 0


async def test_reports_follow_page_tokens_to_the_end(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    second_ad = await ads.create_ad(ACCOUNT, chain[1], CREATIVE.model_copy(update={"image_png": None}))
    await activate(ads, ACCOUNT, chain)
    await ads.set_status(ACCOUNT, "ad", second_ad.id, "active")
    time_.elapsed += 5 * 86_400
    before = sum(1 for _, path, _ in sim.requests if path.endswith("googleAds:search"))

    report = await ads.daily_performance(ACCOUNT, "ad", [chain[2], second_ad.id], DAY0, DAY0 + timedelta(days=4))

    searches = sum(1 for _, path, _ in sim.requests if path.endswith("googleAds:search")) - before
    assert searches == 4  # 10 rows, 3 per page
    assert len(report) == 10 and all(p.spend > 0 for p in report)
    assert sum((p.spend for p in report), Decimal(0)) <= Decimal("25.00") * 5


async def test_a_429_on_a_read_is_retried_and_a_write_is_not(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    sim.fail_next(429, retry_after=7)
    assert [a.id for a in await ads.list_accounts()] == [ACCOUNT]
    assert len(time_.sleeps) == 1

    sim.fail_next(429, retry_after=7)
    mutates_before = sum(1 for _, path, _ in sim.requests if path.endswith(":mutate"))
    with pytest.raises(RateLimited):
        await ads.create_campaign(ACCOUNT, CAMPAIGN)
    assert sum(1 for _, path, _ in sim.requests if path.endswith(":mutate")) == mutates_before + 1
    assert sim.entities(ACCOUNT, "campaign_budget") == []


async def test_a_429_waits_googles_retry_delay(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    sim.fail_next(429, retry_after=7)
    await adapter(sim, time_).list_accounts()
    assert time_.sleeps == [7.0]


async def test_5xx_is_retried_for_reads_and_a_lost_create_is_found_by_name(
    sim: GoogleAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    sim.fail_next(503, times=2)
    assert len(await ads.list_accounts()) == 1
    assert len(time_.sleeps) == 2

    budget = await ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"name": "Warm-up"}))
    sim.fail_next(503, after_apply=True)  # the campaign is made, its answer lost
    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    assert (campaign.name, campaign.status) == ("Winter sale", "paused")
    assert [c["name"] for c in sim.entities(ACCOUNT, "campaign")] == ["Warm-up", "Winter sale"]
    assert budget.id != campaign.id

    sim.fail_next(503, times=4)  # a create that really failed is not sent again
    with pytest.raises(PlatformDown):
        await ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"name": "Never"}))
    assert "Never" not in {c["name"] for c in sim.entities(ACCOUNT, "campaign")}


async def test_a_revoked_token_is_auth_expired_and_secrets_stay_out(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    sim.revoke(TOKEN)
    with pytest.raises(AuthExpired) as caught:
        await adapter(sim, time_).list_accounts()
    text = caught.value.public_message()
    assert TOKEN not in text and DEVELOPER_TOKEN not in text


async def test_platform_validation_errors_name_googles_field(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, _ = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    long_headline = CREATIVE.model_copy(update={"headlines": ("x" * 31, "Two", "Three"), "image_png": None})
    with pytest.raises(PlatformValidationError) as caught:
        await ads.create_ad(ACCOUNT, group_id, long_headline)
    assert caught.value.platform_field == "operations.create.ad.responsive_search_ad.headlines.text"
    # A duplicate name is Google's to refuse (here on the campaign's budget, named after it).
    with pytest.raises(PlatformValidationError) as duplicate:
        await ads.create_campaign(ACCOUNT, CAMPAIGN)
    assert duplicate.value.platform_field == "operations.create.name"
    # A campaign Google refuses leaves no budget behind: the one made for it is removed again.
    past = CAMPAIGN.model_copy(update={"name": "Too late", "start_date": DAY0 - timedelta(days=1)})
    with pytest.raises(PlatformValidationError) as late:
        await ads.create_campaign(ACCOUNT, past)
    assert late.value.platform_field == "operations.create.start_date"
    assert [b["status"] for b in sim.entities(ACCOUNT, "campaign_budget")] == ["ENABLED", "REMOVED"]
    assert [c["id"] for c in sim.entities(ACCOUNT, "campaign")] == [int(campaign_id)]


async def test_the_client_speaks_googles_wire(sim: GoogleAdsSimulator, time_: FakeTime) -> None:
    google = client(sim, time_)
    assert await google.list_accessible_customers() == [ACCOUNT]
    ads = adapter(sim, time_)
    for i in range(4):
        await ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"name": f"C{i}"}))
    rows = await google.search_all(
        ACCOUNT, "SELECT campaign.id, campaign.name, campaign_budget.amount_micros FROM campaign"
    )
    assert [r["campaign"]["name"] for r in rows] == ["C0", "C1", "C2", "C3"]
    assert isinstance(rows[0]["campaign"]["id"], str) and rows[0]["campaignBudget"]["amountMicros"] == "25000000"
    assert rows[0]["campaign"]["resourceName"].startswith(f"customers/{ACCOUNT}/campaigns/")
    with pytest.raises(PlatformValidationError) as caught:
        await google.search_all(ACCOUNT, "SELECT campaign.id, segments.date, metrics.clicks FROM campaign")
    assert caught.value.platform_field == "query"
    assert to_micros(Decimal("1.5")) == "1500000" and from_micros("2250000") == Decimal("2.25")


async def test_customer_match_fills_a_user_list_through_an_offline_job_and_sizes_it(
    sim: GoogleAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    phones = tuple(f"{i:064x}" for i in range(1, 1_001))
    audience = await ads.create_customer_list(ACCOUNT, CUSTOMERS.model_copy(update={"hashed_phones": phones}))
    assert (audience.size, audience.status) == (1_200, "ready")  # 2,000 identifiers matched, two significant digits
    [user_list] = sim.entities(ACCOUNT, "user_list")
    assert user_list["crm_based_user_list"] == {"upload_key_type": "CONTACT_INFO", "data_source_type": "FIRST_PARTY"}
    [job] = sim.entities(ACCOUNT, "offline_user_data_job")
    assert (job["type"], job["status"]) == ("CUSTOMER_MATCH_USER_LIST", "SUCCESS")
    assert [p.rsplit(":", 1)[-1] for _, p, *_ in sim.requests if "offlineUserDataJobs" in p] == [
        "create",
        "addOperations",
        "run",
    ]

    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    group = await ads.create_ad_group(ACCOUNT, campaign.id, listed(audience.id))
    lists = [c for c in sim.entities(ACCOUNT, "ad_group_criterion") if "user_list" in c]
    assert [c["user_list"]["user_list"] for c in lists] == [f"customers/{ACCOUNT}/userLists/{audience.id}"]
    assert lists[0]["ad_group"].endswith(f"/adGroups/{group.id}")

    estimate = await ads.estimate_audience(ACCOUNT, listed(audience.id))
    assert (estimate.lower, estimate.upper) == (1_200, 1_200) and "no reach estimate" in estimate.basis
    with pytest.raises(ValidationFailed) as refused:
        await ads.estimate_audience(ACCOUNT, GROUP)  # no lists: Google has nothing to size search targeting by
    assert refused.value.field == "audience_ids"
    with pytest.raises(NotFound):
        await ads.estimate_audience(ACCOUNT, listed("999999"))
