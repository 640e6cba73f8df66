"""HubSpot CRM v3 in memory: the endpoints the client uses, rate-limit headers, HubSpot's error bodies, faults.

Shapes follow shared/reference/platform_apis.md §9. Each access token maps to one portal; portals share
nothing. Rate limiting is a rolling window per portal (``X-HubSpot-RateLimit-Max`` / ``-Remaining`` /
``-Interval-Milliseconds`` plus the daily pair); search answers carry no rate headers (§9 [~]).
"""

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.integrations.hubspot.signatures import sign_v3
from promptsales.domain_core.integrations.simulator_kit import Faults
from promptsales.domain_core.shared.clock import utc_now

OBJECT_TYPES = ("contacts", "companies", "deals")
DEFAULT_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    # §9: default contact properties; companies and deals by analogy [~].
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id"),
}
_FIRST_ID = 101


@dataclass
class _Portal:
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {t: {} for t in OBJECT_TYPES})
    next_id: int = _FIRST_ID
    window: list[datetime] = field(default_factory=list)
    daily_used: int = 0
    # (object type, id) -> associated object type -> ids (a deal's contacts, a contact's company) [~ v4 labels]
    links: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _moment(value: object) -> datetime | None:
    """A datetime property or filter value: epoch milliseconds or ISO 8601."""
    if not isinstance(value, str) or not value:
        return None
    if value.isascii() and value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _compare(actual: object, wanted: object) -> int | None:
    left, right = _moment(actual), _moment(wanted)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    if isinstance(actual, str) and isinstance(wanted, str):
        return (actual > wanted) - (actual < wanted)
    return None


