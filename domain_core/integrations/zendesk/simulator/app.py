"""Zendesk Support's Ticketing API v2 in memory: incremental ticket export, comments, create, status update.

Shapes follow shared/reference/platform_apis.md §11. Each subdomain (the request's ``Host``,
``{subdomain}.zendesk.com``, or ``{subdomain}.zendesk.sandbox.promptsales.invalid`` in sandbox mode) has its own
tickets, users and limits; a token answers only on its own subdomain.

* Users: every requester is an end-user (found by email, created on first use); comments an agent adds come from
  the account's agent. ``GET /api/v2/users/{id}``, ``/users/me``; the export (``include=users``) and one ticket
  (``GET /api/v2/tickets/{id}?include=users``) sideload the users they name.
* Webhooks: :meth:`ZendeskSimulator.ticket_event` builds the body of a Zendesk ticket event (``{id, type,
  account_id, time, zendesk_event_version, subject: "zen:ticket:<id>", detail, event}`` [~ Zendesk event
  webhooks]); the caller signs it (``zendesk.signatures.sign``) as Zendesk would with the webhook's secret.

* Auth: ``Bearer <token>`` or Basic ``{email}/token:{api_token}`` (§11 "Base ... Auth"). A failure answers 401
  ``{"error": "Couldn't authenticate you"}`` [~ the live answer; the reference gives no 401 body]; the token is
  never echoed.
* Rate: a per-subdomain, per-minute window (§11 "Rate limits"); every answer carries ``X-Rate-Limit`` and
  ``X-Rate-Limit-Remaining``; past the limit a 429 with ``Retry-After`` seconds (to the end of the minute) and a
  plain-text body, as some Zendesk 429s are.
* Errors: ``{error, description, details:{field:[{description}]}}`` (§11 "Errors"): 422 ``RecordInvalid``, 404
  ``RecordNotFound``, 400 for a reused idempotency key with a different payload (the ``error`` name is ours).
* Idempotency (§11 "Idempotency"): a create's ``Idempotency-Key`` is kept 2 hours; the same key and body answer the
  same ticket with ``x-idempotency-lookup: hit`` (a first use: ``miss``).
* Cursor pagination: the export's ``after_cursor``/``end_of_stream``; comments' ``page[size]``/``page[after]``
  with ``meta.has_more``, ``meta.after_cursor`` and an absolute ``links.next``.
* Faults: :meth:`ZendeskSimulator.fail_next` (the next N requests answer a 5xx, optionally after applying a write,
  as when an answer is lost) and :meth:`ZendeskSimulator.fail_cursor` (the page at one cursor fails N times).
"""

import base64
import binascii
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.shared.clock import utc_now

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
IDEMPOTENCY_RETENTION = timedelta(hours=2)  # §11 Idempotency: key retention ~2 h [~]
PAGE_SIZE_MAX = 100
EXPORT_PAGE_MAX = 1000
HOST_SUFFIXES = (".zendesk.com", ".zendesk.sandbox.promptsales.invalid")
EVENT_VERSION = "2022-11-06"


