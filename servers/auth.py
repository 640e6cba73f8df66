"""HTTP authentication: bearer JWTs verified against the dev issuer or an OIDC provider's JWKS.

``build_auth(settings)`` turns ``PROMPTSALES_AUTH_*`` into a fastmcp auth provider:

* ``none`` → ``None`` (the CLI refuses to bind anything but loopback in this mode);
* ``dev``  → RS256 verifier with the public key(s) of ``data_dir/auth/dev-jwks.json`` (``promptsales auth dev-keys``);
* ``oidc`` → RS256 verifier with the provider's JWKS (``PROMPTSALES_AUTH_JWKS_URL``, or ``jwks_uri`` from
  ``{issuer}/.well-known/openid-configuration``, fetched once at startup with a bounded timeout; the document's
  ``issuer`` must be the configured one).

Either verifier is wrapped in fastmcp's ``RemoteAuthProvider``: a request without a valid token gets 401 with
``WWW-Authenticate: Bearer ... resource_metadata="<origin>/.well-known/oauth-protected-resource/mcp"``, and that
URL serves RFC 9728 metadata whose ``resource`` is the audience. The audience must be the server's canonical
URL (``scheme://host[:port]/mcp``) and tokens must carry exactly it in ``aud`` (a string, or a list holding only
it: a token minted for several resources is refused).

On top of fastmcp's checks (signature, algorithm, ``exp``, ``iss``, ``aud``) the verifier pins the header
``alg`` to RS256, requires ``exp`` and a ``kid``, rejects ``nbf``/``iat`` in the future (30 s leeway) and
rejects a ``kid`` it has no key for. Only the ``Authorization`` header is read (never a query string).

JWKS keys (oidc) are cached for an hour. A token whose ``kid`` is not cached triggers a refresh of the whole
set, at most once per ``jwks_refresh_interval`` seconds (30 by default; failed fetches count), so a flood of
tokens with made-up ``kid``s costs the provider at most one request per interval. A failed refresh keeps the
keys already known. The JWKS request carries no credentials: the caller's token never leaves this process.
"""

import asyncio
import ipaddress
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx2
import structlog
from fastmcp.server.auth import AccessToken, AuthProvider, RemoteAuthProvider
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.utilities.auth import decode_jwt_header
from joserfc import jwk

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.dev_issuer import ALGORITHM, DEV_ISSUER, DevIssuerError, load_dev_jwks
from promptsales.servers.scopes import supported_scopes

log = structlog.get_logger(__name__)

MCP_PATH = "/mcp"
# Binds that name no reachable address: the public URL must then come from PROMPTSALES_PUBLIC_URL.
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - compared against, never bound
CLOCK_LEEWAY_S = 30
DISCOVERY_TIMEOUT_S = 5.0
JWKS_TIMEOUT_S = 5.0
JWKS_CACHE_TTL_S = 3600.0
JWKS_REFRESH_INTERVAL_S = 30.0

Clock = Callable[[], float]


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


def rsa_keys_by_kid(entries: Iterable[Any]) -> dict[str, str]:
    """PEM public keys of the JWKS entries usable for RS256 signatures (RSA, with a kid; ``use``/``alg`` if
    present must be ``sig``/``RS256``); anything else is skipped, as RFC 7517 §5 asks."""
    keys: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            keys[entry["kid"]] = jwk.RSAKey.import_key(entry).as_pem(private=False).decode("utf-8")
        except Exception:  # an unusable key must not take the whole set down  # noqa: S112
            continue
    return keys


