"""Messages between CRM contacts and the business (WhatsApp, SMS on Twilio): consent-checked sends, inbound messages.

Sending (``integrations_send_message``): the contact comes from the CRM (its phone is the recipient); the person
must have opted in to the channel in the CRM's consent (``whatsapp`` or ``sms``). What differs per platform sits
behind a :class:`Channel` (the message's shape and limits, the request, WhatsApp's 24-hour window for free text);
the rest is one path. Neither platform takes an idempotency key, so the key is reserved before anything is sent
(``mutate_paid``): a replay, or a concurrent call with the same key, returns the first result and never sends
again. A send the platform did not answer (a 5xx or a timeout after posting) is kept as ``unconfirmed``, not
retried: it may have gone out. Each sent message is logged as an outbound CRM interaction and kept by the
platform's message id so its statuses can be matched.

Receiving (the webhook handlers call :meth:`Messaging.receive_message` / :meth:`Messaging.receive_sms` after
answering): the sender is found in the CRM by the platform id seen before, else by phone, else captured as a new
lead of the channel; the message becomes an inbound interaction. On WhatsApp an active chat flow run is advanced
with the text and the bot's answer sent back in the conversation the person opened (unless they revoked WhatsApp
consent). On SMS the opt-out and opt-in keywords (STOP, START…) change the contact's ``sms`` consent instead. Every
write is keyed by the platform's message id, and the message is recorded once (``apply_once``), so redeliveries
change nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import structlog

from promptsales.domain_core.crm.commands import AdvanceFlow, CaptureLead, LogInteraction, UpdateContact
from promptsales.domain_core.crm.dto import ConsentGrant, ConsentInput, ContactView, FlowRunView
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations.commands import SendMessage
from promptsales.domain_core.integrations.dto import MessageView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.errors import PlatformDown
from promptsales.domain_core.integrations.model.phones import normalise_recipient
from promptsales.domain_core.integrations.service import messages
from promptsales.domain_core.integrations.sessions import Link, Sessions
from promptsales.domain_core.integrations.twilio.webhooks import InboundSms
from promptsales.domain_core.integrations.webhooks import apply_once
from promptsales.domain_core.integrations.whatsapp.webhooks import InboundMessage
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import ComplianceBlocked, DomainError, NotFound, ValidationFailed

log = structlog.get_logger(__name__)

FLOW_CHANNEL: Literal["chat"] = "chat"  # a WhatsApp conversation drives a flow the way a chat widget does
SUMMARY_MAX = 4000  # crm LogInteraction.summary
FLOW_INPUT_MAX = 2000  # crm AdvanceFlow.user_input
ChannelName = Literal["whatsapp", "sms"]  # SendMessage.channel; also the CRM consent, interaction and lead channel


@dataclass(frozen=True, slots=True)
class Posted:
    """A send the platform accepted: its message id (status webhooks carry it) and the SMS segments it bills."""

    message_id: str
    segments: int | None = None


class Channel(Protocol):
    """What one messaging channel does its own way; the consent check, reservation, CRM log and record are shared."""

    @property
    def name(self) -> ChannelName:
        """The channel: SendMessage.channel, and the CRM's consent, interaction and lead channel."""
        ...

    @property
    def platform(self) -> str:
        """The connection that carries it."""
        ...

    @property
    def label(self) -> str:
        """As people read it: "WhatsApp", "SMS"."""
        ...

    @property
    def service_window(self) -> timedelta | None:
        """Free text only this long after the person last wrote (None: at any time)."""
        ...

    @property
    def text_max(self) -> int:
        """The longest text it carries."""
        ...

    def check(self, command: SendMessage) -> None:
        """Refuse a message this channel cannot carry, naming the field."""
        ...

    def summary(self, command: SendMessage) -> str:
        """The outbound CRM interaction's summary."""
        ...

    def details(self, command: SendMessage) -> dict[str, Any]:
        """What the message record keeps besides the shared fields (a template's name and language)."""
        ...

    async def post(self, http: ConnectorHttp, link: Link, to: str, command: SendMessage) -> Posted:
        """Send to ``to`` (E.164 digits); ValueError for what the platform's client refuses before sending."""
        ...


def _check_consent(contact: ContactView, channel: Channel) -> None:
    state = getattr(contact.consent, channel.name).status
    if state == "granted":
        return
    said = "opted out of" if state == "revoked" else "not opted in to"
    raise ComplianceBlocked(
        f"Contact '{contact.id}' has {said} {channel.label} messages (consent channel {channel.name}); nothing was "
        "sent.",
        field="contact_id",
        hint="Only with the person's permission: record it with crm_update_contact "
        f"(consent.{channel.name} granted=true, with its source), then send again.",
    )


