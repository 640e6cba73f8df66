"""Zendesk webhook signatures (pure).

shared/reference/platform_apis.md §11 "Webhooks" [~]: ``X-Zendesk-Webhook-Signature`` is
``base64(HMAC-SHA256(secret, timestamp + body))``, the timestamp being the ``X-Zendesk-Webhook-Signature-Timestamp``
header as sent (an ISO 8601 UTC time such as ``2026-12-07T00:00:00Z``). The freshness window (5 minutes, either
direction) is our choice; the reference gives none. A replayed delivery inside the window carries a valid
signature: telling it apart is the receiver's dedupe, not this check.
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict

__all__ = ["MAX_AGE", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SignatureVerdict", "check", "sign"]

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
MAX_AGE = timedelta(minutes=5)
_TIMESTAMP_MAX_LEN = 40


def sign(*, secret: str, body: bytes, timestamp: str) -> str:
    """The ``X-Zendesk-Webhook-Signature`` value of a delivery."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _parse_timestamp(timestamp: str) -> datetime | None:
    if len(timestamp) > _TIMESTAMP_MAX_LEN or not timestamp.isascii():
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def check(
    *,
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: datetime,
    max_age: timedelta = MAX_AGE,
) -> SignatureVerdict:
    """Whether a delivery is Zendesk's: a fresh, timezone-aware timestamp and a matching signature."""
    if not secret or not signature or not timestamp:
        return SignatureVerdict.MISSING
    sent = _parse_timestamp(timestamp)
    if sent is None:
        return SignatureVerdict.MALFORMED_TIMESTAMP
    if abs(now - sent) > max_age:
        return SignatureVerdict.STALE
    expected = sign(secret=secret, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return SignatureVerdict.BAD_SIGNATURE
    return SignatureVerdict.VALID
