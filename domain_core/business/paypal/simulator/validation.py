"""Request body checks that answer like PayPal: each problem becomes a ``details[]`` issue."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from promptsales.domain_core.business.paypal.simulator.errors import invalid, issue
from promptsales.domain_core.business.paypal.simulator.formats import ZERO_DECIMAL_CURRENCIES, money_json
from promptsales.domain_core.business.paypal.simulator.models import Call

# https://developer.paypal.com/docs/api/subscriptions/v1/#definition-frequency : interval_count limits per unit.
INTERVAL_LIMITS = {"DAY": 365, "WEEK": 52, "MONTH": 12, "YEAR": 1}


def read_money(raw: Any, path: str, *, allow_zero: bool) -> tuple[Decimal, str] | dict[str, str]:
    """A {currency_code, value} object, or the issue describing what is wrong with it."""
    # https://developer.paypal.com/docs/api/orders/v2/#definition-money
    if not isinstance(raw, dict):
        return issue(path, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.")
    currency, value = raw.get("currency_code"), raw.get("value")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        return issue(f"{path}/currency_code", "INVALID_PARAMETER_SYNTAX", "currency_code must be ISO 4217.")
    if not isinstance(value, str):
        return issue(f"{path}/value", "INVALID_PARAMETER_SYNTAX", "value must be a decimal string.")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return issue(f"{path}/value", "INVALID_PARAMETER_SYNTAX", "value must be a decimal string.")
    places = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or (isinstance(exponent, int) and -exponent > places):
        return issue(f"{path}/value", "DECIMAL_PRECISION", f"{currency} takes at most {places} decimal places.")
    if amount < 0 or (amount == 0 and not allow_zero):
        return issue(f"{path}/value", "INVALID_PARAMETER_VALUE", "value must be greater than zero.")
    return amount, currency


def read_text(
    body: Mapping[str, Any], key: str, path: str, issues: list[dict[str, str]], *, required: bool, max_length: int
) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            issues.append(issue(path, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing."))
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        issues.append(issue(path, "INVALID_PARAMETER_SYNTAX", f"Must be a string of 1 to {max_length} characters."))
        return None
    return value


def read_url(value: Any, path: str, issues: list[dict[str, str]]) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        issues.append(issue(path, "INVALID_PARAMETER_SYNTAX", "Must be an absolute http(s) URL."))
        return None
    return str(value)


def read_cycles(raw: Any, issues: list[dict[str, str]]) -> list[dict[str, Any]] | None:
    """billing_cycles: at most 2 TRIAL then exactly 1 REGULAR, sequences 1..n, one currency."""
    # https://developer.paypal.com/docs/api/subscriptions/v1/#definition-billing_cycle
    if not isinstance(raw, list) or not raw:
        issues.append(issue("/billing_cycles", "MISSING_REQUIRED_PARAMETER", "At least one cycle is required."))
        return None
    cycles: list[dict[str, Any]] = []
    currencies: set[str] = set()
    for index, cycle in enumerate(raw):
        path = f"/billing_cycles/{index}"
        if not isinstance(cycle, dict):
            issues.append(issue(path, "INVALID_PARAMETER_SYNTAX", "A cycle must be an object."))
            continue
        raw_frequency = cycle.get("frequency")
        frequency: dict[str, Any] = raw_frequency if isinstance(raw_frequency, dict) else {}
        unit, count = frequency.get("interval_unit"), frequency.get("interval_count", 1)
        tenure, sequence, total = cycle.get("tenure_type"), cycle.get("sequence"), cycle.get("total_cycles", 1)
        if unit not in INTERVAL_LIMITS:
            issues.append(
                issue(f"{path}/frequency/interval_unit", "INVALID_PARAMETER_VALUE", "DAY, WEEK, MONTH or YEAR.")
            )
        elif not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= INTERVAL_LIMITS[unit]:
            issues.append(
                issue(
                    f"{path}/frequency/interval_count",
                    "INVALID_PARAMETER_VALUE",
                    f"Must be 1 to {INTERVAL_LIMITS[unit]} for {unit}.",
                )
            )
        if tenure not in ("TRIAL", "REGULAR"):
            issues.append(issue(f"{path}/tenure_type", "INVALID_PARAMETER_VALUE", "TRIAL or REGULAR."))
        if not isinstance(sequence, int) or isinstance(sequence, bool) or not 1 <= sequence <= 99:
            issues.append(issue(f"{path}/sequence", "INVALID_PARAMETER_VALUE", "Must be 1 to 99."))
        minimum = 0 if tenure == "REGULAR" else 1  # 0 = infinite, allowed for the REGULAR cycle only
        if not isinstance(total, int) or isinstance(total, bool) or not minimum <= total <= 999:
            issues.append(issue(f"{path}/total_cycles", "INVALID_PARAMETER_VALUE", f"Must be {minimum} to 999."))
        scheme = cycle.get("pricing_scheme")
        fixed = scheme.get("fixed_price") if isinstance(scheme, dict) else None
        entry = {
            "frequency": {"interval_unit": unit, "interval_count": count},
            "tenure_type": tenure,
            "sequence": sequence,
            "total_cycles": total,
        }
        if fixed is not None or tenure == "REGULAR":  # a TRIAL without a price is a free trial
            money = read_money(fixed, f"{path}/pricing_scheme/fixed_price", allow_zero=tenure == "TRIAL")
            if isinstance(money, dict):
                issues.append(money)
            else:
                currencies.add(money[1])
                entry["pricing_scheme"] = {"version": 1, "fixed_price": money_json(*money)}
        cycles.append(entry)
    if issues:
        return None
    cycles.sort(key=lambda c: int(c["sequence"]))
    tenures = [c["tenure_type"] for c in cycles]
    if tenures.count("REGULAR") != 1 or tenures[-1] != "REGULAR" or tenures.count("TRIAL") > 2:
        issues.append(
            issue("/billing_cycles", "INVALID_PARAMETER_VALUE", "Up to 2 TRIAL cycles, then exactly 1 REGULAR.")
        )
    if [c["sequence"] for c in cycles] != list(range(1, len(cycles) + 1)):
        issues.append(issue("/billing_cycles", "INVALID_PARAMETER_VALUE", "Sequences must run 1, 2, 3."))
    if len(currencies) > 1:
        issues.append(issue("/billing_cycles", "INVALID_PARAMETER_VALUE", "All cycles must use one currency."))
    return None if issues else cycles


def page_of(call: Call, items: list[Any]) -> list[Any]:
    """The page of ``items`` that the call's ``page`` and ``page_size`` query parameters ask for."""
    try:
        size = min(max(int(call.query.get("page_size", "10")), 1), 20)
        page = max(int(call.query.get("page", "1")), 1)
    except ValueError:
        detail = issue("page_size", "INVALID_PARAMETER_SYNTAX", "Must be an integer.", location="query")
        raise invalid(detail) from None
    return items[(page - 1) * size : page * size]
