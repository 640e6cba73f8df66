"""Mailchimp's Marketing API v3.0 in memory: audiences, members, tags, segments, campaigns, reports, webhooks.

Shapes follow shared/reference/platform_apis.md §6; paths are served under ``/3.0`` (connectors.json
``sandbox_base_url``). Each API key (or OAuth token) maps to one account; accounts share nothing, and each starts
with one audience (a free Mailchimp account's default) holding the merge fields FNAME, LNAME, PHONE, BIRTHDAY [~].

* Auth (§6): HTTP Basic with any user name and the key as password, or ``Bearer``/``OAuth <token>``. A missing or
  unknown key answers 401 "API Key Missing"/"API Key Invalid" [~ titles]; so does a key used on another data
  centre's host (``{dc}.api.mailchimp.com`` when the request names one). The key is never echoed.
* Errors: ``application/problem+json`` ``{type, title, status, detail, instance, errors?}`` (§6 "Errors"):
  "Invalid Resource" with ``errors:[{field, message}]`` for bad merge fields (the merge tag is the field), "Member
  Exists", "Forgotten Email Not Subscribed", "Member In Compliance State", "Resource Not Found".
* Concurrency (§6 "Rate limits"): at most ``connection_limit`` (10) requests in flight per key; beyond, 429
  "Too Many Requests" with no rate headers and no Retry-After. ``gate`` (an ``asyncio.Event``) holds requests
  inside their connection until set, to play slow answers.
* Paging: ``count`` (1-1000, default 10) + ``offset``, ``total_items`` in every listing (§6 "Pagination" [~]).
* Segments: ``POST`` makes a static segment of the given addresses; ``GET ?type=static`` lists them and the tags,
  which Mailchimp keeps as static segments (a tag's id is a hash of its name here) [~]; either id works as a
  campaign's ``saved_segment_id``.
* Campaigns: ``save`` → ``sending``/``sent`` on send (or ``schedule`` until the clock passes ``schedule_time``).
  Sending is deterministic: the recipients are the audience's (or saved segment's / tag's) subscribed members in
  subscriber-hash order; the first ``hard_bounce`` share are cleaned, the next ``unsubscribe`` share unsubscribe, and
  the report's opens and clicks are the rates of :class:`EmailRates` (benchmarks.md §6.1) applied to the delivered.
* Webhooks (§6 "Webhooks" [~]): unsubscribe and cleaned events as form-encoded POST bodies (``type``,
  ``fired_at`` ``YYYY-MM-DD HH:MM:SS`` UTC, ``data[...]``) handed to the async ``deliver(headers, body) -> status``
  attribute; with none, or a non-2xx answer or an exception, they wait in ``outbox`` (Mailchimp retries for about
  75 minutes [~]), and :meth:`MailchimpSimulator.flush_webhooks` hands them over again.
* Registered webhooks (``GET``/``POST /lists/{id}/webhooks``) are kept per audience (``_Audience.webhooks``) for a
  receiver to look up its URL; deliveries still go through ``deliver``.
* Faults: :meth:`MailchimpSimulator.fail_next` (the next N requests answer a status, optionally after applying a
  write, as when an answer is lost; a 503 may be Mailchimp's HTML "Request Blocked" page, §6).
"""

import asyncio
import base64
import binascii
import hashlib
import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.shared.clock import utc_now

PROBLEM_TYPE = "https://mailchimp.com/developer/marketing/docs/errors/"  # [~]
PROBLEM_MEDIA = "application/problem+json; charset=utf-8"
HEALTH_STATUS = "Everything's Chimpy!"  # GET /ping [~]
CONNECTION_LIMIT = 10  # §6: 10 simultaneous connections per key
PAGE_DEFAULT, PAGE_MAX = 10, 1000  # §6 Pagination [~]
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived")
SETTABLE_STATUSES = ("subscribed", "unsubscribed", "pending", "transactional")  # "cleaned" is Mailchimp's call [~]
WEBHOOK_HEADERS: Mapping[str, str] = {
    "Content-Type": "application/x-www-form-urlencoded",
    "User-Agent": "MailChimp",  # [~]
}
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_BIRTHDAY = re.compile(r"(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])")
_KEY_DC = re.compile(r"[0-9a-fA-F]{32}-([a-z]{2,4}[0-9]{1,3})")
_HOST_DC = re.compile(r"([a-z]{2,4}[0-9]{1,3})\.api\.mailchimp\.com")

Deliver = Callable[[Mapping[str, str], bytes], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class EmailRates:
    """Shares of a send's recipients; defaults: Mailchimp's "All non-labeled accounts" benchmark, Oct 2019 edition
    (shared/reference/benchmarks.md §6.1: open 22.71 %, click 2.91 %, hard 0.40 %, soft 0.61 %, unsub 0.25 %).

    Opens and clicks apply to the delivered (sent less bounces), as Mailchimp's rates do [~].
    """

    open: float = 0.2271
    click: float = 0.0291
    hard_bounce: float = 0.0040
    soft_bounce: float = 0.0061
    unsubscribe: float = 0.0025


def _share(total: int, rate: float) -> int:
    # Half up, not Python's half-to-even, so a report reads as a person would compute it.
    return math.floor(total * rate + 0.5)


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 of the trimmed, lower-cased address (§6)."""
    return hashlib.md5(email.strip().lower().encode("utf-8"), usedforsecurity=False).hexdigest()


def _sub(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The object under ``key``, or an empty one when it is missing or not an object."""
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _fired_at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class _Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        html: bool = False,
    ) -> None:
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.html = html


