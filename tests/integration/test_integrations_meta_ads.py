"""The Meta Marketing API client and adapter against the in-process Meta simulator (httpx.ASGITransport).

Time is faked: the policy's sleep advances one clock that the policy and the simulator both read.
"""

import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from promptsales.domain_core.integrations.ads import CreativeSpec
from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.meta_ads.adapter import MetaAdsAdapter
from promptsales.domain_core.integrations.meta_ads.client import MetaAdsClient
from promptsales.domain_core.integrations.meta_ads.simulator import MetaAdsSimulator
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.shared.errors import ValidationFailed
from tests.integration.ads_fakes import CUSTOMERS, DAY0, GROUP, PNG, activate, build_chain, campaign_spec, listed
from tests.integration.connector_fakes import FakeTime

TOKEN = "EAAGm0PX4ZCpsBAtesttoken0001"
OTHER_TOKEN = "EAAGm0PX4ZCpsBAtesttoken0002"
ACCOUNT, OTHER_ACCOUNT = "act_1234567890", "act_9876543210"


@pytest.fixture
def sim(time_: FakeTime) -> MetaAdsSimulator:
    return MetaAdsSimulator(tokens={TOKEN: ACCOUNT, OTHER_TOKEN: OTHER_ACCOUNT}, clock=time_.now)


def client(sim: MetaAdsSimulator, time_: FakeTime, *, token: str = TOKEN) -> MetaAdsClient:
    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return MetaAdsClient.connect(
        tenant_id="tenant-a",
        base_url=get_connector("meta_ads").sandbox_base_url,
        auth=auth,
        policy=RequestPolicy(max_attempts=4, deadline_s=600.0),
        transport=httpx.ASGITransport(app=sim.app),
        **time_.policy(),
    )


def adapter(sim: MetaAdsSimulator, time_: FakeTime, *, token: str = TOKEN, page_limit: int = 100) -> MetaAdsAdapter:
    return MetaAdsAdapter(client(sim, time_, token=token), page_limit=page_limit)


CAMPAIGN = campaign_spec("25.00")
CREATIVE = CreativeSpec(
    name="Shoes ad",
    headlines=("Fast running shoes", "Free returns"),
    descriptions=("Light and tough.", "Ships in a day."),
    final_url="https://shop.example/shoes",
    image_png=PNG,
)


async def test_create_chain_makes_paused_objects_in_minor_units(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    group = await ads.create_ad_group(ACCOUNT, campaign.id, GROUP)
    ad = await ads.create_ad(ACCOUNT, group.id, CREATIVE)

    assert (campaign.kind, campaign.name, campaign.status) == ("campaign", "Winter sale", "paused")
    assert (group.status, group.parent_id, ad.status, ad.parent_id) == ("paused", campaign.id, "paused", group.id)
    [stored_campaign] = sim.objects(ACCOUNT, "campaigns")
    assert stored_campaign["status"] == "PAUSED" and stored_campaign["objective"] == "OUTCOME_TRAFFIC"
    assert stored_campaign["daily_budget"] == "2500" and stored_campaign["special_ad_categories"] == []
    [adset] = sim.objects(ACCOUNT, "adsets")
    assert (adset["status"], adset["bid_amount"], adset["bid_strategy"]) == ("PAUSED", 150, "LOWEST_COST_WITH_BID_CAP")
    assert adset["targeting"]["geo_locations"] == {"countries": ["US", "CA"]}
    assert (adset["targeting"]["age_min"], adset["targeting"]["age_max"]) == (25, 44)
    assert [i["name"] for i in adset["targeting"]["interests"]] == ["Running"]
    assert adset["optimization_goal"] == "LINK_CLICKS" and "daily_budget" not in adset
    [creative] = sim.objects(ACCOUNT, "adcreatives")
    link = creative["object_story_spec"]["link_data"]
    assert (link["name"], link["message"], link["link"]) == (
        "Fast running shoes",
        "Light and tough.",
        CREATIVE.final_url,
    )
    assert len(link["image_hash"]) == 32
    [stored_ad] = sim.objects(ACCOUNT, "ads")
    assert stored_ad["status"] == "PAUSED" and stored_ad["creative"] == {"id": creative["id"]}
    assert sim.objects(OTHER_ACCOUNT, "campaigns") == []


async def test_accounts_and_businesses(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    for i in range(4):
        sim.grant(TOKEN, f"Brand {i}")
    accounts = await adapter(sim, time_).list_accounts()
    assert [a.id for a in accounts][:1] == [ACCOUNT] and len(accounts) == 5
    assert {(a.currency, a.time_zone) for a in accounts} == {("USD", "UTC")}
    # Paged two at a time, to the end.
    before = len(sim.requests)
    paged = await client(sim, time_).ad_accounts(limit=2)
    assert [a.id for a in paged] == [a.id for a in accounts] and len(sim.requests) - before == 3
    owned = await client(sim, time_).ad_accounts(business_id="1000000000000001")
    assert len(owned) == 5
    with pytest.raises(PermissionMissing):
        await adapter(sim, time_, token=OTHER_TOKEN).create_campaign(ACCOUNT, CAMPAIGN)


async def test_status_budget_and_bid_changes_post_to_the_object(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, ad_id = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)

    campaign = await ads.set_status(ACCOUNT, "campaign", campaign_id, "active")
    assert (campaign.id, campaign.name, campaign.status) == (campaign_id, "Winter sale", "active")
    budget = await ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("40.00"))
    assert budget.status == "active" and sim.objects(ACCOUNT, "campaigns")[0]["daily_budget"] == "4000"
    group = await ads.set_bid(ACCOUNT, group_id, Decimal("2.25"))
    assert (group.name, group.parent_id) == ("Runners", campaign_id)
    assert sim.objects(ACCOUNT, "adsets")[0]["bid_amount"] == 225
    ad = await ads.set_status(ACCOUNT, "ad", ad_id, "removed")
    assert (ad.status, ad.parent_id) == ("removed", group_id)
    assert ("POST", f"/v25.0/{campaign_id}") in sim.requests


async def test_bad_changes_are_refused_before_any_request(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    campaign_id, group_id, ad_id = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    before = len(sim.requests)
    refused = [
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("-5")), "daily_budget"),
        (ads.set_daily_budget(ACCOUNT, campaign_id, Decimal("50000.01")), "daily_budget"),
        (ads.set_bid(ACCOUNT, group_id, Decimal("0")), "bid"),
        (ads.set_bid(ACCOUNT, group_id, Decimal("1000.01")), "bid"),
        (ads.set_status(ACCOUNT, "ad", ad_id, "archived"), "status"),  # type: ignore[arg-type]
        (ads.set_status(ACCOUNT, "ad", "../me", "paused"), "object_id"),
        (ads.set_bid("acct-1", group_id, Decimal(1)), "account_id"),
        (ads.create_ad_group(ACCOUNT, campaign_id, GROUP.model_copy(update={"countries": ()})), "countries"),
        (ads.create_ad_group(ACCOUNT, campaign_id, GROUP.model_copy(update={"age_max": 80})), "age_max"),
        (ads.daily_performance(ACCOUNT, "ad", [], DAY0, DAY0), "object_ids"),
    ]
    for call, field in refused:
        with pytest.raises(ValidationFailed) as caught:
            await call
        assert caught.value.field == field
    assert len(sim.requests) == before


