"""Twilio Programmable Messaging in memory: sends, the account read, signed status callbacks, STOP, faults.

Shapes follow shared/reference/platform_apis.md §8 (API version 2010-04-01). Accounts share nothing.

* Paths: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form: ``To``, ``From`` or
  ``MessagingServiceSid``, ``Body`` ≤ 1600, ``StatusCallback``) → 201 ``{sid, status:"queued", num_segments, …}``;
  ``GET /2010-04-01/Accounts/{AccountSid}.json`` → ``{sid, friendly_name, status}`` [~].
* Auth: HTTP Basic ``AccountSid:AuthToken`` as Twilio takes it; a sandbox connection's simulator-issued token goes
  as Bearer (every sandbox connection holds such tokens, see ``Sessions.oauth``). Missing or wrong credentials
  answer 401 code 20003 [~]; another account's path 403 code 20003 [~].
* Errors ``{code, message, more_info, status}`` (§8). Codes [~ twilio.com/docs/api/errors]: 21211 invalid To,
  21602 Body required, 21617 Body over 1600 characters, 21606 From not the account's number, 21610 the recipient
  answered STOP (§8), 20429 too many concurrent requests (§8), 20500 internal error.
* Statuses: an accepted message goes queued → sent → delivered (``auto_progress``), each a form POST to its
  ``StatusCallback`` with ``MessageSid``, ``MessageStatus``, ``AccountSid``, ``To``, ``From`` (§8); a number marked
  unreachable gets ``undelivered`` with ``ErrorCode`` 30003 (§8).
* Inbound: :meth:`TwilioSimulator.receive` is a person texting the account's number: a form POST (``MessageSid``,
  ``AccountSid``, ``From``, ``To``, ``Body``) to :attr:`sms_url`; an opt-out keyword blocks the pair (sends answer
  21610) and START/YES/UNSTOP lifts it (§8 Opt-out).
* Every callback is signed ``X-Twilio-Signature`` with the account's auth token over its URL and sorted form
  parameters (§8), and handed to :attr:`deliver` ``(url, headers, body) -> HTTP status``, else kept in
  :attr:`outbox`.
* Faults: :meth:`fail_next` (429 code 20429, or a 5xx, optionally after the send was applied: a lost answer).
"""

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.integrations.simulator_kit import Faults
from promptsales.domain_core.integrations.twilio.webhooks import OPT_IN, OPT_OUT, SIGNATURE_HEADER, sign
from promptsales.domain_core.shared.clock import utc_now

VERSION = "2010-04-01"
TEST_SENDER = "+15005550006"  # §8 Test credentials: the magic From number that always succeeds
SANDBOX_AUTH_TOKEN = "twilio-sandbox-auth-token"  # noqa: S105  # sandbox accounts' (public) primary auth token
BODY_MAX = 1600  # §8 Send
UNREACHABLE = 30003  # §8 status callback ErrorCode: unreachable destination handset
_PROGRESS = ("queued", "sent", "delivered")
# GSM 03.38 basic character set: a message of only these is 7-bit (160 per single segment, 153 per part of a
# concatenated one); anything else is UCS-2 (70 / 67) [~ twilio.com/docs/glossary/what-sms-character-limit].
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # two septets each

Deliver = Callable[[str, dict[str, str], bytes], Awaitable[int]]


