"""Person fields as external platforms hold them, made fit for the CRM (pure).

Platforms keep free text where the CRM keeps checked values: a phone without a country code, a website of "N/A",
a name longer than the CRM's column. One such field must not cost the whole person, so a value the CRM would
refuse is left out (the CRM keeps what it has) rather than failing the record.
"""

import re

import phonenumbers

_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")


def clip(value: object, limit: int) -> str | None:
    """Trimmed text of at most ``limit`` characters; None for anything empty or not text."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text[:limit] or None


def usable_phone(value: object) -> str | None:
    """An international phone number in E.164 form, or None when it has no country code or is not valid."""
    text = clip(value, 40)
    if text is None:
        return None
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def website_domain(website: object) -> str | None:
    """The host of a website field when it is a domain name (``https://www.acme.com/x`` → ``acme.com``)."""
    if not isinstance(website, str) or not website.strip():
        return None
    host = website.strip().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower().removeprefix("www.")
    return host if len(host) <= 253 and _DOMAIN.fullmatch(host) else None
