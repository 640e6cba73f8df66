"""Twilio webhooks (pure): the X-Twilio-Signature check against a vector built by hand from §8's formula, and the
status / inbound forms with their consent keywords."""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from promptsales.domain_core.integrations.twilio.webhooks import (
    InboundSms,
    SignatureVerdict,
    StatusCallback,
    check,
    form_params,
    parse_event,
    sign,
)

TOKEN = "12345abcde"  # a test auth token
URL = "https://promptsales.example.com/webhooks/twilio?tenant=acme"
ACCOUNT = "AC" + "a" * 32
MESSAGE = "SM" + "b" * 32
INBOUND = [
    ("MessageSid", MESSAGE),
    ("AccountSid", ACCOUNT),
    ("From", "+14155550100"),
    ("To", "+15005550006"),
    ("Body", "STOP"),
]


def test_the_signature_is_hmac_sha1_of_the_url_and_the_sorted_parameters_in_base64() -> None:
    # §8: base64(HMAC-SHA1(auth_token, full URL + concat over POST params sorted by name of name+value)), spelled out.
    signed_text = (
        "https://promptsales.example.com/webhooks/twilio?tenant=acme"
        f"AccountSid{ACCOUNT}"
        "BodySTOP"
        "From+14155550100"
        f"MessageSid{MESSAGE}"
        "To+15005550006"
    )
    expected = base64.b64encode(hmac.new(b"12345abcde", signed_text.encode(), hashlib.sha1).digest()).decode()
    assert sign(auth_token=TOKEN, url=URL, params=INBOUND) == expected
    assert check(auth_token=TOKEN, url=URL, params=INBOUND, signature=expected) is SignatureVerdict.VALID


@pytest.mark.parametrize(
    ("token", "url", "params"),
    [
        ("another-token", URL, INBOUND),  # another account's token
        (TOKEN, URL.replace("https", "http"), INBOUND),  # the URL Twilio did not call (a TLS-terminating proxy)
        (TOKEN, URL, [*INBOUND[:4], ("Body", "START")]),  # a tampered parameter
        (TOKEN, URL, INBOUND[:4]),  # a parameter left out
    ],
)
def test_anything_but_the_signed_request_is_a_bad_signature(
    token: str, url: str, params: list[tuple[str, str]]
) -> None:
    signature = sign(auth_token=TOKEN, url=URL, params=INBOUND)
    assert check(auth_token=token, url=url, params=params, signature=signature) is SignatureVerdict.BAD_SIGNATURE


def test_a_missing_signature_or_token_and_an_oversized_one_are_refused() -> None:
    assert check(auth_token=TOKEN, url=URL, params=INBOUND, signature=None) is SignatureVerdict.MISSING
    assert check(auth_token="", url=URL, params=INBOUND, signature="x") is SignatureVerdict.MISSING
    assert check(auth_token=TOKEN, url=URL, params=INBOUND, signature="A" * 200) is SignatureVerdict.BAD_SIGNATURE


def test_an_inbound_form_is_a_message_and_its_keyword_is_read_in_any_case() -> None:
    event = parse_event(form_params(urlencode(INBOUND).encode()))
    assert isinstance(event, InboundSms)
    assert (event.account_sid, event.message_sid, event.from_phone, event.body) == (
        ACCOUNT,
        MESSAGE,
        "+14155550100",
        "STOP",
    )
    assert event.event_id == f"message:{MESSAGE}"
    keywords = {
        text: InboundSms(account_sid=ACCOUNT, message_sid=MESSAGE, from_phone="+1", body=text).keyword
        for text in ("STOP", " stopall ", "Unsubscribe", "optout", "revoke", "start", "YES", "unstop", "stop it", "")
    }
    assert keywords == {
        "STOP": "opt_out",
        " stopall ": "opt_out",
        "Unsubscribe": "opt_out",
        "optout": "opt_out",
        "revoke": "opt_out",
        "start": "opt_in",
        "YES": "opt_in",
        "unstop": "opt_in",
        "stop it": None,  # Twilio matches the whole text only: a sentence is a message
        "": None,
    }


def test_a_status_form_is_a_status_with_its_error_code() -> None:
    form = [("MessageSid", MESSAGE), ("AccountSid", ACCOUNT), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")]
    event = parse_event(form)
    assert isinstance(event, StatusCallback)
    assert (event.status, event.error_code, event.event_id) == ("undelivered", "30003", f"status:{MESSAGE}:undelivered")


@pytest.mark.parametrize(
    ("form", "complaint"),
    [
        ([("MessageSid", MESSAGE), ("From", "+1415")], "AccountSid"),
        ([("AccountSid", ACCOUNT), ("MessageSid", "nope")], "MessageSid"),
        ([("AccountSid", ACCOUNT), ("MessageSid", MESSAGE), ("MessageStatus", "exploded")], "MessageStatus"),
        ([("AccountSid", ACCOUNT), ("MessageSid", MESSAGE)], "From"),
    ],
)
def test_a_form_that_is_neither_is_refused_naming_what_is_wrong(form: list[tuple[str, str]], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_event(form)


def test_a_body_that_is_not_a_small_utf8_form_is_refused() -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        form_params(b"\xff\xfe")
    with pytest.raises(ValueError, match="larger"):
        form_params(b"a=" + b"x" * 70_000)