class PinnedJWTVerifier(JWTVerifier):
    """fastmcp's ``JWTVerifier`` plus the checks it leaves out (pinned alg, required exp and kid, nbf/iat, exact
    audience) and a JWKS cache whose refreshes on an unknown ``kid`` are throttled.

    ``keys_by_kid`` is a static key set (dev issuer); otherwise ``jwks_uri`` is fetched on first use and
    refreshed as described in the module docstring. ``clock`` (monotonic seconds) drives the cache and the
    throttle only; token times (exp/nbf/iat) are always checked against the wall clock.
    """

    def __init__(
        self,
        *,
        keys_by_kid: dict[str, str] | None = None,
        jwks_refresh_interval: float = JWKS_REFRESH_INTERVAL_S,
        jwks_cache_ttl: float = JWKS_CACHE_TTL_S,
        clock: Clock = time.monotonic,
        **kwargs: Any,
    ) -> None:
        if keys_by_kid is not None:
            kwargs["public_key"] = next(iter(keys_by_kid.values()))
        if jwks_refresh_interval < 0 or jwks_cache_ttl <= 0:
            raise ValueError("jwks_refresh_interval must be >= 0 and jwks_cache_ttl > 0")
        super().__init__(algorithm=ALGORITHM, **kwargs)
        self._keys_by_kid = keys_by_kid
        self._jwks_refresh_interval = jwks_refresh_interval
        self._jwks_ttl = jwks_cache_ttl
        self._clock = clock
        self._jwks_keys: dict[str, str] = {}
        self._jwks_loaded_at: float | None = None
        self._jwks_attempted_at: float | None = None
        self._jwks_lock = asyncio.Lock()

    async def _get_verification_key(self, token: str) -> str | bytes:
        """The key named by the token's ``kid`` (checked to be a string in ``load_access_token``)."""
        kid = str(decode_jwt_header(token).get("kid"))
        if self._keys_by_kid is not None:
            return self._keys_by_kid[kid]
        return await self._jwks_key(kid)

    def _jwks_fresh(self, now: float) -> bool:
        return self._jwks_loaded_at is not None and now - self._jwks_loaded_at < self._jwks_ttl

    async def _jwks_key(self, kid: str) -> str:
        """The cached key for ``kid``; on a miss (or a stale cache) one throttled refresh, shared by concurrent
        requests. Raises ``ValueError`` (→ 401) when there is still no key."""
        key = self._jwks_keys.get(kid)
        if key is not None and self._jwks_fresh(self._clock()):
            return key
        async with self._jwks_lock:
            now = self._clock()
            key = self._jwks_keys.get(kid)
            if key is not None and self._jwks_fresh(now):
                return key  # another request refreshed while this one waited
            attempted = self._jwks_attempted_at
            if attempted is None or now - attempted >= self._jwks_refresh_interval:
                self._jwks_attempted_at = now
                reason = "initial" if self._jwks_loaded_at is None else "stale" if key is not None else "unknown_kid"
                await self._refresh_jwks(reason=reason)
                key = self._jwks_keys.get(kid)
        if key is None:
            raise ValueError("no key for the token's kid")
        return key  # a stale key is still used while refreshes fail or wait for the interval

    async def _refresh_jwks(self, *, reason: str) -> None:
        """Replace the cached keys with the provider's current set; on failure keep the old ones."""
        assert self.jwks_uri is not None
        try:
            async with httpx2.AsyncClient(timeout=JWKS_TIMEOUT_S, follow_redirects=False) as client:
                response = await client.get(self.jwks_uri, headers={"Accept": "application/json"})
                response.raise_for_status()
                document = response.json()
            entries = document.get("keys") if isinstance(document, dict) else None
            if not isinstance(entries, list):
                raise ValueError("the document has no 'keys' list")
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("jwks_refresh_failed", url=self.jwks_uri, reason=reason, error=exc.__class__.__name__)
            return
        self._jwks_keys = rsa_keys_by_kid(entries)
        self._jwks_loaded_at = self._clock()
        log.info("jwks_refreshed", url=self.jwks_uri, reason=reason, keys=len(self._jwks_keys))

    def _audience_ok(self, aud: Any) -> bool:
        """``aud`` is exactly this server: the audience string, or a list holding only it."""
        return aud == self.audience or (isinstance(aud, list) and aud == [self.audience])

    async def load_access_token(self, token: str) -> AccessToken | None:
        """The verified token, or None (→ 401) for anything not exactly right."""
        try:
            header = decode_jwt_header(token)
        except Exception:
            return None
        if header.get("alg") != ALGORITHM:
            return None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            return None
        if self._keys_by_kid is not None and kid not in self._keys_by_kid:
            return None
        access = await super().load_access_token(token)
        if access is None:
            return None
        claims = access.claims
        if not self._audience_ok(claims.get("aud")):
            return None
        now = time.time()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now:
            return None
        for value in (nbf, iat):
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool) or value > now + CLOCK_LEEWAY_S
            ):
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
    """``jwks_uri`` from the issuer's OpenID discovery document (one bounded request).

    The document must name ``issuer`` itself (OpenID Connect Discovery §4.3), so a mistyped or foreign
    ``PROMPTSALES_AUTH_ISSUER`` fails here rather than as a 401 on every request.
    """
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx2.get(url, timeout=timeout, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("the document is not a JSON object")
    except (httpx2.HTTPError, ValueError) as exc:
        raise AuthConfigError(
            f"Could not read OIDC discovery at {url} ({exc.__class__.__name__}: {exc}); check PROMPTSALES_AUTH_ISSUER "
            "or set PROMPTSALES_AUTH_JWKS_URL."
        ) from exc
    advertised = document.get("issuer")
    if not isinstance(advertised, str) or advertised.rstrip("/") != issuer.rstrip("/"):
        raise AuthConfigError(
            f"OIDC discovery at {url} names issuer {advertised!r}, not {issuer!r}; set PROMPTSALES_AUTH_ISSUER to "
            "the provider's issuer exactly (tokens carry it in 'iss')."
        )
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise AuthConfigError(f"OIDC discovery at {url} has no usable 'jwks_uri'; set PROMPTSALES_AUTH_JWKS_URL.")
    return jwks_uri


def _dev_keys(settings: Settings) -> dict[str, str]:
    try:
        jwks = load_dev_jwks(settings.data_dir)
    except DevIssuerError as exc:
        raise AuthConfigError(str(exc)) from exc
    keys = rsa_keys_by_kid(jwks["keys"])
    if not keys:
        raise AuthConfigError("The development JWKS holds no RSA key with a kid; run `promptsales auth dev-keys`.")
    return keys


def bound_settings(settings: Settings, *, host: str | None = None, port: int | None = None) -> Settings:
    """``settings`` with the public URL following the bind, unless PROMPTSALES_PUBLIC_URL was set.

    Links this server hands out (OAuth resource metadata, buyer return pages, sandbox approval pages) then point
    at the address it actually listens on.
    """
    bind = host or settings.http_host
    if "public_url" in settings.model_fields_set or bind in WILDCARD_BINDS:
        return settings
    return settings.model_copy(update={"public_url": f"http://{bind}:{port or settings.http_port}"})


def canonical_resource(settings: Settings) -> str:
    """This server's canonical MCP URL: the configured audience, else the public URL (which follows the bind)."""
    return settings.auth_audience or f"{settings.public_url.rstrip('/')}{MCP_PATH}"


def build_auth(settings: Settings, *, clock: Clock = time.monotonic) -> AuthProvider | None:
    """The auth provider for HTTP serving, or None for ``auth_mode=none``; raises ``AuthConfigError``.

    ``clock`` (monotonic seconds) drives the JWKS cache and refresh throttle; tests pass a fake one.
    """
    if settings.auth_mode == "none":
        return None
    if settings.auth_mode == "dev":
        issuer = settings.auth_issuer or DEV_ISSUER
        audience = check_audience(canonical_resource(settings))
        verifier = PinnedJWTVerifier(keys_by_kid=_dev_keys(settings), issuer=issuer, audience=audience)
    else:
        issuer, audience = settings.auth_issuer or "", settings.auth_audience or ""
        missing = [name for name, value in (("ISSUER", issuer), ("AUDIENCE", audience)) if not value]
        if missing:
            raise AuthConfigError(f"auth_mode=oidc needs {' and '.join('PROMPTSALES_AUTH_' + m for m in missing)}.")
        check_audience(audience)
        jwks_uri = settings.auth_jwks_url or discover_jwks_uri(issuer)
        verifier = PinnedJWTVerifier(jwks_uri=jwks_uri, issuer=issuer, audience=audience, clock=clock)
    base_url = audience[: -len(MCP_PATH)]
    return RemoteAuthProvider(
        token_verifier=verifier,
        authorization_servers=[issuer],  # type: ignore[list-item]  # pydantic coerces str to AnyHttpUrl
        base_url=base_url,
        resource_name="PromptSales",
        scopes_supported=supported_scopes(),
    )
