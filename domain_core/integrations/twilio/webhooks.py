"""Twilio webhooks (pure): the ``X-Twilio-Signature`` check and the form posts Twilio sends.

Facts from shared/reference/platform_apis.md §8 (Twilio Programmable Messaging, API 2010-04-01):

* every request Twilio makes is signed ``X-Twilio-Signature: base64(HMAC-SHA1(auth_token, full URL + the POST
  parameters sorted by name, each name followed by its value))``, compared in constant time; the URL must be the one
  Twilio called (scheme, host, port, query);
* a status callback is a form POST with ``MessageSid``, ``MessageStatus`` (queued → sending → sent → delivered |
  undelivered | failed; also accepted/scheduled/read/canceled), ``ErrorCode``, ``To``, ``From``, ``AccountSid``;
* an inbound message is a form POST with ``MessageSid``, ``AccountSid``, ``From``, ``To`` and ``Body`` [~]; the
  opt-out keywords STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (newer lists add REVOKE, OPTOUT) block the pair on
  Twilio's side and still reach the webhook; START, YES and UNSTOP subscribe again.

A form that is neither is refused with a ``ValueError`` naming what is missing.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Literal
from urllib.parse import parse_qsl

from promptsales.domain_core.integrations.views import FrozenView
from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict

SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_BODY_BYTES = 64 * 1024  # a message form is a few kB (Body ≤ 1600 characters, §8); anything far larger is not one
_SIGNATURE_MAX_LEN = 64  # base64 of a 20-byte SHA-1 digest is 28 characters
_SID = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}")  # message sids [~ twilio.com/docs/glossary/what-is-a-sid]
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})  # §8 Opt-out
OPT_IN = frozenset({"START", "YES", "UNSTOP"})  # §8 Opt-out: re-subscribe
STATUSES = (
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "read",
    "canceled",
)


# --- signature -----------------------------------------------------------------------------------------------------


def sign(*, auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """The ``X-Twilio-Signature`` of a POST to ``url`` with these form parameters (§8)."""
    text = url + "".join(name + value for name, value in sorted(params, key=lambda pair: pair[0]))
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def check(*, auth_token: str, url: str, params: Sequence[tuple[str, str]], signature: str | None) -> SignatureVerdict:
    """Whether the request was signed with ``auth_token`` (constant time); only ``VALID`` may be processed."""
    if not auth_token or not signature:
        return SignatureVerdict.MISSING
    value = signature.strip()
    if len(value) > _SIGNATURE_MAX_LEN or not value.isascii():
        return SignatureVerdict.BAD_SIGNATURE
    expected = sign(auth_token=auth_token, url=url, params=params)
    if not hmac.compare_digest(expected.encode(), value.encode()):
        return SignatureVerdict.BAD_SIGNATURE
    return SignatureVerdict.VALID


def form_params(body: bytes) -> list[tuple[str, str]]:
    """The POST parameters of a form body, in the order sent (a malformed body is refused)."""
    if len(body) > MAX_BODY_BYTES:
        raise ValueError("the body is larger than any Twilio message form")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8 form data") from None
    return parse_qsl(text, keep_blank_values=True)


# --- events --------------------------------------------------------------------------------------------------------


class StatusCallback(FrozenView):
    """Where a sent message stands (``error_code`` e.g. 30003 unreachable, 30007 filtered)."""

    kind: Literal["status"] = "status"
    account_sid: str
    message_sid: str
    status: str
    error_code: str | None = None

    @property
    def event_id(self) -> str:
        """Stable per message and status (a redelivery is a duplicate)."""
        return f"status:{self.message_sid}:{self.status}"


class InboundSms(FrozenView):
    """A text a person sent to the account's number."""

    kind: Literal["message"] = "message"
    account_sid: str
    message_sid: str
    from_phone: str
    to_phone: str | None = None
    body: str = ""

    @property
    def event_id(self) -> str:
        """Stable per message."""
        return f"message:{self.message_sid}"

    @property
    def keyword(self) -> Literal["opt_out", "opt_in"] | None:
        """The consent keyword the whole text is (Twilio matches the text alone, any case), if it is one."""
        word = self.body.strip().upper()
        if word in OPT_OUT:
            return "opt_out"
        if word in OPT_IN:
            return "opt_in"
        return None


TwilioEvent = StatusCallback | InboundSms


def parse_event(params: Sequence[tuple[str, str]]) -> TwilioEvent:
    """The status callback or inbound message a form carries."""
    form: Mapping[str, str] = dict(params)
    account = form.get("AccountSid", "")
    if not ACCOUNT_SID.fullmatch(account):
        raise ValueError("AccountSid is missing or malformed")
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not _SID.fullmatch(sid):
        raise ValueError("MessageSid is missing or malformed")
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if status and status != "received":
        if status not in STATUSES:
            raise ValueError(f"MessageStatus '{status[:20]}' is not a Twilio message status")
        code = form.get("ErrorCode") or None
        return StatusCallback(account_sid=account, message_sid=sid, status=status, error_code=code and code[:10])
    sender = form.get("From", "")
    if not sender:
        raise ValueError("an inbound message needs From")
    return InboundSms(
        account_sid=account,
        message_sid=sid,
        from_phone=sender[:40],
        to_phone=form.get("To") or None,
        body=form.get("Body", "")[:1600],
    )
