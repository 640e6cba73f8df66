"""TikTok ads for the core: the ``Access-Token`` header, a probe, the sandbox advertiser, and the
:class:`~promptsales.domain_core.integrations.ads.AdsPlatform` adapter over a session.

Live connections authorise through TikTok's OAuth (``tiktok_json`` token style in :mod:`..oauth.client`): the token
grant names the advertisers the admin approved (``advertiser_ids``), kept with the sealed credentials and used as
the connection's ad accounts. Advertiser tokens are long-lived until revoked (§4 [~]); a refused one marks the
connection ``needs_reauth``.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from promptsales.domain_core.integrations.ads import AdsPlatform
from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.ad_limits import AdLimits
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.tiktok_ads.adapter import TikTokAdsAdapter
from promptsales.domain_core.integrations.tiktok_ads.client import TikTokAdsClient
from promptsales.domain_core.integrations.tiktok_ads.simulator import TikTokAdsSimulator


def advertiser_ids(link: Link) -> list[str]:
    """The advertisers a connection may act for: the grant's ``advertiser_ids``, else its account (sandbox)."""
    granted = link.secret.get("advertiser_ids")
    found = [str(a) for a in granted if str(a).isdigit()] if isinstance(granted, list) else []
    if not found and link.account_id:
        found = [link.account_id]
    return found


class TikTokAdsDriver:
    """TikTok ads (API for Business) for the connection lifecycle and the ads surface."""

    connector: Connector = get_connector("tiktok_ads")

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """business-api.tiktok.com/open_api/v1.3."""
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """``Access-Token: <token>`` — TikTok does not read Bearer (§4)."""
        return {"Access-Token": str(secret["access_token"])}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """Ask who the token belongs to: proves the token."""
        user = await TikTokAdsClient(http).user()
        return f"TikTok answered for {str(user.get('display_name') or 'the authorised user')[:80]}."

    def ads(self, http: ConnectorHttp, link: Link, limits: AdLimits) -> AdsPlatform:
        """The ads surface over one session, for the advertisers the authorization granted."""
        return TikTokAdsAdapter(TikTokAdsClient(http), advertiser_ids=advertiser_ids(link), limits=limits)

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty TikTok Marketing API simulator."""
        return TikTokAdsSimulator(tokens={}, clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """A 19-digit advertiser per tenant."""
        advertiser = tenant_number(tenant_id, 19)
        return SandboxAccount(account_id=advertiser, label=f"TikTok sandbox advertiser {advertiser}", url_parts={})

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """The advertiser, named, with no campaigns yet."""
        assert isinstance(simulator, TikTokAdsSimulator)
        simulator.open_advertiser(account.account_id, name="Sandbox advertiser")
