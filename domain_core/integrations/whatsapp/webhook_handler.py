"""WhatsApp Cloud API webhooks: the subscription handshake, signed deliveries routed by phone number, applied once.

* ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`` (§3): answered 200 with the challenge as plain
  text when the verify token is ours, else 403. Ours is the live app's ``webhook_secret``
  (``PROMPTSALES_INTEGRATIONS_APPS`` → ``whatsapp``); while no live app is registered, the sandbox's
  :data:`SANDBOX_VERIFY_TOKEN`.
* ``POST``: ``X-Hub-Signature-256`` must be the HMAC of the raw body with an app secret we know (§3): the live
  app's ``client_secret`` (Meta's "App secret"), or the sandbox app's (the simulator signs with it). The secret that
  matched says which connections the delivery may touch: each change is routed to the tenant whose connection of
  that mode is the change's ``metadata.phone_number_id``; a number no tenant has connected is ignored (200, so
  Meta does not redeliver it for days).
* The answer comes at once; the events are applied after it, each once (``apply_once`` on the parser's stable
  ids: ``message:<wamid>``, ``status:<wamid>:<status>``): inbound messages through
  :meth:`Messaging.receive_message`, statuses onto the message they name.
"""

from collections.abc import Awaitable, Callable

import structlog

from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations.dto import InboundRequest, WebhookOutcome
from promptsales.domain_core.integrations.messaging import Messaging
from promptsales.domain_core.integrations.sandbox import Sandbox
from promptsales.domain_core.integrations.service import messages
from promptsales.domain_core.integrations.sessions import Sessions
from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict
from promptsales.domain_core.integrations.webhooks import (
    Reception,
    Webhooks,
    apply_once,
    connection_mode,
    system_caller,
    tenant_of_account,
)
from promptsales.domain_core.integrations.whatsapp.driver import PLATFORM
from promptsales.domain_core.integrations.whatsapp.simulator import WhatsAppSimulator
from promptsales.domain_core.integrations.whatsapp.webhooks import (
    InboundMessage,
    StatusUpdate,
    WhatsAppEvent,
    answer_handshake,
    check,
    parse_payload,
)
from promptsales.domain_core.shared.caller import Caller

log = structlog.get_logger(__name__)

SANDBOX_VERIFY_TOKEN = "promptsales-whatsapp-sandbox"  # noqa: S105  # public by design: sandbox handshakes only
SIGNATURE = "x-hub-signature-256"


class WhatsAppWebhooks:
    """Verifies WhatsApp deliveries and applies their messages and statuses to the tenant of each number."""

    def __init__(self, uow: UnitOfWorkFactory, sessions: Sessions, messaging: Messaging) -> None:
        self._uow = uow
        self._sessions = sessions
        self._messaging = messaging

    async def receive(self, request: InboundRequest) -> Reception:
        """Answer the handshake, or check a delivery; its events are applied after the answer."""
        if request.method == "GET":
            return Reception(self._handshake(request))
        if request.method != "POST":
            return Reception(WebhookOutcome(status_code=405, outcome="rejected: WhatsApp posts its events"))
        mode = self._signed_by(request)
        if mode is None:
            return Reception(WebhookOutcome(status_code=401, outcome="rejected: signature is not valid"))
        try:
            events = parse_payload(request.body)
        except ValueError as exc:
            return Reception(WebhookOutcome(status_code=400, outcome=f"rejected: {str(exc)[:120]}"))
        routed: list[tuple[Caller, WhatsAppEvent]] = []
        callers: dict[str, Caller | None] = {}
        for event in events:
            number = event.phone_number_id
            if number is None:
                continue
            if number not in callers:
                callers[number] = await self._caller_of(number, mode)
            caller = callers[number]
            if caller is not None:
                routed.append((caller, event))
        ignored = len(events) - len(routed)
        outcome = f"accepted {len(routed)} event(s)" + (
            f", ignored {ignored} not for a connected number" if ignored else ""
        )
        if not routed:
            return Reception(WebhookOutcome(status_code=200, outcome=outcome))

        async def apply_all() -> None:
            for caller, event in routed:
                try:
                    await self._apply(caller, event)
                except Exception:  # one event's failure must not stop the others of the delivery
                    log.exception("integrations.whatsapp_event_failed", event=event.event_id[:80])

        return Reception(WebhookOutcome(status_code=200, outcome=outcome), apply_all)

    def _handshake(self, request: InboundRequest) -> WebhookOutcome:
        live = self._sessions.apps.get(PLATFORM)
        token = (live.webhook_secret or "") if live is not None else SANDBOX_VERIFY_TOKEN
        challenge = answer_handshake(request.query, verify_token=token)
        if challenge is None:
            return WebhookOutcome(status_code=403, outcome="rejected: not a subscription with our verify token")
        return WebhookOutcome(status_code=200, outcome="subscribed", body=challenge)

    def _signed_by(self, request: InboundRequest) -> str | None:
        """The mode whose app secret signed the body (None: neither)."""
        signature = request.headers.get(SIGNATURE)
        for mode in ("live", "sandbox"):
            app = self._sessions.app(PLATFORM, mode)
            if app is not None and check(app_secret=app.client_secret, body=request.body, signature=signature) is (
                SignatureVerdict.VALID
            ):
                return mode
        return None

    async def _caller_of(self, phone_number_id: str, mode: str) -> Caller | None:
        """Who applies the number's events: the tenant whose connection in ``mode`` is this number."""
        tenant = await tenant_of_account(self._uow, PLATFORM, phone_number_id)
        if tenant is None:
            return None
        caller = system_caller(PLATFORM, tenant)
        if await connection_mode(self._uow, caller, PLATFORM, phone_number_id) != mode:
            return None
        return caller

    async def _apply(self, caller: Caller, event: WhatsAppEvent) -> None:
        if isinstance(event, InboundMessage):
            await self._messaging.receive_message(caller, event)
            return
        if isinstance(event, StatusUpdate):
            first = event.errors[0] if event.errors else None
            error = f"{first.code}: {first.title or first.message or ''}".strip() if first is not None else None

            async def record(uow: UnitOfWork) -> str:
                return await messages.record_status(
                    uow,
                    platform=PLATFORM,
                    message_id=event.message_id,
                    status=event.status,
                    at=event.timestamp,
                    error=error,
                )

            await apply_once(
                self._uow, caller, platform=PLATFORM, event_id=event.event_id, event_type="status", work=record
            )
            return

        async def ignore(uow: UnitOfWork) -> str:
            return f"ignored: {event.reason}"

        await apply_once(
            self._uow, caller, platform=PLATFORM, event_id=event.event_id, event_type="unsupported", work=ignore
        )


Deliver = Callable[[dict[str, str], bytes], Awaitable[int]]


def loop_back(sandbox: Sandbox, webhooks: Webhooks, *, public_url: str) -> None:
    """Sandbox: the WhatsApp simulator's signed webhooks (statuses, messages its users send) come in through the
    same webhook path a live delivery takes, instead of piling up in its outbox."""
    url = public_url.rstrip("/") + f"/webhooks/{PLATFORM}"

    async def deliver(headers: dict[str, str], body: bytes) -> int:
        request = InboundRequest(
            method="POST", url=url, headers={k.lower(): v for k, v in headers.items()}, query={}, body=body
        )
        return (await webhooks.receive(PLATFORM, request)).status_code

    simulator = sandbox.simulator(PLATFORM)
    assert isinstance(simulator, WhatsAppSimulator)
    simulator.deliver = deliver
