"""Open connections: a tenant's credentials for a platform, refreshed before expiry, sent through ConnectorHttp.

Every capability (sync, messaging, ads, design exports, webhooks) reaches a platform through
:meth:`Sessions.run`: a refused token is refreshed once; a refused refresh or a second refusal marks the
connection ``needs_reauth`` with the platform's reason, and the error reaches the caller (no retry loop).
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations.budget import PlatformBudget
from promptsales.domain_core.integrations.drivers import Driver, RenewingDriver
from promptsales.domain_core.integrations.dto import AuthorizationOutcome, ConnectionView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import AuthExpired
from promptsales.domain_core.integrations.model.oauth_apps import OAUTH_ENDPOINTS, OAuthEndpoints
from promptsales.domain_core.integrations.oauth.client import AppCredentials, OAuthClient
from promptsales.domain_core.integrations.sandbox import SANDBOX_APP, Sandbox
from promptsales.domain_core.integrations.service import connections, sync_runs
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed

T = TypeVar("T")
REFRESH_MARGIN = timedelta(minutes=5)
CALLBACK_PATH = "/oauth/callback/{platform}"


@dataclass(frozen=True, slots=True)
class Link:
    """An open connection: what its requests need (the secret is never shown)."""

    platform: str
    mode: str
    account_id: str | None
    url_parts: Mapping[str, str]
    secret: dict[str, Any] = field(repr=False)
    expires_at: datetime | None

    @property
    def sandbox(self) -> bool:
        """Whether requests go to the platform's in-process simulator."""
        return self.mode == "sandbox"


