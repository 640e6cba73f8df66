"""Usage headers of the platforms read into "how long to wait / how much is left"."""

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptsales.domain_core.integrations.model.rate_headers import (
    parse_hubspot_rate_limit,
    parse_meta_app_usage,
    parse_meta_business_use_case_usage,
    parse_retry_after,
    parse_sforce_limit_info,
    read_rate_signal,
)

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("Mon, 07 Dec 2026 12:00:30 GMT", 30.0),
        ("Mon, 07 Dec 2026 11:59:00 GMT", 0.0),  # in the past: go now
        ("soon", None),
        ("", None),
        ("-5", None),
        ("inf", None),
        ("999999999", None),  # years: not believed
    ],
)
def test_retry_after_seconds_and_http_dates(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@given(st.integers(min_value=0, max_value=86_400))
def test_retry_after_http_date_round_trip(delta: int) -> None:
    header = format_datetime(NOW + timedelta(seconds=delta), usegmt=True)
    assert parse_retry_after(header, now=NOW) == float(delta)


def test_meta_app_usage_percentages() -> None:
    signal = parse_meta_app_usage('{"call_count":28,"total_time":25,"total_cputime":25}')
    assert signal is not None
    assert signal.remaining == pytest.approx(0.72)
    assert not signal.exhausted and signal.wait_seconds is None
    full = parse_meta_app_usage('{"call_count":100,"total_time":40,"total_cputime":12}')
    assert full is not None and full.exhausted and full.remaining == 0.0


def test_meta_business_use_case_usage_takes_the_strictest_entry_and_minutes_to_seconds() -> None:
    header = json.dumps(
        {
            "1234567890": [
                {
                    "type": "ads_management",
                    "call_count": 95,
                    "total_cputime": 20,
                    "total_time": 20,
                    "estimated_time_to_regain_access": 5,
                    "ads_api_access_tier": "standard_access",
                },
                {
                    "type": "ads_insights",
                    "call_count": 10,
                    "total_cputime": 3,
                    "total_time": 4,
                    "estimated_time_to_regain_access": 0,
                },
            ],
            "act_987": [
                {
                    "type": "ads_insights",
                    "call_count": 2,
                    "total_cputime": 1,
                    "total_time": 1,
                    "estimated_time_to_regain_access": 0,
                }
            ],
        }
    )
    signal = parse_meta_business_use_case_usage(header)
    assert signal is not None
    assert signal.wait_seconds == 300.0
    assert signal.remaining == pytest.approx(0.05)
    assert signal.exhausted
    assert "x-business-use-case-usage:ads_management" in signal.sources


@pytest.mark.parametrize(
    "value", ["", "not json", "[]", '{"x": "y"}', '{"1": [1, 2]}', '{"1": [{"call_count": "lots"}]}']
)
def test_malformed_meta_headers_are_ignored(value: str) -> None:
    assert parse_meta_business_use_case_usage(value) is None


@pytest.mark.parametrize(
    ("value", "remaining", "exhausted"),
    [
        ("api-usage=25/15000", 1 - 25 / 15000, False),
        ("api-usage=15000/15000", 0.0, True),
        ("api-usage=16000/15000", 0.0, True),
        ("per-app-api-usage=3/100(appName=x), api-usage=50/100", 0.5, False),
    ],
)
def test_salesforce_limit_info(value: str, remaining: float, exhausted: bool) -> None:
    signal = parse_sforce_limit_info(value)
    assert signal is not None
    assert signal.remaining == pytest.approx(remaining)
    assert signal.exhausted is exhausted
    assert signal.wait_seconds is None


@pytest.mark.parametrize("value", ["", "api-usage=", "api-usage=25", "api-usage=a/b", "api-usage=1/0", "other=1/2"])
def test_malformed_salesforce_headers_are_ignored(value: str) -> None:
    assert parse_sforce_limit_info(value) is None


@given(used=st.integers(min_value=0, max_value=10**6), limit=st.integers(min_value=1, max_value=10**6))
def test_salesforce_remaining_is_a_fraction(used: int, limit: int) -> None:
    signal = parse_sforce_limit_info(f"api-usage={used}/{limit}")
    assert signal is not None and signal.remaining is not None
    assert 0.0 <= signal.remaining <= 1.0
    assert signal.exhausted is (used >= limit)


def test_hubspot_interval_window() -> None:
    headers = httpx.Headers(
        {
            "X-HubSpot-RateLimit-Max": "100",
            "X-HubSpot-RateLimit-Remaining": "0",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Daily": "250000",
            "X-HubSpot-RateLimit-Daily-Remaining": "200000",
        }
    )
    signal = parse_hubspot_rate_limit(headers)
    assert signal is not None
    assert signal.exhausted and signal.wait_seconds == 10.0 and signal.remaining == 0.0
    relaxed = parse_hubspot_rate_limit(
        httpx.Headers(
            {
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": "97",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            }
        )
    )
    assert relaxed is not None and not relaxed.exhausted and relaxed.wait_seconds is None
    assert relaxed.remaining == pytest.approx(0.97)


def test_hubspot_daily_allowance_used_up_has_no_wait_time() -> None:
    signal = parse_hubspot_rate_limit(
        httpx.Headers({"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "0"})
    )
    assert signal is not None and signal.exhausted and signal.wait_seconds is None


def test_read_rate_signal_merges_to_the_strictest_reading() -> None:
    headers = httpx.Headers(
        {
            "Retry-After": "2",
            "X-App-Usage": '{"call_count":50,"total_time":10,"total_cputime":10}',
            "X-Business-Use-Case-Usage": '{"1":[{"type":"ads_management","call_count":99,"total_cputime":1,'
            '"total_time":1,"estimated_time_to_regain_access":1}]}',
        }
    )
    signal = read_rate_signal(headers, now=lambda: NOW)
    assert signal.wait_seconds == 60.0  # the longer of Retry-After 2 s and Meta's 1 minute
    assert signal.remaining == pytest.approx(0.01)
    assert signal.exhausted
    assert read_rate_signal(httpx.Headers({"Content-Type": "application/json"})).wait_seconds is None


@given(st.text(max_size=80))
def test_parsers_never_raise_on_garbage(text: str) -> None:
    for parse in (parse_meta_app_usage, parse_meta_business_use_case_usage, parse_sforce_limit_info):
        parse(text)
    parse_retry_after(text, now=NOW)
    read_rate_signal(
        {
            "retry-after": text,
            "x-app-usage": text,
            "sforce-limit-info": text,
            "x-hubspot-ratelimit-max": text,
            "x-hubspot-ratelimit-remaining": text,
        }
    )
