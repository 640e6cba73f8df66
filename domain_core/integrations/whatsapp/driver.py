"""WhatsApp Cloud API for the core: a system-user token as Bearer, one business phone number per connection.

A connection is one business phone number: its ``phone_number_id`` is the connection's account (webhooks are routed
to the tenant by it) and is kept in ``url_parts`` with the WhatsApp Business Account (``waba_id``) when known.

* Sandbox: the tenant's number is derived from the tenant id (15 digits, like Graph ids), its WABA from the number as
  the simulator derives it, and the simulator signs its webhooks with the sandbox app's secret.
* Live: the tenant gives ``phone_number_id`` (WhatsApp Manager → API setup) and a system-user token with the
  ``whatsapp_business_messaging`` and ``whatsapp_business_management`` permissions as ``api_key`` (a system-user
  token does not expire and is never refreshed). The probe reads the number's profile: it proves the token reaches
  this number.
"""

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.sandbox import SANDBOX_APP
from promptsales.domain_core.integrations.whatsapp.client import WhatsAppClient
from promptsales.domain_core.integrations.whatsapp.simulator import WhatsAppSimulator, waba_of
from promptsales.domain_core.shared.errors import ValidationFailed

PLATFORM = "whatsapp"
PHONE_NUMBER_ID = "phone_number_id"
WABA_ID = "waba_id"
_GRAPH_ID = re.compile(r"[0-9]{1,32}")


def phone_number_id(url_parts: Mapping[str, str]) -> str:
    """The connection's business phone number id, or an error saying where to find it."""
    value = url_parts.get(PHONE_NUMBER_ID)
    if not value or not _GRAPH_ID.fullmatch(value):
        raise ValidationFailed(
            "A live WhatsApp connection needs the business phone number's id.",
            field=PHONE_NUMBER_ID,
            hint="Pass phone_number_id (digits, WhatsApp Manager → API setup) with the system-user token as api_key.",
        )
    return value


class WhatsAppDriver:
    """WhatsApp Cloud API (messaging) for the connection lifecycle."""

    connector: Connector = get_connector(PLATFORM)

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """graph.facebook.com/v{graph_version} (the number is checked here: every request needs it)."""
        phone_number_id(url_parts)
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """Bearer with the system-user token (§7)."""
        return {"Authorization": f"Bearer {secret['access_token']}"}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """Read the number's profile: proves the token and its access to this number."""
        if not account_id:
            phone_number_id({})
        assert account_id is not None
        number = await WhatsAppClient(http, account_id).phone_number()
        shown = number.display_phone_number or number.id
        name = f" ({number.verified_name})" if number.verified_name else ""
        quality = f", quality {number.quality_rating}" if number.quality_rating else ""
        return f"WhatsApp number {shown}{name} answered{quality}."

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """A WhatsApp simulator signing its webhooks with the sandbox app's secret."""
        return WhatsAppSimulator(clock=clock, app_secret=SANDBOX_APP.client_secret)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """A business number per tenant, in the WABA the simulator derives from it."""
        number = tenant_number(tenant_id, 15)
        return SandboxAccount(
            account_id=number,
            label=f"WhatsApp sandbox number {number}",
            url_parts={PHONE_NUMBER_ID: number, WABA_ID: waba_of(number)},
        )

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """The number with the simulator's default templates (hello_world, order_update, follow_up)."""
        assert isinstance(simulator, WhatsAppSimulator)
        simulator.add_account(account.account_id)
