"""A thin Zendesk Support client over :class:`ConnectorHttp` (tickets and their comments).

Wire shapes: shared/reference/platform_apis.md §11 (Zendesk Support Ticketing API v2):

* base ``https://{subdomain}.zendesk.com/api/v2``; the subdomain is the tenant's, so the ConnectorHttp of a client
  is built on it (:meth:`ZendeskClient.for_subdomain`); auth is Basic ``{email}/token:{api_token}`` or OAuth Bearer,
  carried by the ConnectorHttp's ``auth``;
* incremental ticket export, cursor based: ``GET /api/v2/incremental/tickets/cursor.json?start_time=<epoch s>``
  then ``?cursor=<after_cursor>`` → ``{tickets, after_cursor, after_url, before_cursor, end_of_stream}``; read until
  ``end_of_stream`` [~ shape: Zendesk incremental export docs]; the endpoint is capped at 10 requests/min (§11
  "Rate limits"), so callers keep the last ``after_cursor`` and resume from it rather than starting again;
  ``per_page`` (≤1000) sizes a page and ``include=users`` sideloads the tickets' requesters as ``users`` [~ Zendesk
  incremental export "Side-loading"];
* one ticket: ``GET /api/v2/tickets/{id}?include=users`` → ``{ticket, users}`` (a webhook names a ticket; its
  current state is read here) [~ Zendesk "Show Ticket", sideloads]; one user: ``GET /api/v2/users/{id}`` →
  ``{user:{id, name, email, phone, role, updated_at}}``; the token's own user: ``GET /api/v2/users/me`` (a cheap
  check of the credentials) [~ Zendesk Users API];
* a ticket's comments: ``GET /api/v2/tickets/{id}/comments?page[size]=…&page[after]=…`` → ``{comments, meta:
  {has_more, after_cursor, before_cursor}, links:{next, prev}}``; followed while ``meta.has_more`` (§11 "Cursor
  pagination"). ``links.next`` is an absolute URL: only its ``page[after]`` is taken, so the token is never sent
  to a host an answer names;
* create: ``POST /api/v2/tickets`` ``{ticket:{subject, comment:{body, public}, requester:{name, email}, priority,
  tags}}`` → 201 ``{ticket:{id, …}, audit}`` (§11 "Create ticket"). With an ``Idempotency-Key`` (≤255 chars,
  kept ~2 h; §11 "Idempotency") a repeat returns the same ticket (``x-idempotency-lookup: hit``), so the policy
  retries it; without one it is sent once, since a timed-out create may have made the ticket;
* status update: ``PUT /api/v2/tickets/{id}`` ``{ticket:{status}}`` → 200 ``{ticket, audit}`` (PUT: retried).

Errors ``{error, description, details:{field:[{description}]}}`` (§11 "Errors") and the rate headers / 429
``Retry-After`` seconds are read by ConnectorHttp like every platform's.
"""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal, Self
from urllib.parse import parse_qs, urlsplit

from pydantic import Field

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.views import FrozenView

API = "/api/v2"
PAGE_SIZE_MAX = 100  # §11 cursor pagination: page[size]=100
EXPORT_PAGE_MAX = 1000  # incremental export per_page ≤ 1000 [~]
IDEMPOTENCY_KEY_MAX = 255  # §11 Idempotency: ≤255 chars

TicketStatus = Literal["new", "open", "pending", "hold", "solved", "closed"]

# A Zendesk subdomain: letters, digits and hyphens (a DNS label), so it can only ever name a zendesk.com host.
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def zendesk_origin(subdomain: str) -> str:
    """``https://{subdomain}.zendesk.com``; ValueError when ``subdomain`` is not one DNS label."""
    if not _SUBDOMAIN.fullmatch(subdomain):
        raise ValueError("a Zendesk subdomain is one DNS label of lowercase letters, digits and hyphens")
    return f"https://{subdomain}.zendesk.com"


def _via_channel(via: Any) -> str | None:
    channel = via.get("channel") if isinstance(via, dict) else None
    return str(channel)[:40] if isinstance(channel, str | int) and channel != "" else None


class Ticket(FrozenView):
    """One ticket as Zendesk returns it (the fields the platform uses; others are ignored)."""

    id: int
    subject: str | None = None
    status: str | None = None
    priority: str | None = None
    requester_id: int | None = None
    tags: tuple[str, ...] = ()
    external_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    via: dict[str, Any] | None = None

    @property
    def channel(self) -> str | None:
        """How the ticket came in (``via.channel``: email, web, chat, voice, api, …)."""
        return _via_channel(self.via)

    @classmethod
    def read(cls, document: Any) -> "Ticket":
        if not isinstance(document, dict):
            raise ValueError("Zendesk answered a ticket with something other than an object")
        return cls.model_validate(document)


