"""The WhatsApp Business Cloud API in memory: sends, read receipts, template listing, signed webhooks, limits, faults.

Shapes follow shared/reference/platform_apis.md §7 (WhatsApp) and §3 (Graph errors and webhooks). Each business
phone number (an "account", keyed by its phone_number_id) belongs to one WhatsApp Business Account (WABA) holding
its templates; accounts share nothing.

* Paths: ``POST /v25.0/{phone_number_id}/messages`` (text, template, or ``status:"read"``),
  ``GET /v25.0/{waba_id}/message_templates`` and ``GET /v25.0/{phone_number_id}`` (the number's profile: ``{id,
  display_phone_number, verified_name, quality_rating}`` [~ Meta "Phone Numbers" reference]) (connectors.json
  ``sandbox_base_url`` ends in ``/v25.0``).
* Auth: ``Authorization: Bearer <token>`` or ``access_token`` (§3). A revoked or unknown token answers 401 with Graph
  code 190; a valid token on another account's number or WABA answers 403 code 200 [~ Meta access-token guide: no
  access to the asset → error code 200]; none answers 400 code 104 [~].
* Errors: ``{error:{message:"(#<code>) <title>", type:"OAuthException", code, error_data:{messaging_product,
  details}, fbtrace_id}}`` (§3 Errors; the "(#code) title" message form and error_data [~ Meta error-code pages]).
* The 24-hour customer-service window (§7): a free-form text is allowed within 24 h of the user's last message
  (:meth:`WhatsAppSimulator.receive`). Outside it the send is accepted and then fails in a status webhook with code
  131047, as the Cloud API often does (§7 "often asynchronously"); ``window_errors="sync"`` refuses it at once (400)
  instead. Templates are allowed at any time.
* Statuses: an accepted message progresses sent → delivered → read, each a signed webhook, up to
  ``auto_progress`` (the rest with :meth:`WhatsAppSimulator.advance`). A number not on WhatsApp
  (:meth:`mark_not_on_whatsapp`) gets a failed status with code 131026.
* Webhooks: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, body)>`` (§3), delivered to the async
  :attr:`WhatsAppSimulator.deliver` callback (``(headers, body) -> HTTP status``); without one they are queued in
  :attr:`WhatsAppSimulator.outbox`. A delivery the callback refuses (non-2xx or an exception) is kept in
  :attr:`failed_deliveries` and sent again, unchanged, by :meth:`redeliver` (Meta retries failed deliveries [~]).
* Limits: per-number throughput (§7 "~80 messages/s") → 400 code 130429; per business↔user pair → 400 code 131056
  (§7 "Other codes"; the pair threshold is an observed ~10-30/min [~ turn.io], ours is configurable); template
  listing under a per-WABA hourly Business Use Case window → 400 code 80007 with ``X-Business-Use-Case-Usage``
  ``estimated_time_to_regain_access`` (minutes) (§3 "Rate limits").
* Recipient allow-list: a test number (``allowed_recipients``) may only message the listed numbers, else 400 code
  131030 (§7 "Test" [~]).
* Faults: :meth:`fail_next` (429 with Graph code 4, or a 5xx with code 2, optionally after applying a send, as when
  an answer is lost) and :meth:`fail_cursor` (the template page at one cursor fails).
"""

import base64
import binascii
import hashlib
import json
import math
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.integrations.whatsapp.webhooks import SIGNATURE_HEADER, sign
from promptsales.domain_core.shared.clock import utc_now

VERSION = "v25.0"  # connectors.json url_defaults graph_version 25.0 (§3 "docs currently show v25.0")
SANDBOX_APP_SECRET = "whatsapp-sandbox-app-secret"  # noqa: S105  # sandbox-only; live secrets come from settings
SERVICE_WINDOW = timedelta(hours=24)  # §7 24-hour customer-service window
TEXT_MAX = 4096  # §7 text.body ≤ 4096
WABA_ID_BASE = 102_290_000_000_000  # simulated WABA ids (15-digit numeric Graph ids)
_PHONE = re.compile(r"[1-9][0-9]{6,14}")  # E.164 digits (§7)
_STATUS_ORDER = ("sent", "delivered", "read")

Deliver = Callable[[dict[str, str], bytes], Awaitable[int]]


