"""Mailchimp audience webhooks (pure): the URL secret check, the form-encoded event parser, the reply to give.

shared/reference/platform_apis.md §6 "Webhooks" [~] and the matrix ("Inbound webhook auth: none (secret URL)"):

* list webhooks are ``application/x-www-form-urlencoded`` POSTs with ``type`` (``subscribe | unsubscribe | profile |
  upemail | cleaned | campaign``), ``fired_at`` (``YYYY-MM-DD HH:MM:SS``) and ``data[...]`` fields (``data[email]``,
  ``data[list_id]``, ``data[reason]``, ``data[action]``, ``data[merges][FNAME]``, …; ``upemail`` carries
  ``data[new_email]``/``data[old_email]``, ``campaign`` carries the campaign's ``data[id]``) [~ field names of the
  events other than subscribe/unsubscribe];
* they are not signed: authenticity is a secret the tenant puts in the webhook URL, compared here in constant
  time (:func:`verify_url_secret`);
* Mailchimp checks a new webhook URL with a GET, which must answer 200 [~] (so the GET needs no secret: it changes
  nothing and reveals nothing), and retries a failed POST for about 75 minutes [~]: the same event arrives again
  with the same body, so :attr:`MailchimpEvent.id` (a hash of type, fired_at, list and address) is stable for
  dedupe.
"""

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, cast
from urllib.parse import parse_qsl

from pydantic import Field

from promptsales.domain_core.integrations.views import FrozenView
from promptsales.domain_core.shared.errors import ValidationFailed

EventType = Literal["subscribe", "unsubscribe", "profile", "upemail", "cleaned", "campaign"]
EVENT_TYPES: tuple[str, ...] = ("subscribe", "unsubscribe", "profile", "upemail", "cleaned", "campaign")
BODY_MAX = 64 * 1024  # far above a real event (a few hundred bytes); bounds the parse
FIELDS_MAX = 500
VALUE_MAX = 2_000
FIRED_AT_FORMAT = "%Y-%m-%d %H:%M:%S"

_DATA_KEY = re.compile(r"data\[([^\[\]]+)\](.*)")
_SUB_KEY = re.compile(r"\[([^\[\]]+)\](.*)")


class MailchimpEvent(FrozenView):
    """One audience webhook event; ``id`` is stable across Mailchimp's redeliveries of it."""

    id: str
    type: EventType
    fired_at: datetime
    list_id: str
    email: str | None = None  # the member's address (for upemail: the new one)
    old_email: str | None = None  # upemail only
    reason: str | None = None  # unsubscribe: manual | abuse …; cleaned: hard | abuse [~]
    action: str | None = None  # unsubscribe: unsub | delete [~]
    campaign_id: str | None = None
    merges: Mapping[str, str] = Field(default_factory=dict)
    data: Mapping[str, str] = Field(default_factory=dict)  # every plain data[name] field as sent


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """What to answer one request to the webhook URL, and the event to process when there is one."""

    status: int
    event: MailchimpEvent | None = None
    reason: str | None = None


def verify_url_secret(expected: str, given: str | None) -> bool:
    """Whether the secret taken from the request URL is the tenant's, compared in constant time.

    Both sides are hashed first so neither the content nor the length of the expected secret shows in the timing.
    An empty expected secret (a misconfiguration) accepts nothing.
    """
    if not expected or given is None:
        return False
    want = hashlib.sha256(expected.encode("utf-8")).digest()
    got = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(want, got)


def event_id(kind: str, fired_at: datetime, list_id: str, subject: str) -> str:
    """The dedupe id of an event: a hash of its type, time, audience and address (or campaign id)."""
    parts = ("mailchimp", kind, fired_at.astimezone(UTC).strftime(FIRED_AT_FORMAT), list_id, subject.strip().lower())
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _invalid(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, field=field, hint="Only Mailchimp's audience webhook bodies are accepted here.")


def _form(form_body: bytes) -> list[tuple[str, str]]:
    if len(form_body) > BODY_MAX:
        raise _invalid(f"The webhook body is larger than {BODY_MAX} bytes.", "body")
    try:
        text = form_body.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("The webhook body is not UTF-8.", "body") from None
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=FIELDS_MAX)
    except ValueError:
        raise _invalid(f"The webhook body has more than {FIELDS_MAX} fields.", "body") from None


def parse_event(form_body: bytes) -> MailchimpEvent:
    """The event of one webhook POST body; ValidationFailed naming the field that is missing or malformed."""
    fields: dict[str, str] = {}
    data: dict[str, str] = {}
    merges: dict[str, str] = {}
    for name, value in _form(form_body):
        if len(value) > VALUE_MAX:
            raise _invalid(f"{name[:60]} is longer than {VALUE_MAX} characters.", name[:60])
        match = _DATA_KEY.fullmatch(name)
        if match is None:
            fields[name] = value
            continue
        key, rest = match.groups()
        if not rest:
            data[key] = value
        elif key == "merges" and (sub := _SUB_KEY.fullmatch(rest)) is not None:
            merges[sub.group(1) + sub.group(2)] = value  # GROUPINGS[0][name] keeps its inner path
    kind = fields.get("type", "")
    if kind not in EVENT_TYPES:
        raise _invalid(f"type must be one of {', '.join(EVENT_TYPES)}.", "type")
    try:
        fired_at = datetime.strptime(fields.get("fired_at", ""), FIRED_AT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _invalid("fired_at must read 'YYYY-MM-DD HH:MM:SS'.", "fired_at") from None
    list_id = data.get("list_id", "")
    if not list_id:
        raise _invalid("data[list_id] is missing.", "data[list_id]")
    old_email: str | None = None
    campaign_id = data.get("campaign_id") or None
    if kind == "upemail":
        email = data.get("new_email") or None
        old_email = data.get("old_email") or None
        subject, subject_field = email, "data[new_email]"
    elif kind == "campaign":
        email = None
        campaign_id = data.get("id") or None
        subject, subject_field = campaign_id, "data[id]"
    else:
        email = data.get("email") or None
        subject, subject_field = email, "data[email]"
    if not subject:
        raise _invalid(f"{subject_field} is missing.", subject_field)
    return MailchimpEvent(
        id=event_id(kind, fired_at, list_id, subject),
        type=cast(EventType, kind),  # checked against EVENT_TYPES above
        fired_at=fired_at,
        list_id=list_id,
        email=email,
        old_email=old_email,
        reason=data.get("reason") or None,
        action=data.get("action") or None,
        campaign_id=campaign_id,
        merges=merges,
        data=data,
    )


def receive(method: str, *, expected_secret: str, given_secret: str | None, body: bytes) -> WebhookReply:
    """The reply to one request at the webhook URL: 200 to Mailchimp's validation GET, 403 without the URL secret,
    400 for a body that is no event, 200 with the event otherwise; 405 for other methods."""
    verb = method.upper()
    if verb in ("GET", "HEAD"):
        return WebhookReply(200, reason="url_validation")
    if verb != "POST":
        return WebhookReply(405, reason="method_not_allowed")
    if not verify_url_secret(expected_secret, given_secret):
        return WebhookReply(403, reason="bad_secret")
    try:
        event = parse_event(body)
    except ValidationFailed as error:
        return WebhookReply(400, reason=error.field)
    return WebhookReply(200, event=event)
