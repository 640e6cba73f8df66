"""Sandbox mode: one in-process simulator per platform (and its OAuth server), reached through ASGITransport.

Each replica has its own simulators. A tenant's sandbox account is derived from the tenant id, its demo data is
seeded deterministically on first use, and stored tokens are granted again whenever a replica meets them, so
every replica agrees about a tenant's sandbox (writes sent to one replica's simulator stay in that replica).
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import httpx

from promptsales.domain_core.integrations.drivers import Driver, SandboxAccount, Simulator
from promptsales.domain_core.integrations.oauth.client import AppCredentials, TokenSet
from promptsales.domain_core.integrations.oauth.simulator import OAuthSimulator

SANDBOX_APP = AppCredentials(client_id="promptsales-sandbox", client_secret="promptsales-sandbox-secret")  # noqa: S106
SANDBOX_TOKEN_PATH = "/oauth/token"  # noqa: S105  # a path, not a secret


class Sandbox:
    """The simulators of every platform, created on first use."""

    def __init__(self, drivers: Mapping[str, Driver], *, clock: Callable[[], datetime]) -> None:
        self._drivers = drivers
        self._clock = clock
        self._simulators: dict[str, Simulator] = {}
        self._oauth: dict[str, OAuthSimulator] = {}
        self._seeded: set[tuple[str, str]] = set()
        self._revoked: set[str] = set()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The simulators' time: the clock, moved on by :meth:`advance`."""
        return self._clock() + self._offset

    def advance(self, delta: timedelta) -> None:
        """Act as if ``delta`` had passed on this replica's simulators: ads that are on deliver for those days, so a
        demo or a test sees days of results at once. Time never goes back."""
        if delta < timedelta(0):
            raise ValueError("sandbox time only moves forward")
        self._offset += delta

    def simulator(self, platform: str) -> Simulator:
        """The platform's simulator."""
        if platform not in self._simulators:
            self._simulators[platform] = self._drivers[platform].new_simulator(self.now)
        return self._simulators[platform]

    def oauth(self, platform: str) -> OAuthSimulator:
        """The platform's authorization server (tokens it issues are granted on the platform simulator)."""
        if platform not in self._oauth:
            simulator = self.simulator(platform)
            self._oauth[platform] = OAuthSimulator(
                client_id=SANDBOX_APP.client_id,
                client_secret=SANDBOX_APP.client_secret,
                token_path=SANDBOX_TOKEN_PATH,
                on_grant=simulator.grant,
                on_revoke=simulator.revoke,
                clock=self.now,
            )
        return self._oauth[platform]

    def transport(self, platform: str) -> httpx.AsyncBaseTransport:
        """Requests to the platform's API go to its simulator."""
        return httpx.ASGITransport(app=self.simulator(platform).app)

    def oauth_transport(self, platform: str) -> httpx.AsyncBaseTransport:
        """Token requests go to the platform's simulated authorization server."""
        return httpx.ASGITransport(app=self.oauth(platform).app)

    def account(self, platform: str, tenant_id: str) -> SandboxAccount:
        """The tenant's sandbox account, seeded with demo data once per replica."""
        driver = self._drivers[platform]
        account = driver.sandbox_account(tenant_id)
        if (platform, account.account_id) not in self._seeded:
            driver.seed_sandbox(self.simulator(platform), account, self.now())
            self._seeded.add((platform, account.account_id))
        return account

    def issue(self, platform: str, tenant_id: str) -> tuple[SandboxAccount, TokenSet]:
        """An instant authorization: the account and fresh tokens for it."""
        account = self.account(platform, tenant_id)
        granted = self.oauth(platform).issue(account.account_id)
        expires_in = granted.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int):
            expires_at = self._clock() + timedelta(seconds=expires_in)
        return account, TokenSet(
            access_token=str(granted["access_token"]),
            refresh_token=str(granted["refresh_token"]),
            expires_at=expires_at,
        )

    def recognise(self, platform: str, tenant_id: str, access_token: str, refresh_token: str | None) -> None:
        """Make this replica's simulators accept tokens another replica issued."""
        account = self.account(platform, tenant_id)
        if access_token not in self._revoked:
            self.simulator(platform).grant(access_token, account.account_id)
        if refresh_token and refresh_token not in self._revoked:
            self.oauth(platform).remember(refresh_token, account.account_id)

    def revoke(self, platform: str, *, access_token: str, refresh_token: str | None) -> None:
        """Act as the platform's admin removing the app: the tokens stop working for good."""
        self._revoked.update(t for t in (access_token, refresh_token) if t)
        self.simulator(platform).revoke(access_token)
        if refresh_token:
            self.oauth(platform).revoke(refresh_token)
