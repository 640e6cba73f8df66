"""Google Ads for the core: OAuth Bearer plus the deployment's developer token, a probe, the sandbox test customer,
and the :class:`~promptsales.domain_core.integrations.ads.AdsPlatform` adapter over a session.

The developer token belongs to the deployment (one Google Ads API access application per product), so it comes
from ``PROMPTSALES_INTEGRATIONS_APPS`` → ``google_ads.developer_token`` and is sent on every call (§2 "Headers on
every call"); a live connection without one is refused before any request. ``login_customer_id`` (a manager account,
10 digits) is optional and deployment-wide too: set it when the tenants' accounts are linked under the deployment's
manager account. Sandbox sessions send a placeholder token and no manager id: the simulator stands in for a test
account (the probe, which is not told the mode, sends the deployment's token when there is one; in sandbox mode it
only reaches the in-process simulator).
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from promptsales.domain_core.integrations.ads import AdsPlatform
from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.google_ads.adapter import GoogleAdsAdapter
from promptsales.domain_core.integrations.google_ads.client import GoogleAdsClient, customer_id
from promptsales.domain_core.integrations.google_ads.simulator import GoogleAdsSimulator
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.ad_limits import AdLimits
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.shared.errors import ValidationFailed

SANDBOX_DEVELOPER_TOKEN = "promptsales-sandbox-developer-token"  # noqa: S105  # the simulator takes any


class GoogleAdsDriver:
    """Google Ads (search campaigns) for the connection lifecycle and the ads surface."""

    connector: Connector = get_connector("google_ads")

    def __init__(self, *, developer_token: str | None = None, login_customer_id: str | None = None) -> None:
        self._developer_token = developer_token or None
        try:
            self._login_customer_id = customer_id(login_customer_id) if login_customer_id else None
        except ValueError:
            raise ValidationFailed(
                "PROMPTSALES_INTEGRATIONS_APPS google_ads.login_customer_id must be a 10-digit manager customer id.",
                field="integrations_apps",
            ) from None

    def _token(self, sandbox: bool) -> str:
        if sandbox:
            return SANDBOX_DEVELOPER_TOKEN
        if self._developer_token is None:
            raise ValidationFailed(
                "This deployment has no Google Ads developer token, so live Google Ads connections cannot work.",
                field="platform",
                hint="Set PROMPTSALES_INTEGRATIONS_APPS google_ads.developer_token (README: Integrations).",
            )
        return self._developer_token

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """googleads.googleapis.com/v26 (only when the deployment has a developer token)."""
        self._token(sandbox=False)
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """Bearer with the OAuth access token (the client adds developer-token and login-customer-id)."""
        return {"Authorization": f"Bearer {secret['access_token']}"}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """List the customers the token reaches (no login-customer-id needed)."""
        # A live session without a developer token was refused at its base URL, so None means sandbox here.
        client = GoogleAdsClient(http, developer_token=self._developer_token or SANDBOX_DEVELOPER_TOKEN)
        customers = await client.list_accessible_customers()
        shown = ", ".join(customers[:3]) + (" …" if len(customers) > 3 else "")
        return f"Google Ads answered: {len(customers)} customer account(s) reachable ({shown or 'none'})."

    def ads(self, http: ConnectorHttp, link: Link, limits: AdLimits) -> AdsPlatform:
        """The ads surface over one session."""
        client = GoogleAdsClient(
            http,
            developer_token=self._token(link.sandbox),
            login_customer_id=None if link.sandbox else self._login_customer_id,
        )
        return GoogleAdsAdapter(client, limits=limits)

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty Google Ads simulator."""
        return GoogleAdsSimulator(tokens={}, clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """A 10-digit test customer per tenant."""
        cid = tenant_number(tenant_id, 10)
        return SandboxAccount(
            account_id=cid, label=f"Google Ads sandbox test customer {cid[:3]}-{cid[3:6]}-{cid[6:]}", url_parts={}
        )

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """The test customer, named, with no campaigns yet (campaigns create them, paused)."""
        assert isinstance(simulator, GoogleAdsSimulator)
        simulator.open_customer(account.account_id, name="Sandbox test customer")
