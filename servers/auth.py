"""HTTP authentication: bearer JWTs verified against the dev issuer or an OIDC provider's JWKS.

``build_auth(settings)`` turns ``PROMPTSALES_AUTH_*`` into a fastmcp auth provider:

* ``none`` → ``None`` (the CLI refuses to bind anything but loopback in this mode);
* ``dev``  → RS256 verifier with the public key(s) of ``data_dir/auth/dev-jwks.json`` (``promptsales auth dev-keys``);
* ``oidc`` → RS256 verifier with the provider's JWKS (``PROMPTSALES_AUTH_JWKS_URL``, or ``jwks_uri`` from
  ``{issuer}/.well-known/openid-configuration``, fetched once at startup with a bounded timeout).

Either verifier is wrapped in fastmcp's ``RemoteAuthProvider``: a request without a valid token gets 401 with
``WWW-Authenticate: Bearer ... resource_metadata="<origin>/.well-known/oauth-protected-resource/mcp"``, and that
URL serves RFC 9728 metadata whose ``resource`` is the audience. The audience must be the server's canonical
URL (``scheme://host[:port]/mcp``) and tokens must carry exactly it in ``aud``.

On top of fastmcp's checks (signature, algorithm, ``exp``, ``iss``, ``aud``) the verifier pins the header
``alg`` to RS256, requires ``exp``, rejects ``nbf``/``iat`` in the future (30 s leeway) and, with a static key
set, rejects an unknown ``kid``. Only the ``Authorization`` header is read (never a query string).
"""

import ipaddress
import time
from typing import Any
from urllib.parse import urlsplit

import httpx2
from fastmcp.server.auth import AccessToken, AuthProvider, RemoteAuthProvider
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.utilities.auth import decode_jwt_header
from joserfc import jwk

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.dev_issuer import ALGORITHM, DEFAULT_AUDIENCE, DEV_ISSUER, DevIssuerError, load_dev_jwks

MCP_PATH = "/mcp"
CLOCK_LEEWAY_S = 30
DISCOVERY_TIMEOUT_S = 5.0


class AuthConfigError(RuntimeError):
    """The auth settings are incomplete or inconsistent; the message names the variable to fix."""


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts local connections."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class PinnedJWTVerifier(JWTVerifier):
    """fastmcp's ``JWTVerifier`` plus the checks it leaves out (pinned alg, required exp, nbf/iat, known kid)."""

    def __init__(self, *, keys_by_kid: dict[str, str] | None = None, **kwargs: Any) -> None:
        if keys_by_kid is not None:
            kwargs["public_key"] = next(iter(keys_by_kid.values()))
        super().__init__(algorithm=ALGORITHM, **kwargs)
        self._keys_by_kid = keys_by_kid

    async def _get_verification_key(self, token: str) -> str | bytes:
        """With a static key set, the key named by the token's ``kid`` (checked in ``load_access_token``)."""
        if self._keys_by_kid is None:
            return await super()._get_verification_key(token)
        return self._keys_by_kid[str(decode_jwt_header(token).get("kid"))]

    async def load_access_token(self, token: str) -> AccessToken | None:
        """The verified token, or None (→ 401) for anything not exactly right."""
        try:
            header = decode_jwt_header(token)
        except Exception:
            return None
        if header.get("alg") != ALGORITHM:
            return None
        if self._keys_by_kid is not None:
            kid = header.get("kid")
            if not isinstance(kid, str) or kid not in self._keys_by_kid:
                return None
        access = await super().load_access_token(token)
        if access is None:
            return None
        claims = access.claims
        now = time.time()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not isinstance(exp, int | float) or exp <= now:
            return None
        for value in (nbf, iat):
            if value is not None and (not isinstance(value, int | float) or value > now + CLOCK_LEEWAY_S):
                return None
        return access


def check_audience(audience: str) -> str:
    """The audience if it is a canonical server URL ``http(s)://host[:port]/mcp``; raises otherwise."""
    parts = urlsplit(audience)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path != MCP_PATH
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise AuthConfigError(
            f"PROMPTSALES_AUTH_AUDIENCE must be this server's canonical URL, e.g. https://mcp.example.com{MCP_PATH} "
            f"(tokens must carry exactly it in 'aud'); got {audience!r}."
        )
    return audience


def discover_jwks_uri(issuer: str, *, timeout: float = DISCOVERY_TIMEOUT_S) -> str:
    """``jwks_uri`` from the issuer's OpenID discovery document (one bounded request)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx2.get(url, timeout=timeout, follow_redirects=False)
        response.raise_for_status()
        jwks_uri = response.json().get("jwks_uri")
    except (httpx2.HTTPError, ValueError, AttributeError) as exc:
        raise AuthConfigError(
            f"Could not read OIDC discovery at {url} ({exc.__class__.__name__}: {exc}); check PROMPTSALES_AUTH_ISSUER "
            "or set PROMPTSALES_AUTH_JWKS_URL."
        ) from exc
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise AuthConfigError(f"OIDC discovery at {url} has no usable 'jwks_uri'; set PROMPTSALES_AUTH_JWKS_URL.")
    return jwks_uri


def _dev_keys(settings: Settings) -> dict[str, str]:
    try:
        jwks = load_dev_jwks(settings.data_dir)
    except DevIssuerError as exc:
        raise AuthConfigError(str(exc)) from exc
    keys: dict[str, str] = {}
    for entry in jwks["keys"]:
        if isinstance(entry, dict) and entry.get("kty") == "RSA" and isinstance(entry.get("kid"), str):
            keys[entry["kid"]] = jwk.RSAKey.import_key(entry).as_pem(private=False).decode("utf-8")
    if not keys:
        raise AuthConfigError("The development JWKS holds no RSA key with a kid; run `promptsales auth dev-keys`.")
    return keys


def build_auth(settings: Settings) -> AuthProvider | None:
    """The auth provider for HTTP serving, or None for ``auth_mode=none``; raises ``AuthConfigError``."""
    if settings.auth_mode == "none":
        return None
    if settings.auth_mode == "dev":
        issuer = settings.auth_issuer or DEV_ISSUER
        audience = check_audience(settings.auth_audience or DEFAULT_AUDIENCE)
        verifier = PinnedJWTVerifier(keys_by_kid=_dev_keys(settings), issuer=issuer, audience=audience)
    else:
        issuer, audience = settings.auth_issuer or "", settings.auth_audience or ""
        missing = [name for name, value in (("ISSUER", issuer), ("AUDIENCE", audience)) if not value]
        if missing:
            raise AuthConfigError(f"auth_mode=oidc needs {' and '.join('PROMPTSALES_AUTH_' + m for m in missing)}.")
        check_audience(audience)
        jwks_uri = settings.auth_jwks_url or discover_jwks_uri(issuer)
        verifier = PinnedJWTVerifier(jwks_uri=jwks_uri, issuer=issuer, audience=audience)
    base_url = audience[: -len(MCP_PATH)]
    return RemoteAuthProvider(
        token_verifier=verifier,
        authorization_servers=[issuer],  # type: ignore[list-item]  # pydantic coerces str to AnyHttpUrl
        base_url=base_url,
        resource_name="PromptSales",
    )
