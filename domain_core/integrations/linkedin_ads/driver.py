"""LinkedIn ads for the core: Bearer auth, a probe, the sandbox ad account, and the
:class:`~promptsales.domain_core.integrations.ads.AdsPlatform` adapter over a session.

Live connections authorise through LinkedIn's 3-legged OAuth 2.0 (authorization code, scopes ``rw_ads r_ads
r_ads_reporting``, :mod:`..model.oauth_apps`); access tokens last about 60 days and refresh tokens about a year for
approved apps (§5 [~]), so a refused token is refreshed once by the session. The connection's ad accounts are the
ones the authorising member holds a role on (``adAccountUsers?q=authenticatedUser``).
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from promptsales.domain_core.integrations.ads import AdsPlatform
from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.linkedin_ads.adapter import LinkedInAdsAdapter
from promptsales.domain_core.integrations.linkedin_ads.client import LinkedInAdsClient
from promptsales.domain_core.integrations.linkedin_ads.simulator import LinkedInAdsSimulator
from promptsales.domain_core.integrations.model.ad_limits import AdLimits
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.sessions import Link


class LinkedInAdsDriver:
    """LinkedIn ads (Marketing API, versioned REST) for the connection lifecycle and the ads surface."""

    connector: Connector = get_connector("linkedin_ads")

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """api.linkedin.com/rest."""
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """``Authorization: Bearer <token>`` (the client adds LinkedIn-Version and the Rest.li protocol header)."""
        return {"Authorization": f"Bearer {secret['access_token']}"}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """List the member's ad accounts: proves the token and its ads scopes."""
        accounts = await LinkedInAdsClient(http).account_ids()
        return f"LinkedIn answered with {len(accounts)} ad account(s)."

    def ads(self, http: ConnectorHttp, link: Link, limits: AdLimits) -> AdsPlatform:
        """The ads surface over one session, for the ad accounts the member holds a role on."""
        return LinkedInAdsAdapter(LinkedInAdsClient(http), limits=limits)

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty LinkedIn Marketing API simulator."""
        return LinkedInAdsSimulator(tokens={}, clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """A 9-digit ad account per tenant."""
        account = tenant_number(tenant_id, 9)
        return SandboxAccount(account_id=account, label=f"LinkedIn sandbox ad account {account}", url_parts={})

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """The ad account, named, with no campaign groups yet."""
        assert isinstance(simulator, LinkedInAdsSimulator)
        simulator.open_account(account.account_id, name="Sandbox ad account")
