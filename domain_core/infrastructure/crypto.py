"""Encryption of stored secrets (tenant credentials): AES-256-GCM with key ids so keys can rotate.

A sealed value reads ``v1.<key id>.<nonce>.<ciphertext+tag>`` (base64url parts). The associated data
binds it to its owner and purpose (e.g. ``tenant:acme|paypal``): a value copied to another tenant or
field fails to open. Plaintext is never part of an error message or a repr.
"""

import base64
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = "v1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM standard nonce size
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class CryptoError(Exception):
    """A sealed value could not be opened, or the key configuration is unusable (message is safe to show)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class KeyRing:
    """Named 256-bit keys; new values are sealed with ``active``, old ones open with their own key."""

    keys: dict[str, bytes] = field(repr=False)
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise CryptoError(f"active key id '{self.active}' is not among the configured keys.")
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id):
                raise CryptoError(f"key id '{key_id}' must be 1-32 letters, digits, '-' or '_'.")
            if len(key) != KEY_BYTES:
                raise CryptoError(f"key '{key_id}' must be {KEY_BYTES} bytes (AES-256), got {len(key)}.")

    @classmethod
    def parse(cls, spec: str, *, active: str | None = None) -> "KeyRing":
        """Read ``kid:base64key[,kid:base64key…]``; the last key is active unless ``active`` names one."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            key_id, sep, encoded = part.partition(":")
            if not sep:
                raise CryptoError("each encryption key must be written 'key_id:base64key'.")
            try:
                keys[key_id] = _unb64(encoded)
            except ValueError as exc:
                raise CryptoError(f"key '{key_id}' is not valid base64.") from exc
            order.append(key_id)
        if not keys:
            raise CryptoError("no encryption keys configured.")
        return cls(keys=keys, active=active or order[-1])

    @classmethod
    def load_or_create_local(cls, directory: Path) -> "KeyRing":
        """Embedded mode: a key file in the data directory, created (owner-only) on first use."""
        path = directory / "encryption.keys"
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(f"local1:{generate_key()}\n")
        return cls.parse(path.read_text().strip().replace("\n", ","))

    def seal(self, plaintext: bytes, *, associated_data: bytes) -> str:
        """Encrypt with the active key and a fresh random nonce."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, associated_data)
        return ".".join((FORMAT_VERSION, self.active, _b64(nonce), _b64(sealed)))

    def open(self, token: str, *, associated_data: bytes) -> bytes:
        """Decrypt a sealed value; fails closed on any mismatch."""
        _, key_id, nonce, sealed = self._split(token)
        key = self.keys.get(key_id)
        if key is None:
            raise CryptoError(f"sealed value uses key '{key_id}', which is not configured.")
        try:
            return AESGCM(key).decrypt(_unb64(nonce), _unb64(sealed), associated_data)
        except (InvalidTag, ValueError) as exc:
            raise CryptoError("sealed value failed authentication (tampered, or sealed for another owner).") from exc

    def needs_rotation(self, token: str) -> bool:
        """Whether the value was sealed with a key other than the active one."""
        return self._split(token)[1] != self.active

    def rotate(self, token: str, *, associated_data: bytes) -> str:
        """Re-seal a value under the active key (no-op when it already uses it)."""
        if not self.needs_rotation(token):
            return token
        return self.seal(self.open(token, associated_data=associated_data), associated_data=associated_data)

    @staticmethod
    def _split(token: str) -> tuple[str, str, str, str]:
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != FORMAT_VERSION:
            raise CryptoError("not a sealed value of a supported format.")
        return parts[0], parts[1], parts[2], parts[3]


def generate_key() -> str:
    """A new random 256-bit key, base64url encoded (for ``PROMPTSALES_ENCRYPTION_KEYS``)."""
    return _b64(secrets.token_bytes(KEY_BYTES))


def associated_data(tenant_id: str, purpose: str) -> bytes:
    """The binding of a sealed value to its tenant and purpose."""
    return f"tenant:{tenant_id}|{purpose}".encode()
