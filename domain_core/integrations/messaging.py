"""Messages between CRM contacts and the business through WhatsApp: consent-checked sends, inbound messages, the bot.

Sending (``integrations_send_message``): the contact comes from the CRM (its phone is the recipient); the person
must have opted in to WhatsApp in the CRM's consent; a free text is sent only within 24 hours of the person's
last message (WhatsApp's customer-service window), otherwise an approved template is the way. The Cloud API takes
no idempotency key, so the key is reserved before anything is sent (``mutate_paid``): a replay, or a concurrent
call with the same key, returns the first result and never sends again. A send WhatsApp did not answer (a 5xx or
a timeout after posting) is kept as ``unconfirmed``, not retried: it may have gone out. Each sent message is
logged as an outbound CRM interaction and kept by its ``wamid`` so its statuses can be matched.

Receiving (the webhook handler calls :meth:`Messaging.receive_message` after answering): the sender is found in
the CRM by the WhatsApp id seen before, else by phone, else captured as a new WhatsApp lead; the message becomes
an inbound interaction; when the contact has an active chat flow run it is advanced with the text and the bot's
answer is sent back in the conversation the person opened (unless they revoked WhatsApp consent). Every write is
keyed by the message's wamid, and the message is recorded once (``apply_once``), so redeliveries change nothing.
"""

from datetime import timedelta
from typing import Literal

import structlog

from promptsales.domain_core.crm.commands import AdvanceFlow, CaptureLead, LogInteraction
from promptsales.domain_core.crm.dto import ContactView, FlowRunView
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations.commands import SendMessage
from promptsales.domain_core.integrations.dto import MessageView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.errors import PlatformDown
from promptsales.domain_core.integrations.service import messages
from promptsales.domain_core.integrations.sessions import Link, Sessions
from promptsales.domain_core.integrations.webhooks import apply_once
from promptsales.domain_core.integrations.whatsapp.client import (
    TEXT_MAX,
    SentMessage,
    WhatsAppClient,
    normalise_recipient,
)
from promptsales.domain_core.integrations.whatsapp.webhooks import InboundMessage
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import ComplianceBlocked, DomainError, NotFound, ValidationFailed

log = structlog.get_logger(__name__)

PLATFORM = "whatsapp"
SERVICE_WINDOW = timedelta(hours=24)  # §7: free-form messages only within 24 h of the person's last message
FLOW_CHANNEL: Literal["chat"] = "chat"  # a WhatsApp conversation drives a flow the way a chat widget does
SUMMARY_MAX = 4000  # crm LogInteraction.summary
FLOW_INPUT_MAX = 2000  # crm AdvanceFlow.user_input


def _check_shape(command: SendMessage) -> None:
    if (command.template_name is None) == (command.text is None):
        raise ValidationFailed(
            "Give either template_name (an approved template) or text (a free message), exactly one of them.",
            field="template_name" if command.template_name is None else "text",
            hint="Outside a conversation the person opened in the last 24 hours only a template is delivered.",
        )
    if command.text is not None and command.parameters:
        raise ValidationFailed(
            "parameters fill a template's {{n}} placeholders; they go with template_name, not with text.",
            field="parameters",
        )


def _check_consent(contact: ContactView) -> None:
    state = contact.consent.whatsapp.status
    if state == "granted":
        return
    said = "opted out of" if state == "revoked" else "not opted in to"
    raise ComplianceBlocked(
        f"Contact '{contact.id}' has {said} WhatsApp messages (consent channel whatsapp); nothing was sent.",
        field="contact_id",
        hint="Only with the person's permission: record it with crm_update_contact "
        "(consent.whatsapp granted=true, with its source), then send again.",
    )


def _recipient(contact: ContactView) -> str:
    if not contact.phone:
        raise ValidationFailed(
            f"Contact '{contact.id}' has no phone number to message on WhatsApp.",
            field="contact_id",
            hint="Add their mobile number in international form with crm_update_contact.",
        )
    try:
        return normalise_recipient(contact.phone)
    except ValueError as exc:
        raise ValidationFailed(
            f"Contact '{contact.id}' has a phone number WhatsApp cannot take ({exc}).",
            field="contact_id",
            hint="Correct it with crm_update_contact (country code first).",
        ) from None


def _summary(command: SendMessage) -> str:
    if command.template_name is None:
        return "WhatsApp message sent"
    values = f": {', '.join(command.parameters)}" if command.parameters else ""
    return f"WhatsApp template {command.template_name} ({command.language}) sent{values}"[:SUMMARY_MAX]


class _Outcome:
    """What a send did on the platform and in the CRM (between the reservation and the record)."""

    def __init__(self, sent: SentMessage | None, to: str, interaction_id: str | None) -> None:
        self.sent, self.to, self.interaction_id = sent, to, interaction_id


