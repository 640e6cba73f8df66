"""Canva for the core: Bearer auth (OAuth 2.0 + PKCE, single-use refresh tokens), a probe, designs and exports.

Live connections go through the OAuth flow (``PROMPTSALES_INTEGRATIONS_APPS`` entry ``canva``; scopes in
``model/oauth_apps.py``); Sessions refreshes the access token before it expires and stores the rotated refresh
token. The sandbox user of a tenant starts with three demo designs.
"""

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from promptsales.domain_core.integrations.canva.client import CanvaClient, CanvaDesignAssets, download_limits
from promptsales.domain_core.integrations.canva.simulator import CanvaSimulator
from promptsales.domain_core.integrations.design_assets import DesignFile, DesignFormat, DesignSummary, JobPolling
from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.shared.errors import ValidationFailed

PLATFORM = "canva"
PAGE_SIZE_MAX = 100
# The simulator answers its first status check: poll it at once instead of waiting out Canva's pace.
SANDBOX_POLLING = JobPolling(first_wait_s=0.01, factor=2.0, max_wait_s=0.2, max_polls=60, deadline_s=30.0)
_CANVA_ID = re.compile(r"[a-zA-Z0-9_-]{1,50}")
# Demo designs of a sandbox user: title, pages, width, height (px).
_DEMO_DESIGNS = (
    ("Spring launch: social post", 1, 1080, 1080),
    ("Spring launch: web banner", 1, 1200, 628),
    ("Product one-pager", 2, 794, 1123),
)


class CanvaDriver:
    """Canva Connect (designs, exports) for the connection lifecycle and design exports."""

    connector: Connector = get_connector(PLATFORM)

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """api.canva.com/rest/v1."""
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """Bearer with the user's OAuth access token (§12)."""
        return {"Authorization": f"Bearer {secret['access_token']}"}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """List one design: proves the token and the design:meta:read scope."""
        page = await CanvaClient(http).designs_page(limit=1)
        more = "more" if page.continuation else "no more"
        return f"Canva answered: {len(page.designs)} design on the first page, {more}."

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty Canva simulator."""
        return CanvaSimulator(clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """A Canva user per tenant."""
        number = tenant_number(tenant_id, 8)
        return SandboxAccount(account_id=f"cv{number}", label=f"Canva sandbox user {number}", url_parts={})

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """Three demo designs, once per user."""
        assert isinstance(simulator, CanvaSimulator)
        if simulator.account(account.account_id).designs:
            return
        for index, (title, pages, width, height) in enumerate(_DEMO_DESIGNS):
            simulator.seed_design(
                account.account_id, title, pages=pages, width=width, height=height, at=now - timedelta(days=9 - index)
            )

    def _client(self, http: ConnectorHttp, files: ConnectorHttp | None, link: Link) -> CanvaClient:
        base = self.sandbox_base_url(link.url_parts) if link.sandbox else self.live_base_url(link.url_parts)
        return CanvaClient(
            http, files=files, polling=SANDBOX_POLLING if link.sandbox else None, limits=download_limits(base)
        )

    async def designs_page(
        self, http: ConnectorHttp, link: Link, *, cursor: str | None, limit: int
    ) -> tuple[tuple[DesignSummary, ...], str | None]:
        """One page of the user's designs (owned and shared) and Canva's continuation."""
        page = await self._client(http, None, link).designs_page(
            continuation=cursor, limit=max(1, min(limit, PAGE_SIZE_MAX))
        )
        return tuple(design.summary() for design in page.designs), page.continuation

    async def push_logo(self, http: ConnectorHttp, files: ConnectorHttp, link: Link, *, png: bytes, name: str) -> str:
        """Upload a brand logo into the user's Canva uploads (Canva has no Brand Kit API); the asset id."""
        asset_id = await CanvaDesignAssets(self._client(http, files, link)).push_brand_logo(png, name)
        assert asset_id is not None
        return asset_id

    async def export_design(
        self, http: ConnectorHttp, files: ConnectorHttp, link: Link, *, design_id: str, format: DesignFormat
    ) -> DesignFile:
        """Export (PNG: the first page; PDF: every page), wait for the job, download the file."""
        if not _CANVA_ID.fullmatch(design_id):
            raise ValidationFailed(
                "design_id is not a Canva design id (1-50 letters, digits, '_' or '-').",
                field="design_id",
                hint="integrations_list_designs shows the ids.",
            )
        return await CanvaDesignAssets(self._client(http, files, link)).export_design(design_id, format)
