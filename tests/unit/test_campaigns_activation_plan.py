"""What activation creates, derived from the plan alone; caps arithmetic; budget scaling (pure)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptsales.domain_core.campaigns.model import activation_plan
from promptsales.domain_core.campaigns.model.channels import channel_catalogue
from promptsales.domain_core.campaigns.model.plan import Bidding, ChannelPlan, Schedule, Targeting
from promptsales.domain_core.campaigns.service.caps import month_spend
from promptsales.domain_core.campaigns.service.changes import scaled
from promptsales.domain_core.shared.errors import ValidationFailed

CAMPAIGN = "cp_01ARZ3NDEKTSV4RRFFQ69G5FAV"


def plan(
    channel: str, daily: str, *, creatives: tuple[str, ...] = ("as_1",), bid: Bidding | None = None
) -> ChannelPlan:
    return ChannelPlan(
        channel=channel,
        budget=Decimal(daily) * 31,
        daily_budget=Decimal(daily),
        bidding=bid or Bidding(strategy="lowest_cost"),
        targeting=Targeting(countries=("ES",)),
        creative_ids=creatives,
    )


def test_ads_channels_get_a_campaign_an_ad_group_and_one_ad_per_creative_parents_first() -> None:
    items = activation_plan.items(
        campaign_id=CAMPAIGN,
        name="Spring",
        channels=[
            plan(
                "google_search",
                "100",
                creatives=("as_1", "as_2"),
                bid=Bidding(strategy="target_cpa", amount=Decimal(40)),
            )
        ],
        catalogue=channel_catalogue(),
        recipients={},
        influencers=[],
    )
    assert [(i.kind, i.local_key) for i in items] == [
        ("campaign", "google_search/campaign"),
        ("ad_group", "google_search/ad_group"),
        ("ad", "google_search/ad/as_1"),
        ("ad", "google_search/ad/as_2"),
    ]
    campaign, group, first_ad, _ = items
    assert campaign.daily_budget == Decimal(100) and campaign.platform == "google_ads"
    assert group.bid == Decimal(40) and group.targeting is not None and group.targeting.countries == ("ES",)
    assert first_ad.parent_key == "google_search/ad_group"
    assert (
        first_ad.utm
        == {
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": CAMPAIGN,
            "utm_content": "as_1",
        }
        or first_ad.utm["utm_campaign"] == CAMPAIGN
    )


def test_automatic_bidding_sends_no_bid() -> None:
    assert activation_plan.bid_of(Bidding(strategy="target_roas", amount=Decimal(4))) is None
    assert activation_plan.bid_of(Bidding(strategy="manual_cpc", amount=Decimal("1.20"))) == Decimal("1.20")


def test_owned_channels_send_one_message_to_the_consenting_audience_and_influencers_get_briefs() -> None:
    items = activation_plan.items(
        campaign_id=CAMPAIGN,
        name="Spring",
        channels=[plan("email", "0", creatives=("as_mail", "as_other")), plan("whatsapp", "0", creatives=("as_wa",))],
        catalogue=channel_catalogue(),
        recipients={"email": 120, "whatsapp": 40},
        influencers=[("@Ana.Travels", "ANA10")],
    )
    assert [(i.kind, i.recipients) for i in items] == [
        ("email_campaign", 120),
        ("message_batch", 40),
        ("influencer_brief", None),
    ]
    brief = items[-1]
    assert brief.local_key == "influencer/ana.travels" and brief.utm["utm_content"] == "ANA10"


def test_the_most_a_campaign_can_spend_is_its_daily_budgets_over_the_flight_within_its_total() -> None:
    schedule = Schedule(start_date=date(2027, 3, 1), end_date=date(2027, 3, 10))
    channels = [plan("google_search", "100"), plan("meta_facebook", "50")]
    assert activation_plan.max_spend(channels, schedule, total=None, fees=Decimal(0)) == Decimal(1500)
    assert activation_plan.max_spend(channels, schedule, total=Decimal(1000), fees=Decimal(200)) == Decimal(1200)


def test_month_spend_counts_only_the_flight_days_in_that_month() -> None:
    # March 25 - April 10 at 10/day: 7 days in March, 10 in April.
    start, end = date(2027, 3, 25), date(2027, 4, 10)
    assert month_spend(Decimal(10), None, start, end, date(2027, 3, 2)) == Decimal(70)
    assert month_spend(Decimal(10), None, start, end, date(2027, 4, 30)) == Decimal(100)
    assert month_spend(Decimal(10), Decimal(50), start, end, date(2027, 4, 30)) == Decimal(50)
    assert month_spend(Decimal(10), None, start, end, date(2027, 5, 1)) == Decimal(0)


@given(st.decimals(min_value=Decimal("1.00"), max_value=Decimal("100000"), places=2))
def test_scaling_every_ads_channel_keeps_their_proportions_and_adds_up_to_the_cent(daily: Decimal) -> None:
    channels = [plan("google_search", "123.45"), plan("meta_facebook", "50.10"), plan("email", "0")]
    new = scaled(channels, None, daily)
    assert set(new) == {"google_search", "meta_facebook"}  # owned channels have no daily budget to scale
    assert sum(new.values()) == daily
    assert all(v >= 0 for v in new.values())


def test_one_channel_budget_must_name_an_ads_channel_of_the_campaign() -> None:
    assert scaled([plan("google_search", "10")], "google_search", Decimal(30)) == {"google_search": Decimal(30)}
    with pytest.raises(ValidationFailed) as refused:
        scaled([plan("google_search", "10")], "tiktok", Decimal(30))
    assert refused.value.field == "channel"


def test_a_segment_becomes_a_customer_list_the_ad_group_targets_where_the_channel_takes_lists() -> None:
    listed = plan("meta_facebook", "50").model_copy(
        update={"targeting": Targeting(countries=("ES",), customer_list_segment_id="seg_1")}
    )
    items = activation_plan.items(
        campaign_id=CAMPAIGN,
        name="Spring",
        channels=[listed],
        catalogue=channel_catalogue(),
        recipients={},
        influencers=[],
        list_members=420,
    )
    assert [i.kind for i in items] == ["campaign", "audience", "ad_group", "ad"]
    audience, group = items[1], items[2]
    assert audience.recipients == 420 and group.audience_key == audience.local_key == "meta_facebook/audience"
