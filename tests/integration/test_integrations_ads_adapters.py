"""Every ad platform adapter against the AdsPlatform port: one scenario, run on each platform's simulator.

Budgets start at 60 a day: TikTok's smallest campaign daily budget is 50 [~ platform_apis.md §4 secondary].
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from promptsales.domain_core.integrations.ads import (
    AdGroupSpec,
    AdsPlatform,
    CampaignSpec,
    CreativeSpec,
    CustomerListSpec,
    DailyPerformance,
)
from promptsales.domain_core.integrations.google_ads.adapter import GoogleAdsAdapter
from promptsales.domain_core.integrations.google_ads.client import GoogleAdsClient
from promptsales.domain_core.integrations.google_ads.simulator import GoogleAdsSimulator
from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.linkedin_ads.adapter import LinkedInAdsAdapter
from promptsales.domain_core.integrations.linkedin_ads.client import LinkedInAdsClient
from promptsales.domain_core.integrations.linkedin_ads.simulator import LinkedInAdsSimulator
from promptsales.domain_core.integrations.meta_ads.adapter import MetaAdsAdapter
from promptsales.domain_core.integrations.meta_ads.client import MetaAdsClient
from promptsales.domain_core.integrations.meta_ads.simulator import MetaAdsSimulator
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.customer_lists import hash_email
from promptsales.domain_core.integrations.tiktok_ads.adapter import TikTokAdsAdapter
from promptsales.domain_core.integrations.tiktok_ads.client import TikTokAdsClient
from promptsales.domain_core.integrations.tiktok_ads.simulator import TikTokAdsSimulator
from promptsales.domain_core.shared.errors import ValidationFailed
from tests.integration.connector_fakes import T0, FakeTime

TOKEN = "sandbox-token-0001-abcdef"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Platform:
    adapter: AdsPlatform
    account: str
    request_count: Callable[[], int]


def _http_options(app: Any, time_: FakeTime, auth: Callable[[], Awaitable[Mapping[str, str]]]) -> dict[str, Any]:
    return {
        "auth": auth,
        "policy": RequestPolicy(max_attempts=4, deadline_s=600.0),
        "transport": httpx.ASGITransport(app=app),
        "sleep": time_.sleep,
        "clock": time_.monotonic,
        "jitter": lambda: 0.0,
        "now": time_.now,
    }


async def _bearer() -> Mapping[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def google(time_: FakeTime) -> Platform:
    sim = GoogleAdsSimulator(tokens={TOKEN: "Acme"}, clock=time_.now, page_size=2)
    client = GoogleAdsClient.connect(
        tenant_id="tenant-a",
        developer_token="devtok-0123456789",
        base_url=get_connector("google_ads").sandbox_base_url,
        **_http_options(sim.app, time_, _bearer),
    )
    return Platform(GoogleAdsAdapter(client), sim.customer_id_of("Acme"), lambda: len(sim.requests))


def meta(time_: FakeTime) -> Platform:
    sim = MetaAdsSimulator(tokens={TOKEN: "Acme"}, clock=time_.now)
    client = MetaAdsClient.connect(
        tenant_id="tenant-a",
        base_url=get_connector("meta_ads").sandbox_base_url,
        **_http_options(sim.app, time_, _bearer),
    )
    return Platform(MetaAdsAdapter(client, page_limit=2), sim.account_id_of("Acme"), lambda: len(sim.requests))


async def _access_token() -> Mapping[str, str]:
    return {"Access-Token": TOKEN}


def tiktok(time_: FakeTime) -> Platform:
    sim = TikTokAdsSimulator(tokens={TOKEN: "Acme"}, clock=time_.now)
    advertiser = sim.advertiser_id_of("Acme")
    client = TikTokAdsClient.connect(
        tenant_id="tenant-a",
        base_url=get_connector("tiktok_ads").sandbox_base_url,
        **_http_options(sim.app, time_, _access_token),
    )
    return Platform(
        TikTokAdsAdapter(client, advertiser_ids=[advertiser], page_size=2), advertiser, lambda: len(sim.requests)
    )


def linkedin(time_: FakeTime) -> Platform:
    sim = LinkedInAdsSimulator(tokens={TOKEN: "Acme"}, clock=time_.now)
    client = LinkedInAdsClient.connect(
        tenant_id="tenant-a",
        base_url=get_connector("linkedin_ads").sandbox_base_url,
        **_http_options(sim.app, time_, _bearer),
    )
    return Platform(LinkedInAdsAdapter(client, clock=time_.now), sim.account_id_of("Acme"), lambda: len(sim.requests))


PLATFORMS = {"google_ads": google, "meta_ads": meta, "tiktok_ads": tiktok, "linkedin_ads": linkedin}


@pytest.fixture(params=sorted(PLATFORMS))
def time_and_platform(request: pytest.FixtureRequest) -> tuple[FakeTime, Platform]:
    time_ = FakeTime()
    return time_, PLATFORMS[request.param](time_)


def _total(rows: list[DailyPerformance]) -> Decimal:
    return sum((r.spend for r in rows), Decimal(0))


async def test_the_same_campaign_runs_the_same_way_on_every_platform(
    time_and_platform: tuple[FakeTime, Platform],
) -> None:
    time_, platform = time_and_platform
    ads, account = platform.adapter, platform.account
    [listed] = await ads.list_accounts()
    assert (listed.id, listed.currency, listed.time_zone) == (account, "USD", "UTC")

    campaign = await ads.create_campaign(
        account, CampaignSpec(name="Launch", objective="traffic", daily_budget=Decimal("60.00"))
    )
    group = await ads.create_ad_group(
        account,
        campaign.id,
        AdGroupSpec(
            name="Core", bid=Decimal("3.00"), countries=("US",), age_min=25, age_max=54, interests=("running",)
        ),
    )
    ad = await ads.create_ad(
        account,
        group.id,
        CreativeSpec(
            name="Launch ad",
            headlines=("Run further", "Light shoes", "Free returns"),
            descriptions=("Tough and light.", "Ships today."),
            final_url="https://shop.example/launch",
            image_png=PNG,
        ),
    )
    assert [o.status for o in (campaign, group, ad)] == ["paused"] * 3
    assert (group.parent_id, ad.parent_id) == (campaign.id, group.id)

    window = (T0.date(), T0.date() + timedelta(days=3))
    time_.elapsed += 86_400
    assert _total(list(await ads.daily_performance(account, "campaign", [campaign.id], *window))) == 0

    for kind, object_id in (("campaign", campaign.id), ("ad_group", group.id), ("ad", ad.id)):
        changed = await ads.set_status(account, kind, object_id, "active")  # type: ignore[arg-type]
        assert (changed.id, changed.status) == (object_id, "active")
    assert (await ads.set_daily_budget(account, campaign.id, Decimal("75.00"))).id == campaign.id
    assert (await ads.set_bid(account, group.id, Decimal("2.50"))).id == group.id
    time_.elapsed += 2 * 86_400

    report = list(await ads.daily_performance(account, "campaign", [campaign.id], *window))
    assert [r.day for r in report] == [T0.date() + timedelta(days=i) for i in range(4)]
    assert [r.spend > 0 for r in report] == [False, True, True, False]
    assert all(r.spend <= Decimal("75.00") and r.impressions >= r.clicks for r in report)
    assert report == list(await ads.daily_performance(account, "campaign", [campaign.id], *window))

    before = platform.request_count()
    for call in (
        ads.set_daily_budget(account, campaign.id, Decimal("-1")),
        ads.set_bid(account, group.id, Decimal("100000")),
        ads.set_status(account, "ad", ad.id, "running"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationFailed):
            await call
    assert platform.request_count() == before

    paused = await ads.set_status(account, "campaign", campaign.id, "paused")
    assert paused.status == "paused"
    spent = _total(report)
    time_.elapsed += 86_400
    later = list(await ads.daily_performance(account, "campaign", [campaign.id], *window))
    assert _total(later) == spent  # nothing more after the pause


CUSTOMERS = CustomerListSpec(
    name="Repeat buyers", hashed_emails=tuple(hash_email(f"buyer{i}@example.com") for i in range(2_000))
)


async def test_a_customer_list_is_created_sized_targeted_and_narrows_the_estimate(
    time_and_platform: tuple[FakeTime, Platform],
) -> None:
    _, platform = time_and_platform
    ads, account = platform.adapter, platform.account
    audience = await ads.create_customer_list(account, CUSTOMERS)
    assert audience.name == "Repeat buyers" and audience.status in ("processing", "ready")
    assert audience.size is None or 0 < audience.size <= 2_000

    broad = AdGroupSpec(name="Broad", countries=("US",), audience_ids=(audience.id,))
    narrow = broad.model_copy(update={"age_min": 25, "age_max": 34, "interests": ("running",)})
    wide = await ads.estimate_audience(account, broad)
    small = await ads.estimate_audience(account, narrow)
    assert 0 < wide.lower <= wide.upper and wide.basis
    if wide.basis.startswith("google_user_list_sizes"):
        # Google has no reach estimate for search targeting: the lists' own sizes, whatever the ages and interests.
        assert small == wide and wide.upper == audience.size
    else:
        assert small.upper < wide.upper  # ages and interests narrow the listed people too

    campaign = await ads.create_campaign(
        account, CampaignSpec(name="Win back", objective="traffic", daily_budget=Decimal("60.00"))
    )
    group = await ads.create_ad_group(account, campaign.id, narrow)
    assert (group.status, group.parent_id) == ("paused", campaign.id)

    before = platform.request_count()
    for bad in (
        CustomerListSpec(name="Raw", hashed_emails=("buyer@example.com",)),
        CustomerListSpec(name="Empty"),
        CustomerListSpec(name="Too many", hashed_emails=tuple(f"{i:064x}" for i in range(10_001))),
    ):
        with pytest.raises(ValidationFailed) as refused:
            await ads.create_customer_list(account, bad)
        assert refused.value.field == "hashed_emails"
    assert platform.request_count() == before
