"""Twilio for the core: Basic ``AccountSid:AuthToken``, one sender per connection, the account read as probe.

A connection is one Twilio account: its ``AccountSid`` is the connection's account (status callbacks and inbound
messages name it, and are routed to the tenant by it) and the sender its messages go from is kept in ``url_parts``
(``sender``: a number in E.164 form, or a Messaging Service sid MG…).

* Live: ``api_key`` is ``{AccountSid}:{AuthToken}:{sender}`` (Twilio Console → Account Info; the sender is one of
  the account's numbers or Messaging Services). Both credentials are sealed with the connection and never shown;
  Twilio auth tokens do not expire. The probe reads the account: it proves the pair.
* Sandbox: the tenant's account sid is derived from the tenant id, it sends from Twilio's test number
  (:data:`TEST_SENDER`) and the simulator signs callbacks with the sandbox accounts' public auth token.
"""

import base64
import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from promptsales.domain_core.integrations.drivers import KeyCredentials, SandboxAccount, Simulator
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.twilio.client import TwilioClient, e164, is_service_sid
from promptsales.domain_core.integrations.twilio.simulator import SANDBOX_AUTH_TOKEN, TEST_SENDER, TwilioSimulator
from promptsales.domain_core.integrations.twilio.webhooks import ACCOUNT_SID
from promptsales.domain_core.shared.errors import ValidationFailed

PLATFORM = "twilio"
SENDER = "sender"
ACCOUNT_SID_KEY = "account_sid"
AUTH_TOKEN_KEY = "auth_token"  # noqa: S105  # the secret's field name
API_KEY_HINT = (
    "Give api_key as AccountSid:AuthToken:Sender, e.g. AC…:your_auth_token:+14155550100 "
    "(Twilio Console → Account Info; the sender is one of the account's numbers or a Messaging Service sid MG…)."
)


def sender_of(url_parts: Mapping[str, str]) -> str:
    """The connection's sender, or an error saying how to connect with one."""
    sender = url_parts.get(SENDER)
    if not sender:
        raise ValidationFailed("This Twilio connection has no sender number.", field="api_key", hint=API_KEY_HINT)
    return sender


def auth_token(secret: Mapping[str, Any], *, sandbox: bool) -> str:
    """What signs the connection's callbacks: the live account's auth token, or the sandbox accounts' token."""
    if sandbox:
        return SANDBOX_AUTH_TOKEN
    return str(secret.get(AUTH_TOKEN_KEY) or "")


class TwilioDriver:
    """Twilio Programmable Messaging (SMS) for the connection lifecycle."""

    connector: Connector = get_connector(PLATFORM)

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """api.twilio.com/2010-04-01 (the sender is checked here: every send needs it)."""
        sender_of(url_parts)
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """HTTP Basic ``AccountSid:AuthToken`` (§8); a sandbox connection's simulator-issued token goes as Bearer."""
        if ACCOUNT_SID_KEY in secret:
            pair = f"{secret[ACCOUNT_SID_KEY]}:{secret[AUTH_TOKEN_KEY]}"
            return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}
        return {"Authorization": f"Bearer {secret['access_token']}"}

    async def key_credentials(
        self, api_key: str, *, tenant_id: str, transport: httpx.AsyncBaseTransport | None, now: datetime
    ) -> KeyCredentials:
        """``AccountSid:AuthToken:Sender`` split into the account, the sealed pair and the sender."""
        sid, _, rest = api_key.strip().partition(":")
        token, _, sender = rest.partition(":")
        if not ACCOUNT_SID.fullmatch(sid) or not token or any(c.isspace() for c in token) or not sender:
            raise ValidationFailed(
                "The Twilio api_key is not AccountSid:AuthToken:Sender.", field="api_key", hint=API_KEY_HINT
            )
        if not is_service_sid(sender):
            try:
                sender = e164(sender, field="sender")
            except ValueError as exc:
                raise ValidationFailed(str(exc), field="api_key", hint=API_KEY_HINT) from None
        return KeyCredentials(
            url_parts={SENDER: sender},
            secret={ACCOUNT_SID_KEY: sid, AUTH_TOKEN_KEY: token},
            account_id=sid,
        )

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """Read the account: proves the AccountSid and AuthToken pair."""
        if not account_id:
            raise ValidationFailed("A Twilio connection needs its AccountSid.", field="api_key", hint=API_KEY_HINT)
        account = await TwilioClient(http, account_id).account()
        name = f" ({account.friendly_name[:80]})" if account.friendly_name else ""
        return f"Twilio account {account.sid}{name} answered, status {account.status or 'unknown'}."

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """A Twilio simulator (sandbox accounts sign with the public sandbox auth token)."""
        return TwilioSimulator(clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """An account per tenant, sending from Twilio's test number."""
        sid = "AC" + hashlib.sha256(f"twilio:{tenant_id}".encode()).hexdigest()[:32]
        return SandboxAccount(account_id=sid, label=f"Twilio sandbox account {sid}", url_parts={SENDER: TEST_SENDER})

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """The account with the test number."""
        assert isinstance(simulator, TwilioSimulator)
        simulator.add_account(account.account_id, number=TEST_SENDER)
