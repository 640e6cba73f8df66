"""What every connector's webhook signature check answers (pure); shared by HubSpot and Zendesk."""

from enum import StrEnum


class SignatureVerdict(StrEnum):
    """The outcome of a check; only VALID may be processed."""

    VALID = "valid"
    MISSING = "missing"
    MALFORMED_TIMESTAMP = "malformed_timestamp"
    STALE = "stale"
    BAD_SIGNATURE = "bad_signature"
