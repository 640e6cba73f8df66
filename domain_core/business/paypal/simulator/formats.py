"""PayPal's wire formats: timestamps, money objects, billing intervals, redirect URLs."""

import calendar
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_interval(moment: datetime, unit: str, count: int) -> datetime:
    if unit == "DAY":
        return moment + timedelta(days=count)
    if unit == "WEEK":
        return moment + timedelta(weeks=count)
    months = count * (12 if unit == "YEAR" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def money_json(value: Decimal, currency: str) -> dict[str, str]:
    places = Decimal(1) if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return {"currency_code": currency, "value": f"{value.quantize(places):f}"}


def with_query(url: str, params: Mapping[str, str]) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
