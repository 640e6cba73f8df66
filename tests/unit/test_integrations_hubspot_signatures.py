"""HubSpot webhook v3 signatures (platform_apis.md §9): HMAC-SHA256 over method + uri + body + timestamp, 5 min."""

from datetime import UTC, datetime, timedelta

from promptsales.domain_core.integrations.hubspot.signatures import SignatureVerdict, check_v3, sign_v3

SECRET = "hs-client-secret-0001"
URI = "https://example.com/webhooks/hubspot"
BODY = b'[{"eventId":1,"subscriptionType":"contact.creation"}]'
TIMESTAMP = "1796601600000"  # 2026-12-07T00:00:00Z in epoch milliseconds
SENT = datetime(2026, 12, 7, tzinfo=UTC)
# Computed independently: printf 'POST<uri><body><ts>' | openssl dgst -sha256 -hmac <secret> -binary | base64
VECTOR = "cm2zUSFODo6flm90bQVKhWao8MACFFiQBt1bBGcsDPQ="


def check(**overrides: object) -> SignatureVerdict:
    arguments: dict[str, object] = {
        "client_secret": SECRET,
        "method": "POST",
        "uri": URI,
        "body": BODY,
        "signature": VECTOR,
        "timestamp": TIMESTAMP,
        "now": SENT + timedelta(seconds=30),
    }
    arguments.update(overrides)
    return check_v3(**arguments)  # type: ignore[arg-type]


def test_signature_matches_an_independently_computed_vector() -> None:
    assert sign_v3(client_secret=SECRET, method="post", uri=URI, body=BODY, timestamp=TIMESTAMP) == VECTOR
    assert check() is SignatureVerdict.VALID


def test_tampered_body_wrong_secret_or_other_uri_is_refused() -> None:
    assert check(body=BODY.replace(b"creation", b"deletion")) is SignatureVerdict.BAD_SIGNATURE
    assert check(client_secret="another-secret") is SignatureVerdict.BAD_SIGNATURE
    assert check(uri=URI + "?x=1") is SignatureVerdict.BAD_SIGNATURE
    assert check(method="PUT") is SignatureVerdict.BAD_SIGNATURE


def test_timestamp_older_or_later_than_five_minutes_is_stale() -> None:
    assert check(now=SENT + timedelta(minutes=5)) is SignatureVerdict.VALID
    assert check(now=SENT + timedelta(minutes=5, seconds=1)) is SignatureVerdict.STALE
    assert check(now=SENT - timedelta(minutes=6)) is SignatureVerdict.STALE
    # A stale delivery is refused even when re-signed for its old timestamp: the timestamp is signed too.
    later = str(int(TIMESTAMP) + 60_000)
    assert check(timestamp=later) is SignatureVerdict.BAD_SIGNATURE


def test_missing_or_malformed_headers_are_refused() -> None:
    assert check(signature=None) is SignatureVerdict.MISSING
    assert check(timestamp="") is SignatureVerdict.MISSING
    assert check(client_secret="") is SignatureVerdict.MISSING
    assert check(timestamp="2026-12-07T00:00:00Z") is SignatureVerdict.MALFORMED_TIMESTAMP
    assert check(timestamp="¹²³") is SignatureVerdict.MALFORMED_TIMESTAMP


def test_replayed_delivery_is_still_valid_signature_wise() -> None:
    # Dedupe of the same delivery is the receiver's job (by eventId), not the signature check's.
    assert check() is SignatureVerdict.VALID
    assert check(now=SENT + timedelta(minutes=2)) is SignatureVerdict.VALID