async def test_daily_performance_is_deterministic_and_only_after_activation(
    sim: MetaAdsSimulator, time_: FakeTime
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
    assert all(0 < p.spend <= Decimal("25.00") and p.clicks > 0 and p.conversions > 0 for p in live)
    assert all(p.conversion_value > 0 for p in live)
    assert report == await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], *window)
    by_ad = await ads.daily_performance(ACCOUNT, "ad", [chain[2]], *window)
    by_set = await ads.daily_performance(ACCOUNT, "ad_group", [chain[1]], *window)
    assert [p.spend for p in by_ad] == [p.spend for p in report] == [p.spend for p in by_set]


async def test_insights_follow_paging_cursors_to_the_end(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_, page_limit=2)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    await activate(ads, ACCOUNT, chain)
    time_.elapsed += 5 * 86_400
    before = len(sim.requests)
    report = await ads.daily_performance(ACCOUNT, "ad", [chain[2]], DAY0, DAY0 + timedelta(days=4))
    insights_calls = [p for _, p in sim.requests[before:] if p.endswith("/insights")]
    assert len(insights_calls) == 3  # 5 rows, 2 per page
    assert len(report) == 5 and all(p.spend > 0 for p in report)


async def test_throttling_waits_what_the_usage_header_says_and_writes_are_not_retried(
    sim: MetaAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    sim.fail_next(429, retry_after=90)  # code 613 with estimated_time_to_regain_access = 2 minutes
    await ads.daily_performance(ACCOUNT, "campaign", [chain[0]], DAY0, DAY0)
    assert time_.sleeps == [120.0]

    sim.fail_next(429)
    posts = sum(1 for m, _ in sim.requests if m == "POST")
    with pytest.raises(RateLimited) as caught:
        await ads.set_status(ACCOUNT, "campaign", chain[0], "active")
    assert caught.value.retry_after_seconds == 60.0
    assert sum(1 for m, _ in sim.requests if m == "POST") == posts + 1
    assert sim.objects(ACCOUNT, "campaigns")[0]["status"] == "PAUSED"


async def test_the_hourly_call_window_throttles_with_its_own_wait(time_: FakeTime) -> None:
    sim = MetaAdsSimulator(tokens={TOKEN: ACCOUNT}, clock=time_.now, calls_per_hour=3)
    meta = client(sim, time_)
    for _ in range(3):
        await meta.account(ACCOUNT)
    # The whole hour is left (60 minutes): longer than this request's deadline, so it is not waited out here.
    with pytest.raises(RateLimited) as caught:
        await meta.account(ACCOUNT)
    assert caught.value.retry_after_seconds == 3600.0 and time_.sleeps == []
    time_.elapsed += 3600
    assert (await meta.account(ACCOUNT)).id == ACCOUNT


async def test_5xx_is_retried_for_reads_but_a_write_is_sent_once(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    sim.fail_next(503, times=2)
    assert len(await ads.list_accounts()) == 1
    assert len(time_.sleeps) == 2
    sim.fail_next(500, after_apply=True)
    with pytest.raises(PlatformDown):
        await ads.create_campaign(ACCOUNT, CAMPAIGN)
    assert len(sim.objects(ACCOUNT, "campaigns")) == 1  # applied once, not twice


async def test_a_revoked_token_is_auth_expired(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    sim.revoke(TOKEN)
    with pytest.raises(AuthExpired) as caught:
        await adapter(sim, time_).list_accounts()
    assert TOKEN not in caught.value.public_message()


async def test_metas_validation_error_is_a_platform_validation_error(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    with pytest.raises(PlatformValidationError) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"daily_budget": Decimal("0.50")}))
    assert "budget is too low" in (caught.value.detail or "")
    assert sim.objects(ACCOUNT, "campaigns") == []


async def test_metas_validation_error_names_the_blamed_field(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    with pytest.raises(PlatformValidationError) as caught:
        await adapter(sim, time_).create_campaign(
            ACCOUNT, CAMPAIGN.model_copy(update={"daily_budget": Decimal("0.50")})
        )
    assert caught.value.platform_field == "daily_budget"


async def test_zero_decimal_currencies_are_whole_units(time_: FakeTime) -> None:
    sim = MetaAdsSimulator(tokens={TOKEN: ACCOUNT}, clock=time_.now, currency="JPY")
    ads = adapter(sim, time_)
    await ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"daily_budget": Decimal("3000")}))
    assert sim.objects(ACCOUNT, "campaigns")[0]["daily_budget"] == "3000"
    with pytest.raises(ValidationFailed) as caught:
        await ads.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"daily_budget": Decimal("3000.50")}))
    assert caught.value.field == "daily_budget"


