"""Twilio webhooks: signed status callbacks and inbound texts, routed by AccountSid, applied once.

* ``POST /webhooks/twilio`` with a form body (§8). The form's ``AccountSid`` finds the tenant whose Twilio
  connection is that account; ``X-Twilio-Signature`` must be the HMAC-SHA1 of the URL Twilio called plus the sorted
  form parameters with that connection's auth token (a live connection's own; a sandbox connection's is the
  simulator's public sandbox token). An account no tenant has connected is answered 200 and ignored (Twilio would
  otherwise retry it); a bad signature 401.
* The answer comes at once; the event is applied after it, once (``apply_once`` on ``status:<sid>:<status>`` and
  ``message:<sid>``): statuses onto the message they name, inbound texts through :meth:`Messaging.receive_sms`
  (STOP and START change the contact's ``sms`` consent).
"""

from collections.abc import Awaitable, Callable

import structlog

from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations.dto import InboundRequest, WebhookOutcome
from promptsales.domain_core.integrations.messaging import Messaging
from promptsales.domain_core.integrations.sandbox import Sandbox
from promptsales.domain_core.integrations.service import connections, messages
from promptsales.domain_core.integrations.sessions import Sessions
from promptsales.domain_core.integrations.twilio.channel import callback_url
from promptsales.domain_core.integrations.twilio.driver import PLATFORM, auth_token
from promptsales.domain_core.integrations.twilio.simulator import TwilioSimulator
from promptsales.domain_core.integrations.twilio.webhooks import (
    InboundSms,
    StatusCallback,
    check,
    form_params,
    parse_event,
)
from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict
from promptsales.domain_core.integrations.webhooks import (
    Reception,
    Webhooks,
    apply_once,
    connection_mode,
    system_caller,
    tenant_of_account,
)
from promptsales.domain_core.shared.caller import Caller

log = structlog.get_logger(__name__)

SIGNATURE = "x-twilio-signature"
# Twilio's statuses as a message's status (§8): still on its way, out, at the handset, or not delivered.
_STATUS = {
    "accepted": "accepted",
    "scheduled": "accepted",
    "queued": "accepted",
    "sending": "accepted",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# ErrorCode of a status callback (§8 "e.g."), as the message's error says it.
_ERRORS = {
    "30003": "unreachable destination handset",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier",
}


class TwilioWebhooks:
    """Verifies Twilio callbacks with the account's auth token and applies them to its tenant."""

    def __init__(self, uow: UnitOfWorkFactory, sessions: Sessions, messaging: Messaging) -> None:
        self._uow = uow
        self._sessions = sessions
        self._messaging = messaging

    async def receive(self, request: InboundRequest) -> Reception:
        """Check a callback; its event is applied after the answer."""
        if request.method != "POST":
            return Reception(WebhookOutcome(status_code=405, outcome="rejected: Twilio posts its callbacks"))
        try:
            params = form_params(request.body)
            event = parse_event(params)
        except ValueError as exc:
            return Reception(WebhookOutcome(status_code=400, outcome=f"rejected: {str(exc)[:120]}"))
        caller = await self._caller_of(event.account_sid)
        if caller is None:
            return Reception(WebhookOutcome(status_code=200, outcome="ignored: not a connected account"))
        token = await self._auth_token(caller, event.account_sid)
        verdict = check(
            auth_token=token or "", url=request.url, params=params, signature=request.headers.get(SIGNATURE)
        )
        if verdict is not SignatureVerdict.VALID:
            return Reception(WebhookOutcome(status_code=401, outcome="rejected: signature is not valid"))

        async def apply() -> None:
            await self._apply(caller, event)

        return Reception(WebhookOutcome(status_code=200, outcome=f"accepted {event.kind}"), apply)

    async def _caller_of(self, account_sid: str) -> Caller | None:
        tenant = await tenant_of_account(self._uow, PLATFORM, account_sid)
        return system_caller(PLATFORM, tenant) if tenant is not None else None

    async def _auth_token(self, caller: Caller, account_sid: str) -> str | None:
        """The auth token that signs this account's callbacks (None: the tenant is no longer connected to it)."""
        mode = await connection_mode(self._uow, caller, PLATFORM, account_sid)
        if mode is None:
            return None

        async def read(uow: UnitOfWork) -> str | None:
            secret = await self._sessions.credentials.get(uow, connections.credential_name(PLATFORM))
            return auth_token(secret, sandbox=mode == "sandbox") if secret is not None else None

        return await self._uow.read(caller, read)

    async def _apply(self, caller: Caller, event: StatusCallback | InboundSms) -> None:
        if isinstance(event, InboundSms):
            await self._messaging.receive_sms(caller, event)
            return
        code = event.error_code
        error = f"{code}: {_ERRORS.get(code, 'see twilio.com/docs/api/errors/' + code)}" if code else None

        async def record(uow: UnitOfWork) -> str:
            return await messages.record_status(
                uow,
                platform=PLATFORM,
                message_id=event.message_sid,
                status=_STATUS[event.status],
                at=self._sessions.clock(),
                error=error,
            )

        await apply_once(
            self._uow, caller, platform=PLATFORM, event_id=event.event_id, event_type="status", work=record
        )


Deliver = Callable[[str, dict[str, str], bytes], Awaitable[int]]


def loop_back(sandbox: Sandbox, webhooks: Webhooks, *, public_url: str) -> None:
    """Sandbox: the Twilio simulator's signed callbacks (statuses, texts its people send) come in through the same
    webhook path a live delivery takes, to the URL they were signed for."""

    async def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        request = InboundRequest(
            method="POST", url=url, headers={k.lower(): v for k, v in headers.items()}, query={}, body=body
        )
        return (await webhooks.receive(PLATFORM, request)).status_code

    simulator = sandbox.simulator(PLATFORM)
    assert isinstance(simulator, TwilioSimulator)
    simulator.sms_url = callback_url(public_url)
    simulator.deliver = deliver
