"""LinkedIn's Rest.li 2.0 query pieces, URNs, pinned version window and age buckets (pure, no requests)."""

from datetime import date

import pytest

from promptsales.domain_core.integrations.linkedin_ads.adapter import LinkedInAdsAdapter
from promptsales.domain_core.integrations.linkedin_ads.client import id_of, restli_date, restli_list, urn
from promptsales.domain_core.integrations.linkedin_ads.simulator.app import active_versions
from promptsales.domain_core.shared.errors import ValidationFailed


def test_rest_li_records_and_lists_keep_their_syntax_and_encode_the_urns() -> None:
    assert restli_date(date(2026, 3, 9)) == "(year:2026,month:3,day:9)"
    assert restli_list(["urn:li:sponsoredCampaign:1", "urn:li:sponsoredCampaign:22"]) == (
        "List(urn%3Ali%3AsponsoredCampaign%3A1,urn%3Ali%3AsponsoredCampaign%3A22)"
    )


def test_urns_wrap_digits_only_and_unwrap_to_the_id_of_their_own_kind() -> None:
    assert urn("account", "507404993") == "urn:li:sponsoredAccount:507404993"
    assert id_of("urn:li:sponsoredCreative:123", "creatives") == "123"
    assert id_of(456, "adCampaigns") == "456"
    assert id_of("urn:li:sponsoredCampaign:123", "creatives") is None
    assert id_of(True, "adCampaigns") is None
    with pytest.raises(ValueError, match="digits"):
        urn("adCampaigns", "1/../2")


def test_the_simulator_serves_the_twelve_months_up_to_the_pinned_version() -> None:
    served = active_versions("202602")
    assert len(served) == 12 and {"202602", "202601", "202512", "202503"} <= served
    assert "202502" not in served and "202603" not in served


@pytest.mark.parametrize(
    ("age_min", "age_max", "ranges"),
    [
        (None, None, []),  # every adult: no age facet
        (25, 44, ["urn:li:ageRange:(25,34)", "urn:li:ageRange:(35,54)"]),
        (60, None, ["urn:li:ageRange:(55,2147483647)"]),
    ],
)
def test_ages_become_the_linkedin_buckets_they_overlap(
    age_min: int | None, age_max: int | None, ranges: list[str]
) -> None:
    assert LinkedInAdsAdapter._age_ranges(age_min, age_max) == ranges


def test_linkedin_does_not_target_minors() -> None:
    with pytest.raises(ValidationFailed) as caught:
        LinkedInAdsAdapter._age_ranges(16, 30)
    assert caught.value.field == "age_min"
