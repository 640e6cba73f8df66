"""design_assets: the tenant's designs on a design platform, listed page by page and exported as files.

Every request goes through :meth:`Sessions.run` (refresh before expiry, one retry with renewed credentials,
``needs_reauth`` when the platform refuses them). An exported file is downloaded from the platform's pre-signed
URL through a second ConnectorHttp on the same transport WITHOUT the platform's credentials (the URL carries its
own; :func:`~promptsales.domain_core.integrations.design_assets.download_design_file`).
"""

import re
from typing import Protocol, runtime_checkable

from promptsales.domain_core.integrations.design_assets import (
    DESIGN_FORMATS,
    DesignFile,
    DesignFormat,
    DesignSummary,
)
from promptsales.domain_core.integrations.drivers import Driver
from promptsales.domain_core.integrations.dto import DesignPage, DesignView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.sessions import Link, Sessions
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.domain_core.shared.pagination import decode_cursor, encode_cursor

CURSOR_SCOPE = "integrations.designs"
# Canva ids ([A-Za-z0-9_-]{1,50}) and Firefly job ids (uuids, urn:…) both fit; nothing that could leave a path.
_DESIGN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,199}")


@runtime_checkable
class DesignDriver(Protocol):
    """A driver whose platform holds designs."""

    async def designs_page(
        self, http: ConnectorHttp, link: Link, *, cursor: str | None, limit: int
    ) -> tuple[tuple[DesignSummary, ...], str | None]: ...

    async def export_design(
        self, http: ConnectorHttp, files: ConnectorHttp, link: Link, *, design_id: str, format: DesignFormat
    ) -> DesignFile: ...


@runtime_checkable
class LogoPusher(Protocol):
    """A design platform whose API takes a brand logo (Canva: into the user's uploads)."""

    async def push_logo(
        self, http: ConnectorHttp, files: ConnectorHttp, link: Link, *, png: bytes, name: str
    ) -> str: ...


def _view(summary: DesignSummary) -> DesignView:
    return DesignView(
        platform=summary.platform,
        design_id=summary.design_id,
        title=summary.title,
        page_count=summary.page_count,
        created_at=summary.created_at,
        updated_at=summary.updated_at,
    )


class Designs:
    """Lists and exports designs of the tenant's connected design platforms."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def _driver(self, platform: str) -> DesignDriver:
        driver = self._sessions.driver(platform)
        if not isinstance(driver, DesignDriver):
            offered = sorted(p for p, d in self._sessions.drivers.items() if isinstance(d, DesignDriver))
            raise ValidationFailed(
                f"{driver.connector.display_name} holds no designs.",
                field="platform",
                hint=f"Design platforms: {', '.join(offered)}.",
            )
        return driver

    def _files(self, caller: Caller, link: Link, driver: Driver) -> ConnectorHttp:
        """A session for pre-signed file URLs: the link's transport, no credentials, no platform budget."""
        sandbox = link.sandbox
        return ConnectorHttp(
            driver.connector,
            base_url=driver.sandbox_base_url(link.url_parts) if sandbox else driver.live_base_url(link.url_parts),
            tenant_id=caller.tenant_id,
            transport=self._sessions.sandbox.transport(link.platform) if sandbox else self._sessions.live_transport,
            secrets=[str(v) for v in link.secret.values() if isinstance(v, str)],
        )

    async def page(self, caller: Caller, *, platform: str, cursor: str | None, limit: int) -> DesignPage:
        """One page of designs, newest listing order as the platform gives it."""
        driver = self._driver(platform)
        filters = {"platform": platform}
        position = decode_cursor(cursor, CURSOR_SCOPE, filters)
        after = str(position[0]) if position else None

        async def work(http: ConnectorHttp, link: Link) -> tuple[tuple[DesignSummary, ...], str | None]:
            return await driver.designs_page(http, link, cursor=after, limit=limit)

        summaries, continuation = await self._sessions.run(caller, platform, work)
        next_cursor = encode_cursor(CURSOR_SCOPE, filters, [continuation]) if continuation else None
        return DesignPage(items=[_view(s) for s in summaries], next_cursor=next_cursor)

    async def push_logo(self, caller: Caller, *, platform: str, png: bytes, name: str) -> str:
        """Upload a brand logo to the platform; its id there (ValidationFailed where the API takes none)."""
        driver = self._driver(platform)
        if not isinstance(driver, LogoPusher):
            raise ValidationFailed(
                f"{self._sessions.drivers[platform].connector.display_name}'s API takes no brand logo.",
                field="platform",
                hint="Canva takes one (into the user's uploads); Adobe Express has no such API.",
            )

        async def work(http: ConnectorHttp, link: Link) -> str:
            async with self._files(caller, link, self._sessions.drivers[platform]) as files:
                return await driver.push_logo(http, files, link, png=png, name=name)

        return await self._sessions.run(caller, platform, work)

    async def export(self, caller: Caller, *, platform: str, design_id: str, format: str) -> DesignFile:
        """The design as a file (PNG: its first page; PDF: every page), downloaded and checked."""
        driver = self._driver(platform)
        if not isinstance(design_id, str) or not _DESIGN_ID.fullmatch(design_id):
            raise ValidationFailed(
                "design_id is not a design id (letters, digits, ':', '.', '_' or '-', at most 200).",
                field="design_id",
                hint="integrations_list_designs shows the ids.",
            )
        if format not in DESIGN_FORMATS:
            raise ValidationFailed(
                f"format must be one of {', '.join(DESIGN_FORMATS)}.", field="format", hint="png is the default."
            )
        chosen: DesignFormat = "png" if format == "png" else "pdf"

        async def work(http: ConnectorHttp, link: Link) -> DesignFile:
            async with self._files(caller, link, self._sessions.drivers[platform]) as files:
                return await driver.export_design(http, files, link, design_id=design_id, format=chosen)

        return await self._sessions.run(caller, platform, work)