@dataclass(frozen=True)
class TemplateSeed:
    """A template every new WABA starts with (status APPROVED unless said otherwise)."""

    name: str
    language: str
    body: str
    category: str = "UTILITY"
    status: str = "APPROVED"


# hello_world / en_US is the sample template a new WhatsApp Business Account comes with [~]; the others are ours.
DEFAULT_TEMPLATES: tuple[TemplateSeed, ...] = (
    TemplateSeed("hello_world", "en_US", "Hello World"),
    TemplateSeed("order_update", "en_US", "Hi {{1}}, your order {{2}} is on its way."),
    TemplateSeed(
        "follow_up", "en_US", "Hi {{1}}, thanks for your interest in {{2}}. Reply to chat with us.", "MARKETING"
    ),
    TemplateSeed(
        "follow_up", "es_ES", "Hola {{1}}, gracias por tu interés en {{2}}. Responde para hablar.", "MARKETING"
    ),
)


@dataclass(frozen=True)
class WebhookDelivery:
    """One signed webhook POST: its headers (with ``X-Hub-Signature-256``) and its raw body."""

    headers: dict[str, str]
    body: bytes

    def document(self) -> Any:
        """The parsed body (tests and sandbox diagnostics)."""
        return json.loads(self.body)


@dataclass
class _Sent:
    message_id: str
    to: str
    category: str
    statuses: list[str] = field(default_factory=list)


@dataclass
class _Waba:
    waba_id: str
    templates: list[dict[str, Any]] = field(default_factory=list)
    calls: deque[datetime] = field(default_factory=deque)


@dataclass
class _Account:
    phone_number_id: str
    waba: _Waba
    display_phone_number: str
    verified_name: str = "PromptSales Sandbox"
    allowed_recipients: frozenset[str] | None = None
    last_inbound: dict[str, datetime] = field(default_factory=dict)
    inbound: dict[str, bool] = field(default_factory=dict)  # received wamid -> marked read
    sent: dict[str, _Sent] = field(default_factory=dict)
    send_times: deque[datetime] = field(default_factory=deque)
    pair_times: dict[str, deque[datetime]] = field(default_factory=dict)


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int | None = None
    after_apply: bool = False
    cursor: str | None = None


class _GraphError(Exception):
    """A Graph error answer (§3): HTTP status, Graph code, the code's title and optional details."""

    def __init__(
        self,
        status: int,
        code: int,
        title: str,
        details: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        prefixed: bool = True,
    ) -> None:
        super().__init__(title)
        self.status, self.code, self.title, self.details = status, code, title, details
        self.headers = dict(headers or {})
        self.prefixed = prefixed


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"tpl:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    kind, _, offset = raw.partition(":")
    if kind != "tpl" or not offset.isdigit():
        raise _GraphError(400, 100, "Invalid parameter", "after: the cursor is not valid")
    return int(offset)