def _recipient(contact: ContactView, channel: Channel) -> str:
    if not contact.phone:
        raise ValidationFailed(
            f"Contact '{contact.id}' has no phone number to message on {channel.label}.",
            field="contact_id",
            hint="Add their mobile number in international form with crm_update_contact.",
        )
    try:
        return normalise_recipient(contact.phone)
    except ValueError as exc:
        raise ValidationFailed(
            f"Contact '{contact.id}' has a phone number {channel.label} cannot take ({exc}).",
            field="contact_id",
            hint="Correct it with crm_update_contact (country code first).",
        ) from None


class _Outcome:
    """What a send did on the platform and in the CRM (between the reservation and the record)."""

    def __init__(self, sent: Posted | None, to: str, interaction_id: str | None) -> None:
        self.sent, self.to, self.interaction_id = sent, to, interaction_id


class Messaging:
    """Sends consent-checked messages to CRM contacts on their channels and applies the messages they send."""

    def __init__(
        self, uow: UnitOfWorkFactory, sessions: Sessions, crm: CrmFacade, channels: Mapping[str, Channel]
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._crm = crm
        self._channels = dict(channels)

    def channel(self, name: str) -> Channel:
        """The channel ``name`` (a ValidationFailed listing the others when this deployment has none)."""
        found = self._channels.get(name)
        if found is None:
            raise ValidationFailed(
                f"Messages cannot go out on '{name[:20]}' here.",
                field="channel",
                hint=f"Channels: {', '.join(sorted(self._channels))}.",
            )
        return found

    # ------------------------------------------------------------------------------------------ sending

    async def send(self, caller: Caller, command: SendMessage, *, idempotency_key: str | None) -> MessageView:
        """Send a message to a contact on the command's channel, once per idempotency key."""
        channel = self.channel(command.channel)
        channel.check(command)

        async def prepare() -> _Outcome:
            contact = await self._contact(caller, command.contact_id)
            _check_consent(contact, channel)
            to = _recipient(contact, channel)
            if command.text is not None and channel.service_window is not None:
                await self._check_window(caller, channel, contact, to)
            sent = await self._post(caller, channel, to, command)
            interaction = await self._log(caller, channel, contact.id, channel.summary(command), command.text, sent)
            return _Outcome(sent, to, interaction)

        async def work(uow: UnitOfWork, outcome: _Outcome) -> MessageView:
            return await self._record(uow, channel, command, outcome, channel.details(command))

        return await self._uow.mutate_paid(
            caller,
            action="integrations.send_message",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=work,
            result_type=MessageView,
        )

    @staticmethod
    async def _record(
        uow: UnitOfWork, channel: Channel, command: SendMessage, outcome: _Outcome, details: dict[str, Any]
    ) -> MessageView:
        sent = outcome.sent
        extra = {**details, "segments": sent.segments} if sent is not None and sent.segments is not None else details
        return await messages.record_sent(
            uow,
            platform=channel.platform,
            message_id=sent.message_id if sent is not None else None,
            contact_id=command.contact_id,
            kind="template" if command.template_name is not None else "text",
            to="+" + outcome.to,
            interaction_id=outcome.interaction_id,
            details=extra,
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

    async def _check_window(self, caller: Caller, channel: Channel, contact: ContactView, to: str) -> None:
        window = channel.service_window
        assert window is not None
        last = await self._uow.read(
            caller, lambda uow: messages.last_inbound(uow, channel.platform, contact_id=contact.id, sender=to)
        )
        if last is None or self._sessions.clock() - last > window:
            hours = int(window.total_seconds() // 3600)
            raise ValidationFailed(
                f"Contact '{contact.id}' has not written on {channel.label} in the last {hours} hours, so "
                f"{channel.label} refuses a free text (text) to them; nothing was sent.",
                field="text",
                hint="Send an approved template instead (template_name, language, parameters); free text works "
                f"again for {hours} hours once they reply.",
            )

    async def _post(self, caller: Caller, channel: Channel, to: str, command: SendMessage) -> Posted | None:
        """The send on the platform; None when it did not answer and the message may have gone out."""

        async def work(http: ConnectorHttp, link: Link) -> Posted:
            return await channel.post(http, link, to, command)

        try:
            return await self._sessions.run(caller, channel.platform, work)
        except PlatformDown as exc:
            if not exc.may_have_applied:
                raise
            log.warning("integrations.message_unconfirmed", platform=channel.platform, contact=command.contact_id)
            return None
        except ValueError as exc:  # the client's own checks (the command's bounds already hold)
            field = str(exc).split(":", 1)[0] if ":" in str(exc) else "template_name"
            raise ValidationFailed(str(exc)[:300], field=field) from None

    async def _log(
        self,
        caller: Caller,
        channel: Channel,
        contact_id: str,
        summary: str,
        transcript: str | None,
        sent: Posted | None,
    ) -> str | None:
        """The CRM interaction of a sent message (keyed by its platform id). A CRM failure here is logged, never
        raised: the message is out, and raising would free the idempotency key for a second send."""
        if sent is None:
            return None
        command = LogInteraction(
            contact_id=contact_id,
            channel=channel.name,
            direction="outbound",
            summary=summary[:SUMMARY_MAX],
            transcript=transcript,
            occurred_at=self._sessions.clock(),
        )
        key = f"{channel.platform}:out:{sent.message_id}"
        try:
            logged = await self._crm.log_interaction(caller, command, idempotency_key=key)
        except Exception:  # see the docstring: a log failure must not lead to a second send
            log.exception("integrations.message_not_logged", platform=channel.platform, contact=contact_id)
            return None
        return logged.id

    async def reply(self, caller: Caller, *, contact_id: str, to: str, text: str, key: str) -> MessageView | None:
        """The bot's WhatsApp answer in a conversation the person opened (None: they revoked WhatsApp consent)."""
        channel = self.channel("whatsapp")
        contact = await self._crm.get_contact(caller, contact_id=contact_id)
        if contact.consent.whatsapp.status == "revoked":
            log.info("integrations.flow_reply_withheld", platform=channel.platform, contact=contact_id)
            return None
        command = SendMessage(contact_id=contact_id, text=text[: channel.text_max])

        async def prepare() -> _Outcome:
            sent = await self._post(caller, channel, to, command)
            summary = f"{channel.label} reply from the flow"
            interaction = await self._log(caller, channel, contact_id, summary, command.text, sent)
            return _Outcome(sent, to, interaction)

        async def work(uow: UnitOfWork, outcome: _Outcome) -> MessageView:
            return await self._record(uow, channel, command, outcome, {"reply": True})

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
        """One message by the platform's id (wamid, Twilio sid) or its wm_ id, on whichever channel carried it."""
        platforms = sorted({channel.platform for channel in self._channels.values()})

        async def find(uow: UnitOfWork) -> MessageView:
            for platform in platforms:
                try:
                    return await messages.message(uow, platform, message_id)
                except NotFound:
                    continue
            raise NotFound("message", message_id[:120], field="message_id")

        return await self._uow.read(caller, find)

    # ------------------------------------------------------------------------------------------ receiving

    async def receive_message(self, caller: Caller, message: InboundMessage) -> str:
        """Apply one inbound WhatsApp message once: contact, interaction, flow turn and the bot's answer."""
        channel = self.channel("whatsapp")
        platform = channel.platform
        if await self._uow.read(caller, lambda uow: messages.seen(uow, platform, message.message_id)):
            return await apply_once(
                self._uow, caller, platform=platform, event_id=message.event_id, event_type="message"
            )
        who = message.profile_name or f"+{message.from_phone}"
        contact_id = await self._sender(
            caller, channel, message.from_phone, message.message_id, message.timestamp, message.profile_name
        )
        text = message.text or ""
        interaction = await self._log_inbound(
            caller,
            channel,
            contact_id,
            f"{channel.label} message from {who}",
            text,
            message.message_id,
            message.timestamp,
        )
        if text.strip():
            await self._drive_flow(caller, contact_id, message.from_phone, text, message.message_id)
        return await self._record_inbound(
            caller,
            channel,
            message.event_id,
            message.message_id,
            message.from_phone,
            contact_id,
            interaction,
            message.timestamp,
        )

    async def receive_sms(self, caller: Caller, message: InboundSms) -> str:
        """Apply one inbound SMS once: an opt-out or opt-in keyword sets the contact's ``sms`` consent; any other
        text becomes an inbound interaction (a new SMS lead when the number is unknown)."""
        channel = self.channel("sms")
        platform = channel.platform
        if await self._uow.read(caller, lambda uow: messages.seen(uow, platform, message.message_sid)):
            return await apply_once(
                self._uow, caller, platform=platform, event_id=message.event_id, event_type="message"
            )
        try:
            sender = normalise_recipient(message.from_phone, field="From")
        except ValueError:  # a short code or an alphanumeric sender: no person to find in the CRM
            return await self._ignore(caller, platform, message.event_id, "not from a phone number")
        now = self._sessions.clock()
        keyword = message.keyword
        if keyword is not None:
            contact_id = await self._known(caller, platform, sender)
            if contact_id is None:
                return await self._ignore(caller, platform, message.event_id, f"{keyword} from an unknown number")
            granted = keyword == "opt_in"
            await self._crm.update_contact(
                caller,
                UpdateContact(
                    contact_id=contact_id,
                    consent=ConsentInput(sms=ConsentGrant(granted=granted, source=platform, at=now)),
                ),
                idempotency_key=f"{platform}:consent:{message.message_sid}",
            )
            interaction = None
        else:
            contact_id = await self._sender(caller, channel, sender, message.message_sid, now, None)
            interaction = await self._log_inbound(
                caller, channel, contact_id, f"SMS from +{sender}", message.body, message.message_sid, now
            )
        return await self._record_inbound(
            caller, channel, message.event_id, message.message_sid, sender, contact_id, interaction, now
        )

    async def _ignore(self, caller: Caller, platform: str, event_id: str, reason: str) -> str:
        async def ignored(uow: UnitOfWork) -> str:
            return f"ignored: {reason}"

        return await apply_once(
            self._uow, caller, platform=platform, event_id=event_id, event_type="message", work=ignored
        )

    async def _log_inbound(
        self, caller: Caller, channel: Channel, contact_id: str, summary: str, text: str, message_id: str, at: datetime
    ) -> str:
        logged = await self._crm.log_interaction(
            caller,
            LogInteraction(
                contact_id=contact_id,
                channel=channel.name,
                direction="inbound",
                summary=summary[:SUMMARY_MAX],
                transcript=text or None,
                occurred_at=at,
            ),
            idempotency_key=f"{channel.platform}:in:{message_id}",
        )
        return logged.id

    async def _record_inbound(
        self,
        caller: Caller,
        channel: Channel,
        event_id: str,
        message_id: str,
        sender: str,
        contact_id: str,
        interaction_id: str | None,
        at: datetime,
    ) -> str:
        async def record(uow: UnitOfWork) -> str:
            return await messages.record_inbound(
                uow,
                platform=channel.platform,
                message_id=message_id,
                sender=sender,
                contact_id=contact_id,
                interaction_id=interaction_id,
                kind="text",
                at=at,
            )

        return await apply_once(
            self._uow, caller, platform=channel.platform, event_id=event_id, event_type="message", work=record
        )

    async def _known(self, caller: Caller, platform: str, sender: str) -> str | None:
        """The CRM contact a sender is: the one this platform user was before, else the contact with this phone."""
        known = await self._uow.read(caller, lambda uow: messages.contact_of(uow, platform, sender))
        if known is not None:
            try:
                contact = await self._crm.get_contact(caller, contact_id=known)
                return contact.merged_into_id or contact.id
            except NotFound:
                pass
        phone = "+" + sender
        page = await self._crm.search_contacts(caller, text=phone, filters={}, cursor=None, limit=20)
        match = next((c for c in page.items if c.phone == phone), None)
        return match.id if match is not None else None

    async def _sender(
        self, caller: Caller, channel: Channel, sender: str, message_id: str, at: datetime, profile_name: str | None
    ) -> str:
        """The CRM contact who wrote (see :meth:`_known`), else a new lead of the channel."""
        known = await self._known(caller, channel.platform, sender)
        if known is not None:
            return known
        first, _, last = (profile_name or "").strip().partition(" ")
        captured = await self._crm.capture_lead(
            caller,
            CaptureLead(
                source_channel=channel.name,
                phone="+" + sender,
                first_name=first[:100] or None,
                last_name=last.strip()[:100] or None,
                occurred_at=at,
            ),
            idempotency_key=f"{channel.platform}:lead:{message_id}",
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
            log.info("integrations.flow_not_advanced", platform="whatsapp", run=run.run_id, reason=exc.code)
            return
        answer = "\n\n".join(m for m in turn.messages if m.strip())
        if answer:
            await self.reply(caller, contact_id=contact_id, to=sender, text=answer, key=f"whatsapp:reply:{message_id}")
