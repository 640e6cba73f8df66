"""Meta ads for the core: a system user's token (live, given as ``api_key``) or a sandbox token, a probe, the sandbox
ad account, and the :class:`~promptsales.domain_core.integrations.ads.AdsPlatform` adapter over a session.

Live setup (§3 "Auth": server integrations use system-user tokens): a system user in the tenant's Business Manager
with the ``ads_management`` permission, assigned to the ad accounts PromptSales may use; its token is pasted as
``api_key``. The accounts are listed from ``/me/adaccounts``, so no account id is needed at connect time.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from promptsales.domain_core.integrations.ads import AdsPlatform
from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.meta_ads.adapter import MetaAdsAdapter
from promptsales.domain_core.integrations.meta_ads.client import MetaAdsClient
from promptsales.domain_core.integrations.meta_ads.simulator import MetaAdsSimulator
from promptsales.domain_core.integrations.model.ad_limits import AdLimits
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.sessions import Link


class MetaAdsDriver:
    """Meta (Facebook / Instagram) ads for the connection lifecycle and the ads surface."""

    connector: Connector = get_connector("meta_ads")

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """graph.facebook.com/v25.0."""
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """Bearer with the system user's (or sandbox) token (§3)."""
        return {"Authorization": f"Bearer {secret['access_token']}"}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """List the ad accounts the token reaches: proves the token and its ads permission."""
        accounts = await MetaAdsClient(http).ad_accounts(limit=25)
        shown = ", ".join(a.id for a in accounts[:3]) + (" …" if len(accounts) > 3 else "")
        return f"Meta answered: the token reaches {len(accounts)} ad account(s) ({shown or 'none'})."

    def ads(self, http: ConnectorHttp, link: Link, limits: AdLimits) -> AdsPlatform:
        """The ads surface over one session."""
        return MetaAdsAdapter(MetaAdsClient(http), limits=limits)

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty Meta Marketing API simulator."""
        return MetaAdsSimulator(tokens={}, clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """An ``act_`` ad account per tenant."""
        account = f"act_{tenant_number(tenant_id, 15)}"
        return SandboxAccount(account_id=account, label=f"Meta sandbox ad account {account}", url_parts={})

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """The ad account, named, with its page and no campaigns yet."""
        assert isinstance(simulator, MetaAdsSimulator)
        simulator.open_account(account.account_id, name="Sandbox ad account")