def segments(body: str) -> int:
    """How many SMS segments ``body`` takes."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in body):
        units, single, part = sum(2 if c in _GSM7_EXTENDED else 1 for c in body), 160, 153
    else:
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


@dataclass(frozen=True)
class Callback:
    """One signed request the simulator made to a webhook URL."""

    url: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        """The posted parameters."""
        return dict(parse_qsl(self.body.decode()))


@dataclass
class _Message:
    sid: str
    to: str
    sender: str
    callback: str | None
    statuses: list[str] = field(default_factory=list)


@dataclass
class _Account:
    sid: str
    auth_token: str
    number: str
    friendly_name: str = "PromptSales Sandbox"
    service_sid: str | None = None
    sms_url: str | None = None
    opted_out: set[str] = field(default_factory=set)  # recipients who answered STOP to this account's number
    messages: dict[str, _Message] = field(default_factory=dict)


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, dict(headers or {})


def _sid(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]


class TwilioSimulator:
    """Programmable Messaging for several accounts. ``.app`` serves it; ``receive`` / ``mark_unreachable`` /
    ``fail_next`` act as Twilio, its carriers and the people texting would."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = utc_now,
        auto_progress: Literal["queued", "sent", "delivered"] = "delivered",
    ) -> None:
        self._clock = clock
        self._auto_progress = auto_progress
        self._accounts: dict[str, _Account] = {}
        self._tokens: dict[str, str] = {}  # simulator-issued (sandbox) token -> account sid
        self._revoked: set[str] = set()
        self._unreachable: set[str] = set()
        self._faults = Faults()
        self._counter = 0
        self.sms_url: str | None = None  # where inbound messages go unless the account names its own
        self.deliver: Deliver | None = None
        self.outbox: list[Callback] = []
        self.failed_deliveries: list[Callback] = []
        self.requests: list[tuple[str, str]] = []
        base = f"/{VERSION}/Accounts/{{account_sid}}"
        self.app = Starlette(
            routes=[
                Route(base + "/Messages.json", self._endpoint(self._send, 201), methods=["POST"]),
                Route(base + ".json", self._endpoint(self._account, 200), methods=["GET"]),
            ]
        )

    # --- accounts and credentials --------------------------------------------------------------------------------

    def add_account(
        self,
        sid: str,
        *,
        auth_token: str = SANDBOX_AUTH_TOKEN,
        number: str = TEST_SENDER,
        service_sid: str | None = None,
        sms_url: str | None = None,
    ) -> _Account:
        """Create (or return) an account with its primary auth token, its number and optionally a Messaging
        Service."""
        existing = self._accounts.get(sid)
        if existing is not None:
            return existing
        account = _Account(sid, auth_token, number, service_sid=service_sid, sms_url=sms_url)
        self._accounts[sid] = account
        return account

    def account(self, sid: str) -> _Account:
        """The account's state (created on first use)."""
        return self.add_account(sid)

    def grant(self, token: str, account: str) -> None:
        """A simulator-issued (sandbox) token for ``account`` now authenticates as Bearer."""
        self.add_account(account)
        self._tokens[token] = account
        self._revoked.discard(token)

    def revoke(self, token: str) -> None:
        """The token no longer authenticates."""
        self._revoked.add(token)

    def mark_unreachable(self, phone: str) -> None:
        """Messages to ``phone`` are accepted and then end ``undelivered`` with ErrorCode 30003."""
        self._unreachable.add(phone)

    def fail_next(
        self, status: int, *, times: int = 1, retry_after: int | None = None, after_apply: bool = False
    ) -> None:
        """The next ``times`` requests answer ``status`` (429: code 20429; 5xx: code 20500); ``after_apply``: a send
        is made before the failure is answered."""
        self._faults.add(status, times=times, retry_after=retry_after, after_apply=after_apply)

    # --- acting as the people texting ----------------------------------------------------------------------------

    async def receive(self, account_sid: str, from_phone: str, body: str) -> str:
        """A person texts the account's number; returns the inbound MessageSid. Opt-out and opt-in keywords change
        whether the account may message them, as Twilio's default handling does (§8)."""
        account = self.account(account_sid)
        word = body.strip().upper()
        if word in OPT_OUT:
            account.opted_out.add(from_phone)
        elif word in OPT_IN:
            account.opted_out.discard(from_phone)
        self._counter += 1
        sid = _sid("SM", account.sid, from_phone, "in", str(self._counter))
        url = account.sms_url or self.sms_url
        if url is None:
            raise ValueError("no sms_url: set TwilioSimulator.sms_url or the account's sms_url")
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": account.sid,
            "From": from_phone,
            "To": account.number,
            "Body": body,
            "NumSegments": str(segments(body)),
            "SmsStatus": "received",
        }
        await self._emit([self._callback(account, url, form)])
        return sid

    async def redeliver(self) -> int:
        """Send every failed callback again (unchanged); returns how many were accepted this time."""
        pending, self.failed_deliveries = self.failed_deliveries, []
        await self._emit(pending)
        return len(pending) - len(self.failed_deliveries)

    # --- pipeline ------------------------------------------------------------------------------------------------

    def _endpoint(
        self, handler: Callable[[_Account, dict[str, str], list[Callback]], dict[str, Any]], status: int
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            self.requests.append((request.method, request.url.path))
            pending: list[Callback] = []
            try:
                account = self._authenticate(request)
                form = dict(parse_qsl((await request.body()).decode())) if request.method == "POST" else {}
                fault = self._faults.take()
                if fault is not None and not fault.after_apply:
                    raise self._fault_error(fault.status, fault.retry_after)
                document = handler(account, form, pending)
                if fault is not None:
                    raise self._fault_error(fault.status, fault.retry_after)
            except _ApiError as error:
                await self._emit(pending)
                return self._error(error)
            # Twilio answers, then calls back; the ASGI transport runs the app to its end anyway, so the callbacks
            # go out before the answer is returned, in the order they happened.
            await self._emit(pending)
            return Response(json.dumps(document), status, media_type="application/json")

        return endpoint

    def _authenticate(self, request: Request) -> _Account:
        wanted = request.path_params["account_sid"]
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        account: _Account | None = None
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credential).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            found = self._accounts.get(user)
            if found is not None and hmac.compare_digest(found.auth_token.encode(), password.encode()):
                account = found
        elif scheme.lower() == "bearer":
            token = credential.strip()
            sid = self._tokens.get(token)
            if sid is not None and token not in self._revoked:
                account = self._accounts[sid]
        if account is None:
            raise _ApiError(401, 20003, "Authenticate")
        if account.sid != wanted:
            raise _ApiError(403, 20003, "The credentials have no access to this account.")
        return account

    def _fault_error(self, status: int, retry_after: int | None) -> _ApiError:
        if status == 429:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return _ApiError(429, 20429, "Too Many Requests", headers=headers)
        return _ApiError(status, 20500, "Internal Server Error")

    def _error(self, error: _ApiError) -> Response:
        document = {
            "code": error.code,
            "message": error.message,
            "more_info": f"https://www.twilio.com/docs/errors/{error.code}",
            "status": error.status,
        }
        return Response(json.dumps(document), error.status, headers=error.headers, media_type="application/json")

    # --- resources -----------------------------------------------------------------------------------------------

    def _account(self, account: _Account, _form: dict[str, str], _pending: list[Callback]) -> dict[str, Any]:
        return {"sid": account.sid, "friendly_name": account.friendly_name, "status": "active"}

    def _send(self, account: _Account, form: dict[str, str], pending: list[Callback]) -> dict[str, Any]:
        to = form.get("To", "")
        if not (to.startswith("+") and to[1:].isdigit() and 7 <= len(to) - 1 <= 15):
            raise _ApiError(400, 21211, f"The 'To' number {to[:20]} is not a valid phone number.")
        service = form.get("MessagingServiceSid")
        if service is not None:
            if service != account.service_sid:
                raise _ApiError(400, 21606, "The MessagingServiceSid is not a service of this account.")
        elif form.get("From") != account.number:
            raise _ApiError(400, 21606, "The From phone number is not a valid, SMS-capable number of this account.")
        body = form.get("Body", "")
        if not body:
            raise _ApiError(400, 21602, "Message body is required.")
        if len(body) > BODY_MAX:
            raise _ApiError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in account.opted_out:
            raise _ApiError(400, 21610, "Attempt to send to unsubscribed recipient")
        self._counter += 1
        sid = _sid("SM", account.sid, to, str(self._counter))
        message = _Message(sid, to, account.number, form.get("StatusCallback"))
        account.messages[sid] = message
        steps = _PROGRESS[: _PROGRESS.index(self._auto_progress) + 1]
        for step in steps:
            if step == "delivered" and to in self._unreachable:
                pending.extend(self._status(account, message, "undelivered", error=UNREACHABLE))
                break
            pending.extend(self._status(account, message, step))
        now = self._clock()
        return {
            "sid": sid,
            "account_sid": account.sid,
            "messaging_service_sid": service,
            "to": to,
            "from": None if service is not None else account.number,
            "body": body,
            "status": "accepted" if service is not None else "queued",
            "num_segments": str(segments(body)),
            "price": None,
            "error_code": None,
            "error_message": None,
            "date_created": format_datetime(now),
            "uri": f"/{VERSION}/Accounts/{account.sid}/Messages/{sid}.json",
        }

    # --- callbacks -----------------------------------------------------------------------------------------------

    def _status(self, account: _Account, message: _Message, status: str, *, error: int | None = None) -> list[Callback]:
        message.statuses.append(status)
        if message.callback is None:
            return []
        form = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": account.sid,
            "To": message.to,
            "From": message.sender,
            "ApiVersion": VERSION,
        }
        if error is not None:
            form["ErrorCode"] = str(error)
        return [self._callback(account, message.callback, form)]

    def _callback(self, account: _Account, url: str, form: dict[str, str]) -> Callback:
        signature = sign(auth_token=account.auth_token, url=url, params=list(form.items()))
        headers = {"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature}
        return Callback(url, headers, urlencode(form).encode())

    async def _emit(self, callbacks: list[Callback]) -> None:
        for callback in callbacks:
            if self.deliver is None:
                self.outbox.append(callback)
                continue
            try:
                status = await self.deliver(callback.url, dict(callback.headers), callback.body)
            except Exception:
                status = 0  # a receiver that crashes is a failed delivery; the simulator goes on
            if not 200 <= status < 300:
                self.failed_deliveries.append(callback)