class Messaging:
    """Sends consent-checked WhatsApp messages to CRM contacts and applies the messages they send."""

    def __init__(self, uow: UnitOfWorkFactory, sessions: Sessions, crm: CrmFacade) -> None:
        self._uow = uow
        self._sessions = sessions
        self._crm = crm

    # ------------------------------------------------------------------------------------------ sending

    async def send(self, caller: Caller, command: SendMessage, *, idempotency_key: str | None) -> MessageView:
        """Send a template or an in-window text to a contact, once per idempotency key."""
        _check_shape(command)

        async def prepare() -> _Outcome:
            contact = await self._contact(caller, command.contact_id)
            _check_consent(contact)
            to = _recipient(contact)
            if command.text is not None:
                await self._check_window(caller, contact, to)
            sent = await self._post(caller, to, command)
            transcript = command.text
            interaction = await self._log(caller, contact.id, _summary(command), transcript, sent)
            return _Outcome(sent, to, interaction)

        async def work(uow: UnitOfWork, outcome: _Outcome) -> MessageView:
            details = (
                {"template": command.template_name, "language": command.language}
                if command.template_name is not None
                else {}
            )
            return await messages.record_sent(
                uow,
                platform=PLATFORM,
                message_id=outcome.sent.message_id if outcome.sent is not None else None,
                contact_id=command.contact_id,
                kind="template" if command.template_name is not None else "text",
                to="+" + outcome.to,
                interaction_id=outcome.interaction_id,
                details=details,
            )

        return await self._uow.mutate_paid(
            caller,
            action="integrations.send_message",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=work,
            result_type=MessageView,
        )

    async def _contact(self, caller: Caller, contact_id: str) -> ContactView:
        try:
            contact = await self._crm.get_contact(caller, contact_id=contact_id)
        except NotFound as exc:
            exc.hint = "Check the id; crm_search_contacts lists the tenant's contacts."
            raise
        if contact.merged_into_id:
            raise ValidationFailed(
                f"Contact '{contact_id}' was merged into '{contact.merged_into_id}'.",
                field="contact_id",
                hint=f"Send to contact '{contact.merged_into_id}' instead.",
            )
        return contact

    async def _check_window(self, caller: Caller, contact: ContactView, to: str) -> None:
        last = await self._uow.read(
            caller, lambda uow: messages.last_inbound(uow, PLATFORM, contact_id=contact.id, sender=to)
        )
        if last is None or self._sessions.clock() - last > SERVICE_WINDOW:
            raise ValidationFailed(
                f"Contact '{contact.id}' has not written on WhatsApp in the last 24 hours, so WhatsApp refuses a "
                "free text (text) to them; nothing was sent.",
                field="text",
                hint="Send an approved template instead (template_name, language, parameters); free text works "
                "again for 24 hours once they reply.",
            )

    async def _post(self, caller: Caller, to: str, command: SendMessage) -> SentMessage | None:
        """The send on the platform; None when WhatsApp did not answer and it may have gone out."""

        async def work(http: ConnectorHttp, link: Link) -> SentMessage:
            client = WhatsAppClient(http, link.account_id or "")
            if command.template_name is not None:
                return await client.send_template(to, command.template_name, command.language, command.parameters)
            assert command.text is not None
            return await client.send_text(to, command.text)

        try:
            return await self._sessions.run(caller, PLATFORM, work)
        except PlatformDown as exc:
            if not exc.may_have_applied:
                raise
            log.warning("integrations.message_unconfirmed", platform=PLATFORM, contact=command.contact_id)
            return None
        except ValueError as exc:  # the client's own checks (the command's bounds already hold)
            field = str(exc).split(":", 1)[0] if ":" in str(exc) else "template_name"
            raise ValidationFailed(str(exc)[:300], field=field) from None

    async def _log(
        self, caller: Caller, contact_id: str, summary: str, transcript: str | None, sent: SentMessage | None
    ) -> str | None:
        """The CRM interaction of a sent message (keyed by its wamid). A CRM failure here is logged, never raised:
        the message is out, and raising would free the idempotency key for a second send."""
        if sent is None:
            return None
        command = LogInteraction(
            contact_id=contact_id,
            channel="whatsapp",
            direction="outbound",
            summary=summary,
            transcript=transcript,
            occurred_at=self._sessions.clock(),
        )
        try:
            logged = await self._crm.log_interaction(caller, command, idempotency_key=f"whatsapp:out:{sent.message_id}")
        except Exception:  # see the docstring: a log failure must not lead to a second send
            log.exception("integrations.message_not_logged", platform=PLATFORM, contact=contact_id)
            return None
        return logged.id

    async def reply(self, caller: Caller, *, contact_id: str, to: str, text: str, key: str) -> MessageView | None:
        """The bot's answer in a conversation the person opened (None: they revoked WhatsApp consent)."""
        contact = await self._crm.get_contact(caller, contact_id=contact_id)
        if contact.consent.whatsapp.status == "revoked":
            log.info("integrations.flow_reply_withheld", platform=PLATFORM, contact=contact_id)
            return None
        command = SendMessage(contact_id=contact_id, text=text[:TEXT_MAX])

        async def prepare() -> _Outcome:
            sent = await self._post(caller, to, command)
            interaction = await self._log(caller, contact_id, "WhatsApp reply from the flow", command.text, sent)
            return _Outcome(sent, to, interaction)

        async def work(uow: UnitOfWork, outcome: _Outcome) -> MessageView:
            return await messages.record_sent(
                uow,
                platform=PLATFORM,
                message_id=outcome.sent.message_id if outcome.sent is not None else None,
                contact_id=contact_id,
                kind="text",
                to="+" + to,
                interaction_id=outcome.interaction_id,
                details={"reply": True},
            )

        return await self._uow.mutate_paid(
            caller,
            action="integrations.flow_reply",
            arguments={"contact_id": contact_id, "to": to, "text": command.text},
            idempotency_key=key,
            prepare=prepare,
            work=work,
            result_type=MessageView,
        )

    async def message(self, caller: Caller, message_id: str) -> MessageView:
        """One message by its wamid or its wm_ id."""
        return await self._uow.read(caller, lambda uow: messages.message(uow, PLATFORM, message_id))

    # ------------------------------------------------------------------------------------------ receiving

    async def receive_message(self, caller: Caller, message: InboundMessage) -> str:
        """Apply one inbound message once: contact, interaction, flow turn and the bot's answer."""
        if await self._uow.read(caller, lambda uow: messages.seen(uow, PLATFORM, message.message_id)):
            return await apply_once(
                self._uow, caller, platform=PLATFORM, event_id=message.event_id, event_type="message"
            )
        sender = message.from_phone
        contact_id = await self._sender(caller, message)
        text = message.text or ""
        who = message.profile_name or f"+{sender}"
        logged = await self._crm.log_interaction(
            caller,
            LogInteraction(
                contact_id=contact_id,
                channel="whatsapp",
                direction="inbound",
                summary=f"WhatsApp message from {who}"[:SUMMARY_MAX],
                transcript=text or None,
                occurred_at=message.timestamp,
            ),
            idempotency_key=f"whatsapp:in:{message.message_id}",
        )
        if text.strip():
            await self._drive_flow(caller, contact_id, sender, text, message.message_id)

        async def record(uow: UnitOfWork) -> str:
            return await messages.record_inbound(
                uow,
                platform=PLATFORM,
                message_id=message.message_id,
                sender=sender,
                contact_id=contact_id,
                interaction_id=logged.id,
                kind="text",
                at=message.timestamp,
            )

        return await apply_once(
            self._uow, caller, platform=PLATFORM, event_id=message.event_id, event_type="message", work=record
        )

    async def _sender(self, caller: Caller, message: InboundMessage) -> str:
        """The CRM contact who wrote: the one this WhatsApp id was before, else by phone, else a new lead."""
        sender = message.from_phone
        known = await self._uow.read(caller, lambda uow: messages.contact_of(uow, PLATFORM, sender))
        if known is not None:
            try:
                contact = await self._crm.get_contact(caller, contact_id=known)
                return contact.merged_into_id or contact.id
            except NotFound:
                pass
        phone = "+" + sender
        page = await self._crm.search_contacts(caller, text=phone, filters={}, cursor=None, limit=20)
        match = next((c for c in page.items if c.phone == phone), None)
        if match is not None:
            return match.id
        first, _, last = (message.profile_name or "").strip().partition(" ")
        captured = await self._crm.capture_lead(
            caller,
            CaptureLead(
                source_channel="whatsapp",
                phone=phone,
                first_name=first[:100] or None,
                last_name=last.strip()[:100] or None,
                occurred_at=message.timestamp,
            ),
            idempotency_key=f"whatsapp:lead:{message.message_id}",
        )
        return captured.contact.id

    async def _drive_flow(self, caller: Caller, contact_id: str, sender: str, text: str, message_id: str) -> None:
        """Advance the contact's active chat flow with the message and send the bot's answer back."""
        run = await self._crm.active_flow_run(caller, contact_id=contact_id, channel=FLOW_CHANNEL)
        if run is None:
            return
        turn: FlowRunView | None
        try:
            turn = await self._crm.advance_flow(
                caller,
                AdvanceFlow(run_id=run.run_id, user_input=text[:FLOW_INPUT_MAX], channel=FLOW_CHANNEL),
                idempotency_key=f"whatsapp:flow:{message_id}",
            )
        except DomainError as exc:  # the run finished or moved on meanwhile: the message stays an interaction
            log.info("integrations.flow_not_advanced", platform=PLATFORM, run=run.run_id, reason=exc.code)
            return
        answer = "\n\n".join(m for m in turn.messages if m.strip())
        if answer:
            await self.reply(caller, contact_id=contact_id, to=sender, text=answer, key=f"whatsapp:reply:{message_id}")
