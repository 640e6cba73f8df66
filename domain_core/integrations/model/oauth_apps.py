# ruff: noqa: S105, S106  # "token_url"/"token_style" name endpoints and wire styles, not secrets
"""Where each platform's OAuth 2.0 authorization-code flow lives, and the scopes PromptSales asks for (pure data).

Sources: shared/reference/platform_apis.md (§ per platform); ``[~]`` marks endpoints the reference does not state,
taken from the platform's public OAuth guide and to be checked when the app is registered.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

TokenStyle = Literal["form", "tiktok_json"]


@dataclass(frozen=True, slots=True)
class OAuthEndpoints:
    """One platform's authorization and token endpoints (may hold the connector's {placeholders})."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    pkce: bool  # whether the platform takes code_challenge (S256); a verifier is kept either way
    token_style: TokenStyle = "form"  # RFC 6749 §4.1.3 form post, or TikTok's JSON body
    scope_separator: str = " "
    # Extra authorization-URL parameters the platform needs (Google: a refresh token only with access_type=offline).
    authorize_params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


OAUTH_ENDPOINTS: Mapping[str, OAuthEndpoints] = MappingProxyType(
    {
        # §9: OAuth public apps return expires_in and must refresh proactively; endpoints [~ HubSpot OAuth guide].
        "hubspot": OAuthEndpoints(
            authorize_url="https://app.hubspot.com/oauth/authorize",
            token_url="https://api.hubapi.com/oauth/v1/token",
            scopes=("crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read"),
            pkce=False,
        ),
        # §10: token endpoint on the login host (or My Domain); authorize [~ Salesforce web server flow].
        "salesforce": OAuthEndpoints(
            authorize_url="https://login.salesforce.com/services/oauth2/authorize",
            token_url="https://login.salesforce.com/services/oauth2/token",
            scopes=("api", "refresh_token"),
            pkce=True,
        ),
        # §11: OAuth Bearer accepted; endpoints on the tenant's subdomain [~ Zendesk OAuth guide].
        "zendesk": OAuthEndpoints(
            authorize_url="https://{subdomain}.zendesk.com/oauth/authorizations/new",
            token_url="https://{subdomain}.zendesk.com/oauth/tokens",
            scopes=("read", "write"),
            pkce=True,
        ),
        # §2: scope https://www.googleapis.com/auth/adwords; token POST https://oauth2.googleapis.com/token.
        # Google returns a refresh token only for access_type=offline, and again on a reconnect only with
        # prompt=consent [~ Google OAuth 2.0 for web server apps].
        "google_ads": OAuthEndpoints(
            authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
            token_url="https://oauth2.googleapis.com/token",
            scopes=("https://www.googleapis.com/auth/adwords",),
            pkce=True,
            authorize_params=MappingProxyType({"access_type": "offline", "prompt": "consent"}),
        ),
        # §4: POST /open_api/v1.3/oauth2/access_token/ {app_id, secret, auth_code}; authorize [~ TikTok guide].
        "tiktok_ads": OAuthEndpoints(
            authorize_url="https://business-api.tiktok.com/portal/auth",
            token_url="https://business-api.tiktok.com/open_api/v1.3/oauth2/access_token/",
            scopes=(),
            pkce=False,
            token_style="tiktok_json",
        ),
        # §5: 3-legged OAuth 2.0 authorization code; scopes rw_ads, r_ads, r_ads_reporting.
        "linkedin_ads": OAuthEndpoints(
            authorize_url="https://www.linkedin.com/oauth/v2/authorization",
            token_url="https://www.linkedin.com/oauth/v2/accessToken",
            scopes=("rw_ads", "r_ads", "r_ads_reporting"),
            pkce=False,
        ),
        # §6: https://login.mailchimp.com/oauth2/authorize → /oauth2/token; tokens do not expire [~].
        "mailchimp": OAuthEndpoints(
            authorize_url="https://login.mailchimp.com/oauth2/authorize",
            token_url="https://login.mailchimp.com/oauth2/token",
            scopes=(),
            pkce=False,
        ),
        # §12: authorization code + PKCE (S256) only; token POST /v1/oauth/token; single-use refresh tokens.
        "canva": OAuthEndpoints(
            authorize_url="https://www.canva.com/api/oauth/authorize",
            token_url="https://api.canva.com/rest/v1/oauth/token",
            scopes=("design:meta:read", "design:content:read", "asset:read", "asset:write"),
            pkce=True,
        ),
    }
)
