"""Request values checked before they leave: money amounts and URL path segments."""

from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from promptsales.domain_core.shared.errors import ValidationFailed

# https://developer.paypal.com/reference/currency-codes/ : these currencies take no decimals.
ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})


def path_segment(value: str, *, field: str) -> str:
    """A path segment, quoted so an id can never reach another endpoint."""
    if not value:
        raise ValidationFailed(f"{field} must not be empty.", field=field)
    return quote(value, safe="")


def money_value(amount: Decimal, currency: str, *, field: str, allow_zero: bool = False) -> str:
    """``amount`` as PayPal's decimal string ("29.00"), refusing values the currency cannot carry."""
    # https://developer.paypal.com/docs/api/orders/v2/#definition-money : {currency_code, value: "decimal string"}
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ValidationFailed("currency must be a three-letter ISO 4217 code such as USD.", field="currency")
    places = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(f"{field} must be a positive amount.", field=field)
    try:
        quantized = amount.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        raise ValidationFailed(f"{field} is too large.", field=field) from None
    if quantized != amount:
        raise ValidationFailed(f"{field} has more than {places} decimal places for {currency}.", field=field)
    return f"{quantized:f}"
