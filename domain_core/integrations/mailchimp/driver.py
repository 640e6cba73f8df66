"""Mailchimp for the core: an API key names its data centre, Basic auth, ``GET /ping`` as probe, a sandbox account.

A live API key ``<32 hex>-<dc>`` is stored as the access token and its ``dc`` goes into the connection's URL parts
(``https://{dc}.api.mailchimp.com/3.0``). Sandbox connections hold simulator-issued OAuth tokens (Bearer); each
tenant's sandbox account starts with one audience, as a free Mailchimp account does.
"""

import base64
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from promptsales.domain_core.integrations.drivers import KeyCredentials, SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.mailchimp.client import MailchimpClient, data_center
from promptsales.domain_core.integrations.mailchimp.simulator import MailchimpSimulator
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.shared.errors import ValidationFailed

PLATFORM = "mailchimp"
_API_KEY = re.compile(r"[0-9a-fA-F]{32}-[a-z]{2,4}[0-9]{1,3}")


class MailchimpDriver:
    """Mailchimp Marketing API v3.0 (audiences and members) for the connection lifecycle and the audience sync."""

    connector: Connector = get_connector(PLATFORM)

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """``https://{dc}.api.mailchimp.com/3.0`` for the connection's data centre."""
        if not url_parts.get("dc"):
            raise ValidationFailed(
                "This Mailchimp connection does not know its data centre.",
                field="api_key",
                hint="Connect again with the API key (its '-usNN' ending names the data centre).",
            )
        return self.connector.live_url(dc=url_parts["dc"])

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """HTTP Basic with the API key as password (§6); an OAuth or sandbox token goes as Bearer."""
        token = str(secret["access_token"]).strip()
        if _API_KEY.fullmatch(token):
            return {"Authorization": "Basic " + base64.b64encode(f"promptsales:{token}".encode()).decode("ascii")}
        return {"Authorization": f"Bearer {token}"}

    async def key_credentials(
        self, api_key: str, *, tenant_id: str, transport: httpx.AsyncBaseTransport | None, now: datetime
    ) -> KeyCredentials:
        """The key's data centre into the URL parts (ValidationFailed naming ``api_key`` when it is not a key)."""
        return KeyCredentials(url_parts={"dc": data_center(api_key)}, secret={"access_token": api_key.strip()})

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """``GET /ping`` (proves the key), then the audiences the account has."""
        client = MailchimpClient(http)
        health = await client.ping()
        audiences = await client.audiences()
        first = f", first: {audiences[0].name[:60]}" if audiences else ""
        return f"Mailchimp answered ({health[:40] or 'ok'}): {len(audiences)} audience(s){first}."

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty Mailchimp simulator."""
        return MailchimpSimulator(clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """An account per tenant (its one audience is created with it)."""
        number = tenant_number(tenant_id, 8)
        return SandboxAccount(account_id=f"mc{number}", label=f"Mailchimp sandbox account {number}", url_parts={})

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """The account and its default audience (members arrive through the audience sync)."""
        assert isinstance(simulator, MailchimpSimulator)
        simulator.account(account.account_id)
