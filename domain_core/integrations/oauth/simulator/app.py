"""A platform's OAuth 2.0 token endpoint in memory: authorization codes with PKCE, refresh, revocation.

Wire shapes: RFC 6749 §4.1.3 (code exchange, form-encoded), §6 (refresh), §5.2 (``{"error": "invalid_grant"}``
with HTTP 400), RFC 7636 §4.6 (S256 verification). Access tokens it issues are handed to ``on_grant`` so the
platform simulator accepts them; refresh tokens rotate on use when ``rotate_refresh`` is set (Canva, §12).
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from promptsales.domain_core.integrations.model.pkce import code_challenge_s256
from promptsales.domain_core.shared.clock import utc_now

Grant = Callable[[str, str], None]


@dataclass
class _Code:
    account: str
    redirect_uri: str
    challenge: str | None
    expires_at: datetime


class OAuthSimulator:
    """Issues and refreshes tokens for one platform's app; ``grant``/``revoke`` act as the platform's admin."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_path: str,
        on_grant: Grant,
        on_revoke: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
        access_ttl: timedelta = timedelta(minutes=30),
        rotate_refresh: bool = False,
    ) -> None:
        self._client_id, self._client_secret = client_id, client_secret
        self._on_grant, self._on_revoke = on_grant, on_revoke
        self._clock = clock
        self._ttl = access_ttl
        self._rotate = rotate_refresh
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> account
        self._access: dict[str, str] = {}  # access token -> refresh token it came from
        self.token_requests = 0
        self.app = Starlette(routes=[Route(token_path, self._token, methods=["POST"])])

    def approve(self, *, account: str, redirect_uri: str, state: str, code_challenge: str | None) -> str:
        """The admin approved: the redirect back to ``redirect_uri`` with a single-use code and the state."""
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(account, redirect_uri, code_challenge, self._clock() + timedelta(minutes=10))
        return f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"

    def issue(self, account: str) -> dict[str, object]:
        """Tokens for ``account`` without the browser step (sandbox connections are instant)."""
        refresh = "rt-" + secrets.token_urlsafe(24)
        self._refresh[refresh] = account
        return self._access_for(account, refresh)

    def remember(self, refresh_token: str, account: str) -> None:
        """Accept a refresh token another replica's simulator issued (sandbox state is per process)."""
        self._refresh.setdefault(refresh_token, account)

    def revoke(self, refresh_token: str) -> None:
        """The admin removed the app: the refresh token and every access token from it stop working."""
        self._refresh.pop(refresh_token, None)
        for access, source in list(self._access.items()):
            if source == refresh_token:
                del self._access[access]
                if self._on_revoke is not None:
                    self._on_revoke(access)

    def _access_for(self, account: str, refresh: str) -> dict[str, object]:
        access = "at-" + secrets.token_urlsafe(24)
        self._access[access] = refresh
        self._on_grant(access, account)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": int(self._ttl.total_seconds()),
        }

    @staticmethod
    def _refused(description: str, error: str = "invalid_grant") -> Response:
        return JSONResponse({"error": error, "error_description": description}, status_code=400)

    async def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = await request.form()
        if form.get("client_id") != self._client_id or not secrets.compare_digest(
            str(form.get("client_secret", "")), self._client_secret
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self._codes.pop(str(form.get("code", "")), None)  # single use, even when it fails below
            if code is None or code.expires_at < self._clock():
                return self._refused("The authorization code is invalid, used or expired.")
            if form.get("redirect_uri") != code.redirect_uri:
                return self._refused("redirect_uri does not match the authorization request.")
            if code.challenge is not None:
                verifier = str(form.get("code_verifier", ""))
                try:
                    matches = secrets.compare_digest(code_challenge_s256(verifier), code.challenge)
                except ValueError:
                    matches = False
                if not matches:
                    return self._refused("code_verifier does not match the code_challenge.")
            refresh = "rt-" + secrets.token_urlsafe(24)
            self._refresh[refresh] = code.account
            return JSONResponse(self._access_for(code.account, refresh))
        if grant == "refresh_token":
            old = str(form.get("refresh_token", ""))
            account = self._refresh.get(old)
            if account is None:
                return self._refused("The refresh token is invalid or was revoked.")
            if self._rotate:
                del self._refresh[old]
                old = "rt-" + secrets.token_urlsafe(24)
                self._refresh[old] = account
            return JSONResponse(self._access_for(account, old))
        return self._refused(f"Unsupported grant_type {grant!r}.", error="unsupported_grant_type")
