"""Phone numbers as messaging platforms take them (pure): E.164 digits, country code first."""

import re

E164_DIGITS = (7, 15)  # ITU-T E.164: at most 15 digits; the shortest numbers in use have 7 [~]
_PHONE_SEPARATORS = re.compile(r"[\s().\-]")


def normalise_recipient(raw: str, *, field: str = "to") -> str:
    """``raw`` (E.164, with or without ``+``, spaces, dashes, dots or parentheses) as its digits."""
    if not isinstance(raw, str) or len(raw) > 40:
        raise ValueError(f"{field}: a phone number in international (E.164) form is expected")
    text = _PHONE_SEPARATORS.sub("", raw.strip())
    text = text.removeprefix("+")
    low, high = E164_DIGITS
    if not (text.isascii() and text.isdigit()) or not low <= len(text) <= high or text.startswith("0"):
        raise ValueError(
            f"{field}: '{raw[:40]}' is not an international phone number "
            f"(country code first, {low}-{high} digits, e.g. +14155550100)"
        )
    return text