def _matches(record: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    value = record["properties"].get(rule.get("propertyName"))
    operator = rule.get("operator")
    if operator == "HAS_PROPERTY":
        return value not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return value in (None, "")
    order = _compare(value, rule.get("value"))
    checks: dict[str, Callable[[int], bool]] = {
        "EQ": lambda o: o == 0,
        "NEQ": lambda o: o != 0,
        "LT": lambda o: o < 0,
        "LTE": lambda o: o <= 0,
        "GT": lambda o: o > 0,
        "GTE": lambda o: o >= 0,
    }
    if not isinstance(operator, str) or operator not in checks:
        raise _ApiError(400, "VALIDATION_ERROR", f"Unsupported operator {operator!r} in this simulator.")
    return order is not None and checks[operator](order)


class _ApiError(Exception):
    def __init__(self, status: int, category: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.category, self.message = status, category, message
        self.headers = dict(headers or {})
        self.extra: dict[str, Any] = {}


class HubSpotSimulator:
    """HubSpot's CRM v3 for several portals. ``.app`` serves it; ``seed`` / ``fail_*`` act as HubSpot would."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, int],
        clock: Callable[[], datetime] = utc_now,
        rate_max: int = 100,
        rate_interval_ms: int = 10_000,
        daily_max: int = 250_000,
    ) -> None:
        self._tokens = dict(tokens)
        self._clock = clock
        self._rate_max, self._interval_ms, self._daily_max = rate_max, rate_interval_ms, daily_max
        self._portals: dict[int, _Portal] = {}
        self._faults = Faults()
        self._event_id = 0
        self.requests: list[tuple[str, str]] = []
        base = "/crm/v3/objects/{object_type}"
        self.app = Starlette(
            routes=[
                Route(base, self._endpoint(self._list), methods=["GET"]),
                Route(base + "/search", self._endpoint(self._search, rate_headers=False), methods=["POST"]),
                Route(base + "/batch/upsert", self._endpoint(self._upsert), methods=["POST"]),
                Route(base + "/{object_id}", self._endpoint(self._get), methods=["GET"]),
            ]
        )

    # --- acting as HubSpot -------------------------------------------------------------------------------------

    def grant(self, token: str, account: str) -> None:
        """A new valid access token for ``account`` (created on first use)."""
        self._tokens[token] = int(account)

    def revoke(self, token: str) -> None:
        """The token is no longer accepted (the admin removed the app or the token expired)."""
        self._tokens.pop(token, None)

    def portal(self, portal_id: int) -> _Portal:
        return self._portals.setdefault(portal_id, _Portal())

    def seed(
        self, portal_id: int, object_type: str, properties: Mapping[str, str], *, at: datetime | None = None
    ) -> str:
        """Create a record directly (as a HubSpot user would); returns its id."""
        return self._create(self.portal(portal_id), object_type, dict(properties), at or self._clock())

    def associate(self, portal_id: int, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Associate two records both ways (as HubSpot's associations are readable from either side)."""
        links = self.portal(portal_id).links
        for (a_type, a_id), (b_type, b_id) in (
            ((from_type, from_id), (to_type, to_id)),
            ((to_type, to_id), (from_type, from_id)),
        ):
            targets = links.setdefault((a_type, a_id), {}).setdefault(b_type, [])
            if b_id not in targets:
                targets.append(b_id)

    def touch(
        self, portal_id: int, object_type: str, object_id: str, properties: Mapping[str, str], *, at: datetime
    ) -> None:
        """Change a record directly at ``at`` (its last-modified properties move)."""
        self._update(self.portal(portal_id).records[object_type][object_id], object_type, dict(properties), at)

    def webhook(
        self,
        portal_id: int,
        changes: list[tuple[str, str]],
        *,
        client_secret: str,
        url: str,
        at: datetime | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A signed delivery, as HubSpot would POST it to the app's ``url``, of ``changes`` (subscription type,
        object id) in this portal: headers and body (§9 App webhooks [~]: a JSON array of events, v3 signature)."""
        moment = at or self._clock()
        millis = int(moment.timestamp() * 1000)
        events = []
        for subscription_type, object_id in changes:
            self._event_id += 1
            events.append(
                {
                    "eventId": self._event_id,
                    "subscriptionId": 1000 + OBJECT_TYPES.index("contacts"),
                    "portalId": portal_id,
                    "occurredAt": millis,
                    "subscriptionType": subscription_type,
                    "attemptNumber": 0,
                    "objectId": int(object_id),
                    "changeSource": "CRM_UI",
                }
            )
        body = json.dumps(events).encode()
        timestamp = str(millis)
        signature = sign_v3(client_secret=client_secret, method="POST", uri=url, body=body, timestamp=timestamp)
        headers = {
            "content-type": "application/json",
            "x-hubspot-signature-v3": signature,
            "x-hubspot-request-timestamp": timestamp,
        }
        return headers, body

    def fail_next(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """The next ``times`` API requests answer ``status`` (429 with HubSpot's rate-limit body, or a 5xx)."""
        self._faults.add(status, times=times, retry_after=retry_after)

    def fail_page(self, after: str, *, status: int = 502, times: int = 1) -> None:
        """The list page at cursor ``after`` answers ``status`` the next ``times`` it is asked for."""
        self._faults.add(status, times=times, where=after)

    # --- pipeline ------------------------------------------------------------------------------------------------

    def _endpoint(
        self, handler: Callable[[_Portal, Request, Any], Any], *, rate_headers: bool = True
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.requests.append((request.method, request.url.path))
            headers: dict[str, str] = {}
            try:
                portal = self._authenticate(request)
                self._inject_fault(request)
                if rate_headers:
                    headers = self._spend_rate(portal)
                body = await self._json(request) if request.method == "POST" else None
                status, document = handler(portal, request, body)
            except _ApiError as error:
                return self._error(error, {**headers, **error.headers})
            return Response(json.dumps(document), status, headers=headers, media_type="application/json")

        return endpoint

    def _authenticate(self, request: Request) -> _Portal:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _ApiError(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
                "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        portal_id = self._tokens.get(token)
        if portal_id is None:
            # HubSpot's wording for an unknown / expired OAuth token [~]; the token itself is never echoed.
            raise _ApiError(
                401,
                "EXPIRED_AUTHENTICATION",
                "The OAuth token used to make this call expired or is invalid.",
            )
        return self.portal(portal_id)

    def _inject_fault(self, request: Request) -> None:
        at_page = request.query_params.get("after") if request.method == "GET" else None
        fault = self._faults.take(lambda f: f.where is None or f.where == at_page)
        if fault is None:
            return
        if fault.status == 429:
            raise self._rate_limit_error(fault.retry_after)
        raise _ApiError(fault.status, "INTERNAL_ERROR", "internal error")

    def _rate_limit_error(self, retry_after: int | None) -> _ApiError:
        # A used-up window answers with the window's headers; a 429 given a Retry-After carries only that header
        # (as the search endpoint, which has no rate headers, may: §9 [~]).
        headers = {
            "X-HubSpot-RateLimit-Max": str(self._rate_max),
            "X-HubSpot-RateLimit-Remaining": "0",
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self._interval_ms),
        }
        if retry_after is not None:
            headers = {"Retry-After": str(retry_after)}
        error = _ApiError(
            429,
            "RATE_LIMITS",
            "You have reached your ten_secondly_rolling limit.",
            headers=headers,
        )
        # §9 429 body: {status, message, errorType:"RATE_LIMIT", correlationId, policyName} [~]
        error.extra = {"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}
        return error

    def _spend_rate(self, portal: _Portal) -> dict[str, str]:
        now = self._clock()
        portal.window = [t for t in portal.window if (now - t).total_seconds() * 1000 < self._interval_ms]
        if len(portal.window) >= self._rate_max:
            raise self._rate_limit_error(None)
        portal.window.append(now)
        portal.daily_used += 1
        return {
            "X-HubSpot-RateLimit-Max": str(self._rate_max),
            "X-HubSpot-RateLimit-Remaining": str(self._rate_max - len(portal.window)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self._interval_ms),
            "X-HubSpot-RateLimit-Daily": str(self._daily_max),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(self._daily_max - portal.daily_used, 0)),
        }

    @staticmethod
    async def _json(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except ValueError:
            raise _ApiError(400, "VALIDATION_ERROR", "Invalid input JSON on line 1") from None

    @staticmethod
    def _error(error: _ApiError, headers: Mapping[str, str]) -> Response:
        # §9 errors: {status:"error", message, correlationId, category, errors?}
        document = {
            "status": "error",
            "message": error.message,
            "correlationId": str(uuid.uuid4()),
            "category": error.category,
            **error.extra,
        }
        return Response(json.dumps(document), error.status, headers=dict(headers), media_type="application/json")

    # --- records -------------------------------------------------------------------------------------------------

    @staticmethod
    def _object_type(request: Request) -> str:
        object_type = str(request.path_params["object_type"])
        if object_type not in OBJECT_TYPES:
            raise _ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}")
        return object_type

    def _create(self, portal: _Portal, object_type: str, properties: dict[str, str], at: datetime) -> str:
        object_id = str(portal.next_id)
        portal.next_id += 1
        stamp = _iso(at)
        properties_now: dict[str, str | None] = {"hs_object_id": object_id, "createdate": stamp}
        record: dict[str, Any] = {
            "id": object_id,
            "properties": properties_now,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }
        portal.records[object_type][object_id] = record
        self._update(record, object_type, properties, at)
        return object_id

    @staticmethod
    def _update(record: dict[str, Any], object_type: str, properties: dict[str, str], at: datetime) -> None:
        stamp = _iso(at)
        record["properties"].update(properties)
        record["properties"]["hs_lastmodifieddate"] = stamp
        if object_type == "contacts":
            record["properties"]["lastmodifieddate"] = stamp
        record["updatedAt"] = stamp

    @staticmethod
    def _view(record: Mapping[str, Any], object_type: str, wanted: set[str]) -> dict[str, Any]:
        shown = set(DEFAULT_PROPERTIES[object_type]) | wanted
        properties = {name: record["properties"].get(name) for name in sorted(shown)}
        return {**record, "properties": properties}

    @staticmethod
    def _limit(raw: object, maximum: int, default: int) -> int:
        try:
            limit = int(str(raw)) if raw is not None else default
        except ValueError:
            raise _ApiError(400, "VALIDATION_ERROR", "limit must be a number") from None
        if not 1 <= limit <= maximum:
            raise _ApiError(400, "VALIDATION_ERROR", f"limit must be between 1 and {maximum}")
        return limit

    def _list(self, portal: _Portal, request: Request, _body: Any) -> tuple[int, Any]:
        object_type = self._object_type(request)
        limit = self._limit(request.query_params.get("limit"), 100, 10)
        wanted = {p for p in request.query_params.get("properties", "").split(",") if p}
        after = request.query_params.get("after")
        ordered = sorted(portal.records[object_type].values(), key=lambda r: int(r["id"]))
        # The cursor is opaque to clients; here it is the id to start from.
        if after is not None:
            if not (after.isascii() and after.isdigit()):
                raise _ApiError(400, "VALIDATION_ERROR", "Invalid after cursor")
            ordered = [r for r in ordered if int(r["id"]) >= int(after)]
        page, rest = ordered[:limit], ordered[limit:]
        document: dict[str, Any] = {
            "results": [
                self._with_links(portal, self._view(r, object_type, wanted), object_type, request) for r in page
            ]
        }
        if rest:
            nxt = rest[0]["id"]
            document["paging"] = {"next": {"after": nxt, "link": f"{request.url.path}?after={nxt}"}}
        return 200, document

    def _get(self, portal: _Portal, request: Request, _body: Any) -> tuple[int, Any]:
        object_type = self._object_type(request)
        record = portal.records[object_type].get(str(request.path_params["object_id"]))
        if record is None:
            raise _ApiError(404, "OBJECT_NOT_FOUND", "Object not found.")
        wanted = {p for p in request.query_params.get("properties", "").split(",") if p}
        return 200, self._with_links(portal, self._view(record, object_type, wanted), object_type, request)

    @staticmethod
    def _with_links(portal: _Portal, view: dict[str, Any], object_type: str, request: Request) -> dict[str, Any]:
        """``?associations=contacts,…``: each record's associated ids, as v3 reads return them [~]."""
        wanted = [t for t in request.query_params.get("associations", "").split(",") if t]
        if not wanted:
            return view
        linked = portal.links.get((object_type, view["id"]), {})
        found = {
            other: {"results": [{"id": i, "type": f"{object_type[:-1]}_to_{other[:-1]}"} for i in linked[other]]}
            for other in wanted
            if linked.get(other)
        }
        return {**view, "associations": found} if found else view

    def _search(self, portal: _Portal, request: Request, body: Any) -> tuple[int, Any]:
        object_type = self._object_type(request)
        if not isinstance(body, dict):
            raise _ApiError(400, "VALIDATION_ERROR", "Invalid search request")
        limit = self._limit(body.get("limit"), 200, 10)
        groups = body.get("filterGroups") or []
        records = [
            r
            for r in portal.records[object_type].values()
            if not groups or any(all(_matches(r, f) for f in g.get("filters") or []) for g in groups)
        ]
        records.sort(key=lambda r: int(r["id"]))
        for sort in reversed(body.get("sorts") or []):
            name = sort.get("propertyName")
            records.sort(
                key=lambda r: _moment(r["properties"].get(name)) or r["properties"].get(name) or "",
                reverse=sort.get("direction") == "DESCENDING",
            )
        raw_after = str(body.get("after") or "0")  # search cursors are offsets
        if not (raw_after.isascii() and raw_after.isdigit()):
            raise _ApiError(400, "VALIDATION_ERROR", "Invalid after cursor")
        offset = int(raw_after)
        if offset + limit > 10_000:
            raise _ApiError(400, "VALIDATION_ERROR", "Search results are limited to 10,000 per query.")
        page = records[offset : offset + limit]
        wanted = set(body.get("properties") or [])
        document: dict[str, Any] = {
            "total": len(records),
            "results": [self._view(r, object_type, wanted) for r in page],
        }
        if offset + limit < len(records):
            document["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, document

    def _upsert(self, portal: _Portal, request: Request, body: Any) -> tuple[int, Any]:
        object_type = self._object_type(request)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if object_type != "contacts" or not isinstance(inputs, list) or not 1 <= len(inputs) <= 100:
            raise _ApiError(400, "VALIDATION_ERROR", "A batch upsert takes 1-100 contact inputs.")
        started = self._clock()
        results, errors = [], []
        by_email = {str(r["properties"].get("email") or "").lower(): r for r in portal.records["contacts"].values()}
        for item in inputs:
            if not isinstance(item, dict) or item.get("idProperty") != "email" or not item.get("id"):
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": "idProperty must be email",
                        "context": {},
                    }
                )
                continue
            email = str(item["id"]).lower()
            properties = {k: str(v) for k, v in (item.get("properties") or {}).items()}
            properties["email"] = email
            record = by_email.get(email)
            new = record is None
            if record is None:
                record = portal.records["contacts"][self._create(portal, "contacts", properties, started)]
                by_email[email] = record
            else:
                self._update(record, "contacts", properties, started)
            results.append({**self._view(record, "contacts", set(properties)), "new": new})
        document: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": _iso(started),
            "completedAt": _iso(self._clock()),
        }
        if errors:
            document.update({"errors": errors, "numErrors": len(errors)})
            return 207, document
        return 200, document
