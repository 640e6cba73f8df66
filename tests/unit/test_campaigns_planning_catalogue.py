"""The channel catalogue, the benchmark table and the exchange-rate table the planner reads."""

import json
from pathlib import Path

import pytest

import promptsales.domain_core.content.model as content_model
from promptsales.domain_core.campaigns.model.benchmarks import (
    benchmark,
    cost_per_conversion,
    effective_cpc,
    industries,
    industry_key,
)
from promptsales.domain_core.campaigns.model.channels import channel_catalogue, get_channel
from promptsales.domain_core.campaigns.model.fx import usd_rate
from promptsales.domain_core.shared.errors import ValidationFailed

CHANNELS = (
    "google_search",
    "google_display",
    "youtube",
    "meta_facebook",
    "meta_instagram",
    "tiktok",
    "linkedin",
    "email",
    "sms",
    "whatsapp",
    "influencer",
)


def test_the_catalogue_lists_every_channel_with_its_default_bidding_first() -> None:
    catalogue = channel_catalogue()
    assert tuple(catalogue) == CHANNELS
    assert get_channel("linkedin").entitlement == "linkedin"
    assert get_channel("meta_instagram").platform == "meta_ads"
    assert get_channel("influencer").platform is None and get_channel("influencer").entitlement == "web"
    assert get_channel("sms").consent_channel == "sms" and get_channel("tiktok").consent_channel is None
    assert all(spec.bidding and spec.min_daily_budget >= 0 for spec in catalogue.values())
    assert get_channel("tiktok").min_daily_budget == 50  # TikTok's published campaign minimum


def test_formats_are_the_content_contexts_format_ids() -> None:
    specs = json.loads((Path(content_model.__file__).parent / "channel_specs.json").read_text(encoding="utf-8"))
    known = {(entry["channel"], entry["format"]) for entry in specs["formats"]}
    for spec in channel_catalogue().values():
        for fmt in spec.formats:
            assert (spec.content_channel, fmt) in known, (spec.id, fmt)


def test_an_unknown_channel_is_refused_with_the_valid_ids() -> None:
    with pytest.raises(ValidationFailed) as refused:
        get_channel("myspace")
    assert refused.value.field == "channel"
    assert "google_search" in (refused.value.hint or "")


def test_free_text_industries_map_to_the_closest_benchmark_row() -> None:
    assert industry_key("accounting software") == "technology"
    assert industry_key("Real Estate") == "real_estate"
    assert industry_key("apparel") == "apparel_fashion_jewelry"  # not "apps" → technology
    assert industry_key("knitting circles") == "all"
    assert industry_key(None) == "all"
    assert industries()[0] == "all" and "technology" in industries()


def test_benchmarks_fall_back_to_all_industries_and_keep_their_source() -> None:
    search = benchmark("google_search", "accounting software")
    assert (search.industry, search.strength) == ("technology", "W")
    assert search.cpc is not None and search.cpc.expected == pytest.approx(3.80)
    assert benchmark("linkedin", "accounting software").industry == "all"
    headline = benchmark("google_search")
    assert headline.ctr.expected == pytest.approx(0.0664) and "wordstream.com" in headline.source
    # No stated range: B-grade figures widen by ±25 %.
    assert headline.cvr.low == pytest.approx(0.0818 * 0.75) and headline.cvr.high == pytest.approx(0.0818 * 1.25)


def test_every_benchmark_range_is_ordered_and_owned_costs_are_marked_as_assumptions() -> None:
    for channel in (
        "google_search",
        "google_display",
        "meta_facebook",
        "tiktok",
        "linkedin",
        "email",
        "sms",
        "whatsapp",
    ):
        for industry in industries():
            row = benchmark(channel, industry)
            for figure in (row.ctr, row.cvr, row.cpc, row.cpm, row.cost_per_message):
                if figure is not None:
                    assert 0 < figure.low <= figure.expected <= figure.high
            if row.cost_per_message is not None:
                assert "ASSUMPTION" in row.source
            cpc = effective_cpc(row)
            assert cpc.low <= cpc.expected <= cpc.high
    assert cost_per_conversion(benchmark("google_search")) == pytest.approx(5.42 / 0.0818)


def test_channels_without_a_published_benchmark_cannot_be_forecast() -> None:
    with pytest.raises(ValidationFailed) as refused:
        benchmark("youtube")
    assert refused.value.field == "channel"


def test_exchange_rates_are_dated_and_unknown_currencies_refused() -> None:
    eur = usd_rate("EUR")
    assert 0.5 < eur.per_usd < 1.5 and "ASSUMPTION" in eur.source
    assert str(eur.as_of) in eur.describe()
    assert usd_rate("USD").per_usd == 1.0
    with pytest.raises(ValidationFailed) as refused:
        usd_rate("XTS")
    assert refused.value.field == "currency"
