"""Adobe Express (Firefly Services) for the core: server-to-server client credentials, a probe, design exports.

Auth (§13): an OAuth Server-to-Server credential from the Adobe Developer Console. It is pasted as the API key
``CLIENT_ID:CLIENT_SECRET``; at connect the driver trades it at IMS (``client_credentials``) for an access token
and stores ``{client_id, client_secret, access_token}`` sealed, with the token's expiry on the connection. Every
call sends ``Authorization: Bearer <token>`` and ``x-api-key: <client_id>`` (``auth_headers`` stays synchronous:
the token is already in the secret). IMS issues no refresh token; asking again IS the refresh, so the driver
renews (:class:`~promptsales.domain_core.integrations.drivers.RenewingDriver`) and Sessions does the rest as for
OAuth: renew five minutes before expiry, renew once after a 401, ``needs_reauth`` when IMS refuses the credential
(``invalid_client``). Sandbox connections hold simulator-issued tokens like every sandbox connection.

A "design" here is a Firefly generation job (Firefly keeps no list of designs): it is exported by its job id, as
a PNG; listing designs says so instead.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from promptsales.domain_core.integrations.adobe_express.client import (
    DEFAULT_SCOPES,
    IMS_ORIGIN,
    IMS_TOKEN_PATH,
    FireflyClient,
    FireflyDesignAssets,
    download_limits,
)
from promptsales.domain_core.integrations.adobe_express.simulator import AdobeExpressSimulator
from promptsales.domain_core.integrations.design_assets import DesignFile, DesignFormat, DesignSummary, JobPolling
from promptsales.domain_core.integrations.drivers import KeyCredentials, SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.model.errors import AuthExpired, ConnectorError, PlatformValidationError
from promptsales.domain_core.integrations.sandbox import SANDBOX_APP
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.shared.errors import ValidationFailed

PLATFORM = "adobe_express"
PROBE_JOB = "promptsales-connection-check"  # no such job: a 404 proves the token and the API key
SANDBOX_POLLING = JobPolling(first_wait_s=0.01, factor=2.0, max_wait_s=0.2, max_polls=60, deadline_s=30.0)
DEFAULT_LIFETIME_S = 3600


def split_credential(api_key: str) -> tuple[str, str]:
    """``CLIENT_ID:CLIENT_SECRET`` → the pair; ValidationFailed naming ``api_key`` otherwise (never echoing it)."""
    client_id, colon, client_secret = api_key.strip().partition(":")
    if not colon or not client_id or not client_secret or len(client_id) > 100:
        raise ValidationFailed(
            "api_key for Adobe Express is the Server-to-Server credential written CLIENT_ID:CLIENT_SECRET.",
            field="api_key",
            hint="Adobe Developer Console → your project → OAuth Server-to-Server: copy the client id and a secret.",
        )
    return client_id, client_secret


class AdobeExpressDriver:
    """Adobe Firefly Services (the catalogue's adobe_express) for the connection lifecycle and design exports."""

    connector: Connector = get_connector(PLATFORM)

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """firefly-api.adobe.io."""
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """Bearer with the IMS token and the credential's client id as API key (§13 "Call headers")."""
        client_id = str(secret.get("client_id") or SANDBOX_APP.client_id)
        return {"Authorization": f"Bearer {secret['access_token']}", "x-api-key": client_id}

    async def _ims_token(
        self, client_id: str, client_secret: str, *, tenant_id: str, transport: httpx.AsyncBaseTransport | None
    ) -> tuple[str, int]:
        """A new access token and its lifetime in seconds (AuthExpired when IMS refuses the credential)."""
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": ",".join(DEFAULT_SCOPES),
        }
        async with ConnectorHttp(
            self.connector, base_url=IMS_ORIGIN, tenant_id=tenant_id, transport=transport, secrets=[client_secret]
        ) as ims:
            try:
                # Asking for a token changes nothing at Adobe: the POST may be retried like a read.
                response = await ims.request("POST", IMS_TOKEN_PATH, form=form, idempotent_write=True)
            except PlatformValidationError as refused:  # 400 invalid_client: the credential must change [~]
                raise AuthExpired(
                    platform=ims.platform, status=refused.status, detail=refused.detail, attempts=refused.attempts
                ) from None
        document = response.json()
        token = document.get("access_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthExpired(platform=self.connector.display_name, status=response.status_code, detail="no token")
        expires_in = document.get("expires_in")
        lifetime = expires_in if isinstance(expires_in, int) and expires_in > 0 else DEFAULT_LIFETIME_S
        return token, lifetime

    async def key_credentials(
        self, api_key: str, *, tenant_id: str, transport: httpx.AsyncBaseTransport | None, now: datetime
    ) -> KeyCredentials:
        """Trade the client credential for a first token (stored with the credential, which renews it)."""
        client_id, client_secret = split_credential(api_key)
        token, lifetime = await self._ims_token(client_id, client_secret, tenant_id=tenant_id, transport=transport)
        secret = {"client_id": client_id, "client_secret": client_secret, "access_token": token}
        return KeyCredentials(url_parts={}, secret=secret, expires_at=now + timedelta(seconds=lifetime))

    async def renew(
        self, secret: Mapping[str, Any], *, tenant_id: str, transport: httpx.AsyncBaseTransport | None, now: datetime
    ) -> tuple[dict[str, Any], datetime | None]:
        """A new token for the stored credential (client credentials have no refresh token: ask again)."""
        client_id, client_secret = str(secret.get("client_id") or ""), str(secret.get("client_secret") or "")
        if not client_id or not client_secret:
            raise AuthExpired(platform=self.connector.display_name, detail="no client credential is stored")
        token, lifetime = await self._ims_token(client_id, client_secret, tenant_id=tenant_id, transport=transport)
        return {**secret, "access_token": token}, now + timedelta(seconds=lifetime)

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """Ask for a job that does not exist: Firefly's 404 proves the token, the API key and the scope."""
        try:
            await FireflyClient(http).job(PROBE_JOB)
        except ConnectorError as exc:
            if exc.status != 404:
                raise
        return "Adobe Firefly Services answered: the credential, API key and firefly_api scope work."

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty Firefly Services simulator."""
        return AdobeExpressSimulator(clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """An Adobe organisation per tenant."""
        number = tenant_number(tenant_id, 8)
        return SandboxAccount(
            account_id=f"ae{number}", label=f"Adobe Express sandbox organisation {number}", url_parts={}
        )

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """The organisation (designs are made by generating images)."""
        assert isinstance(simulator, AdobeExpressSimulator)
        simulator.account(account.account_id)

    def client(self, http: ConnectorHttp, files: ConnectorHttp | None, link: Link) -> FireflyClient:
        """A Firefly client on an open session (``files``: the credential-free session for outputs)."""
        base = self.sandbox_base_url(link.url_parts) if link.sandbox else self.live_base_url(link.url_parts)
        return FireflyClient(
            http, files=files, polling=SANDBOX_POLLING if link.sandbox else None, limits=download_limits(base)
        )

    async def designs_page(
        self, http: ConnectorHttp, link: Link, *, cursor: str | None, limit: int
    ) -> tuple[tuple[DesignSummary, ...], str | None]:
        """Not possible: Firefly keeps no list of designs (DesignOperationUnsupported says what to do instead)."""
        return await FireflyDesignAssets(self.client(http, None, link)).list_designs(limit=limit), None

    async def export_design(
        self, http: ConnectorHttp, files: ConnectorHttp, link: Link, *, design_id: str, format: DesignFormat
    ) -> DesignFile:
        """The first output of generation job ``design_id`` as a PNG (waiting for the job if it still runs)."""
        return await FireflyDesignAssets(self.client(http, files, link)).export_design(design_id, format)
