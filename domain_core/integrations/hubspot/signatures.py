"""HubSpot app webhook signatures, v3 (pure).

shared/reference/platform_apis.md §9 "App webhooks" [~]: ``X-HubSpot-Signature-v3`` is
``base64(HMAC-SHA256(client_secret, method + uri + body + timestamp))`` and ``X-HubSpot-Request-Timestamp``
(epoch milliseconds) must be at most 5 minutes old. A replayed delivery carries a valid signature: telling it
apart is the receiver's dedupe, not this check.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict

__all__ = ["MAX_AGE", "SignatureVerdict", "check_v3", "sign_v3"]

MAX_AGE = timedelta(minutes=5)


def sign_v3(*, client_secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The ``X-HubSpot-Signature-v3`` value of a delivery."""
    message = method.upper().encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def check_v3(
    *,
    client_secret: str,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: datetime,
    max_age: timedelta = MAX_AGE,
) -> SignatureVerdict:
    """Whether a delivery is HubSpot's: a fresh timestamp (either direction) and a matching v3 signature."""
    if not client_secret or not signature or not timestamp:
        return SignatureVerdict.MISSING
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 16:
        return SignatureVerdict.MALFORMED_TIMESTAMP
    sent = datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC)
    if abs(now - sent) > max_age:
        return SignatureVerdict.STALE
    expected = sign_v3(client_secret=client_secret, method=method, uri=uri, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return SignatureVerdict.BAD_SIGNATURE
    return SignatureVerdict.VALID