class Comment(FrozenView):
    """One comment of a ticket."""

    id: int
    body: str | None = None
    public: bool = True
    author_id: int | None = None
    created_at: datetime | None = None
    via: dict[str, Any] | None = None

    @property
    def channel(self) -> str | None:
        """How the comment was made (``via.channel``)."""
        return _via_channel(self.via)


class User(FrozenView):
    """A Zendesk user: a requester (end-user) or an agent."""

    id: int
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    role: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TicketWithUsers(FrozenView):
    """One ticket and the users it names (sideloaded)."""

    ticket: Ticket
    users: tuple[User, ...] = ()


class TicketExportPage(FrozenView):
    """One page of the incremental export; resume from ``after_cursor`` (None only when nothing followed)."""

    tickets: tuple[Ticket, ...]
    after_cursor: str | None = None
    end_of_stream: bool
    users: tuple[User, ...] = ()


class CommentPage(FrozenView):
    """One page of a ticket's comments; ``next_after`` is the ``page[after]`` of the next (None on the last)."""

    comments: tuple[Comment, ...]
    next_after: str | None = None


class CreatedTicket(FrozenView):
    """A created ticket; ``replayed`` is true when Zendesk answered from its idempotency store (a repeat)."""

    ticket: Ticket
    replayed: bool = False


class NewTicket(FrozenView):
    """A ticket to create: its subject, first comment and requester."""

    subject: str = Field(min_length=1)
    comment: str = Field(min_length=1)
    requester_email: str = Field(min_length=3)
    requester_name: str | None = None
    public: bool = True
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    tags: tuple[str, ...] = ()

    def wire(self) -> dict[str, Any]:
        requester: dict[str, Any] = {"email": self.requester_email}
        if self.requester_name:
            requester["name"] = self.requester_name
        ticket: dict[str, Any] = {
            "subject": self.subject,
            "comment": {"body": self.comment, "public": self.public},
            "requester": requester,
        }
        if self.priority is not None:
            ticket["priority"] = self.priority
        if self.tags:
            ticket["tags"] = list(self.tags)
        return {"ticket": ticket}


