"""Customer-list identifiers: normalised as the platforms document, hashed to SHA-256 hex, checked; and the
simulators' audience reach model (pure).

The digests below were computed outside Python (``printf '%s' 'test@example.com' | sha256sum``).
"""

import pytest

from promptsales.domain_core.integrations.model.audience_reach import matched, reach_range, targeted_reach
from promptsales.domain_core.integrations.model.customer_lists import (
    HASHES_PER_LIST_MAX,
    check_customer_list,
    check_hashes,
    hash_email,
    hash_phone,
    normalise_email,
    normalise_phone,
    phone_form,
)
from promptsales.domain_core.shared.errors import ValidationFailed

TEST_EMAIL = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"  # test@example.com
PHONE_DIGITS = "5e7ec4c79ccac6e420876e65ad0e6b4b2ccf73ec3dccb50297bf2890a1ec73b9"  # 14155550100
PHONE_PLUS = "40d3f4e02db27d66cf4cfdda506c2c945f115a7955cc8491dda98ce5beabcda0"  # +14155550100
GMAIL_DOTS = "d0c648bc36f12061bec770df216cea2ab95851b9350fd54b658de53b0407767a"  # john.smith@gmail.com


def test_emails_are_trimmed_and_lower_cased_before_hashing() -> None:
    assert normalise_email("  Test@Example.COM \n") == "test@example.com"
    assert hash_email("  Test@Example.COM ") == TEST_EMAIL
    assert hash_email("John.Smith@gmail.com") == GMAIL_DOTS  # Gmail dots kept as the customer gave them
    with pytest.raises(ValidationFailed) as refused:
        hash_email("not an address")
    assert refused.value.field == "emails"


def test_phones_are_e164_digits_for_meta_and_tiktok_and_plus_digits_for_google() -> None:
    assert normalise_phone("+1 (415) 555-0100") == "14155550100"
    assert normalise_phone("+1 415.555.0100", "plus_digits") == "+14155550100"
    assert hash_phone("+1 (415) 555-0100", "meta_ads") == PHONE_DIGITS
    assert hash_phone("+1 (415) 555-0100", "tiktok_ads") == PHONE_DIGITS
    assert hash_phone("1-415-555-0100", "google_ads") == PHONE_PLUS
    for platform, raw in (("linkedin_ads", "+14155550100"), ("meta_ads", "0415 555 0100")):
        with pytest.raises(ValidationFailed) as refused:
            hash_phone(raw, platform)
        assert refused.value.field == "phones"
    assert phone_form("google_ads") == "plus_digits"


def test_digests_are_checked_case_folded_and_deduplicated() -> None:
    assert check_hashes([TEST_EMAIL.upper(), f" {TEST_EMAIL} "], field="hashed_emails") == (TEST_EMAIL,)
    for bad in (["test@example.com"], [TEST_EMAIL[:-1]], [TEST_EMAIL[:-1] + "g"]):
        with pytest.raises(ValidationFailed) as refused:
            check_hashes(bad, field="hashed_emails")
        assert refused.value.field == "hashed_emails" and "[0]" in str(refused.value)
    with pytest.raises(ValidationFailed):
        check_hashes(TEST_EMAIL, field="hashed_phones")  # one string is not a list


def test_a_list_needs_a_name_and_one_to_ten_thousand_digests() -> None:
    assert check_customer_list("Buyers", [TEST_EMAIL], [PHONE_DIGITS]) == ((TEST_EMAIL,), (PHONE_DIGITS,))
    too_many = [f"{i:064x}" for i in range(HASHES_PER_LIST_MAX + 1)]
    for name, emails, phones, field in (
        ("", [TEST_EMAIL], [], "name"),
        ("x" * 129, [TEST_EMAIL], [], "name"),
        ("Empty", [], [], "hashed_emails"),
        ("Too many", too_many[:5_000], too_many[5_000:], "hashed_emails"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            check_customer_list(name, emails, phones)
        assert refused.value.field == field


def test_the_reach_model_narrows_by_age_interest_and_customer_lists() -> None:
    everyone = targeted_reach(["US"], None, None, [])
    assert everyone == 5_000_000  # one country's reachable people
    assert targeted_reach(["US"], 25, 34, []) == 5_000_000 * 10 // 48
    assert targeted_reach(["US"], None, None, ["running"]) == 1_000_000  # one interest: 20 %
    assert targeted_reach(["US"], None, None, [], [1_200, 300]) == 1_500  # the listed people
    narrowed = targeted_reach(["US"], 25, 34, ["running"])
    assert narrowed == 208_333  # 10 of the 48 adult ages, one interest
    assert targeted_reach(["US"], 25, 34, ["running"], [4_800]) == 199  # 4,800 x 208,333 / 5,000,000, floored
    assert targeted_reach(["US"], None, None, [], [10**9]) == everyone  # never more than the targeting
    assert matched(2_000, 0.6) == 1_200 and matched(10, 1.5) == 10 and matched(-3, 0.5) == 0
    assert reach_range(1_500) == (1_300, 1_700)
    assert reach_range(0) == (0, 0)