class Sessions:
    """Opens, refreshes and uses a tenant's connections."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        credentials: CredentialStore,
        *,
        drivers: Mapping[str, Driver],
        sandbox: Sandbox,
        apps: Mapping[str, AppCredentials],
        public_url: str,
        budget: PlatformBudget | None,
        live_transport: httpx.AsyncBaseTransport | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._uow = uow
        self.credentials = credentials
        self.drivers = drivers
        self.sandbox = sandbox
        self.apps = apps
        self._public_url = public_url.rstrip("/")
        self._budget = budget
        self.live_transport = live_transport
        self.clock = clock

    def driver(self, platform: str) -> Driver:
        """The platform's driver, or an error naming the platforms that can be connected."""
        connector = get_connector(platform)  # NotFound listing the valid platforms
        driver = self.drivers.get(platform)
        if driver is None:
            raise ValidationFailed(
                f"{connector.display_name} is catalogued but cannot be connected in this version yet.",
                field="platform",
                hint=f"Connectable now: {', '.join(sorted(self.drivers))}.",
            )
        return driver

    def redirect_uri(self, platform: str) -> str:
        """Where a platform sends the admin back after approving (register it in the platform's app)."""
        return self._public_url + CALLBACK_PATH.format(platform=platform)

    def app(self, platform: str, mode: str) -> AppCredentials | None:
        """The app credentials that sign and authorise ``platform`` in ``mode`` (None: none registered)."""
        return SANDBOX_APP if mode == "sandbox" else self.apps.get(platform)

    def oauth(self, platform: str, mode: str, url_parts: Mapping[str, str]) -> OAuthClient:
        """The platform's OAuth client for the deployment's app (the simulator's in sandbox mode)."""
        endpoints = OAUTH_ENDPOINTS.get(platform)
        if endpoints is None and mode != "sandbox":
            raise ValidationFailed(f"{platform} takes no OAuth authorization here.", field="platform")
        transport: httpx.AsyncBaseTransport | None
        if mode == "sandbox":
            # Every sandbox connection holds simulator-issued OAuth tokens, key-based platforms' included.
            sandbox_oauth = f"https://{platform}-oauth.sandbox.promptsales.invalid"
            app, transport = SANDBOX_APP, self.sandbox.oauth_transport(platform)
            endpoints = OAuthEndpoints(
                authorize_url=endpoints.authorize_url if endpoints else sandbox_oauth + "/authorize",
                token_url=sandbox_oauth + "/oauth/token",
                scopes=endpoints.scopes if endpoints else (),
                pkce=endpoints.pkce if endpoints else False,
            )
        else:
            assert endpoints is not None
            found = self.apps.get(platform)
            if found is None:
                raise ValidationFailed(
                    f"This deployment has no {platform} app registered for live connections.",
                    field="platform",
                    hint=f"Set PROMPTSALES_INTEGRATIONS_APPS with a '{platform}' entry (README: Integrations).",
                )
            app, transport = found, self.live_transport
        return OAuthClient(
            get_connector(platform),
            endpoints,
            app,
            redirect_uri=self.redirect_uri(platform),
            url_parts=url_parts,
            transport=transport,
        )

    async def open(self, caller: Caller, platform: str) -> Link:
        """The tenant's connected connection to ``platform``, its token refreshed when it is about to expire."""

        async def work(uow: UnitOfWork) -> Link:
            record = await sync_runs.usable_connection(uow, platform)
            secret = await self.credentials.get(uow, connections.credential_name(platform))
            if secret is None:
                raise NotFound("connection", platform, field="platform")
            return Link(
                platform, record.mode, record.account_id, dict(record.url_parts), secret, record.token_expires_at
            )

        link = await self._uow.read(caller, work)
        if link.sandbox:
            self.sandbox.recognise(
                platform, caller.tenant_id, link.secret["access_token"], link.secret.get("refresh_token")
            )
        if link.expires_at is not None and self.renewable(link) and link.expires_at - self.clock() < REFRESH_MARGIN:
            link = await self.refresh(caller, link)
        return link

    def renewable(self, link: Link) -> bool:
        """Whether the link's token can be renewed: a refresh token, or a live driver that asks for a new one."""
        renews = not link.sandbox and isinstance(self.drivers.get(link.platform), RenewingDriver)
        return bool(link.secret.get("refresh_token")) or renews

    async def _renewed(self, caller: Caller, link: Link) -> tuple[dict[str, Any], datetime | None]:
        driver = self.drivers.get(link.platform)
        if not link.sandbox and isinstance(driver, RenewingDriver):
            return await driver.renew(
                link.secret, tenant_id=caller.tenant_id, transport=self.live_transport, now=self.clock()
            )
        client = self.oauth(link.platform, link.mode, link.url_parts)
        tokens = await client.refresh(refresh_token=link.secret["refresh_token"], now=self.clock())
        return {**link.secret, "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}, (
            tokens.expires_at
        )

    async def refresh(self, caller: Caller, link: Link) -> Link:
        """New tokens from the refresh token (or the driver), stored before use (a rotated refresh token must not
        be lost)."""
        try:
            secret, expires_at = await self._renewed(caller, link)
        except AuthExpired as exc:
            await self.needs_reauth(caller, link.platform, exc)
            raise

        async def store(uow: UnitOfWork) -> AuthorizationOutcome:
            await connections.refreshed(
                uow, self.credentials, platform=link.platform, secret=secret, expires_at=expires_at
            )
            return AuthorizationOutcome(ok=True, platform=link.platform, message="refreshed")

        await self._uow.mutate(
            caller,
            action="integrations.refresh",
            arguments={"platform": link.platform},
            idempotency_key=None,
            work=store,
            result_type=AuthorizationOutcome,
        )
        return Link(link.platform, link.mode, link.account_id, link.url_parts, secret, expires_at)

    async def needs_reauth(self, caller: Caller, platform: str, error: AuthExpired) -> None:
        """Stop using refused credentials until the tenant reconnects."""
        reason = error.detail or "the platform refused the stored credentials"
        await self._uow.mutate(
            caller,
            action="integrations.needs_reauth",
            arguments={"platform": platform},
            idempotency_key=None,
            work=lambda uow: connections.needs_reauth(uow, platform=platform, reason=reason),
            result_type=ConnectionView,
        )

    def http(self, caller: Caller, link: Link) -> ConnectorHttp:
        """A request session for the link (the platform's simulator in sandbox mode)."""
        driver = self.drivers[link.platform]

        async def auth() -> Mapping[str, str]:
            return driver.auth_headers(link.secret)

        return ConnectorHttp(
            driver.connector,
            base_url=driver.sandbox_base_url(link.url_parts) if link.sandbox else driver.live_base_url(link.url_parts),
            tenant_id=caller.tenant_id,
            auth=auth,
            budget=self._budget,
            transport=self.sandbox.transport(link.platform) if link.sandbox else self.live_transport,
            secrets=[str(v) for v in link.secret.values() if isinstance(v, str)],
        )

    async def run(self, caller: Caller, platform: str, work: Callable[[ConnectorHttp, Link], Awaitable[T]]) -> T:
        """Run ``work`` with an open session; a refused token is refreshed once, else the connection needs_reauth."""
        link = await self.open(caller, platform)
        for attempt in (1, 2):
            async with self.http(caller, link) as http:
                try:
                    return await work(http, link)
                except AuthExpired as exc:
                    if attempt == 1 and self.renewable(link):
                        link = await self.refresh(caller, link)
                        continue
                    await self.needs_reauth(caller, platform, exc)
                    raise
        raise AssertionError("unreachable")
