"""PKCE (RFC 7636) verifier and S256 challenge, and the OAuth ``state`` value (pure; randomness from ``secrets``).

RFC 7636 §4.1: the verifier is 43-128 characters of ``[A-Za-z0-9-._~]``; §4.2: S256 challenge =
BASE64URL(SHA256(ASCII(verifier))) without padding. Canva requires S256 (platform_apis.md §12).
"""

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
METHOD_S256 = "S256"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_code_verifier(nbytes: int = 32) -> str:
    """A fresh high-entropy verifier: ``nbytes`` random octets, base64url (32 octets → 43 characters)."""
    if not 32 <= nbytes <= 96:
        raise ValueError("nbytes must be between 32 and 96 (43 to 128 characters)")
    return _b64url(secrets.token_bytes(nbytes))


def code_challenge_s256(verifier: str) -> str:
    """The S256 code challenge of ``verifier``; raises ValueError when it is not a valid RFC 7636 verifier."""
    if not _VERIFIER.fullmatch(verifier):
        raise ValueError("a PKCE code_verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~")
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def new_state(nbytes: int = 32) -> str:
    """An opaque, unguessable OAuth ``state`` value (URL-safe, no padding)."""
    if nbytes < 16:
        raise ValueError("state needs at least 16 random bytes")
    return _b64url(secrets.token_bytes(nbytes))


@dataclass(frozen=True, slots=True)
class PkcePair:
    """A verifier (kept server-side, never shown) and the challenge sent in the authorization URL."""

    verifier: str = field(repr=False)
    challenge: str
    method: str = METHOD_S256

    @classmethod
    def generate(cls) -> "PkcePair":
        """A new random pair."""
        verifier = new_code_verifier()
        return cls(verifier=verifier, challenge=code_challenge_s256(verifier))

    def matches(self, verifier: str) -> bool:
        """Whether ``verifier`` produces this pair's challenge (constant-time comparison)."""
        try:
            return secrets.compare_digest(code_challenge_s256(verifier), self.challenge)
        except ValueError:
            return False