class _ApiError(Exception):
    def __init__(self, status: int, error: str, description: str | None = None, /, **details: str) -> None:
        super().__init__(error)
        self.status, self.error, self.description, self.details = status, error, description, details

    def document(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.description is not None:
            body["description"] = self.description
        if self.details:
            body["details"] = {name: [{"description": text}] for name, text in self.details.items()}
        return body


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode_cursor(prefix: str, *parts: object) -> str:
    raw = ":".join(str(p) for p in (prefix, *parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(prefix: str, cursor: str) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _ApiError(400, "InvalidPaginationParameter", "cursor is invalid") from None
    kind, *parts = raw.split(":")
    if kind != prefix:
        raise _ApiError(400, "InvalidPaginationParameter", "cursor is invalid")
    return parts


@dataclass
class _Account:
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    next_ticket: int = 1
    next_comment: int = 1
    next_user: int = 1
    users: dict[str, int] = field(default_factory=dict)  # email -> user id
    people: dict[int, dict[str, Any]] = field(default_factory=dict)  # user id -> user
    next_event: int = 1
    idempotency: dict[str, tuple[str, int, datetime]] = field(default_factory=dict)
    window: int = -1
    used: int = 0


@dataclass
class _Fault:
    status: int
    remaining: int
    cursor: str | None = None
    after_apply: bool = False


class ZendeskSimulator:
    """Zendesk Support for several subdomains. ``.app`` serves it; ``seed_ticket`` / ``add_comment`` / ``fail_*``
    act as Zendesk."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str],
        clock: Callable[[], datetime] = utc_now,
        export_page_size: int = 1000,
        rate_limit_per_minute: int = 700,
    ) -> None:
        self._tokens = dict(tokens)
        self._clock = clock
        self.export_page_size = export_page_size
        self._limit = rate_limit_per_minute
        self._accounts: dict[str, _Account] = {}
        self._faults: list[_Fault] = []
        self.requests: list[tuple[str, str, str]] = []  # (subdomain, method, path)
        self.app = Starlette(
            routes=[
                Route("/api/v2/incremental/tickets/cursor.json", self._endpoint(self._export), methods=["GET"]),
                Route("/api/v2/tickets", self._endpoint(self._create), methods=["POST"]),
                Route("/api/v2/tickets/{ticket_id:int}", self._endpoint(self._update), methods=["PUT"]),
                Route("/api/v2/tickets/{ticket_id:int}", self._endpoint(self._show), methods=["GET"]),
                Route("/api/v2/users/me", self._endpoint(self._me), methods=["GET"]),
                Route("/api/v2/users/{user_id:int}", self._endpoint(self._show_user), methods=["GET"]),
                Route("/api/v2/tickets/{ticket_id:int}/comments", self._endpoint(self._comments), methods=["GET"]),
            ]
        )

    # --- acting as Zendesk ---------------------------------------------------------------------------------------

    def grant(self, token: str, account: str) -> None:
        """A new valid access token for ``account`` (created on first use)."""
        self._tokens[token] = account

    def revoke(self, token: str) -> None:
        """The token is no longer accepted (the admin removed the app or the token expired)."""
        self._tokens.pop(token, None)

    def account(self, subdomain: str) -> _Account:
        return self._accounts.setdefault(subdomain, _Account())

    def seed_ticket(
        self,
        subdomain: str,
        subject: str,
        *,
        comment: str = "Hello",
        status: str = "new",
        at: datetime | None = None,
        requester_email: str = "requester@example.com",
        requester_name: str | None = None,
        channel: str = "web",
        priority: str | None = None,
    ) -> int:
        """Create a ticket directly (as a requester writing in would); returns its id."""
        account = self.account(subdomain)
        moment = at or self._clock()
        extra = {"via": channel, "requester_name": requester_name, "priority": priority}
        ticket_id = self._insert(account, subject, comment, requester_email, moment, extra)
        account.tickets[ticket_id]["status"] = status
        return ticket_id

    def add_comment(
        self,
        subdomain: str,
        ticket_id: int,
        body: str,
        *,
        at: datetime | None = None,
        author_email: str | None = None,
        public: bool = True,
    ) -> int:
        """Add a comment to a ticket directly (from ``author_email``'s user, else the account's agent); the ticket's
        ``updated_at`` moves."""
        account = self.account(subdomain)
        moment = at or self._clock()
        if author_email is None:
            author = self._user(account, f"agent@{subdomain}.zendesk.example", name="Support Agent", role="agent")
        else:
            author = self._user(account, author_email)
        comment_id = self._comment(account, ticket_id, body, moment, public, author=author, via="web")
        account.tickets[ticket_id]["updated_at"] = _stamp(moment)
        return comment_id

    def ticket_event(
        self, subdomain: str, ticket_id: int, *, event_type: str = "zen:event-type:ticket.comment_added"
    ) -> dict[str, Any]:
        """The body Zendesk posts for an event on ``ticket_id`` (a new event id each time)."""
        account = self.account(subdomain)
        ticket = account.tickets[ticket_id]
        event_id = f"01JZ{account.next_event:022d}"
        account.next_event += 1
        return {
            "id": event_id,
            "type": event_type,
            "account_id": sum(ord(ch) for ch in subdomain) * 7919,
            "time": _stamp(self._clock()),
            "zendesk_event_version": EVENT_VERSION,
            "subject": f"zen:ticket:{ticket_id}",
            "detail": {
                "id": str(ticket_id),
                "status": str(ticket["status"]).upper(),
                "requester_id": str(ticket["requester_id"]),
                "subject": ticket["subject"],
                "updated_at": ticket["updated_at"],
            },
            "event": {},
        }

    def export_cursor_after(self, subdomain: str, ticket_id: int) -> str:
        """The export cursor that continues after ``ticket_id`` (what the page ending at it answers as
        ``after_cursor``): for :meth:`fail_cursor`."""
        ticket = self.account(subdomain).tickets[ticket_id]
        return _encode_cursor("x", int(datetime.fromisoformat(ticket["updated_at"]).timestamp()), ticket_id)

    def touch(self, subdomain: str, ticket_id: int, *, at: datetime, **fields: Any) -> None:
        """Change a ticket directly at ``at``."""
        ticket = self.account(subdomain).tickets[ticket_id]
        ticket.update(fields)
        ticket["updated_at"] = _stamp(at)

    def fail_next(self, status: int, *, times: int = 1, after_apply: bool = False) -> None:
        """The next ``times`` API requests answer ``status`` (a 5xx); with ``after_apply`` a write is applied first
        and only its answer is lost."""
        self._faults.append(_Fault(status, times, after_apply=after_apply))

    def fail_cursor(self, cursor: str, *, status: int = 500, times: int = 1) -> None:
        """The page at ``cursor`` (an export ``cursor`` or a comments ``page[after]``) answers ``status``."""
        self._faults.append(_Fault(status, times, cursor=cursor))

    # --- pipeline ------------------------------------------------------------------------------------------------

    def _endpoint(self, handler: Callable[[_Account, str, Request, Any], tuple[int, Any, dict[str, str]]]) -> Any:
        async def endpoint(request: Request) -> Response:
            host = request.url.hostname or ""
            subdomain = next((host.removesuffix(s) for s in HOST_SUFFIXES if host.endswith(s)), host)
            self.requests.append((subdomain, request.method, request.url.path))
            headers: dict[str, str] = {}
            try:
                account = self._authenticate(request, subdomain)
                headers = self._spend(account)
                late = self._fault(request)
                body = await self._json(request) if request.method in ("POST", "PUT") else None
                status, document, extra = handler(account, subdomain, request, body)
                if late is not None:
                    raise late
            except _ApiError as error:
                return Response(
                    json.dumps(error.document()), error.status, headers=headers, media_type="application/json"
                )
            except _Throttled as throttled:
                headers = {**throttled.headers, "Retry-After": str(throttled.retry_after)}
                return Response("Rate limit exceeded\n", 429, headers=headers, media_type="text/plain")
            headers.update(extra)
            return Response(json.dumps(document), status, headers=headers, media_type="application/json")

        return endpoint

    def _authenticate(self, request: Request, subdomain: str) -> _Account:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        token: str | None = None
        if scheme.lower() == "bearer":
            token = credential
        elif scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            email, marker, api_token = decoded.partition("/token:")
            token = api_token if marker else None
            request.state.email = email
        if token is None or self._tokens.get(token) != subdomain:
            raise _ApiError(401, "Couldn't authenticate you")
        return self.account(subdomain)

    def _spend(self, account: _Account) -> dict[str, str]:
        now = self._clock()
        window = math.floor(now.timestamp() / 60)
        if window != account.window:
            account.window, account.used = window, 0
        account.used += 1
        headers = {"X-Rate-Limit": str(self._limit), "X-Rate-Limit-Remaining": str(max(self._limit - account.used, 0))}
        if account.used > self._limit:
            retry_after = max(1, math.ceil((window + 1) * 60 - now.timestamp()))
            raise _Throttled(retry_after, headers)
        return headers

    def _fault(self, request: Request) -> _ApiError | None:
        cursor = request.query_params.get("cursor") or request.query_params.get("page[after]")
        for fault in self._faults:
            if fault.remaining <= 0 or (fault.cursor is not None and fault.cursor != cursor):
                continue
            fault.remaining -= 1
            error = _ApiError(fault.status, "ServiceUnavailable", "Service temporarily unavailable")
            if fault.after_apply:
                return error
            raise error
        return None

    @staticmethod
    async def _json(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except ValueError:
            raise _ApiError(400, "InvalidJSON", "The request body is not valid JSON") from None

    # --- records -------------------------------------------------------------------------------------------------

    def _user(self, account: _Account, email: str, *, name: str | None = None, role: str = "end-user") -> int:
        email = email.strip().lower()
        if email not in account.users:
            user_id = account.next_user
            account.next_user += 1
            account.users[email] = user_id
            now = _stamp(self._clock())
            account.people[user_id] = {
                "id": user_id,
                "name": name or email.split("@", 1)[0],
                "email": email,
                "phone": None,
                "role": role,
                "created_at": now,
                "updated_at": now,
            }
        return account.users[email]

    def _comment(
        self,
        account: _Account,
        ticket_id: int,
        body: str,
        at: datetime,
        public: bool = True,
        *,
        author: int | None = None,
        via: str = "web",
    ) -> int:
        comment_id = account.next_comment
        account.next_comment += 1
        entry = {
            "id": comment_id,
            "type": "Comment",
            "body": body,
            "plain_body": body,
            "public": public,
            "author_id": author if author is not None else account.tickets[ticket_id]["requester_id"],
            "via": {"channel": via},
            "created_at": _stamp(at),
        }
        account.comments.setdefault(ticket_id, []).append(entry)
        return comment_id

    def _sideload(self, account: _Account, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = sorted({int(t["requester_id"]) for t in tickets if t.get("requester_id") is not None})
        return [dict(account.people[i]) for i in ids if i in account.people]

    def _insert(
        self, account: _Account, subject: str, comment: str, email: str, at: datetime, extra: Mapping[str, Any]
    ) -> int:
        ticket_id = account.next_ticket
        account.next_ticket += 1
        named = extra.get("requester")
        name = extra.get("requester_name") or (named.get("name") if isinstance(named, dict) else None)
        requester = self._user(account, email, name=name if isinstance(name, str) else None)
        via = str(extra.get("via") or "api")
        account.tickets[ticket_id] = {
            "id": ticket_id,
            "subject": subject,
            "status": "new",
            "priority": extra.get("priority"),
            "tags": list(extra.get("tags") or []),
            "requester_id": requester,
            "external_id": extra.get("external_id"),
            "via": {"channel": via},
            "created_at": _stamp(at),
            "updated_at": _stamp(at),
        }
        self._comment(account, ticket_id, comment, at, bool(extra.get("public", True)), author=requester, via=via)
        return ticket_id

    def _export(
        self, account: _Account, subdomain: str, request: Request, _body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        cursor = request.query_params.get("cursor")
        if cursor is not None:
            stamp, ticket_id = _decode_cursor("x", cursor)
            after = (int(stamp), int(ticket_id))
        else:
            raw = request.query_params.get("start_time", "")
            if not raw.isdigit():
                raise _ApiError(400, "InvalidValue", "start_time is required", start_time="is required")
            if int(raw) > self._clock().timestamp():
                raise _ApiError(422, "InvalidValue", "start_time is in the future", start_time="is in the future")
            after = (int(raw) - 1, 2**62)  # updated at or after start_time
        rows = sorted(
            (int(datetime.fromisoformat(t["updated_at"]).timestamp()), t["id"], t) for t in account.tickets.values()
        )
        size = self.export_page_size
        raw_size = request.query_params.get("per_page")
        if raw_size is not None:
            if not raw_size.isdigit() or not 1 <= int(raw_size) <= EXPORT_PAGE_MAX:
                raise _ApiError(400, "InvalidPaginationParameter", f"per_page must be 1-{EXPORT_PAGE_MAX}")
            size = min(size, int(raw_size))
        rows = [r for r in rows if (r[0], r[1]) > after]
        page = rows[:size]
        end = len(rows) <= size
        last = (page[-1][0], page[-1][1]) if page else after
        after_cursor = _encode_cursor("x", *last)
        document = {
            "tickets": [dict(r[2]) for r in page],
            "after_cursor": after_cursor,
            "after_url": f"https://{subdomain}.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor={after_cursor}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": end,
        }
        if "users" in request.query_params.get("include", "").split(","):
            document["users"] = self._sideload(account, [r[2] for r in page])
        return 200, document, {}

    def _show(
        self, account: _Account, _subdomain: str, request: Request, _body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        ticket = account.tickets.get(int(request.path_params["ticket_id"]))
        if ticket is None:
            raise _ApiError(404, "RecordNotFound", "Not found")
        document: dict[str, Any] = {"ticket": dict(ticket)}
        if "users" in request.query_params.get("include", "").split(","):
            document["users"] = self._sideload(account, [ticket])
        return 200, document, {}

    def _show_user(
        self, account: _Account, _subdomain: str, request: Request, _body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        user = account.people.get(int(request.path_params["user_id"]))
        if user is None:
            raise _ApiError(404, "RecordNotFound", "Not found")
        return 200, {"user": dict(user)}, {}

    def _me(self, account: _Account, subdomain: str, request: Request, _body: Any) -> tuple[int, Any, dict[str, str]]:
        email = getattr(request.state, "email", None) or f"admin@{subdomain}.zendesk.example"
        user_id = self._user(account, email, name="Account Admin", role="admin")
        return 200, {"user": dict(account.people[user_id])}, {}

    def _comments(
        self, account: _Account, subdomain: str, request: Request, _body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        ticket_id = int(request.path_params["ticket_id"])
        if ticket_id not in account.tickets:
            raise _ApiError(404, "RecordNotFound", "Not found")
        raw_size = request.query_params.get("page[size]", str(PAGE_SIZE_MAX))
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= PAGE_SIZE_MAX:
            raise _ApiError(400, "InvalidPaginationParameter", f"page[size] must be 1-{PAGE_SIZE_MAX}")
        size = int(raw_size)
        after = request.query_params.get("page[after]")
        start = int(_decode_cursor("c", after)[0]) if after else 0
        comments = account.comments.get(ticket_id, [])
        page = comments[start : start + size]
        has_more = start + size < len(comments)
        after_cursor = _encode_cursor("c", start + len(page)) if page else None
        before_cursor = _encode_cursor("c", start) if page else None
        base = f"https://{subdomain}.zendesk.com/api/v2/tickets/{ticket_id}/comments?page[size]={size}"
        document = {
            "comments": [dict(c) for c in page],
            "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor},
            "links": {"next": f"{base}&page[after]={after_cursor}" if has_more else None, "prev": None},
        }
        return 200, document, {}

    def _create(
        self, account: _Account, _subdomain: str, request: Request, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        key = request.headers.get("idempotency-key")
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        now = self._clock()
        lookup: dict[str, str] = {}
        if key is not None:
            if not 0 < len(key) <= 255:
                raise _ApiError(400, "InvalidValue", "Idempotency-Key must be 1-255 characters")
            stored = account.idempotency.get(key)
            if stored is not None and now - stored[2] <= IDEMPOTENCY_RETENTION:
                if stored[0] != canonical:
                    raise _ApiError(
                        400, "IdempotencyKeyReused", "This idempotency key was already used with a different payload"
                    )
                return 201, {"ticket": dict(account.tickets[stored[1]])}, {"x-idempotency-lookup": "hit"}
            lookup = {"x-idempotency-lookup": "miss"}
        ticket = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(ticket, dict):
            raise _ApiError(400, "InvalidValue", "A ticket object is required")
        comment = ticket.get("comment")
        text = comment.get("body") if isinstance(comment, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(422, "RecordInvalid", "Record validation errors", comment="Comment: cannot be blank")
        requester = ticket.get("requester")
        email = requester.get("email") if isinstance(requester, dict) else None
        if not isinstance(email, str) or "@" not in email:
            raise _ApiError(422, "RecordInvalid", "Record validation errors", requester="Requester: is invalid")
        extra = dict(ticket)
        extra["public"] = comment.get("public", True) if isinstance(comment, dict) else True
        ticket_id = self._insert(account, str(ticket.get("subject") or ""), text, email, now, extra)
        if key is not None:
            account.idempotency[key] = (canonical, ticket_id, now)
        return 201, {"ticket": dict(account.tickets[ticket_id]), "audit": {"ticket_id": ticket_id}}, lookup

    def _update(
        self, account: _Account, _subdomain: str, request: Request, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        ticket_id = int(request.path_params["ticket_id"])
        stored = account.tickets.get(ticket_id)
        if stored is None:
            raise _ApiError(404, "RecordNotFound", "Not found")
        ticket = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(ticket, dict):
            raise _ApiError(400, "InvalidValue", "A ticket object is required")
        status = ticket.get("status")
        if status is not None and status not in STATUSES:
            raise _ApiError(422, "RecordInvalid", "Record validation errors", status=f"Status: {status} is invalid")
        if stored["status"] == "closed":
            raise _ApiError(422, "RecordInvalid", "Record validation errors", status="Status: closed prevents update")
        if status is not None:
            stored["status"] = status
        stored["updated_at"] = _stamp(self._clock())
        return 200, {"ticket": dict(stored), "audit": {"ticket_id": ticket_id}}, {}


class _Throttled(Exception):
    def __init__(self, retry_after: int, headers: Mapping[str, str]) -> None:
        super().__init__("throttled")
        self.retry_after, self.headers = retry_after, dict(headers)