async def test_the_wire_is_graphs(sim: MetaAdsSimulator, time_: FakeTime) -> None:
    ads = adapter(sim, time_)
    chain = await build_chain(ads, ACCOUNT, CAMPAIGN, CREATIVE)
    await activate(ads, ACCOUNT, chain)
    time_.elapsed += 2 * 86_400
    rows = [
        row
        async for row in client(sim, time_).insights(
            ACCOUNT,
            level="campaign",
            ids=[chain[0]],
            since=DAY0,
            until=DAY0,
            fields=["campaign_id", "spend", "actions"],
        )
    ]
    [row] = rows
    assert isinstance(row["spend"], str) and row["date_start"] == row["date_stop"] == DAY0.isoformat()
    assert {a["action_type"] for a in row["actions"]} == {"link_click", "offsite_conversion.fb_pixel_lead"}
    usage = json.loads(
        (
            await httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)).get(
                f"http://sim/v25.0/{ACCOUNT}", headers={"Authorization": f"Bearer {TOKEN}"}
            )
        ).headers["x-business-use-case-usage"]
    )
    assert usage[ACCOUNT.removeprefix("act_")][0]["type"] == "ads_management"


async def test_a_custom_audience_is_uploaded_by_schema_targeted_and_sized(
    sim: MetaAdsSimulator, time_: FakeTime
) -> None:
    ads = adapter(sim, time_)
    phones = tuple(f"{i:064x}" for i in range(1, 201))
    audience = await ads.create_customer_list(ACCOUNT, CUSTOMERS.model_copy(update={"hashed_phones": phones}))
    assert (audience.size, audience.status) == (1_200, "processing")  # what Meta received, matched later
    [stored] = sim.objects(ACCOUNT, "customaudiences")
    assert (stored["subtype"], stored["customer_file_source"]) == ("CUSTOM", "USER_PROVIDED_ONLY")
    assert len(stored["_users"]) == 1_200
    uploads = [path for method, path in sim.requests if path.endswith("/users")]
    assert len(uploads) == 2  # EMAIL_SHA256, then PHONE_SHA256

    campaign = await ads.create_campaign(ACCOUNT, CAMPAIGN)
    await ads.create_ad_group(ACCOUNT, campaign.id, listed(audience.id))
    [adset] = sim.objects(ACCOUNT, "adsets")
    assert adset["targeting"]["custom_audiences"] == [{"id": audience.id}]

    broad = await ads.estimate_audience(ACCOUNT, GROUP)
    narrow = await ads.estimate_audience(ACCOUNT, listed(audience.id))
    assert broad.basis == narrow.basis == "meta_reachestimate"
    assert 0 <= narrow.lower < narrow.upper < broad.lower  # the listed people within ages and interests

    other = await adapter(sim, time_, token=OTHER_TOKEN).create_customer_list(OTHER_ACCOUNT, CUSTOMERS)
    with pytest.raises(PlatformValidationError, match="Custom audience"):
        await ads.estimate_audience(ACCOUNT, listed(other.id))
    with pytest.raises(ValidationFailed) as refused:
        await ads.create_ad_group(ACCOUNT, campaign.id, listed("not-digits"))
    assert refused.value.field == "audience_ids"
