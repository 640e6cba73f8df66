"""WhatsApp Cloud API webhooks (pure): the signature check, the subscription handshake and the payload parser.

Facts from shared/reference/platform_apis.md §7 (WhatsApp) and §3 (the shared Meta webhook mechanism):

* every delivery is a ``POST`` signed ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``
  (§3 "Webhooks"); the raw body is what is signed, so it is checked before any JSON parsing (§ intro: never
  re-serialise). The signature carries no timestamp: a replayed delivery is told apart by the receiver's dedupe on
  :attr:`event_id` (§7 "dedupe on wamid + status"), not by this check;
* subscribing the callback URL is a ``GET ?hub.mode=subscribe&hub.verify_token=<ours>&hub.challenge=<n>`` that is
  answered 200 with the challenge as plain text, else 403 (§3);
* the payload (§7 "Webhooks") is ``{object:"whatsapp_business_account", entry:[{id:<WABA id>, changes:[{field:
  "messages", value:{messaging_product, metadata:{display_phone_number, phone_number_id}, contacts?, messages?,
  statuses?}}]}]}``. Inbound messages carry ``from``, ``id``, ``timestamp`` (epoch seconds) and ``type``; text
  ``{text:{body}}``, template quick-reply ``{button:{text, payload}}``, interactive ``{interactive:{type:
  "button_reply"|"list_reply", button_reply|list_reply:{id, title}}}``, ``context:{from, id}`` when replying to a
  message [~ shapes: developers.facebook.com .../webhooks/reference/messages/button]. Statuses are ``{id, status:
  sent|delivered|read|failed, timestamp, recipient_id, conversation?, pricing?, errors?:[{code, title, message,
  error_data:{details}}]}``; "delivered" may be skipped and the order is not guaranteed (§7).

Anything well-formed that this module does not model (media messages, reactions, other ``field`` values, new
status names) becomes an :class:`UnsupportedEvent`, never an exception; a payload that is not the documented
envelope is refused with a ``ValueError`` naming what is wrong.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from promptsales.domain_core.integrations.views import FrozenView
from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict

__all__ = [
    "SIGNATURE_HEADER",
    "InboundMessage",
    "SignatureVerdict",
    "StatusError",
    "StatusUpdate",
    "UnsupportedEvent",
    "WhatsAppEvent",
    "answer_handshake",
    "check",
    "parse_payload",
    "sign",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"  # §3 Webhooks
SIGNATURE_PREFIX = "sha256="
# §7 "Webhooks": a delivery batches many changes; Meta caps a webhook payload at 3 MB [~]. Larger bodies are refused
# before any hashing or parsing.
MAX_BODY_BYTES = 3 * 1024 * 1024
# "sha256=" + 64 hex digits; anything much longer is not a signature and is not compared.
_SIGNATURE_MAX_LEN = 128
# hub.challenge is a number Meta picks (§3 "hub.challenge=<n>"); it is echoed back, so only a short token of safe
# characters is ever returned (the echo must not become a way to reflect arbitrary text).
_CHALLENGE = re.compile(r"[A-Za-z0-9._-]{1,256}")
_ID_MAX = 512  # ids (wamid…, WABA and phone number ids) are far shorter; a longer one is malformed
_TIMESTAMP_MAX = 10**11  # epoch seconds beyond year 5000 are malformed, not a date
WABA_OBJECT = "whatsapp_business_account"
STATUSES = ("sent", "delivered", "read", "failed")
MESSAGE_TYPES = ("text", "button", "interactive")
_INTERACTIVE_REPLIES = ("button_reply", "list_reply")


# --- signature -----------------------------------------------------------------------------------------------------


def sign(*, app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``: ``sha256=`` + lowercase hex HMAC-SHA256."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def check(*, app_secret: str, body: bytes, signature: str | None) -> SignatureVerdict:
    """Whether ``body`` was signed with ``app_secret`` (constant-time); only ``VALID`` may be processed."""
    if not app_secret or not signature:
        return SignatureVerdict.MISSING
    value = signature.strip()
    # A value without the sha256= prefix (the legacy sha1 X-Hub-Signature format, or garbage) is not a SHA-256
    # signature of this body whatever it holds.
    if len(value) > _SIGNATURE_MAX_LEN or not value.isascii() or not value.startswith(SIGNATURE_PREFIX):
        return SignatureVerdict.BAD_SIGNATURE
    expected = sign(app_secret=app_secret, body=body).encode()
    # Hex is case-insensitive; Meta sends lowercase [~], a proxy may not.
    if not hmac.compare_digest(expected, value.lower().encode()):
        return SignatureVerdict.BAD_SIGNATURE
    return SignatureVerdict.VALID


# --- subscription handshake ----------------------------------------------------------------------------------------


def answer_handshake(query: Mapping[str, str], *, verify_token: str) -> str | None:
    """The ``hub.challenge`` to answer (200, text/plain) to a subscription GET, or None (answer 403).

    Only ``hub.mode=subscribe`` with our ``hub.verify_token`` (compared in constant time) and a well-formed
    challenge is answered.
    """
    if not verify_token:
        return None
    mode = query.get("hub.mode")
    token = query.get("hub.verify_token")
    challenge = query.get("hub.challenge")
    if mode != "subscribe" or not isinstance(token, str) or not isinstance(challenge, str):
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge if _CHALLENGE.fullmatch(challenge) else None


# --- events --------------------------------------------------------------------------------------------------------


class StatusError(FrozenView):
    """One error of a failed status or message (§7 ``errors[]``); ``code`` e.g. 131047 = outside the 24 h window."""

    code: int | None = None
    title: str | None = None
    message: str | None = None
    details: str | None = None


class _Event(FrozenView):
    """What every event carries: a stable id for dedupe and where it came from."""

    event_id: str
    waba_id: str
    phone_number_id: str | None = None
    display_phone_number: str | None = None


class InboundMessage(_Event):
    """A message a WhatsApp user sent to the business number (text, template button or interactive reply)."""

    kind: Literal["message"] = "message"
    message_id: str
    message_type: Literal["text", "button", "interactive"]
    from_phone: str
    timestamp: datetime
    profile_name: str | None = None
    text: str | None = None  # the text body, or the tapped button's / list row's title
    payload: str | None = None  # the button payload, or the reply button's / list row's id
    interactive_type: str | None = None
    context_message_id: str | None = None  # the business message this one answers


class StatusUpdate(_Event):
    """A status of a message the business sent: sent, delivered, read or failed (with its errors)."""

    kind: Literal["status"] = "status"
    message_id: str
    status: Literal["sent", "delivered", "read", "failed"]
    recipient_id: str
    timestamp: datetime
    conversation_id: str | None = None
    conversation_expires_at: datetime | None = None
    conversation_origin: str | None = None
    billable: bool | None = None
    pricing_category: str | None = None
    pricing_model: str | None = None
    errors: tuple[StatusError, ...] = ()


class UnsupportedEvent(_Event):
    """A well-formed notification this connector does not model; kept so nothing is silently dropped."""

    kind: Literal["unsupported"] = "unsupported"
    reason: str  # e.g. "message type 'image'", "field 'account_update'", "status 'deleted'"
    field: str = "messages"
    message_id: str | None = None
    from_phone: str | None = None
    timestamp: datetime | None = None
    errors: tuple[StatusError, ...] = ()
    raw: Mapping[str, Any] = Field(default_factory=dict)


WhatsAppEvent = InboundMessage | StatusUpdate | UnsupportedEvent


def parse_payload(body: bytes | str) -> tuple[WhatsAppEvent, ...]:
    """Every event of one webhook delivery, in payload order; ValueError when it is not the documented envelope.

    Parse only a body whose signature :func:`check` found ``VALID``.
    """
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise ValueError(f"webhook body is larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("webhook body is not JSON") from None
    if not isinstance(document, dict):
        raise ValueError("webhook body must be a JSON object")
    if document.get("object") != WABA_OBJECT:
        raise ValueError(f"webhook 'object' must be '{WABA_OBJECT}'")
    entries = _list(document.get("entry"), "entry")
    events: list[WhatsAppEvent] = []
    for i, entry in enumerate(entries):
        where = f"entry[{i}]"
        entry = _dict(entry, where)
        waba_id = _id(entry.get("id"), f"{where}.id")
        for j, change in enumerate(_list(entry.get("changes"), f"{where}.changes")):
            events.extend(_change(_dict(change, f"{where}.changes[{j}]"), waba_id, f"{where}.changes[{j}]"))
    return tuple(events)


def _change(change: Mapping[str, Any], waba_id: str, where: str) -> list[WhatsAppEvent]:
    field = change.get("field")
    if not isinstance(field, str) or not field:
        raise ValueError(f"webhook {where}.field must be a non-empty string")
    value = _dict(change.get("value"), f"{where}.value")
    if field != "messages":
        digest = hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        return [
            UnsupportedEvent(
                event_id=f"change:{field[:64]}:{digest[:40]}",
                waba_id=waba_id,
                reason=f"field '{field[:64]}'",
                field=field[:64],
                raw=value,
            )
        ]
    metadata = _dict(value.get("metadata"), f"{where}.value.metadata")
    origin = {
        "waba_id": waba_id,
        "phone_number_id": _id(metadata.get("phone_number_id"), f"{where}.value.metadata.phone_number_id"),
        "display_phone_number": _text(metadata.get("display_phone_number")),
    }
    names = _profile_names(value.get("contacts"), f"{where}.value.contacts")
    events: list[WhatsAppEvent] = []
    for k, message in enumerate(_list(value.get("messages", []), f"{where}.value.messages")):
        events.append(
            _message(_dict(message, f"{where}.value.messages[{k}]"), names, origin, f"{where}.value.messages[{k}]")
        )
    for k, status in enumerate(_list(value.get("statuses", []), f"{where}.value.statuses")):
        events.append(_status(_dict(status, f"{where}.value.statuses[{k}]"), origin, f"{where}.value.statuses[{k}]"))
    # Errors not tied to one message (§7 / Meta error docs: entry.changes.value.errors) are kept as one event.
    value_errors = _errors(value.get("errors"), f"{where}.value.errors")
    if value_errors:
        digest = hashlib.sha256(json.dumps(value.get("errors"), sort_keys=True).encode()).hexdigest()
        events.append(
            UnsupportedEvent(
                event_id=f"errors:{origin['phone_number_id']}:{digest[:40]}",
                reason="errors not tied to a message",
                errors=value_errors,
                raw={"errors": value.get("errors")},
                **origin,
            )
        )
    return events


def _message(
    message: Mapping[str, Any], names: Mapping[str, str], origin: Mapping[str, Any], where: str
) -> InboundMessage | UnsupportedEvent:
    message_id = _id(message.get("id"), f"{where}.id")
    sender = _id(message.get("from"), f"{where}.from")
    moment = _timestamp(message.get("timestamp"), f"{where}.timestamp")
    kind = message.get("type")
    context = message.get("context")
    context_id = _text(context.get("id")) if isinstance(context, dict) else None
    common: dict[str, Any] = {
        "event_id": f"message:{message_id}",
        "message_id": message_id,
        "from_phone": sender,
        "timestamp": moment,
        **origin,
    }
    text: str | None = None
    payload: str | None = None
    interactive_type: str | None = None
    if kind == "text":
        text = _text(_dict(message.get("text"), f"{where}.text").get("body"))
    elif kind == "button":
        button = _dict(message.get("button"), f"{where}.button")
        text, payload = _text(button.get("text")), _text(button.get("payload"))
    elif kind == "interactive":
        interactive = _dict(message.get("interactive"), f"{where}.interactive")
        interactive_type = _text(interactive.get("type"))
        reply = interactive.get(interactive_type) if interactive_type in _INTERACTIVE_REPLIES else None
        if not isinstance(reply, dict):
            # Flows answers (nfm_reply) and future interactive kinds: kept, not modelled.
            return UnsupportedEvent(
                reason=f"interactive type '{(interactive_type or '')[:64]}'",
                errors=_errors(message.get("errors"), f"{where}.errors"),
                raw=message,
                **common,
            )
        text, payload = _text(reply.get("title")), _text(reply.get("id"))
    else:
        shown = kind[:64] if isinstance(kind, str) else "missing"
        return UnsupportedEvent(
            reason=f"message type '{shown}'",
            errors=_errors(message.get("errors"), f"{where}.errors"),
            raw=message,
            **common,
        )
    return InboundMessage(
        message_type=kind,
        profile_name=names.get(sender),
        text=text,
        payload=payload,
        interactive_type=interactive_type,
        context_message_id=context_id,
        **common,
    )


def _status(status: Mapping[str, Any], origin: Mapping[str, Any], where: str) -> StatusUpdate | UnsupportedEvent:
    message_id = _id(status.get("id"), f"{where}.id")
    name = status.get("status")
    if not isinstance(name, str) or not name:
        raise ValueError(f"webhook {where}.status must be a non-empty string")
    moment = _timestamp(status.get("timestamp"), f"{where}.timestamp")
    recipient = _id(status.get("recipient_id"), f"{where}.recipient_id")
    errors = _errors(status.get("errors"), f"{where}.errors")
    event_id = f"status:{message_id}:{name[:32]}"
    if name not in STATUSES:
        return UnsupportedEvent(
            event_id=event_id,
            reason=f"status '{name[:32]}'",
            message_id=message_id,
            timestamp=moment,
            errors=errors,
            raw=status,
            **origin,
        )
    conversation = status.get("conversation")
    conversation = conversation if isinstance(conversation, dict) else {}
    conversation_origin = conversation.get("origin")
    expires = conversation.get("expiration_timestamp")
    pricing = status.get("pricing")
    pricing = pricing if isinstance(pricing, dict) else {}
    billable = pricing.get("billable")
    return StatusUpdate(
        event_id=event_id,
        message_id=message_id,
        status=name,
        recipient_id=recipient,
        timestamp=moment,
        conversation_id=_text(conversation.get("id")),
        conversation_expires_at=None
        if expires is None
        else _timestamp(expires, f"{where}.conversation.expiration_timestamp"),
        conversation_origin=_text(conversation_origin.get("type")) if isinstance(conversation_origin, dict) else None,
        billable=billable if isinstance(billable, bool) else None,
        pricing_category=_text(pricing.get("category")),
        pricing_model=_text(pricing.get("pricing_model")),
        errors=errors,
        **origin,
    )


def _profile_names(contacts: object, where: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for i, contact in enumerate(_list(contacts if contacts is not None else [], where)):
        contact = _dict(contact, f"{where}[{i}]")
        wa_id = _text(contact.get("wa_id"))
        profile = contact.get("profile")
        name = _text(profile.get("name")) if isinstance(profile, dict) else None
        if wa_id and name:
            names[wa_id] = name
    return names


def _errors(errors: object, where: str) -> tuple[StatusError, ...]:
    if errors is None:
        return ()
    found: list[StatusError] = []
    for i, error in enumerate(_list(errors, where)):
        error = _dict(error, f"{where}[{i}]")
        code = error.get("code")
        data = error.get("error_data")
        found.append(
            StatusError(
                code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                title=_text(error.get("title")),
                message=_text(error.get("message")),
                details=_text(data.get("details")) if isinstance(data, dict) else None,
            )
        )
    return tuple(found)


def _dict(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"webhook {where} must be an object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"webhook {where} must be a list")
    return value


def _id(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _ID_MAX:
        raise ValueError(f"webhook {where} must be a non-empty string of at most {_ID_MAX} characters")
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _timestamp(value: object, where: str) -> datetime:
    # §7: epoch seconds, sent as a string of digits (a number is accepted too).
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        seconds = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        raise ValueError(f"webhook {where} must be epoch seconds")
    if not 0 <= seconds < _TIMESTAMP_MAX:
        raise ValueError(f"webhook {where} is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)
