"""Checks every ads adapter makes before it sends a request (pure): money sign, precision and caps, statuses,
report windows, and the currency arithmetic the platforms' money units need.

Money reaches the adapters as :class:`~decimal.Decimal` in the account currency (``ads.py``); a value that fails
here raises :class:`ValidationFailed` naming the product's field, and no request is sent.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from promptsales.domain_core.shared.errors import ValidationFailed

# ISO 4217 currencies without minor units (exponent 0). Meta counts such budgets in whole units, since its
# "minor units" rule (platform_apis.md §3: 5000 = $50.00) follows the currency's exponent [~].
ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
DELIVERY_STATUSES: tuple[str, ...] = ("paused", "active", "removed")
OBJECT_KINDS: tuple[str, ...] = ("campaign", "ad_group", "ad")
REPORT_DAYS_MAX = 93  # one quarter per call: long windows are paged by the caller, not by one huge report
REPORT_IDS_MAX = 100  # TikTok's report filter takes at most 100 ids (platform_apis.md §4); the others follow it


@dataclass(frozen=True, slots=True)
class AdLimits:
    """Hard ceilings an adapter refuses to exceed whatever it is asked (the tenant's own caps come first)."""

    max_daily_budget: Decimal = Decimal("50000")
    max_bid: Decimal = Decimal("1000")

    def __post_init__(self) -> None:
        for name in ("max_daily_budget", "max_bid"):
            value = getattr(self, name)
            if not (isinstance(value, Decimal) and value.is_finite() and value > 0):
                raise ValueError(f"{name} must be a positive finite Decimal")


def exponent(currency: str) -> int:
    """Digits after the decimal point in ``currency`` (2 unless it is a zero-decimal currency)."""
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency`` (0.01, or 1 for zero-decimal currencies)."""
    return Decimal(1).scaleb(-exponent(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` in the currency's minor units (cents); ValueError when it has finer precision."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency.upper()} allows")
    return int(scaled)


def from_minor_units(value: int | str, currency: str) -> Decimal:
    """Minor units (an int or a digit string, as the platforms send them) back to a Decimal amount."""
    return Decimal(int(value)).scaleb(-exponent(currency))


def check_amount(value: object, *, field: str, maximum: Decimal, currency: str | None = None) -> Decimal:
    """``value`` as a positive Decimal ≤ ``maximum`` with no finer precision than the currency's minor unit."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValidationFailed(f"{field} must be a decimal amount.", field=field, hint="Give e.g. 25.00.")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValidationFailed(f"{field} must be a finite amount.", field=field)
    if amount <= 0:
        raise ValidationFailed(
            f"{field} must be greater than zero (got {amount}).",
            field=field,
            hint="To stop spending, pause the object instead of setting a zero or negative amount.",
        )
    if amount > maximum:
        raise ValidationFailed(
            f"{field} {amount} is above the ceiling of {maximum} this connection allows.",
            field=field,
            hint="Use a smaller amount, or raise the ceiling in the connection's settings first.",
        )
    places = exponent(currency) if currency else 2
    try:
        fine = amount != amount.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        fine = True
    if fine:
        unit = currency.upper() if currency else "the account currency"
        raise ValidationFailed(f"{field} {amount} has more than {places} decimals for {unit}.", field=field)
    return amount


def check_status(status: object) -> str:
    """``status`` when it is one of paused / active / removed."""
    if not isinstance(status, str) or status not in DELIVERY_STATUSES:
        raise ValidationFailed(
            f"status must be one of {', '.join(DELIVERY_STATUSES)}.", field="status", hint="Use 'paused' to stop."
        )
    return status


def check_kind(kind: object) -> str:
    """``kind`` when it is campaign / ad_group / ad."""
    if not isinstance(kind, str) or kind not in OBJECT_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(OBJECT_KINDS)}.", field="kind")
    return kind


def check_object_id(object_id: object, *, field: str = "object_id") -> str:
    """A non-empty platform id of at most 64 printable characters without spaces."""
    if not isinstance(object_id, str) or not 0 < len(object_id) <= 64 or not object_id.isprintable():
        raise ValidationFailed(f"{field} must be a platform id (1-64 characters).", field=field)
    if any(c.isspace() for c in object_id) or "/" in object_id:
        raise ValidationFailed(f"{field} must be a bare id, not a path or a name.", field=field)
    return object_id


def check_report(object_ids: Sequence[str], since: date, until: date) -> tuple[str, ...]:
    """The ids of a daily report (1-100, de-duplicated in order) after checking the window (≤ 93 days)."""
    if isinstance(object_ids, str):
        raise ValidationFailed("object_ids must be a list of ids, not one string.", field="object_ids")
    ids = tuple(dict.fromkeys(check_object_id(i, field="object_ids") for i in object_ids))
    if not 0 < len(ids) <= REPORT_IDS_MAX:
        raise ValidationFailed(f"object_ids must hold 1-{REPORT_IDS_MAX} ids.", field="object_ids")
    if until < since:
        raise ValidationFailed("until is before since.", field="until")
    if (until - since).days + 1 > REPORT_DAYS_MAX:
        raise ValidationFailed(
            f"a report covers at most {REPORT_DAYS_MAX} days.", field="until", hint="Ask for shorter windows."
        )
    return ids


def days(since: date, until: date) -> Iterator[date]:
    """Every day from ``since`` to ``until`` inclusive."""
    day = since
    while day <= until:
        yield day
        day += timedelta(days=1)