def _stable(text: str, modulo: int) -> int:
    """A number in ``[0, modulo)`` that depends only on ``text``."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % modulo


def waba_of(phone_number_id: str) -> str:
    """The WhatsApp Business Account id a simulated number belongs to unless told otherwise (stable per number)."""
    return str(WABA_ID_BASE + _stable(phone_number_id, 1_000_000_000))


def _placeholders(text: str) -> int:
    return len(set(re.findall(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", text)))


class WhatsAppSimulator:
    """The Cloud API for several business numbers. ``.app`` serves it; ``receive`` / ``advance`` / ``fail_*`` act as
    WhatsApp and its users would."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        app_secret: str = SANDBOX_APP_SECRET,
        templates: Sequence[TemplateSeed] = DEFAULT_TEMPLATES,
        messages_per_second: int = 80,
        pair_limit: int = 10,
        pair_window_s: float = 60.0,
        management_calls_per_hour: int = 200,
        auto_progress: Literal["sent", "delivered", "read"] = "read",
        window_errors: Literal["webhook", "sync"] = "webhook",
    ) -> None:
        if not app_secret:
            raise ValueError("app_secret must not be empty: webhooks are signed with it")
        self._clock = clock
        self._app_secret = app_secret
        self._seeds = tuple(templates)
        self._per_second = messages_per_second
        self._pair_limit, self._pair_window = pair_limit, timedelta(seconds=pair_window_s)
        self._management_limit = management_calls_per_hour
        self._auto_progress = auto_progress
        self._window_errors = window_errors
        self._tokens: dict[str, str] = {}
        self._revoked: set[str] = set()
        self._accounts: dict[str, _Account] = {}
        self._wabas: dict[str, _Waba] = {}
        self._not_on_whatsapp: set[str] = set()
        self._faults: list[_Fault] = []
        self._counter = 0
        # Webhooks: delivered to ``deliver`` when set, else queued in ``outbox``.
        self.deliver: Deliver | None = None
        self.outbox: list[WebhookDelivery] = []
        self.failed_deliveries: list[WebhookDelivery] = []
        self.requests: list[tuple[str, str, str]] = []  # (path id, method, path)
        for token, account in (tokens or {}).items():
            self.grant(token, account)
        self.app = Starlette(
            routes=[
                Route(f"/{VERSION}/{{phone_number_id}}/messages", self._endpoint(self._messages), methods=["POST"]),
                Route(f"/{VERSION}/{{waba_id}}/message_templates", self._endpoint(self._templates), methods=["GET"]),
                Route(f"/{VERSION}/{{phone_number_id}}", self._endpoint(self._phone_number), methods=["GET"]),
            ]
        )

    # --- accounts and tokens -------------------------------------------------------------------------------------

    def add_account(
        self,
        phone_number_id: str,
        *,
        waba_id: str | None = None,
        display_phone_number: str | None = None,
        allowed_recipients: Sequence[str] | None = None,
    ) -> _Account:
        """Create (or return) a business number; a new WABA gets the seed templates. ``allowed_recipients`` makes it
        a test number that may only message those numbers."""
        if not phone_number_id.isdigit():
            raise ValueError("phone_number_id must be digits")
        existing = self._accounts.get(phone_number_id)
        if existing is not None:
            return existing
        # Derived from the number, not from creation order, so every replica's simulator agrees about a tenant.
        waba_key = waba_id or waba_of(phone_number_id)
        waba = self._wabas.get(waba_key)
        if waba is None:
            waba = self._wabas[waba_key] = _Waba(waba_key)
            for seed in self._seeds:
                self._add_template(waba, seed)
        account = _Account(
            phone_number_id=phone_number_id,
            waba=waba,
            display_phone_number=display_phone_number or f"1555{_stable(phone_number_id, 10_000_000):07d}",
            allowed_recipients=frozenset(allowed_recipients) if allowed_recipients is not None else None,
        )
        self._accounts[phone_number_id] = account
        return account

    def account(self, phone_number_id: str) -> _Account:
        """The business number's state (created on first use)."""
        return self.add_account(phone_number_id)

    def waba_id(self, phone_number_id: str) -> str:
        """The id of the WhatsApp Business Account the number belongs to."""
        return self.account(phone_number_id).waba.waba_id

    def grant(self, token: str, account: str) -> None:
        """A new valid system-user token for business number ``account`` (created on first use)."""
        self.add_account(account)
        self._tokens[token] = account
        self._revoked.discard(token)

    def revoke(self, token: str) -> None:
        """The token now answers 401 with Graph code 190."""
        self._revoked.add(token)

    def mark_not_on_whatsapp(self, phone: str) -> None:
        """Messages to ``phone`` are accepted and then fail with code 131026 (undeliverable)."""
        self._not_on_whatsapp.add(phone.removeprefix("+"))

    def seed_template(
        self, account: str, name: str, language: str, body: str, *, category: str = "UTILITY", status: str = "APPROVED"
    ) -> str:
        """Add a template to the number's WABA; returns its id."""
        return self._add_template(self.account(account).waba, TemplateSeed(name, language, body, category, status))

    def _add_template(self, waba: _Waba, seed: TemplateSeed) -> str:
        template_id = str(int(waba.waba_id) * 1000 + len(waba.templates) + 1)
        waba.templates.append(
            {
                "id": template_id,
                "name": seed.name,
                "language": seed.language,
                "status": seed.status,
                "category": seed.category,
                "parameter_format": "POSITIONAL",
                "components": [{"type": "BODY", "text": seed.body}],
            }
        )
        return template_id

    # --- faults --------------------------------------------------------------------------------------------------

    def fail_next(
        self, status: int, *, times: int = 1, retry_after: int | None = None, after_apply: bool = False
    ) -> None:
        """The next ``times`` requests answer ``status``: 429 (Graph code 4, ``Retry-After`` when given) or a 5xx
        (code 2); with ``after_apply`` a send is applied first and only its answer is lost."""
        self._faults.append(_Fault(status, times, retry_after, after_apply))

    def fail_cursor(self, after: str, *, status: int = 500, times: int = 1) -> None:
        """The template page at cursor ``after`` answers ``status`` the next ``times`` it is asked for."""
        self._faults.append(_Fault(status, times, cursor=after))

    # --- acting as WhatsApp users --------------------------------------------------------------------------------

    async def receive(self, account: str, from_phone: str, text: str, *, profile_name: str = "Customer") -> str:
        """A user sends ``text`` to the business number: the 24 h window opens and a signed webhook goes out.
        Returns the inbound message's wamid."""
        message = {"type": "text", "text": {"body": text}}
        return await self._inbound(account, from_phone, message, profile_name)

    async def receive_button(
        self,
        account: str,
        from_phone: str,
        *,
        text: str,
        payload: str,
        context_message_id: str | None = None,
        profile_name: str = "Customer",
    ) -> str:
        """A user taps a template's quick-reply button (a ``button`` message, §7 webhooks); returns its wamid."""
        message: dict[str, Any] = {"type": "button", "button": {"text": text, "payload": payload}}
        if context_message_id is not None:
            message["context"] = {"from": self.account(account).display_phone_number, "id": context_message_id}
        return await self._inbound(account, from_phone, message, profile_name)

    async def advance(self, account: str, message_id: str, status: Literal["delivered", "read"]) -> None:
        """Move a sent message on to ``status`` (each missing step is its own signed webhook)."""
        state = self.account(account)
        sent = state.sent.get(message_id)
        if sent is None:
            raise KeyError(f"no message {message_id} was sent from {account}")
        await self._emit(self._progress(state, sent, status))

    async def redeliver(self) -> int:
        """Send every failed delivery again (unchanged); returns how many were accepted this time."""
        pending, self.failed_deliveries = self.failed_deliveries, []
        await self._emit(pending)
        return len(pending) - len(self.failed_deliveries)

    async def _inbound(self, account: str, from_phone: str, message: dict[str, Any], profile_name: str) -> str:
        state = self.account(account)
        sender = from_phone.removeprefix("+")
        if not _PHONE.fullmatch(sender):
            raise ValueError("from_phone must be an E.164 number")
        now = self._clock()
        message_id = self._wamid(state.phone_number_id, sender)
        state.last_inbound[sender] = now
        state.inbound[message_id] = False
        value = {
            "contacts": [{"profile": {"name": profile_name}, "wa_id": sender}],
            "messages": [{"from": sender, "id": message_id, "timestamp": self._stamp(now), **message}],
        }
        await self._emit([self._webhook(state, value)])
        return message_id

    # --- pipeline ------------------------------------------------------------------------------------------------

    def _endpoint(
        self, handler: Callable[[_Account, Request, Any, list[WebhookDelivery]], tuple[Any, dict[str, str]]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            target = str(request.path_params.get("phone_number_id") or request.path_params.get("waba_id") or "")
            self.requests.append((target, request.method, request.url.path))
            pending: list[WebhookDelivery] = []
            try:
                account = self._authenticate(request)
                late = self._fault(request)
                body = await self._json(request) if request.method == "POST" else None
                document, headers = handler(account, request, body, pending)
                if late is not None:
                    raise late
            except _GraphError as error:
                await self._emit(pending)
                return self._error(error)
            # Meta answers first and notifies afterwards [~]; here the notifications are sent before the answer is
            # returned (the ASGI transport runs the app to its end anyway), in the order they happened.
            await self._emit(pending)
            return Response(json.dumps(document), 200, headers=headers, media_type="application/json")

        return endpoint

    def _authenticate(self, request: Request) -> _Account:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        token = credential.strip() if scheme.lower() == "bearer" else request.query_params.get("access_token")
        if not token:
            raise _GraphError(400, 104, "An access token is required to request this resource.", prefixed=False)
        account_id = self._tokens.get(token)
        if account_id is None or token in self._revoked:
            # Graph's OAuth wording [~]; the token itself is never echoed.
            reason = "the session has been invalidated" if account_id is not None else "cannot parse access token"
            raise _GraphError(401, 190, f"Error validating access token: {reason}.", prefixed=False)
        account = self._accounts[account_id]
        wanted_number = request.path_params.get("phone_number_id")
        wanted_waba = request.path_params.get("waba_id")
        if (wanted_number is not None and wanted_number != account.phone_number_id) or (
            wanted_waba is not None and wanted_waba != account.waba.waba_id
        ):
            raise _GraphError(403, 200, "Permissions error", "The token has no access to this WhatsApp asset.")
        return account

    def _fault(self, request: Request) -> _GraphError | None:
        cursor = request.query_params.get("after")
        for fault in self._faults:
            if fault.remaining <= 0 or (
                fault.cursor is not None and (request.method != "GET" or fault.cursor != cursor)
            ):
                continue
            fault.remaining -= 1
            if fault.status == 429:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                error = _GraphError(429, 4, "Application request limit reached", headers=headers)
            else:
                error = _GraphError(fault.status, 2, "Service temporarily unavailable")
            if fault.after_apply and request.method == "POST":
                return error
            raise error
        return None

    @staticmethod
    async def _json(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except ValueError:
            raise _GraphError(400, 100, "Invalid parameter", "The request body is not valid JSON.") from None

    def _error(self, error: _GraphError) -> Response:
        self._counter += 1
        message = f"(#{error.code}) {error.title}" if error.prefixed else error.title
        inner: dict[str, Any] = {"message": message, "type": "OAuthException", "code": error.code}
        if error.details is not None:
            inner["error_data"] = {"messaging_product": "whatsapp", "details": error.details}
        inner["fbtrace_id"] = f"SimTrace{self._counter:08d}"
        return Response(
            json.dumps({"error": inner}), error.status, headers=error.headers, media_type="application/json"
        )

    # --- messages ------------------------------------------------------------------------------------------------

    def _messages(
        self, account: _Account, _request: Request, body: Any, pending: list[WebhookDelivery]
    ) -> tuple[Any, dict[str, str]]:
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            raise _GraphError(400, 100, "Invalid parameter", "messaging_product must be 'whatsapp'.")
        if body.get("status") == "read":
            message_id = body.get("message_id")
            if not isinstance(message_id, str) or message_id not in account.inbound:
                raise _GraphError(400, 131009, "Parameter value is not valid", "message_id is not a received message.")
            account.inbound[message_id] = True
            return {"success": True}, {}
        to = body.get("to")
        if not isinstance(to, str) or not _PHONE.fullmatch(to):
            raise _GraphError(400, 131009, "Parameter value is not valid", "to must be a phone number in E.164 digits.")
        if account.allowed_recipients is not None and to not in account.allowed_recipients:
            raise _GraphError(400, 131030, "Recipient phone number not in allowed list", "Add it in the app dashboard.")
        kind = body.get("type")
        if kind == "text":
            category, failure = self._check_text(account, body, to)
        elif kind == "template":
            category, failure = self._check_template(account, body), None
        else:
            raise _GraphError(400, 131051, "Unsupported message type", "type must be 'text' or 'template' here.")
        now = self._clock()
        self._throttle(account, to, now)
        message_id = self._wamid(account.phone_number_id, to)
        sent = _Sent(message_id, to, category)
        account.sent[message_id] = sent
        if failure is None and to in self._not_on_whatsapp:
            failure = (131026, "Message undeliverable", "The recipient cannot receive WhatsApp messages.")
        if failure is not None:
            pending.append(self._status(account, sent, "failed", error=failure))
        else:
            pending.extend(self._progress(account, sent, self._auto_progress))
        message: dict[str, Any] = {"id": message_id}
        if kind == "template":
            message["message_status"] = "accepted"  # [~] template sends report their pacing state
        document = {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [message]}
        return document, {}

    def _check_text(
        self, account: _Account, body: Mapping[str, Any], to: str
    ) -> tuple[str, tuple[int, str, str] | None]:
        text = body.get("text")
        value = text.get("body") if isinstance(text, dict) else None
        if not isinstance(value, str) or not value or len(value) > TEXT_MAX:
            raise _GraphError(400, 100, "Invalid parameter", f"text.body must be 1-{TEXT_MAX} characters.")
        last = account.last_inbound.get(to)
        if last is not None and self._clock() - last <= SERVICE_WINDOW:
            return "service", None
        details = "More than 24 hours have passed since the recipient last replied to this number."
        if self._window_errors == "sync":
            raise _GraphError(400, 131047, "Re-engagement message", details)
        return "service", (131047, "Re-engagement message", details)

    def _check_template(self, account: _Account, body: Mapping[str, Any]) -> str:
        template = body.get("template")
        if not isinstance(template, dict):
            raise _GraphError(400, 100, "Invalid parameter", "template is required for type 'template'.")
        name = template.get("name")
        language = template.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        found = next(
            (
                t
                for t in account.waba.templates
                if t["name"] == name and t["language"] == code and t["status"] == "APPROVED"
            ),
            None,
        )
        if found is None:
            raise _GraphError(
                404, 132001, "Template name does not exist in the translation", f"template {name!r} in {code!r}"
            )
        expected = sum(_placeholders(c.get("text") or "") for c in found["components"] if c["type"] == "BODY")
        given = 0
        for component in template.get("components") or []:
            if isinstance(component, dict) and component.get("type") == "body":
                parameters = component.get("parameters")
                given += len(parameters) if isinstance(parameters, list) else 0
        if given != expected:
            raise _GraphError(
                400,
                132000,
                "Number of parameters does not match the expected number of params",
                f"body: expected {expected}, got {given}",
            )
        return str(found["category"]).lower()

    def _throttle(self, account: _Account, to: str, now: datetime) -> None:
        window = account.send_times
        while window and now - window[0] >= timedelta(seconds=1):
            window.popleft()
        if len(window) >= self._per_second:
            raise _GraphError(400, 130429, "Rate limit hit", "Too many messages from this number in a short time.")
        pair = account.pair_times.setdefault(to, deque())
        while pair and now - pair[0] >= self._pair_window:
            pair.popleft()
        if len(pair) >= self._pair_limit:
            raise _GraphError(
                400,
                131056,
                "(Business Account, Consumer Account) pair rate limit hit",
                "Too many messages to this recipient in a short time.",
            )
        window.append(now)
        pair.append(now)

    # --- the number's profile -------------------------------------------------------------------------------------

    def _phone_number(
        self, account: _Account, _request: Request, _body: Any, _pending: list[WebhookDelivery]
    ) -> tuple[Any, dict[str, str]]:
        # [~] Meta "Phone Numbers" reference: GET /{phone-number-id} → {verified_name, display_phone_number,
        # quality_rating, id, …}; display_phone_number is shown with a "+" and spaces in the dashboard.
        document = {
            "id": account.phone_number_id,
            "display_phone_number": "+" + account.display_phone_number,
            "verified_name": account.verified_name,
            "quality_rating": "GREEN",
        }
        return document, {}

    # --- templates -----------------------------------------------------------------------------------------------

    def _templates(
        self, account: _Account, request: Request, _body: Any, _pending: list[WebhookDelivery]
    ) -> tuple[Any, dict[str, str]]:
        waba = account.waba
        usage = self._spend_management(waba)
        raw_limit = request.query_params.get("limit", "25")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
            raise _GraphError(400, 100, "Invalid parameter", "limit must be 1-1000.", headers=usage)
        limit = int(raw_limit)
        after = request.query_params.get("after")
        start = _decode_cursor(after) if after else 0
        status = request.query_params.get("status")
        rows = [t for t in waba.templates if status is None or t["status"] == status]
        page = rows[start : start + limit]
        document: dict[str, Any] = {"data": [json.loads(json.dumps(t)) for t in page]}
        if page:
            paging: dict[str, Any] = {
                "cursors": {"before": _encode_cursor(start), "after": _encode_cursor(start + len(page))}
            }
            if start + len(page) < len(rows):
                query = {"limit": str(limit), "after": _encode_cursor(start + len(page))}
                if status is not None:
                    query["status"] = status
                paging["next"] = str(request.url.include_query_params(**query))
            document["paging"] = paging
        return document, usage

    def _spend_management(self, waba: _Waba) -> dict[str, str]:
        now = self._clock()
        hour = timedelta(hours=1)
        while waba.calls and now - waba.calls[0] >= hour:
            waba.calls.popleft()
        exhausted = len(waba.calls) >= self._management_limit
        wait_minutes = math.ceil((waba.calls[0] + hour - now).total_seconds() / 60) if exhausted else 0
        if not exhausted:
            waba.calls.append(now)
        percent = min(100, math.ceil(100 * len(waba.calls) / max(self._management_limit, 1)))
        # §3 X-Business-Use-Case-Usage: {id: [{type, call_count, total_cputime, total_time,
        # estimated_time_to_regain_access (minutes)}]}; the use-case type name is ours [~].
        usage = {
            waba.waba_id: [
                {
                    "type": "whatsapp_business_management",
                    "call_count": percent,
                    "total_cputime": 1,
                    "total_time": 1,
                    "estimated_time_to_regain_access": wait_minutes,
                }
            ]
        }
        headers = {"X-Business-Use-Case-Usage": json.dumps(usage, separators=(",", ":"))}
        if exhausted:
            raise _GraphError(
                400,
                80007,
                "Rate limit issues",
                "The WhatsApp Business Account reached its rate limit.",
                headers=headers,
            )
        return headers

    # --- statuses and webhooks -----------------------------------------------------------------------------------

    def _progress(self, account: _Account, sent: _Sent, upto: str) -> list[WebhookDelivery]:
        if "failed" in sent.statuses:
            return []
        deliveries: list[WebhookDelivery] = []
        for step in _STATUS_ORDER[: _STATUS_ORDER.index(upto) + 1]:
            if step not in sent.statuses:
                deliveries.append(self._status(account, sent, step))
        return deliveries

    def _status(
        self, account: _Account, sent: _Sent, status: str, *, error: tuple[int, str, str] | None = None
    ) -> WebhookDelivery:
        sent.statuses.append(status)
        now = self._clock()
        entry: dict[str, Any] = {
            "id": sent.message_id,
            "status": status,
            "timestamp": self._stamp(now),
            "recipient_id": sent.to,
        }
        if status in ("sent", "delivered"):
            # §7 statuses: conversation{id, expiration_timestamp, origin{type}}, pricing{billable, pricing_model,
            # category}; the values are ours [~].
            entry["conversation"] = {
                "id": hashlib.sha256(f"conversation:{account.phone_number_id}:{sent.to}".encode()).hexdigest()[:32],
                "expiration_timestamp": self._stamp(now + SERVICE_WINDOW),
                "origin": {"type": sent.category},
            }
            entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": sent.category}
        if error is not None:
            code, title, details = error
            entry["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": details}}]
        return self._webhook(account, {"statuses": [entry]})

    def _webhook(self, account: _Account, value: Mapping[str, Any]) -> WebhookDelivery:
        document = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": account.waba.waba_id,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": account.display_phone_number,
                                    "phone_number_id": account.phone_number_id,
                                },
                                **value,
                            },
                        }
                    ],
                }
            ],
        }
        body = json.dumps(document, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(app_secret=self._app_secret, body=body)}
        return WebhookDelivery(headers, body)

    async def _emit(self, deliveries: Sequence[WebhookDelivery]) -> None:
        for delivery in deliveries:
            if self.deliver is None:
                self.outbox.append(delivery)
                continue
            try:
                status = await self.deliver(dict(delivery.headers), delivery.body)
            except Exception:
                # A receiver that crashes is a failed delivery, as for Meta; the simulator itself must go on.
                status = 0
            if not 200 <= status < 300:
                self.failed_deliveries.append(delivery)

    def _wamid(self, phone_number_id: str, other: str) -> str:
        self._counter += 1
        raw = f"{phone_number_id}:{other}:{self._counter:010d}".encode()
        return "wamid." + base64.b64encode(raw).decode()

    @staticmethod
    def _stamp(moment: datetime) -> str:
        return str(int(moment.timestamp()))