def _object(document: Any, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ValueError(f"Zendesk answered {what} with something other than an object")
    return document


def _text_or_none(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def _page_after(links_next: Any) -> str | None:
    """The ``page[after]`` of a ``links.next`` URL (the URL itself is never followed)."""
    if not isinstance(links_next, str):
        return None
    values = parse_qs(urlsplit(links_next).query).get("page[after]")
    return values[0] if values and values[0] else None


class ZendeskClient:
    """Ticket export, comments, create and status update, for one tenant's Zendesk (the ConnectorHttp carries
    auth)."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._http = http

    @classmethod
    def for_subdomain(cls, subdomain: str, *, tenant_id: str, **http_options: Any) -> Self:
        """A client on ``https://{subdomain}.zendesk.com``; ``http_options`` go to ConnectorHttp (auth, budget,
        policy, transport, …)."""
        http = ConnectorHttp(
            get_connector("zendesk"), base_url=zendesk_origin(subdomain), tenant_id=tenant_id, **http_options
        )
        return cls(http)

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- incremental ticket export -------------------------------------------------------------------------------

    async def export_page(
        self,
        *,
        start_time: datetime | None = None,
        cursor: str | None = None,
        per_page: int | None = None,
        include_users: bool = False,
    ) -> TicketExportPage:
        """One page of the cursor export: the first from ``start_time``, the next ones from ``cursor``
        (``include_users``: with the tickets' requesters)."""
        if (start_time is None) == (cursor is None):
            raise ValueError("give start_time for the first page or cursor for the next ones")
        params: dict[str, str]
        if start_time is not None:
            if start_time.tzinfo is None:
                raise ValueError("start_time must be timezone-aware")
            params = {"start_time": str(max(0, int(start_time.astimezone(UTC).timestamp())))}
        else:
            params = {"cursor": str(cursor)}
        if per_page is not None:
            if not 1 <= per_page <= EXPORT_PAGE_MAX:
                raise ValueError(f"per_page must be 1-{EXPORT_PAGE_MAX}")
            params["per_page"] = str(per_page)
        if include_users:
            params["include"] = "users"
        response = await self._http.request("GET", f"{API}/incremental/tickets/cursor.json", params=params)
        document = _object(response.json(), "an export page")
        return TicketExportPage(
            tickets=tuple(Ticket.read(item) for item in document.get("tickets") or []),
            after_cursor=_text_or_none(document.get("after_cursor")),
            end_of_stream=bool(document.get("end_of_stream", True)),
            users=tuple(User.model_validate(item) for item in document.get("users") or [] if isinstance(item, dict)),
        )

    async def export_pages(
        self, *, start_time: datetime | None = None, cursor: str | None = None
    ) -> AsyncIterator[TicketExportPage]:
        """Every export page to ``end_of_stream``. To resume after a failure, pass the last ``after_cursor``."""
        page = await self.export_page(start_time=start_time, cursor=cursor)
        yield page
        while not page.end_of_stream and page.after_cursor is not None and page.after_cursor != cursor:
            cursor = page.after_cursor
            page = await self.export_page(cursor=cursor)
            yield page

    async def tickets_changed_since(self, start_time: datetime) -> list[Ticket]:
        """Every ticket created or changed since ``start_time``, in the export's order."""
        found: list[Ticket] = []
        async for page in self.export_pages(start_time=start_time):
            found.extend(page.tickets)
        return found

    # --- tickets and users ---------------------------------------------------------------------------------------

    async def ticket(self, ticket_id: int) -> TicketWithUsers:
        """One ticket as it is now, with its users (a 404 raises ConnectorError)."""
        response = await self._http.request("GET", f"{API}/tickets/{int(ticket_id)}", params={"include": "users"})
        document = _object(response.json(), "a ticket")
        return TicketWithUsers(
            ticket=Ticket.read(document.get("ticket")),
            users=tuple(User.model_validate(item) for item in document.get("users") or [] if isinstance(item, dict)),
        )

    async def user(self, user_id: int) -> User:
        """One user by id (a 404 raises ConnectorError)."""
        response = await self._http.request("GET", f"{API}/users/{int(user_id)}")
        return User.model_validate(_object(_object(response.json(), "a user").get("user"), "a user"))

    async def me(self) -> User:
        """The user the credentials act as."""
        response = await self._http.request("GET", f"{API}/users/me")
        return User.model_validate(_object(_object(response.json(), "a user").get("user"), "a user"))

    # --- comments ------------------------------------------------------------------------------------------------

    async def comments_page(
        self, ticket_id: int, *, after: str | None = None, size: int = PAGE_SIZE_MAX
    ) -> CommentPage:
        """One page of ``ticket_id``'s comments (cursor pagination)."""
        if not 1 <= size <= PAGE_SIZE_MAX:
            raise ValueError(f"size must be 1-{PAGE_SIZE_MAX}")
        params = {"page[size]": str(size)}
        if after is not None:
            params["page[after]"] = after
        response = await self._http.request("GET", f"{API}/tickets/{int(ticket_id)}/comments", params=params)
        document = _object(response.json(), "a comments page")
        meta = document.get("meta")
        links = document.get("links")
        has_more = bool(meta.get("has_more")) if isinstance(meta, dict) else False
        nxt = None
        if has_more:
            nxt = _text_or_none(meta.get("after_cursor")) if isinstance(meta, dict) else None
            nxt = nxt or _page_after(links.get("next") if isinstance(links, dict) else None)
        return CommentPage(
            comments=tuple(Comment.model_validate(item) for item in document.get("comments") or []),
            next_after=nxt,
        )

    async def comments(self, ticket_id: int, *, size: int = PAGE_SIZE_MAX) -> list[Comment]:
        """Every comment of ``ticket_id``, following the cursor while ``meta.has_more``."""
        found: list[Comment] = []
        after: str | None = None
        while True:
            page = await self.comments_page(ticket_id, after=after, size=size)
            found.extend(page.comments)
            if page.next_after is None or page.next_after == after:
                return found
            after = page.next_after

    # --- writes --------------------------------------------------------------------------------------------------

    async def create_ticket(self, ticket: NewTicket, *, idempotency_key: str | None = None) -> CreatedTicket:
        """Create a ticket. With ``idempotency_key`` it is retried and a repeat returns the same ticket; without one
        it is sent once (a failure after sending raises, and the ticket may or may not exist)."""
        if idempotency_key is not None and not 0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX:
            raise ValueError(f"an idempotency key is 1-{IDEMPOTENCY_KEY_MAX} characters")
        response = await self._http.request(
            "POST", f"{API}/tickets", json_body=ticket.wire(), idempotency_key=idempotency_key
        )
        document = _object(response.json(), "a ticket create")
        replayed = response.headers.get("x-idempotency-lookup", "").lower() == "hit"
        return CreatedTicket(ticket=Ticket.read(document.get("ticket")), replayed=replayed)

    async def update_status(self, ticket_id: int, status: TicketStatus) -> Ticket:
        """Set ``ticket_id``'s status (a PUT: safe to retry)."""
        response = await self._http.request(
            "PUT", f"{API}/tickets/{int(ticket_id)}", json_body={"ticket": {"status": status}}
        )
        return Ticket.read(_object(response.json(), "a ticket update").get("ticket"))
