"""Normalization of the natural keys that identify a person: email, phone, country."""

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from promptsales.domain_core.shared.errors import ValidationFailed


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Return the canonical form of an email address (lower-case domain and local part)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"{field} is not a valid email address: {exc}", field=field) from exc
    return result.normalized.lower()


def normalize_phone(raw: str, *, country: str | None = None, field: str = "phone") -> str:
    """Return the E.164 form of a phone number; national numbers need the contact's country."""
    try:
        parsed = phonenumbers.parse(raw, country or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            f"{field} could not be read as a phone number.",
            field=field,
            hint="Use international format such as +14155550123, or pass the contact's country.",
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(
            f"{field} is not a valid phone number.",
            field=field,
            hint="Use international format such as +14155550123.",
        )
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def normalize_country(raw: str, *, field: str = "country") -> str:
    """Return the ISO 3166-1 alpha-2 code for a code or country name."""
    value = raw.strip()
    match = pycountry.countries.get(alpha_2=value.upper()) if len(value) == 2 else None
    if match is None and len(value) == 3:
        match = pycountry.countries.get(alpha_3=value.upper())
    if match is None:
        try:
            match = pycountry.countries.lookup(value)
        except LookupError:
            match = None
    if match is None:
        raise ValidationFailed(
            f"{field} is not a known country.",
            field=field,
            hint="Use an ISO code such as US, ES or MX.",
        )
    return str(match.alpha_2)


# The storage size of organization names and their keys (crm_organizations.name, name_key).
ORGANIZATION_NAME_LENGTH = 200
DOMAIN_LENGTH = 253
INDUSTRY_LENGTH = 80


def organization_key(name: str) -> str:
    """How company names are compared: case-folded, spaces collapsed, cut to the stored length."""
    return " ".join(name.casefold().split())[:ORGANIZATION_NAME_LENGTH]


def normalize_domain(raw: str | None, *, field: str = "domain") -> str | None:
    """A web domain as stored: trimmed and lower-case (None when blank); it must still fit its column."""
    domain = raw.strip().lower() if raw else ""
    if len(domain) > DOMAIN_LENGTH:
        raise ValidationFailed(f"{field} is longer than {DOMAIN_LENGTH} characters.", field=field)
    return domain or None


def normalize_industry(raw: str | None, *, field: str = "industry") -> str | None:
    """An industry as scoring rules name it: trimmed and lower-case (None when blank); it must fit its column."""
    industry = raw.strip().lower() if raw else ""
    if len(industry) > INDUSTRY_LENGTH:
        raise ValidationFailed(f"{field} is longer than {INDUSTRY_LENGTH} characters.", field=field)
    return industry or None


def email_domain(email: str | None) -> str | None:
    """The domain part of a normalized email."""
    return email.rsplit("@", 1)[1] if email and "@" in email else None


def normalize_person(
    *, email: str | None, phone: str | None, country: str | None
) -> tuple[str | None, str | None, str | None]:
    """Normalized (email, E.164 phone, ISO country) of a person; the country helps read national numbers."""
    country_code = normalize_country(country) if country else None
    return (
        normalize_email(email) if email else None,
        normalize_phone(phone, country=country_code) if phone else None,
        country_code,
    )
