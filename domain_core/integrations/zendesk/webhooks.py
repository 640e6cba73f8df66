"""Zendesk webhooks: a signed ticket event re-reads the ticket and applies it like the support sync, once per event.

Where a delivery comes from: the webhook's endpoint URL names the help desk, ``/webhooks/zendesk?subdomain=acme``
(Zendesk's payload names its account by a number PromptSales never learns from an API token); the subdomain finds
the tenant whose connection it is. How it is checked: ``X-Zendesk-Webhook-Signature`` is base64(HMAC-SHA256(secret,
timestamp + body)) with ``X-Zendesk-Webhook-Signature-Timestamp`` within 5 minutes (``zendesk/signatures.py``).
The secret is the connection mode's: a sandbox connection uses :data:`SANDBOX_WEBHOOK_SECRET` (what the simulator
signs with); a live one the deployment's ``PROMPTSALES_INTEGRATIONS_APPS`` ``zendesk.webhook_secret`` (the signing
secret Zendesk shows for the webhook). Anything unsigned, forged, tampered or stale is refused with 401.

What a delivery carries: a Zendesk event ``{id, type, account_id, time, subject: "zen:ticket:<id>", detail:{id,
…}}`` [~ Zendesk event webhooks], or a trigger's own JSON with a ``ticket_id`` (then the event id is the
``X-Zendesk-Webhook-Invocation-Id`` header). Only the ticket id is taken from it: the ticket, its requester and its
comments are read from Zendesk after the answer and applied with the support sync's rules; the event id is
recorded in the transaction that commits the links, so a redelivered or concurrently repeated event applies once.
"""

import json
import re
from typing import Any

from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import InboundRequest, WebhookOutcome
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.errors import ConnectorError
from promptsales.domain_core.integrations.sessions import Link, Sessions
from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict
from promptsales.domain_core.integrations.webhooks import (
    MAX_EVENT_ID,
    Reception,
    apply_once,
    connection_mode,
    system_caller,
    tenant_of_account,
)
from promptsales.domain_core.integrations.zendesk.client import ZendeskClient
from promptsales.domain_core.integrations.zendesk.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, check
from promptsales.domain_core.integrations.zendesk.support_sync import AppliedTickets, SupportSync
from promptsales.domain_core.shared.caller import Caller

PLATFORM = "zendesk"
# Sandbox deliveries are signed with this (public) secret: sandbox data is the simulator's, nothing real.
SANDBOX_WEBHOOK_SECRET = "promptsales-sandbox-zendesk-webhook-secret"  # noqa: S105
INVOCATION_HEADER = "x-zendesk-webhook-invocation-id"
MAX_BODY = 256 * 1024
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SUBJECT = re.compile(r"zen:ticket:(\d{1,18})")
_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,120}")


def parse_event(body: bytes, headers: dict[str, str]) -> tuple[str, str, int] | None:
    """(event id, event type, ticket id) of a delivery; None when it names no ticket or carries no event id."""
    if len(body) > MAX_BODY:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    detail = document.get("detail")
    candidates: list[Any] = [
        detail.get("id") if isinstance(detail, dict) else None,
        document.get("ticket_id"),
    ]
    subject = document.get("subject")
    if isinstance(subject, str) and (match := _SUBJECT.fullmatch(subject)):
        candidates.append(match.group(1))
    ticket_id = next((int(c) for c in candidates if _digits(c)), None)
    event_id = document.get("id") if isinstance(document.get("id"), str) else headers.get(INVOCATION_HEADER)
    if ticket_id is None or not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        return None
    kind = document.get("type")
    return event_id, (kind if isinstance(kind, str) else "ticket.webhook")[:80], ticket_id


def _digits(value: Any) -> bool:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return text.isascii() and text.isdigit() and 0 < len(text) <= 18


class ZendeskWebhooks:
    """Verifies Zendesk deliveries against the connection's signing secret and applies ticket events."""

    def __init__(self, uow: UnitOfWorkFactory, sessions: Sessions, tickets: SupportSync) -> None:
        self._uow = uow
        self._sessions = sessions
        self._tickets = tickets

    def _secret(self, mode: str) -> str | None:
        if mode == "sandbox":
            return SANDBOX_WEBHOOK_SECRET
        app = self._sessions.app(PLATFORM, mode)
        return app.webhook_secret if app is not None else None

    async def receive(self, request: InboundRequest) -> Reception:
        """Check the delivery; the ticket is read and applied after the answer."""
        if request.method != "POST":
            return Reception(WebhookOutcome(status_code=405, outcome="rejected: Zendesk posts its webhooks"))
        subdomain = request.query.get("subdomain", "").strip().lower()
        if not _SUBDOMAIN.fullmatch(subdomain):
            return Reception(
                WebhookOutcome(
                    status_code=400,
                    outcome="rejected: the endpoint URL must end with ?subdomain=<your Zendesk subdomain>",
                )
            )
        tenant = await tenant_of_account(self._uow, PLATFORM, subdomain)
        if tenant is None:
            return Reception(WebhookOutcome(status_code=401, outcome="rejected: unknown Zendesk account"))
        caller = system_caller(PLATFORM, tenant)
        mode = await connection_mode(self._uow, caller, PLATFORM, subdomain)
        secret = self._secret(mode) if mode is not None else None
        if secret is None:
            return Reception(
                WebhookOutcome(status_code=401, outcome="rejected: the account is not connected or has no secret")
            )
        verdict = check(
            secret=secret,
            body=request.body,
            signature=request.headers.get(SIGNATURE_HEADER.lower()),
            timestamp=request.headers.get(TIMESTAMP_HEADER.lower()),
            now=self._sessions.clock(),
        )
        if verdict is not SignatureVerdict.VALID:
            return Reception(WebhookOutcome(status_code=401, outcome=f"rejected: signature {verdict.value}"))
        event = parse_event(request.body, request.headers)
        if event is None:
            return Reception(WebhookOutcome(status_code=400, outcome="rejected: not a Zendesk ticket event"))
        event_id, kind, ticket_id = event
        # Event ids are scoped by account, so no other help desk's event can collide with one of ours.
        scoped = f"{subdomain}:{event_id}"[:MAX_EVENT_ID]

        async def apply() -> None:
            await self._apply(caller, scoped, kind, ticket_id)

        return Reception(WebhookOutcome(status_code=200, outcome="accepted 1 event"), apply)

    async def _apply(self, caller: Caller, event_id: str, kind: str, ticket_id: int) -> None:
        seen = await self._uow.read(caller, lambda u: repo.has_receipt(u, platform=PLATFORM, event_id=event_id))
        if seen:
            return

        async def read_and_apply(http: ConnectorHttp, _link: Link) -> AppliedTickets | None:
            client = ZendeskClient(http)
            try:
                current = await client.ticket(ticket_id)
            except ConnectorError as exc:
                if exc.status == 404:
                    return None  # deleted in Zendesk since the event
                raise
            return await self._tickets.apply(caller, client, [current.ticket], current.users)

        applied = await self._sessions.run(caller, PLATFORM, read_and_apply)

        async def record(u: UnitOfWork) -> str:
            if applied is None:
                return "ticket no longer in Zendesk"
            await SupportSync.store(u, applied)
            if applied.failures:
                return f"failed: {applied.failures[0].reason}"[:120]
            return "applied"

        await apply_once(self._uow, caller, platform=PLATFORM, event_id=event_id, event_type=kind, work=record)
