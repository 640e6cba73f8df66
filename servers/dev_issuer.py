"""A local development token issuer: one RSA key under ``data_dir/auth/`` and RS256 tokens signed with it.

For development and tests only: whoever can read ``data_dir`` can mint tokens for any tenant. Tokens carry
``iss`` = :data:`DEV_ISSUER` (``http://127.0.0.1/dev-issuer``, URL-shaped so it can be advertised as an
authorization server in RFC 9728 metadata) and, by default, ``aud`` = :data:`DEFAULT_AUDIENCE`, the canonical
URL of a server on the default port. Set ``PROMPTSALES_AUTH_AUDIENCE`` (and pass ``--audience``) for another URL.
"""

import json
import os
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwk, jwt

DEV_ISSUER = "http://127.0.0.1/dev-issuer"
DEFAULT_AUDIENCE = "http://127.0.0.1:8000/mcp"
ALGORITHM = "RS256"
PRIVATE_KEY_FILE = "dev-private-key.pem"
JWKS_FILE = "dev-jwks.json"


class DevIssuerError(RuntimeError):
    """The development keys are missing or unreadable."""


def auth_dir(data_dir: Path) -> Path:
    """Where the development keys live."""
    return Path(data_dir) / "auth"


def create_dev_keys(data_dir: Path, *, overwrite: bool = False) -> Path:
    """Create (once) an RSA-2048 private key (PEM, mode 0600) and its public JWKS; returns the key folder."""
    folder = auth_dir(data_dir)
    private_path, jwks_path = folder / PRIVATE_KEY_FILE, folder / JWKS_FILE
    if private_path.exists() and jwks_path.exists() and not overwrite:
        return folder
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    public = jwk.RSAKey.import_key(
        private_key.public_key().public_bytes(
            encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    kid = public.thumbprint()
    public_jwk = {**public.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
    if private_path.exists():
        private_path.unlink()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(private_path, 0o600)
    jwks_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2) + "\n", encoding="utf-8")
    return folder


def load_dev_jwks(data_dir: Path) -> dict[str, Any]:
    """The public key set written by :func:`create_dev_keys`."""
    path = auth_dir(data_dir) / JWKS_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DevIssuerError(f"No development JWKS at {path}; run `promptsales auth dev-keys` first.") from exc
    if not isinstance(data.get("keys"), list) or not data["keys"]:
        raise DevIssuerError(f"{path} holds no keys; run `promptsales auth dev-keys` again.")
    return data


def load_dev_private_key(data_dir: Path) -> tuple[str, str]:
    """The signing key (PEM) and its ``kid``."""
    path = auth_dir(data_dir) / PRIVATE_KEY_FILE
    try:
        pem = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DevIssuerError(f"No development key at {path}; run `promptsales auth dev-keys` first.") from exc
    kid = str(load_dev_jwks(data_dir)["keys"][0]["kid"])
    return pem, kid


def mint_dev_token(
    data_dir: Path,
    *,
    tenant: str,
    subject: str,
    scopes: str | list[str] = "",
    expires_in: int = 3600,
    audience: str = DEFAULT_AUDIENCE,
    issuer: str = DEV_ISSUER,
    tenant_claim: str = "tenant",
) -> str:
    """An RS256 token (``kid`` header) with iss/aud/sub/iat/nbf/exp, a space-separated ``scope`` and the tenant."""
    pem, kid = load_dev_private_key(data_dir)
    now = int(time.time())
    scope = " ".join(scopes.split() if isinstance(scopes, str) else scopes)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "scope": scope,
        tenant_claim: tenant,
    }
    key = jwk.RSAKey.import_key(pem)
    return jwt.encode({"alg": ALGORITHM, "typ": "JWT", "kid": kid}, claims, key, algorithms=[ALGORITHM])