def _invalid(field_name: str, message: str) -> _Problem:
    return _Problem(
        400,
        "Invalid Resource",
        "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
        errors=[(field_name, message)],
    )


def _not_found() -> _Problem:
    return _Problem(404, "Resource Not Found", "The requested resource could not be found.")


@dataclass(frozen=True, slots=True)
class _MergeField:
    tag: str
    type: str  # text | number | phone | birthday
    required: bool = False


@dataclass
class _Segment:
    id: int
    name: str
    members: set[str]
    created: datetime


@dataclass
class _Audience:
    id: str
    name: str
    created: datetime
    merge_fields: dict[str, _MergeField]
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # subscriber hash → member
    forgotten: set[str] = field(default_factory=set)
    segments: dict[int, _Segment] = field(default_factory=dict)
    webhooks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Account:
    name: str
    audiences: dict[str, _Audience] = field(default_factory=dict)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    serial: int = 0

    def next_id(self, kind: str) -> str:
        self.serial += 1
        # Mailchimp ids are 10 hex characters [~]; derived from the account so two accounts never share one.
        return hashlib.sha256(f"{self.name}/{kind}/{self.serial}".encode()).hexdigest()[:10]


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int | None = None
    after_apply: bool = False
    html: bool = False
    path: str | None = None


class MailchimpSimulator:
    """Mailchimp for several accounts. ``.app`` serves ``/3.0``; ``grant`` / ``seed_member`` / ``fail_next`` and the
    async member actions act as Mailchimp and its users would."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        connection_limit: int = CONNECTION_LIMIT,
        rates: EmailRates | None = None,
    ) -> None:
        self._tokens: dict[str, str] = {}
        self._clock = clock
        self._limit = connection_limit
        self.rates = rates or EmailRates()
        self._accounts: dict[str, _Account] = {}
        self._faults: list[_Fault] = []
        self._in_flight: dict[str, int] = {}
        self._pending: list[bytes] = []
        self._instances = 0
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.deliver: Deliver | None = None
        self.outbox: list[tuple[dict[str, str], bytes]] = []
        self.gate: asyncio.Event | None = None
        for token, account in (tokens or {}).items():
            self.grant(token, account)
        api = "/3.0"
        member = api + "/lists/{list_id}/members/{subscriber_hash}"
        campaign = api + "/campaigns/{campaign_id}"
        self.app = Starlette(
            routes=[
                Route(api + "/ping", self._endpoint(self._ping), methods=["GET"]),
                Route(api + "/lists", self._endpoint(self._lists), methods=["GET"]),
                Route(api + "/lists/{list_id}", self._endpoint(self._list), methods=["GET"]),
                Route(api + "/lists/{list_id}/members", self._endpoint(self._members), methods=["GET"]),
                Route(member, self._endpoint(self._member), methods=["GET", "PUT", "PATCH", "DELETE"]),
                Route(member + "/tags", self._endpoint(self._tags), methods=["POST"]),
                Route(api + "/lists/{list_id}/segments", self._endpoint(self._segment), methods=["GET", "POST"]),
                Route(api + "/lists/{list_id}/webhooks", self._endpoint(self._webhooks), methods=["GET", "POST"]),
                Route(api + "/campaigns", self._endpoint(self._create_campaign), methods=["POST"]),
                Route(campaign, self._endpoint(self._campaign), methods=["GET"]),
                Route(campaign + "/content", self._endpoint(self._content), methods=["PUT"]),
                Route(campaign + "/actions/send", self._endpoint(self._send), methods=["POST"]),
                Route(campaign + "/actions/schedule", self._endpoint(self._schedule), methods=["POST"]),
                Route(api + "/reports/{campaign_id}", self._endpoint(self._report), methods=["GET"]),
                Route(api + "/{rest:path}", self._endpoint(self._unknown), methods=["GET", "POST", "PUT", "PATCH"]),
            ]
        )

    # --- acting as Mailchimp -------------------------------------------------------------------------------------

    def grant(self, token: str, account: str) -> None:
        """A valid API key (``<32 hex>-<dc>``) or OAuth token for ``account`` (created, with its audience, if new)."""
        if not token or not account:
            raise ValueError("grant needs a token and an account")
        self._tokens[token] = account
        self.account(account)

    def revoke(self, token: str) -> None:
        """The key now answers 401 "API Key Invalid" (as a key disabled in the account's settings)."""
        self._tokens.pop(token, None)

    def account(self, name: str) -> _Account:
        """The account's state (created with one default audience on first use)."""
        found = self._accounts.get(name)
        if found is None:
            found = self._accounts[name] = _Account(name)
            self.add_audience(name, f"{name} audience")
        return found

    def default_audience(self, account: str) -> str:
        """The id of the account's first audience."""
        return next(iter(self.account(account).audiences))

    def audience(self, account: str, list_id: str) -> _Audience:
        """An audience's state."""
        return self.account(account).audiences[list_id]

    def add_audience(self, account: str, name: str) -> str:
        """Create an audience with the default merge fields; returns its id."""
        state = self.account(account)
        list_id = state.next_id("list")
        fields = [_MergeField("FNAME", "text"), _MergeField("LNAME", "text")]
        fields += [_MergeField("PHONE", "phone"), _MergeField("BIRTHDAY", "birthday")]
        state.audiences[list_id] = _Audience(list_id, name, self._clock(), {f.tag: f for f in fields})
        return list_id

    def add_merge_field(
        self, account: str, list_id: str, tag: str, *, type: str = "text", required: bool = False
    ) -> None:
        """Add a merge field (``text``, ``number``, ``phone`` or ``birthday``) to an audience."""
        if type not in ("text", "number", "phone", "birthday"):
            raise ValueError(f"unsupported merge field type {type!r}")
        self.audience(account, list_id).merge_fields[tag] = _MergeField(tag, type, required)

    def seed_member(
        self,
        account: str,
        list_id: str,
        email: str,
        *,
        status: str = "subscribed",
        merge_fields: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> str:
        """Add a member directly (as an import would, no webhook); returns its subscriber hash."""
        if status not in STATUSES:
            raise ValueError(f"unknown member status {status!r}")
        audience = self.audience(account, list_id)
        return self._insert(audience, email, status, dict(merge_fields or {}), at or self._clock())

    def forget(self, account: str, list_id: str, email: str) -> None:
        """Erase a member permanently (GDPR): it can never be re-imported through the API."""
        audience = self.audience(account, list_id)
        key = subscriber_hash(email)
        audience.members.pop(key, None)
        audience.forgotten.add(key)

    async def user_unsubscribes(
        self, account: str, list_id: str, email: str, *, campaign_id: str | None = None
    ) -> None:
        """A member follows an unsubscribe link: status unsubscribed, and an unsubscribe webhook."""
        audience = self.audience(account, list_id)
        member = audience.members[subscriber_hash(email)]
        self._set_status(audience, member, "unsubscribed", self._clock(), campaign_id=campaign_id)
        await self._flush_pending()

    async def clean(self, account: str, list_id: str, email: str, *, reason: str = "hard") -> None:
        """Mailchimp cleans an address (``hard`` bounce or ``abuse``): status cleaned, and a cleaned webhook."""
        audience = self.audience(account, list_id)
        member = audience.members[subscriber_hash(email)]
        self._set_status(audience, member, "cleaned", self._clock(), reason=reason)
        await self._flush_pending()

    async def run_due(self) -> None:
        """Send every scheduled campaign whose time has come (each request does it for its own account)."""
        for account in self._accounts.values():
            self._send_due(account)
        await self._flush_pending()

    async def flush_webhooks(self) -> int:
        """Hand the queued webhooks to ``deliver`` again; returns how many were accepted (2xx)."""
        queued, self.outbox = self.outbox, []
        accepted = 0
        for headers, body in queued:
            accepted += await self._hand_over(headers, body)
        return accepted

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        after_apply: bool = False,
        html: bool = False,
        path: str | None = None,
    ) -> None:
        """The next ``times`` API requests answer ``status`` (only those whose path ends with ``path``, when given).
        With ``after_apply`` a write is applied first and only its answer is lost; ``html`` answers Mailchimp's HTML
        "Request Blocked" page instead of problem+json."""
        self._faults.append(_Fault(status, times, retry_after, after_apply, html, path))

    # --- pipeline ------------------------------------------------------------------------------------------------

    def _endpoint(self, handler: Callable[[_Account, Request, Any], tuple[int, Any]]) -> Any:
        async def endpoint(request: Request) -> Response:
            self.requests.append((request.method, request.url.path))
            try:
                token, account = self._authenticate(request)
                self._in_flight[token] = self._in_flight.get(token, 0) + 1
                try:
                    status, document = await self._serve(handler, token, account, request)
                finally:
                    self._in_flight[token] -= 1
            except _Problem as problem:
                return self._problem(problem)
            if status == 204:
                return Response(status_code=204)
            return Response(json.dumps(document), status, media_type="application/json")

        return endpoint

    async def _serve(
        self,
        handler: Callable[[_Account, Request, Any], tuple[int, Any]],
        token: str,
        account: _Account,
        request: Request,
    ) -> tuple[int, Any]:
        if self._in_flight[token] > self._limit:
            raise _Problem(
                429,
                "Too Many Requests",
                f"You have exceeded the limit of {self._limit} simultaneous connections.",
            )
        late = self._fault(request.url.path)
        body = await self._json(request) if request.method in ("POST", "PUT", "PATCH") else None
        if self.gate is not None:
            await self.gate.wait()
        self._send_due(account)
        try:
            result = handler(account, request, body)
        finally:
            await self._flush_pending()
        if late is not None:
            raise late
        return result

    def _authenticate(self, request: Request) -> tuple[str, _Account]:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        token: str | None = None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            _user, colon, password = decoded.partition(":")
            token = password if colon else None
        elif scheme.lower() in ("bearer", "oauth"):
            token = credential.strip()
        if not token:
            raise _Problem(401, "API Key Missing", "Your request did not include an API key.")
        account = self._tokens.get(token)
        key_dc = _KEY_DC.fullmatch(token)
        host_dc = _HOST_DC.fullmatch(request.url.hostname or "")
        wrong_dc = key_dc is not None and host_dc is not None and key_dc.group(1) != host_dc.group(1)
        if account is None or wrong_dc:
            raise _Problem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        return token, self.account(account)

    def _fault(self, path: str) -> _Problem | None:
        for fault in self._faults:
            if fault.remaining <= 0 or (fault.path is not None and not path.endswith(fault.path)):
                continue
            fault.remaining -= 1
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.status == 429:
                problem = _Problem(
                    429,
                    "Too Many Requests",
                    f"You have exceeded the limit of {self._limit} simultaneous connections.",
                    headers=headers,
                )
            else:
                problem = _Problem(
                    fault.status, "Service Unavailable", "The service is temporarily unavailable.", headers=headers
                )
            problem.html = fault.html
            if fault.after_apply:
                return problem
            raise problem
        return None

    def _problem(self, problem: _Problem) -> Response:
        if problem.html:
            page = "<html><head><title>Request Blocked</title></head><body><h1>Request Blocked</h1></body></html>"
            return Response(page, problem.status, headers=problem.headers, media_type="text/html")
        self._instances += 1
        document: dict[str, Any] = {
            "type": PROBLEM_TYPE,
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
            "instance": str(uuid.UUID(int=self._instances)),
        }
        if problem.errors:
            document["errors"] = [{"field": name, "message": message} for name, message in problem.errors]
        return Response(json.dumps(document), problem.status, headers=problem.headers, media_type=PROBLEM_MEDIA)

    @staticmethod
    async def _json(request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise _Problem(400, "JSON Parse Exception", "We encountered an unspecified JSON parsing error.") from None

    # --- webhooks ------------------------------------------------------------------------------------------------

    def _webhook(self, kind: str, data: Mapping[str, str]) -> None:
        pairs = [("type", kind), ("fired_at", _fired_at(self._clock()))]
        pairs += [(f"data[{name}]" if "[" not in name else f"data{name}", value) for name, value in data.items()]
        self._pending.append(urlencode(pairs).encode("ascii"))

    async def _flush_pending(self) -> None:
        pending, self._pending = self._pending, []
        for body in pending:
            await self._hand_over(dict(WEBHOOK_HEADERS), body)

    async def _hand_over(self, headers: dict[str, str], body: bytes) -> int:
        if self.deliver is None:
            self.outbox.append((headers, body))
            return 0
        try:
            status = await self.deliver(headers, body)
        except Exception:
            status = 0  # the receiver failed: Mailchimp keeps the event to retry it
        if 200 <= status < 300:
            return 1
        self.outbox.append((headers, body))
        return 0

    # --- members -------------------------------------------------------------------------------------------------

    def _insert(self, audience: _Audience, email: str, status: str, merge_fields: dict[str, Any], at: datetime) -> str:
        key = subscriber_hash(email)
        audience.members[key] = {
            "id": key,
            "email_address": email.strip(),
            "unique_email_id": hashlib.sha256(f"{audience.id}/{key}".encode()).hexdigest()[:10],
            "email_type": "html",
            "status": status,
            "merge_fields": {tag: merge_fields.get(tag, "") for tag in audience.merge_fields},
            "tags": [],
            "vip": False,
            "language": "",
            "timestamp_signup": _stamp(at),
            "last_changed": at,
        }
        return key

    def _document(self, audience: _Audience, member: Mapping[str, Any]) -> dict[str, Any]:
        document = {name: value for name, value in member.items() if name not in ("tags", "last_changed")}
        document["merge_fields"] = dict(member["merge_fields"])
        document["tags"] = [{"id": self._tag_id(name), "name": name} for name in member["tags"]]
        document["tags_count"] = len(member["tags"])
        document["last_changed"] = _stamp(member["last_changed"])
        document["list_id"] = audience.id
        return document

    @staticmethod
    def _tag_id(name: str) -> int:
        return int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)

    def _set_status(
        self,
        audience: _Audience,
        member: dict[str, Any],
        status: str,
        at: datetime,
        *,
        campaign_id: str | None = None,
        reason: str = "manual",
        action: str = "unsub",
    ) -> None:
        before = member["status"]
        if before == status:
            return
        member["status"] = status
        member["last_changed"] = at
        data = {"list_id": audience.id, "email": member["email_address"]}
        if status == "cleaned":
            self._webhook("cleaned", {**data, "campaign_id": campaign_id or "", "reason": reason})
        elif before == "subscribed" and status in ("unsubscribed", "archived"):
            merges = {f"[merges][{tag}]": str(value) for tag, value in member["merge_fields"].items()}
            self._webhook(
                "unsubscribe",
                {
                    "action": action,
                    "reason": reason,
                    "id": member["unique_email_id"],
                    **data,
                    "email_type": member["email_type"],
                    "[merges][EMAIL]": member["email_address"],
                    **merges,
                    **({"campaign_id": campaign_id} if campaign_id else {}),
                },
            )

    def _check_merge_fields(self, audience: _Audience, given: Any, *, new: bool) -> dict[str, Any]:
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise _invalid("merge_fields", "merge_fields must be an object.")
        problems: list[tuple[str, str]] = []
        accepted: dict[str, Any] = {}
        for tag, spec in audience.merge_fields.items():
            if tag not in given:
                if new and spec.required:
                    problems.append((tag, "Please enter a value"))
                continue
            value = given[tag]
            if spec.required and value in ("", None):
                problems.append((tag, "Please enter a value"))
            elif spec.type == "number" and value not in ("", None):
                if isinstance(value, bool) or not isinstance(value, int | float | str):
                    problems.append((tag, "Please enter a number"))
                elif isinstance(value, str):
                    try:
                        float(value)
                    except ValueError:
                        problems.append((tag, "Please enter a number"))
            elif spec.type == "birthday" and value not in ("", None) and not _BIRTHDAY.fullmatch(str(value)):
                problems.append((tag, "Please enter a valid date"))  # [~] wording
            accepted[tag] = value
        # Tags the audience lacks are ignored, not refused [~].
        if problems:
            raise _Problem(400, "Invalid Resource", "Your merge fields were invalid.", errors=problems)
        return accepted

    @staticmethod
    def _check_status(value: Any, field_name: str) -> str | None:
        if value is None:
            return None
        if value not in SETTABLE_STATUSES:
            raise _invalid(field_name, f"Invalid value for {field_name}: choose one of {', '.join(SETTABLE_STATUSES)}.")
        return str(value)

    @staticmethod
    def _check_transition(member: Mapping[str, Any], status: str) -> None:
        current = member["status"]
        if (status == "subscribed" and current in ("unsubscribed", "cleaned")) or (
            status == "pending" and current == "cleaned"
        ):
            raise _Problem(
                400,
                "Member In Compliance State",
                f"{member['email_address']} is in a compliance state due to unsubscribe, bounce, or compliance "
                "review and cannot be subscribed.",
            )

    def _audience(self, account: _Account, request: Request) -> _Audience:
        audience = account.audiences.get(request.path_params["list_id"])
        if audience is None:
            raise _not_found()
        return audience

    # --- handlers ------------------------------------------------------------------------------------------------

    def _ping(self, _account: _Account, _request: Request, _body: Any) -> tuple[int, Any]:
        return 200, {"health_status": HEALTH_STATUS}

    def _unknown(self, _account: _Account, _request: Request, _body: Any) -> tuple[int, Any]:
        raise _not_found()

    @staticmethod
    def _page(request: Request) -> tuple[int, int]:
        raw_count = request.query_params.get("count", str(PAGE_DEFAULT))
        raw_offset = request.query_params.get("offset", "0")
        if not raw_count.isdigit() or not 1 <= int(raw_count) <= PAGE_MAX:
            raise _invalid("count", f"count must be 1-{PAGE_MAX}.")
        if not raw_offset.isdigit():
            raise _invalid("offset", "offset must be a non-negative integer.")
        return int(raw_count), int(raw_offset)

    def _list_document(self, audience: _Audience) -> dict[str, Any]:
        statuses = [m["status"] for m in audience.members.values()]
        return {
            "id": audience.id,
            "web_id": int(audience.id[:6], 16),
            "name": audience.name,
            "date_created": _stamp(audience.created),
            "stats": {
                "member_count": statuses.count("subscribed"),
                "unsubscribe_count": statuses.count("unsubscribed"),
                "cleaned_count": statuses.count("cleaned"),
            },
        }

    def _lists(self, account: _Account, request: Request, _body: Any) -> tuple[int, Any]:
        count, offset = self._page(request)
        audiences = list(account.audiences.values())
        page = audiences[offset : offset + count]
        return 200, {"lists": [self._list_document(a) for a in page], "total_items": len(audiences)}

    def _list(self, account: _Account, request: Request, _body: Any) -> tuple[int, Any]:
        return 200, self._list_document(self._audience(account, request))

    def _members(self, account: _Account, request: Request, _body: Any) -> tuple[int, Any]:
        audience = self._audience(account, request)
        count, offset = self._page(request)
        status = request.query_params.get("status")
        if status is not None and status not in STATUSES:
            raise _invalid("status", f"status must be one of {', '.join(STATUSES)}.")
        since: datetime | None = None
        raw_since = request.query_params.get("since_last_changed")
        if raw_since is not None:
            try:
                since = datetime.fromisoformat(raw_since.replace("Z", "+00:00"))
            except ValueError:
                raise _invalid("since_last_changed", "since_last_changed must be an ISO 8601 time.") from None
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
        rows = [
            m
            for m in audience.members.values()
            if (m["status"] == status if status else m["status"] != "archived")
            and (since is None or m["last_changed"] > since)
        ]
        page = rows[offset : offset + count]
        return 200, {
            "members": [self._document(audience, m) for m in page],
            "list_id": audience.id,
            "total_items": len(rows),
        }

    def _member(self, account: _Account, request: Request, body: Any) -> tuple[int, Any]:
        audience = self._audience(account, request)
        key = request.path_params["subscriber_hash"]
        member = audience.members.get(key)
        now = self._clock()
        if request.method == "GET":
            if member is None:
                raise _not_found()
            return 200, self._document(audience, member)
        if request.method == "DELETE":
            if member is None or member["status"] == "archived":
                raise _not_found()
            self._set_status(audience, member, "archived", now, action="delete")
            return 204, None
        if not isinstance(body, dict):
            raise _invalid("body", "The request body must be an object.")
        if request.method == "PUT":
            return self._put_member(audience, key, member, body, now)
        if member is None:
            raise _not_found()
        return self._patch_member(audience, key, member, body, now)

    def _put_member(
        self, audience: _Audience, key: str, member: dict[str, Any] | None, body: dict[str, Any], now: datetime
    ) -> tuple[int, Any]:
        email = body.get("email_address")
        if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
            raise _invalid("email_address", "This value should be a valid email.")
        if subscriber_hash(email) != key:
            if member is None:
                raise _invalid("email_address", "The email address does not match the subscriber hash.")
            return self._patch_member(audience, key, member, body, now)
        if key in audience.forgotten:
            raise _Problem(
                400,
                "Forgotten Email Not Subscribed",
                f"{email.strip()} was permanently deleted and cannot be re-imported. The contact must re-subscribe "
                "to get back on the list.",
            )
        status = self._check_status(body.get("status"), "status")
        if member is None or member["status"] == "archived":
            status_if_new = self._check_status(body.get("status_if_new"), "status_if_new")
            if status is None and status_if_new is None:
                raise _invalid("status_if_new", "status_if_new is required when the address is new to the audience.")
            fields = self._check_merge_fields(audience, body.get("merge_fields"), new=True)
            self._insert(audience, email, str(status or status_if_new), fields, now)
            created = audience.members[key]
            self._apply_extras(created, body)
            return 200, self._document(audience, created)
        return self._patch_member(audience, key, member, body, now)

    def _patch_member(
        self, audience: _Audience, key: str, member: dict[str, Any], body: dict[str, Any], now: datetime
    ) -> tuple[int, Any]:
        status = self._check_status(body.get("status"), "status")
        fields = self._check_merge_fields(audience, body.get("merge_fields"), new=False)
        if status is not None:
            self._check_transition(member, status)
        new_email = body.get("email_address")
        if isinstance(new_email, str) and subscriber_hash(new_email) != key:
            if not _EMAIL.fullmatch(new_email.strip()):
                raise _invalid("email_address", "This value should be a valid email.")
            new_key = subscriber_hash(new_email)
            if new_key in audience.members and audience.members[new_key]["status"] != "archived":
                raise _Problem(
                    400,
                    "Member Exists",
                    f"{new_email.strip()} is already a list member. Use PUT to insert or update list members.",
                )
            if new_key in audience.forgotten:
                raise _Problem(
                    400,
                    "Forgotten Email Not Subscribed",
                    f"{new_email.strip()} was permanently deleted and cannot be re-imported.",
                )
            del audience.members[key]
            member["id"], member["email_address"], member["last_changed"] = new_key, new_email.strip(), now
            audience.members[new_key] = member
            key = new_key
        changed = any(member["merge_fields"].get(tag) != value for tag, value in fields.items())
        member["merge_fields"].update(fields)
        changed = self._apply_extras(member, body) or changed
        if changed:
            member["last_changed"] = now
        if status is not None:
            self._set_status(audience, member, status, now)
        return 200, self._document(audience, member)

    @staticmethod
    def _apply_extras(member: dict[str, Any], body: Mapping[str, Any]) -> bool:
        changed = False
        for name, kind in (("vip", bool), ("language", str)):
            value = body.get(name)
            if isinstance(value, kind) and member[name] != value:
                member[name] = value
                changed = True
        return changed

    def _tags(self, account: _Account, request: Request, body: Any) -> tuple[int, Any]:
        audience = self._audience(account, request)
        member = audience.members.get(request.path_params["subscriber_hash"])
        if member is None or member["status"] == "archived":
            raise _not_found()
        tags = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tags, list) or not tags:
            raise _invalid("tags", "tags must be a non-empty array.")
        changes: list[tuple[str, bool]] = []
        for tag in tags:
            name = tag.get("name") if isinstance(tag, dict) else None
            status = tag.get("status") if isinstance(tag, dict) else None
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                raise _invalid("tags", "Each tag needs a name of 1-100 characters.")
            if status not in ("active", "inactive"):
                raise _invalid("tags", "A tag's status is 'active' or 'inactive'.")
            changes.append((name.strip(), status == "active"))
        before = list(member["tags"])
        for name, active in changes:
            if active and name not in member["tags"]:
                member["tags"].append(name)
            elif not active and name in member["tags"]:
                member["tags"].remove(name)
        if member["tags"] != before:
            member["last_changed"] = self._clock()
        return 204, None

    def _tag_segments(self, audience: _Audience) -> dict[int, tuple[str, set[str]]]:
        """The audience's tags as static segments: tag id → (name, members carrying it) [~ tags are static
        segments in Mailchimp]."""
        found: dict[int, tuple[str, set[str]]] = {}
        for key, member in audience.members.items():
            if member["status"] == "archived":
                continue
            for name in member["tags"]:
                found.setdefault(self._tag_id(name), (name, set()))[1].add(key)
        return found

    def _static_members(self, audience: _Audience, segment_id: Any) -> set[str] | None:
        """The members of a saved segment or a tag by its id (None: the audience has no such segment)."""
        if isinstance(segment_id, bool) or not isinstance(segment_id, int):
            return None
        if segment_id in audience.segments:
            return audience.segments[segment_id].members
        tagged = self._tag_segments(audience).get(segment_id)
        return tagged[1] if tagged is not None else None

    def _segments(self, audience: _Audience, request: Request) -> tuple[int, Any]:
        """``GET``: saved static segments and tags (``type=static``), or only the saved ones (``type=saved``) [~]."""
        count, offset = self._page(request)
        kind = request.query_params.get("type")
        if kind not in (None, "static", "saved", "fuzzy"):
            raise _invalid("type", "type must be saved, static or fuzzy.")
        rows: list[dict[str, Any]] = []
        if kind in (None, "static"):
            for segment in audience.segments.values():
                rows.append({"id": segment.id, "name": segment.name, "member_count": len(segment.members)})
            for tag_id, (name, members) in sorted(self._tag_segments(audience).items(), key=lambda t: t[1][0]):
                rows.append({"id": tag_id, "name": name, "member_count": len(members)})
        page = [dict(row, type="static", list_id=audience.id) for row in rows[offset : offset + count]]
        return 200, {"segments": page, "list_id": audience.id, "total_items": len(rows)}

    def _segment(self, account: _Account, request: Request, body: Any) -> tuple[int, Any]:
        audience = self._audience(account, request)
        if request.method == "GET":
            return self._segments(audience, request)
        name = body.get("name") if isinstance(body, dict) else None
        emails = body.get("static_segment") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise _invalid("name", "A segment needs a name.")
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise _invalid("static_segment", "static_segment must be an array of email addresses.")
        # Addresses that are not members are left out [~].
        keys = {subscriber_hash(e) for e in emails} & {
            k for k, m in audience.members.items() if m["status"] != "archived"
        }
        account.serial += 1
        segment = _Segment(account.serial, name, keys, self._clock())
        audience.segments[segment.id] = segment
        return 200, {
            "id": segment.id,
            "name": name,
            "member_count": len(keys),
            "type": "static",
            "list_id": audience.id,
            "created_at": _stamp(segment.created),
        }

    # --- campaigns -----------------------------------------------------------------------------------------------

    def _webhooks(self, account: _Account, request: Request, body: Any) -> tuple[int, Any]:
        """``GET``: the audience's webhooks; ``POST``: register one (Mailchimp's URL check is not played)."""
        audience = self._audience(account, request)
        if request.method == "GET":
            items = [dict(hook, list_id=audience.id) for hook in audience.webhooks]
            return 200, {"webhooks": items, "list_id": audience.id, "total_items": len(items)}
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise _invalid("url", "The URL must be a valid http(s) address.")
        if any(hook["url"] == url for hook in audience.webhooks):
            raise _invalid("url", "A webhook with this URL already exists on this list.")  # [~] wording
        events = _sub(body, "events")
        sources = _sub(body, "sources")
        hook = {
            "id": account.next_id("webhook"),
            "url": url,
            "events": {
                name: bool(events.get(name))
                for name in ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
            },
            "sources": {name: bool(sources.get(name)) for name in ("user", "admin", "api")},
        }
        audience.webhooks.append(hook)
        return 200, dict(hook, list_id=audience.id)

    def _campaign_of(self, account: _Account, request: Request) -> dict[str, Any]:
        campaign = account.campaigns.get(request.path_params["campaign_id"])
        if campaign is None:
            raise _not_found()
        return campaign

    def _create_campaign(self, account: _Account, _request: Request, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise _invalid("body", "The request body must be an object.")
        if body.get("type") != "regular":
            raise _invalid("type", "This simulator creates 'regular' campaigns only.")
        recipients = _sub(body, "recipients")
        audience = account.audiences.get(str(recipients.get("list_id")))
        if audience is None:
            raise _invalid("recipients.list_id", "The audience does not exist.")
        segment_opts = _sub(recipients, "segment_opts")
        segment_id = segment_opts.get("saved_segment_id")
        if segment_id is not None and self._static_members(audience, segment_id) is None:
            raise _invalid("recipients.segment_opts.saved_segment_id", "The segment does not exist in this audience.")
        settings = _sub(body, "settings")
        reply_to = settings.get("reply_to")
        if reply_to is not None and (not isinstance(reply_to, str) or not _EMAIL.fullmatch(reply_to)):
            raise _invalid("settings.reply_to", "Please enter a valid email address.")
        campaign_id = account.next_id("campaign")
        kept = {k: v for k, v in settings.items() if k in ("subject_line", "preview_text", "title", "from_name")}
        campaign: dict[str, Any] = {
            "id": campaign_id,
            "web_id": int(campaign_id[:6], 16),
            "type": "regular",
            "create_time": _stamp(self._clock()),
            "status": "save",
            "emails_sent": 0,
            "send_time": "",
            "recipients": {"list_id": audience.id},
            "settings": {**kept, "reply_to": reply_to},
            "html": None,
            "schedule_time": None,
            "report": None,
        }
        if segment_id is not None:
            campaign["recipients"]["segment_opts"] = {"saved_segment_id": segment_id}
        account.campaigns[campaign_id] = campaign
        return 200, self._campaign_document(campaign)

    @staticmethod
    def _campaign_document(campaign: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in campaign.items() if k not in ("html", "report", "schedule_time")}

    def _campaign(self, account: _Account, request: Request, _body: Any) -> tuple[int, Any]:
        return 200, self._campaign_document(self._campaign_of(account, request))

    def _content(self, account: _Account, request: Request, body: Any) -> tuple[int, Any]:
        campaign = self._campaign_of(account, request)
        if campaign["status"] not in ("save", "paused"):
            raise _Problem(400, "Bad Request", f"This campaign's content cannot change: it is '{campaign['status']}'.")
        html = body.get("html") if isinstance(body, dict) else None
        if not isinstance(html, str) or not html.strip():
            raise _invalid("html", "Please provide HTML content.")
        campaign["html"] = html
        return 200, {"html": html}

    def _recipients(self, account: _Account, campaign: Mapping[str, Any]) -> tuple[_Audience, list[dict[str, Any]]]:
        audience = account.audiences[campaign["recipients"]["list_id"]]
        segment_id = campaign["recipients"].get("segment_opts", {}).get("saved_segment_id")
        static = self._static_members(audience, segment_id) if segment_id is not None else None
        keys = static if static is not None else set(audience.members)
        chosen = [audience.members[k] for k in sorted(keys) if k in audience.members]
        return audience, [m for m in chosen if m["status"] == "subscribed"]

    def _check_ready(self, account: _Account, campaign: Mapping[str, Any]) -> None:
        if campaign["status"] not in ("save", "paused"):
            raise _Problem(400, "Bad Request", f"This campaign cannot be sent: it is '{campaign['status']}'.")
        settings = campaign["settings"]
        missing: list[tuple[str, str]] = [
            (f"settings.{name}", "Please enter a value")
            for name in ("subject_line", "from_name", "reply_to")
            if not settings.get(name)
        ]
        if campaign["html"] is None:
            missing.append(("content", "The campaign has no content."))
        if not self._recipients(account, campaign)[1]:
            missing.append(("recipients", "The audience or segment has no subscribed members."))
        if missing:
            # Mailchimp says only "not ready" (its send-checklist lists why); the reasons here are ours [~].
            raise _Problem(400, "Bad Request", "Your Campaign is not ready to send.", errors=missing)

    def _send(self, account: _Account, request: Request, _body: Any) -> tuple[int, Any]:
        campaign = self._campaign_of(account, request)
        self._check_ready(account, campaign)
        self._deliver_campaign(account, campaign)
        return 204, None

    def _schedule(self, account: _Account, request: Request, body: Any) -> tuple[int, Any]:
        campaign = self._campaign_of(account, request)
        raw = body.get("schedule_time") if isinstance(body, dict) else None
        try:
            at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise _invalid("schedule_time", "schedule_time must be an ISO 8601 UTC time.") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if at.minute % 15 or at.second or at.microsecond:
            raise _invalid("schedule_time", "Schedule time must be on the quarter-hour (:00, :15, :30, :45).")
        if at <= self._clock():
            raise _invalid("schedule_time", "Schedule time must be in the future.")
        self._check_ready(account, campaign)
        campaign["status"], campaign["schedule_time"] = "schedule", at
        return 204, None

    def _send_due(self, account: _Account) -> None:
        now = self._clock()
        for campaign in account.campaigns.values():
            if campaign["status"] == "schedule" and campaign["schedule_time"] <= now:
                self._deliver_campaign(account, campaign)

    def _deliver_campaign(self, account: _Account, campaign: dict[str, Any]) -> None:
        audience, recipients = self._recipients(account, campaign)
        now = self._clock()
        rates = self.rates
        sent = len(recipients)
        hard, soft = _share(sent, rates.hard_bounce), _share(sent, rates.soft_bounce)
        unsubscribed = min(_share(sent, rates.unsubscribe), sent - hard)
        delivered = sent - hard - soft
        opens, clicks = _share(delivered, rates.open), _share(delivered, rates.click)
        # The first recipients by hash bounce hard (cleaned), the next ones unsubscribe: fixed, so reproducible.
        for member in recipients[:hard]:
            self._set_status(audience, member, "cleaned", now, campaign_id=campaign["id"], reason="hard")
        for member in recipients[hard : hard + unsubscribed]:
            self._set_status(audience, member, "unsubscribed", now, campaign_id=campaign["id"])
        campaign.update(status="sent", emails_sent=sent, send_time=_stamp(now))
        campaign["report"] = {
            "id": campaign["id"],
            "campaign_title": campaign["settings"].get("title") or "",
            "type": "regular",
            "list_id": audience.id,
            "subject_line": campaign["settings"].get("subject_line") or "",
            "emails_sent": sent,
            "abuse_reports": 0,
            "unsubscribed": unsubscribed,
            "send_time": _stamp(now),
            "bounces": {"hard_bounces": hard, "soft_bounces": soft, "syntax_errors": 0},
            # Each opener opens once and each clicker clicks once: the simulator models no repeats.
            "opens": {
                "opens_total": opens,
                "unique_opens": opens,
                "open_rate": round(opens / delivered, 4) if delivered else 0.0,
            },
            "clicks": {
                "clicks_total": clicks,
                "unique_clicks": clicks,
                "unique_subscriber_clicks": clicks,
                "click_rate": round(clicks / delivered, 4) if delivered else 0.0,
            },
        }

    def _report(self, account: _Account, request: Request, _body: Any) -> tuple[int, Any]:
        campaign = self._campaign_of(account, request)
        if campaign["report"] is None:
            raise _not_found()  # a report exists once the campaign is sent [~]
        return 200, dict(campaign["report"])
