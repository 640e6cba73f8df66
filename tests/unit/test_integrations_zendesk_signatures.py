"""Zendesk webhook signatures (platform_apis.md §11): base64(HMAC-SHA256(secret, timestamp + body)), 5 min window."""

from datetime import UTC, datetime, timedelta

from promptsales.domain_core.integrations.zendesk.signatures import SignatureVerdict, check, sign

SECRET = "zd-webhook-secret-0001"
BODY = b'{"type":"zen:event-type:ticket.created","detail":{"id":"35436"}}'
TIMESTAMP = "2026-12-07T00:00:00Z"
SENT = datetime(2026, 12, 7, tzinfo=UTC)
# Computed independently: printf '%s' '<timestamp><body>' | openssl dgst -sha256 -hmac <secret> -binary | base64
VECTOR = "ZywFT+JlWAgeuLjAhaDgAaHdwWhnF2o9QAy3tZ1Rhaw="


def verdict(**overrides: object) -> SignatureVerdict:
    arguments: dict[str, object] = {
        "secret": SECRET,
        "body": BODY,
        "signature": VECTOR,
        "timestamp": TIMESTAMP,
        "now": SENT + timedelta(seconds=30),
    }
    arguments.update(overrides)
    return check(**arguments)  # type: ignore[arg-type]


def test_a_valid_delivery_matches_an_independently_computed_vector() -> None:
    assert sign(secret=SECRET, body=BODY, timestamp=TIMESTAMP) == VECTOR
    assert verdict() is SignatureVerdict.VALID
    assert verdict(signature=f"  {VECTOR}\n") is SignatureVerdict.VALID


def test_a_tampered_body_or_timestamp_is_refused() -> None:
    assert verdict(body=BODY.replace(b"35436", b"35437")) is SignatureVerdict.BAD_SIGNATURE
    # The timestamp is signed too: moving it (still fresh) breaks the signature.
    assert verdict(timestamp="2026-12-07T00:00:01Z") is SignatureVerdict.BAD_SIGNATURE
    assert verdict(signature=VECTOR[:-2] + "A=") is SignatureVerdict.BAD_SIGNATURE


def test_the_wrong_secret_is_refused() -> None:
    assert verdict(secret="another-secret") is SignatureVerdict.BAD_SIGNATURE


def test_a_stale_or_future_timestamp_is_refused_even_when_signed() -> None:
    assert verdict(now=SENT + timedelta(minutes=5)) is SignatureVerdict.VALID
    assert verdict(now=SENT + timedelta(minutes=5, seconds=1)) is SignatureVerdict.STALE
    assert verdict(now=SENT - timedelta(minutes=6)) is SignatureVerdict.STALE
    assert verdict(now=SENT + timedelta(hours=1), max_age=timedelta(hours=2)) is SignatureVerdict.VALID


def test_missing_headers_or_secret_and_malformed_timestamps() -> None:
    assert verdict(signature=None) is SignatureVerdict.MISSING
    assert verdict(timestamp=None) is SignatureVerdict.MISSING
    assert verdict(signature="") is SignatureVerdict.MISSING
    assert verdict(secret="") is SignatureVerdict.MISSING
    for bad in ("yesterday", "2026-12-07T00:00:00", "\uff11\uff17\uff19\uff16", "2" * 60):
        assert verdict(timestamp=bad) is SignatureVerdict.MALFORMED_TIMESTAMP
