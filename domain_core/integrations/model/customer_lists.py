"""Customer-list identifiers as the ad platforms take them (pure): normalised, then SHA-256 hex digests.

What each platform documents (``[~]`` = secondary or not re-read at its source):

* email: trimmed and lower-cased, then SHA-256 — Meta (developers.facebook.com/docs/marketing-api/audiences/guides/
  custom-audiences "Hashing and normalization": EMAIL, "trim leading and trailing whitespace, convert to lower
  case"), Google Customer Match (developers.google.com/google-ads/api/docs/remarketing/audience-segments/
  customer-match/get-started "Normalize and hash": lower case, no surrounding whitespace, SHA-256 hex), TikTok
  (EMAIL_SHA256 [~]) and LinkedIn (``SHA256_EMAIL`` user ids, as segmentio/action-destinations' LinkedIn Audiences
  destination sends them). Gmail dots are kept as given: the digest must be of the address the customer gave;
* phone: the E.164 number with its country code — Meta hashes the digits only ("remove symbols, letters and leading
  zeros"; 16505551234), Google the E.164 text WITH the leading ``+`` (+16505551234); TikTok takes the digits [~].
  LinkedIn's user segments take no phone ids. :func:`phone_form` says which form a platform hashes.
"""

import hashlib
import re
from collections.abc import Sequence
from typing import Literal

from promptsales.domain_core.integrations.model.phones import normalise_recipient
from promptsales.domain_core.shared.errors import ValidationFailed

HASHES_PER_LIST_MAX = 10_000  # our port's cap per call; Meta takes 10,000 rows per /users request [~]
PhoneForm = Literal["digits", "plus_digits"]
PHONE_FORMS: dict[str, PhoneForm] = {
    "google_ads": "plus_digits",
    "meta_ads": "digits",
    "tiktok_ads": "digits",
}
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


def normalise_email(raw: str) -> str:
    """``raw`` trimmed and lower-cased (dots in Gmail addresses kept); ValidationFailed when it is no address."""
    text = raw.strip().lower() if isinstance(raw, str) else ""
    if not _EMAIL.fullmatch(text):
        raise ValidationFailed(f"'{str(raw)[:80]}' is not an email address.", field="emails")
    return text


def normalise_phone(raw: str, form: PhoneForm = "digits") -> str:
    """``raw`` (international form, separators allowed) as E.164 digits, ``+`` first for ``plus_digits``."""
    try:
        digits = normalise_recipient(raw, field="phones")
    except ValueError as error:
        raise ValidationFailed(str(error), field="phones", hint="Give the country code, e.g. +14155550100.") from None
    return f"+{digits}" if form == "plus_digits" else digits


def sha256_hex(text: str) -> str:
    """The SHA-256 of ``text``'s UTF-8 bytes as 64 lower-case hex characters."""
    return hashlib.sha256(text.encode()).hexdigest()


def hash_email(raw: str) -> str:
    """The digest a platform matches an email by."""
    return sha256_hex(normalise_email(raw))


def phone_form(platform: str) -> PhoneForm:
    """How ``platform`` wants a phone written before hashing; ValidationFailed where it takes no phones."""
    form = PHONE_FORMS.get(platform)
    if form is None:
        raise ValidationFailed(f"{platform} customer lists take no phone numbers.", field="phones")
    return form


def hash_phone(raw: str, platform: str) -> str:
    """The digest ``platform`` matches a phone number by."""
    return sha256_hex(normalise_phone(raw, phone_form(platform)))


def check_hashes(values: Sequence[str], *, field: str) -> tuple[str, ...]:
    """``values`` de-duplicated in order, each a SHA-256 hex digest (64 hex characters, case folded)."""
    if isinstance(values, str):
        raise ValidationFailed(f"{field} must be a list of SHA-256 digests, not one string.", field=field)
    found: dict[str, None] = {}
    for position, value in enumerate(values):
        digest = value.strip().lower() if isinstance(value, str) else ""
        if not _SHA256_HEX.fullmatch(digest):
            raise ValidationFailed(
                f"{field}[{position}] is not a SHA-256 hex digest (64 hex characters).",
                field=field,
                hint="Normalise and hash with model.customer_lists (hash_email / hash_phone); never send raw values.",
            )
        found[digest] = None
    return tuple(found)


def check_customer_list(name: str, emails: Sequence[str], phones: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """The list's email and phone digests after checking the name (1-128 characters) and the count (1-10,000)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise ValidationFailed("name must be 1-128 characters.", field="name")
    hashed_emails = check_hashes(emails, field="hashed_emails")
    hashed_phones = check_hashes(phones, field="hashed_phones")
    total = len(hashed_emails) + len(hashed_phones)
    if not 0 < total <= HASHES_PER_LIST_MAX:
        raise ValidationFailed(
            f"a customer list takes 1-{HASHES_PER_LIST_MAX:,} hashed identifiers per call (got {total:,}).",
            field="hashed_emails",
        )
    return hashed_emails, hashed_phones
