"""OAuth2: issuing client-credentials access tokens, and checking the bearer token on API requests."""

import base64
import binascii
import hmac
import string
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from promptsales.domain_core.business.paypal.simulator.errors import ApiError, OAuthError
from promptsales.domain_core.business.paypal.simulator.formats import iso
from promptsales.domain_core.business.paypal.simulator.models import Call
from promptsales.domain_core.business.paypal.simulator.state import SimulatorState

TOKEN_LIFETIME_S = 32400  # what PayPal's sandbox answers in expires_in


class OAuthRoutes(SimulatorState):
    """POST /v1/oauth2/token and bearer authentication."""

    def revoke_tokens(self) -> None:
        """Invalidate every access token issued so far (callers get 401 until they fetch a new one)."""
        self._tokens.clear()

    def _issue_token(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/api/rest/authentication/ : Basic client_id:secret +
        # grant_type=client_credentials → {scope, access_token, token_type, app_id, expires_in, nonce}
        scheme, _, encoded = call.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        valid = (
            scheme.lower() == "basic"
            and hmac.compare_digest(client_id.encode(), self.client_id.encode())
            and hmac.compare_digest(secret.encode(), self._client_secret.encode())
        )
        if not valid:
            raise OAuthError(401, "invalid_client", "Client Authentication failed")
        form = parse_qs(call.raw.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            raise OAuthError(400, "unsupported_grant_type", "Grant Type is NULL")
        now = self.clock()
        access_token = "A21AA" + "".join(self._rng.choices(string.ascii_letters + string.digits + "-_", k=92))
        self._tokens[access_token] = now + timedelta(seconds=TOKEN_LIFETIME_S)
        return 200, {
            "scope": "https://uri.paypal.com/services/subscriptions https://uri.paypal.com/services/payments/payment",
            "access_token": access_token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": TOKEN_LIFETIME_S,
            "nonce": f"{iso(now)}{self._ref('', 20)}",
        }

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        expires = self._tokens.get(credential) if scheme.lower() == "bearer" else None
        if expires is None or expires <= self.clock():
            raise ApiError(401)
