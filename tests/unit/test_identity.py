"""Normalization of emails, phones and countries (the natural keys of a person)."""

import pytest

from promptsales.domain_core.crm.model.identity import email_domain, normalize_country, normalize_email, normalize_phone
from promptsales.domain_core.shared.errors import ValidationFailed


def test_email_is_lower_cased_and_trimmed() -> None:
    assert normalize_email("  Ana.Lopez@ACME.com ") == "ana.lopez@acme.com"


@pytest.mark.parametrize("raw", ["not-an-email", "a@", "@b.com", "a b@c.com"])
def test_invalid_email_names_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_email(raw, field="email")
    assert caught.value.field == "email"


def test_phone_to_e164_with_and_without_country() -> None:
    assert normalize_phone("+1 (415) 555-0132") == "+14155550132"
    assert normalize_phone("612 34 56 78", country="ES") == "+34612345678"


@pytest.mark.parametrize("raw", ["12", "hello", "+1 555"])
def test_invalid_phone_is_rejected_with_a_hint(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_phone(raw)
    assert caught.value.field == "phone"
    assert "international" in (caught.value.hint or "")


@pytest.mark.parametrize(("raw", "code"), [("us", "US"), ("ESP", "ES"), ("Mexico", "MX"), ("Colombia", "CO")])
def test_country_codes_and_names(raw: str, code: str) -> None:
    assert normalize_country(raw) == code


def test_unknown_country() -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_country("Atlantis")
    assert caught.value.field == "country"


def test_email_domain() -> None:
    assert email_domain("a@acme.com") == "acme.com"
    assert email_domain(None) is None
