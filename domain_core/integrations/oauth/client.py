"""The OAuth 2.0 authorization-code flow with any platform: the authorization URL, code exchange and refresh.

Token requests go through :class:`ConnectorHttp` (deadline, redaction), and are never retried: a code is
single-use, and some platforms rotate refresh tokens on use (Canva, §12), so a retried refresh could burn the
new one. A refused grant (``invalid_grant``, 400/401) is :class:`AuthExpired`: the tenant must reconnect.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from promptsales.domain_core.integrations.http import ConnectorHttp, RequestPolicy
from promptsales.domain_core.integrations.model.connectors import Connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    ConnectorError,
    PlatformValidationError,
)
from promptsales.domain_core.integrations.model.oauth_apps import OAuthEndpoints

TOKEN_POLICY = RequestPolicy(attempt_timeout_s=10.0, deadline_s=15.0, max_attempts=1)


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """The deployment's registered app on one platform (live mode); Google Ads also needs the deployment's
    ``developer_token`` and, when tenants' accounts sit under the deployment's manager account, its
    ``login_customer_id``."""

    client_id: str
    client_secret: str = field(repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    developer_token: str | None = field(default=None, repr=False)
    login_customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token endpoint granted; ``extra`` keeps non-secret facts (Salesforce instance_url, TikTok advertisers)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    scope: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _fill(template: str, parts: Mapping[str, str]) -> str:
    for name, value in parts.items():
        template = template.replace("{" + name + "}", value)
    return template


class OAuthClient:
    """One platform's authorization-code flow for the deployment's app."""

    def __init__(
        self,
        connector: Connector,
        endpoints: OAuthEndpoints,
        app: AppCredentials,
        *,
        redirect_uri: str,
        url_parts: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._connector = connector
        self._endpoints = endpoints
        self._app = app
        self._redirect_uri = redirect_uri
        self._parts = dict(url_parts or {})
        self._transport = transport

    def authorization_url(self, *, state: str, challenge: str) -> str:
        """Where the tenant's admin approves access (state and the S256 challenge travel in it)."""
        if self._endpoints.token_style == "tiktok_json":  # noqa: S105  # a wire style, not a secret
            # TikTok's portal takes app_id, not client_id, and answers with auth_code (§4 [~ TikTok OAuth guide]).
            tiktok = {"app_id": self._app.client_id, "state": state, "redirect_uri": self._redirect_uri}
            return f"{_fill(self._endpoints.authorize_url, self._parts)}?{urlencode(tiktok)}"
        query = {
            "response_type": "code",
            "client_id": self._app.client_id,
            "redirect_uri": self._redirect_uri,
            "state": state,
        }
        if self._endpoints.scopes:
            query["scope"] = self._endpoints.scope_separator.join(self._endpoints.scopes)
        if self._endpoints.pkce:
            query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
        query |= self._endpoints.authorize_params
        return f"{_fill(self._endpoints.authorize_url, self._parts)}?{urlencode(query)}"

    async def exchange(self, *, code: str, verifier: str, now: datetime) -> TokenSet:
        """Trade an authorization code (and the PKCE verifier) for tokens."""
        if self._endpoints.token_style == "tiktok_json":  # noqa: S105  # a wire style, not a secret
            body = {"app_id": self._app.client_id, "secret": self._app.client_secret, "auth_code": code}
            return await self._post(json_body=body, now=now, secrets=(code,))
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri}
        if self._endpoints.pkce:
            form["code_verifier"] = verifier
        return await self._post(form=form, now=now, secrets=(code, verifier))

    async def refresh(self, *, refresh_token: str, now: datetime) -> TokenSet:
        """A new access token from a refresh token (the platform may rotate the refresh token too)."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        granted = await self._post(form=form, now=now, secrets=(refresh_token,))
        if granted.refresh_token is None:  # platforms that keep the refresh token answer without one
            return TokenSet(granted.access_token, refresh_token, granted.expires_at, granted.scope, granted.extra)
        return granted

    async def _post(
        self,
        *,
        now: datetime,
        secrets: tuple[str, ...],
        form: dict[str, str] | None = None,
        json_body: dict[str, str] | None = None,
    ) -> TokenSet:
        url = urlsplit(_fill(self._endpoints.token_url, self._parts))
        if form is not None:
            form = form | {"client_id": self._app.client_id, "client_secret": self._app.client_secret}
        http = ConnectorHttp(
            self._connector,
            base_url=f"{url.scheme}://{url.netloc}",
            tenant_id="oauth",
            policy=TOKEN_POLICY,
            transport=self._transport,
            secrets=(*secrets, self._app.client_secret),
        )
        async with http:
            try:
                response = await http.request("POST", url.path, form=form, json_body=json_body)
            except (PlatformValidationError, AuthExpired) as exc:
                raise AuthExpired(platform=self._connector.display_name, status=exc.status, detail=exc.detail) from None
        return _token_set(response.json(), now=now, platform=self._connector.display_name)


def _token_set(document: Any, *, now: datetime, platform: str) -> TokenSet:
    if isinstance(document, dict) and isinstance(document.get("data"), dict):  # TikTok wraps its answer
        document = document["data"]
    token = document.get("access_token") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token:
        raise ConnectorError(platform=platform, summary="the token endpoint answered without an access token")
    expires_in = document.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
        expires_at = now + timedelta(seconds=float(expires_in))
    refresh = document.get("refresh_token")
    # Non-secret facts some grants carry: Salesforce's instance_url and identity URL ``id`` (…/id/<org>/<user>),
    # TikTok's advertiser_ids, HubSpot's hub_id.
    extra = {k: document[k] for k in ("instance_url", "id", "advertiser_ids", "hub_id") if k in document}
    return TokenSet(
        access_token=token,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=expires_at,
        scope=document.get("scope") if isinstance(document.get("scope"), str) else None,
        extra=extra,
    )
