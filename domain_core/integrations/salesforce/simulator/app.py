"""Salesforce's REST API in memory: SOQL query (a small subset) with locator paging, get, create, update by id and
upsert by external id.

Shapes follow shared/reference/platform_apis.md §10. Each access token maps to one org; orgs share nothing.
Every answer carries ``Sforce-Limit-Info: api-usage=<used>/<daily max>``; past the daily max the org answers 403
``REQUEST_LIMIT_EXCEEDED``. Errors are Salesforce's JSON array ``[{message, errorCode, fields?}]``.

The SOQL subset: ``SELECT f1, Rel.f2 FROM Object [WHERE SystemModstamp (>|>=) <datetime> | WHERE Field =
'<string>' | WHERE Field IN ('<string>', …)] [ORDER BY SystemModstamp [ASC] [, Id [ASC]]] [LIMIT n]``; anything
else is refused with ``MALFORMED_QUERY`` as Salesforce would. Text comparisons ignore case, as SOQL's do. A
relationship field (``Account.Name`` on a Contact) comes back as a nested record ``{"Account": {"attributes": …,
"Name": …}}``, or ``"Account": null`` when the lookup is empty.
Rows whose ORDER BY values are equal come back in the order they were last written (Salesforce promises no order
among ties), so a query that must page the same way twice orders by ``Id`` too.

Writes: ``POST /sobjects/{type}`` creates (201 ``{id, success, errors}``; a Contact needs ``LastName``, an
Opportunity ``Name``, ``StageName`` and ``CloseDate``), ``PATCH /sobjects/{type}/{id}`` updates (204; 404 for an
unknown id). An Opportunity's ``IsClosed`` / ``IsWon`` are read-only and follow its ``StageName`` (the standard
stages: "Closed Won" is closed and won, "Closed Lost" closed and lost, any other open). OpportunityContactRole rows
link Opportunities to Contacts (Salesforce does not move the Opportunity's stamp when a role is added).
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.shared.clock import utc_now

API_VERSIONS = ("66.0",)
KEY_PREFIXES: Mapping[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
}
FIELDS: Mapping[str, frozenset[str]] = {
    "Contact": frozenset({"Id", "FirstName", "LastName", "Email", "AccountId", "Phone", "Title", "SystemModstamp"}),
    "Account": frozenset(
        {"Id", "Name", "Website", "Industry", "NumberOfEmployees", "BillingCountry", "SystemModstamp"}
    ),
    "Opportunity": frozenset(
        {
            "Id",
            "Name",
            "StageName",
            "Amount",
            "CloseDate",
            "AccountId",
            "Probability",
            "IsClosed",
            "IsWon",
            "SystemModstamp",
        }
    ),
    "OpportunityContactRole": frozenset({"Id", "OpportunityId", "ContactId", "Role", "IsPrimary", "SystemModstamp"}),
}
# Fields Salesforce sets itself: a create or update naming one is refused.
READ_ONLY: Mapping[str, frozenset[str]] = {
    "Opportunity": frozenset({"IsClosed", "IsWon"}),
}
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "Contact": ("LastName",),
    "Account": ("Name",),
    "Opportunity": ("Name", "StageName", "CloseDate"),
    "OpportunityContactRole": ("OpportunityId", "ContactId"),
}
# The standard closed stages (won or not); every other stage is open.
CLOSED_STAGES: Mapping[str, bool] = {"Closed Won": True, "Closed Lost": False}
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')"
    r"|(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))"
    r"|(?P<number>\d+(?![\d-]))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)|(?P<op>!=|>=|<=|[,=<>()]))"
)
# Relationship name -> (the object it reaches, the lookup field holding its id), per object.
RELATIONSHIPS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "Contact": {"Account": ("Account", "AccountId")},
    "Opportunity": {"Account": ("Account", "AccountId")},
    "OpportunityContactRole": {"Opportunity": ("Opportunity", "OpportunityId"), "Contact": ("Contact", "ContactId")},
}
_FROM = re.compile(r"\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_UNESCAPE = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def _malformed(detail: str) -> _ApiError:
    return _ApiError(400, "MALFORMED_QUERY", detail)


@dataclass(frozen=True)
class _Query:
    object_type: str
    fields: tuple[str, ...]
    since: datetime | None = None
    equals: tuple[str, str] | None = None
    within: tuple[str, tuple[str, ...]] | None = None  # Field IN (…)
    ordered: bool = False
    inclusive: bool = False  # SystemModstamp >= since (else >)
    by_id: bool = False  # ORDER BY SystemModstamp, Id
    limit: int | None = None


def _tokens(soql: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(soql.rstrip()):
        match = _TOKEN.match(soql, position)
        if match is None or match.lastgroup is None:
            raise _malformed(f"unexpected token at column {position + 1}")
        found.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return found


def _unquote(literal: str) -> str:
    out, chars = [], iter(literal[1:-1])
    for ch in chars:
        if ch == "\\":
            escaped = next(chars)
            if escaped not in _UNESCAPE:
                raise _malformed(f"Invalid string literal: unknown escape \\{escaped}")
            out.append(_UNESCAPE[escaped])
        else:
            out.append(ch)
    return "".join(out)


def parse_soql(soql: str) -> _Query:
    """The subset the simulator answers; MALFORMED_QUERY / INVALID_TYPE / INVALID_FIELD otherwise."""
    tokens = _tokens(soql)
    position = 0

    def take(kind: str | None = None, word: str | None = None) -> str:
        nonlocal position
        if position >= len(tokens):
            raise _malformed("unexpected end of query")
        got_kind, text = tokens[position]
        if (kind is not None and got_kind != kind) or (word is not None and text.upper() != word):
            raise _malformed(f"unexpected token: '{text}'")
        position += 1
        return text

    def at(word: str) -> bool:
        return position < len(tokens) and tokens[position][0] == "name" and tokens[position][1].upper() == word

    take("name", "SELECT")
    fields = [take("name")]
    while position < len(tokens) and tokens[position] == ("op", ","):
        position += 1
        fields.append(take("name"))
    take("name", "FROM")
    object_type = take("name")
    if object_type not in FIELDS:
        raise _ApiError(400, "INVALID_TYPE", f"sObject type '{object_type}' is not supported.")
    unknown = [f for f in fields if not _known_field(object_type, f)]
    if unknown:
        raise _ApiError(
            400, "INVALID_FIELD", f"No such column '{unknown[0]}' on entity '{object_type}'.", fields=unknown[:1]
        )
    since: datetime | None = None
    equals: tuple[str, str] | None = None
    within: tuple[str, tuple[str, ...]] | None = None
    inclusive = by_id = False
    limit: int | None = None
    if at("WHERE"):
        position += 1
        name = take("name")
        if name == "SystemModstamp":
            operator = take("op")
            if operator not in (">", ">="):
                raise _malformed("only SystemModstamp > or >= <datetime> is supported here")
            inclusive = operator == ">="
            since = datetime.fromisoformat(take("datetime").replace("Z", "+00:00"))
        elif name in FIELDS[object_type] and at("IN"):
            position += 1
            take("op")  # (
            values = [_unquote(take("string"))]
            while position < len(tokens) and tokens[position] == ("op", ","):
                position += 1
                values.append(_unquote(take("string")))
            if take("op") != ")":
                raise _malformed("an IN list ends with ')'")
            within = (name, tuple(values))
        elif name in FIELDS[object_type]:
            if take("op") != "=":
                raise _malformed("only Field = '<string>' or Field IN ('<string>', …) is supported here")
            equals = (name, _unquote(take("string")))
        else:
            raise _ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{object_type}'.", fields=[name])
    ordered = False
    if at("ORDER"):
        position += 1
        take("name", "BY")
        take("name", "SYSTEMMODSTAMP")
        if at("ASC"):
            position += 1
        ordered = True
        if position < len(tokens) and tokens[position] == ("op", ","):
            position += 1
            take("name", "ID")
            if at("ASC"):
                position += 1
            by_id = True
    if at("LIMIT"):
        position += 1
        limit = int(take("number"))
    if position != len(tokens):
        raise _malformed(f"unexpected token: '{tokens[position][1]}'")
    return _Query(object_type, tuple(fields), since, equals, within, ordered, inclusive, by_id, limit)


def _known_field(object_type: str, name: str) -> bool:
    relation, dot, target_field = name.partition(".")
    if not dot:
        return name in FIELDS[object_type]
    target = RELATIONSHIPS.get(object_type, {}).get(relation)
    return target is not None and target_field in FIELDS[target[0]]


def _same_text(value: Any, wanted: str) -> bool:
    return isinstance(value, str) and value.casefold() == wanted.casefold()


def _derive(object_type: str, record: dict[str, Any]) -> None:
    """The fields Salesforce computes: an Opportunity's IsClosed / IsWon from its stage."""
    if object_type == "Opportunity":
        won = CLOSED_STAGES.get(str(record.get("StageName") or ""))
        record["IsClosed"] = won is not None
        record["IsWon"] = won is True


def _after(record: Mapping[str, Any], moment: datetime, *, inclusive: bool) -> bool:
    stamp = datetime.fromisoformat(record["SystemModstamp"])
    return stamp > moment or (inclusive and stamp == moment)


def _stamp(moment: datetime) -> str:
    # Salesforce writes datetimes as 2026-12-01T09:30:00.000+0000.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class _Org:
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {t: {} for t in FIELDS})
    next_id: int = 1
    api_used: int = 0
    cursors: dict[str, tuple[str, list[dict[str, Any]], int]] = field(default_factory=dict)
    deleted: dict[str, dict[str, str]] = field(default_factory=dict)  # type -> id -> when (the recycle bin)


@dataclass
class _Fault:
    status: int
    remaining: int
    offset: int | None = None  # only the query locator at this row offset
    object_type: str | None = None  # only a query (its first batch) FROM this object


class SalesforceSimulator:
    """Salesforce REST for several orgs. ``.app`` serves it; ``seed`` / ``touch`` / ``fail_*`` act as Salesforce."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str],
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = 2_000,
        daily_max: int = 15_000,
        update_status: int = 200,
    ) -> None:
        if update_status not in (200, 204):
            raise ValueError("an upsert update answers 200 (current versions) or 204 (older ones)")
        self._tokens = dict(tokens)
        self._clock = clock
        self._batch_size, self._daily_max, self._update_status = batch_size, daily_max, update_status
        self._orgs: dict[str, _Org] = {}
        self._faults: list[_Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.queries: list[str] = []
        base = "/services/data/v{version}"
        self.app = Starlette(
            routes=[
                Route(base + "/sobjects/{sobject}/deleted/", self._endpoint(self._deleted), methods=["GET"]),
                Route(base + "/query", self._endpoint(self._query), methods=["GET"]),
                Route(base + "/query/{locator}", self._endpoint(self._more), methods=["GET"]),
                Route(base + "/sobjects/{sobject}/{record_id}", self._endpoint(self._get), methods=["GET"]),
                Route(base + "/sobjects/{sobject}", self._endpoint(self._create_record), methods=["POST"]),
                Route(base + "/sobjects/{sobject}/{record_id}", self._endpoint(self._update), methods=["PATCH"]),
                Route(
                    base + "/sobjects/{sobject}/{ext_field}/{value:path}",
                    self._endpoint(self._upsert),
                    methods=["PATCH"],
                ),
            ]
        )

    # --- acting as Salesforce ------------------------------------------------------------------------------------

    def grant(self, token: str, account: str) -> None:
        """A new valid access token for ``account`` (created on first use)."""
        self._tokens[token] = account

    def revoke(self, token: str) -> None:
        """The token is no longer accepted (the admin removed the app or the token expired)."""
        self._tokens.pop(token, None)

    def org(self, org_id: str) -> _Org:
        return self._orgs.setdefault(org_id, _Org())

    def seed(self, org_id: str, object_type: str, fields: Mapping[str, Any], *, at: datetime | None = None) -> str:
        """Create a record directly (as a Salesforce user would); returns its 18-character id."""
        return self._create(self.org(org_id), object_type, dict(fields), at or self._clock())

    def delete(self, org_id: str, object_type: str, record_id: str, *, at: datetime) -> None:
        """A user deleted the record at ``at`` (it goes to the recycle bin: listed by the deleted resource)."""
        org = self.org(org_id)
        org.records[object_type].pop(record_id)
        org.deleted.setdefault(object_type, {})[record_id] = _stamp(at)

    def touch(self, org_id: str, object_type: str, record_id: str, fields: Mapping[str, Any], *, at: datetime) -> None:
        """Change a record directly at ``at`` (its SystemModstamp moves)."""
        records = self.org(org_id).records[object_type]
        record = records.pop(record_id)  # storage order is last-write order (ties come back in it)
        record.update(fields)
        _derive(object_type, record)
        record["SystemModstamp"] = _stamp(at)
        records[record_id] = record

    def fail_next(self, status: int, *, times: int = 1) -> None:
        """The next ``times`` API requests answer ``status`` (a 5xx)."""
        self._faults.append(_Fault(status, times))

    def fail_query(self, object_type: str, *, status: int = 500, times: int = 1) -> None:
        """The next ``times`` queries FROM ``object_type`` answer ``status`` (their first batch)."""
        self._faults.append(_Fault(status, times, object_type=object_type))

    def fail_page(self, offset: int, *, status: int = 500, times: int = 1) -> None:
        """The query locator that starts at row ``offset`` answers ``status`` the next ``times`` it is asked for."""
        self._faults.append(_Fault(status, times, offset))

    # --- pipeline ------------------------------------------------------------------------------------------------

    def _endpoint(self, handler: Callable[[_Org, Request, Any], tuple[int, Any]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.requests.append((request.method, request.url.path))
            headers: dict[str, str] = {}
            try:
                org = self._authenticate(request)
                headers = self._spend(org)
                if request.path_params["version"] not in API_VERSIONS:
                    raise _ApiError(404, "NOT_FOUND", "The requested resource does not exist")
                self._inject_fault(request)
                body = await self._json(request) if request.method in ("PATCH", "POST") else None
                status, document = handler(org, request, body)
            except _ApiError as error:
                entry: dict[str, Any] = {"message": error.message, "errorCode": error.code}
                if error.fields is not None:
                    entry["fields"] = error.fields
                return Response(json.dumps([entry]), error.status, headers=headers, media_type="application/json")
            if document is None:
                return Response(status_code=status, headers=headers)
            return Response(json.dumps(document), status, headers=headers, media_type="application/json")

        return endpoint

    def _authenticate(self, request: Request) -> _Org:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        org_id = self._tokens.get(token) if scheme.lower() in ("bearer", "oauth") else None
        if org_id is None:
            # The token itself is never echoed.
            raise _ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return self.org(org_id)

    def _spend(self, org: _Org) -> dict[str, str]:
        org.api_used += 1
        headers = {"Sforce-Limit-Info": f"api-usage={min(org.api_used, self._daily_max)}/{self._daily_max}"}
        if org.api_used > self._daily_max:
            error = _ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            raise error
        return headers

    def _inject_fault(self, request: Request) -> None:
        locator = request.path_params.get("locator")
        offset = int(str(locator).rpartition("-")[2]) if locator and str(locator).rpartition("-")[2].isdigit() else None
        queried = _FROM.search(request.query_params.get("q") or "") if request.url.path.endswith("/query") else None
        for fault in self._faults:
            if fault.remaining <= 0 or (fault.offset is not None and fault.offset != offset):
                continue
            if fault.object_type is not None and (queried is None or queried.group(1) != fault.object_type):
                continue
            fault.remaining -= 1
            raise _ApiError(fault.status, "SERVER_UNAVAILABLE", "Server temporarily unavailable")

    @staticmethod
    async def _json(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except ValueError:
            raise _ApiError(400, "JSON_PARSER_ERROR", "Unexpected character in JSON body") from None

    # --- records -------------------------------------------------------------------------------------------------

    def _create(self, org: _Org, object_type: str, fields: dict[str, Any], at: datetime) -> str:
        record_id = f"{KEY_PREFIXES[object_type]}RO{org.next_id:010d}AAA"
        org.next_id += 1
        record = {**fields, "Id": record_id, "SystemModstamp": _stamp(at)}
        _derive(object_type, record)
        org.records[object_type][record_id] = record
        return record_id

    def _view(
        self,
        record: Mapping[str, Any],
        object_type: str,
        version: str,
        fields: tuple[str, ...],
        org: _Org | None = None,
    ) -> Any:
        attributes = {"type": object_type, "url": f"/services/data/v{version}/sobjects/{object_type}/{record['Id']}"}
        document: dict[str, Any] = {"attributes": attributes}
        for name in fields:
            relation, dot, target_field = name.partition(".")
            if not dot:
                document[name] = record.get(name)
                continue
            target_type, lookup = RELATIONSHIPS[object_type][relation]
            related = org.records[target_type].get(record.get(lookup) or "") if org is not None else None
            if related is None:
                document[relation] = None
                continue
            nested = document.get(relation) or self._view(related, target_type, version, ())
            nested[target_field] = related.get(target_field)
            document[relation] = nested
        return document

    def _batch(self, org: _Org, version: str, key: str, rows: list[dict[str, Any]], offset: int, size: int) -> Any:
        batch = rows[offset : offset + size]
        done = offset + size >= len(rows)
        document: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": batch}
        if not done:
            document["nextRecordsUrl"] = f"/services/data/v{version}/query/{key}-{offset + size}"
        return document

    def _requested_batch_size(self, request: Request) -> int:
        options = request.headers.get("sforce-query-options", "")
        name, _, value = options.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(self._batch_size, max(200, int(value.strip())))
        return self._batch_size

    def _deleted(self, org: _Org, request: Request, _body: Any) -> tuple[int, Any]:
        object_type = str(request.path_params["sobject"])
        try:
            start = datetime.fromisoformat(request.query_params["start"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(request.query_params["end"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            raise _ApiError(400, "INVALID_REPLICATION_DATE", "start and end must be dateTime values") from None
        gone = org.deleted.get(object_type, {})
        records = [
            {"id": record_id, "deletedDate": stamp}
            for record_id, stamp in gone.items()
            if start <= datetime.fromisoformat(stamp) <= end
        ]
        return 200, {
            "deletedRecords": records,
            "earliestDateAvailable": _stamp(start),
            "latestDateCovered": _stamp(end),
        }

    def _query(self, org: _Org, request: Request, _body: Any) -> tuple[int, Any]:
        soql = request.query_params.get("q")
        if not soql:
            raise _malformed("A query string is required (q)")
        self.queries.append(soql)
        query = parse_soql(soql)
        version = str(request.path_params["version"])
        rows = list(org.records[query.object_type].values())
        if query.since is not None:
            since, inclusive = query.since, query.inclusive
            rows = [r for r in rows if _after(r, since, inclusive=inclusive)]
        if query.equals is not None:
            name, wanted = query.equals
            rows = [r for r in rows if _same_text(r.get(name), wanted)]
        if query.within is not None:
            name, values = query.within
            rows = [r for r in rows if any(_same_text(r.get(name), v) for v in values)]
        if query.ordered:
            # A stable sort: rows with equal stamps stay in storage (last-write) order unless Id breaks the tie.
            rows.sort(key=lambda r: (datetime.fromisoformat(r["SystemModstamp"]), r["Id"] if query.by_id else ""))
        if query.limit is not None:
            rows = rows[: query.limit]
        # Results are a snapshot at query time, as a query cursor is.
        snapshot = [self._view(r, query.object_type, version, query.fields, org) for r in rows]
        key = f"01gRO{len(org.cursors) + 1:010d}"
        size = self._requested_batch_size(request)
        org.cursors[key] = (version, snapshot, size)
        return 200, self._batch(org, version, key, snapshot, 0, size)

    def _more(self, org: _Org, request: Request, _body: Any) -> tuple[int, Any]:
        key, _, raw_offset = str(request.path_params["locator"]).rpartition("-")
        cursor = org.cursors.get(key)
        if cursor is None or not raw_offset.isdigit():
            raise _ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        version, rows, size = cursor
        return 200, self._batch(org, version, key, rows, int(raw_offset), size)

    def _get(self, org: _Org, request: Request, _body: Any) -> tuple[int, Any]:
        object_type = str(request.path_params["sobject"])
        if object_type not in FIELDS:
            raise _ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        record = org.records[object_type].get(str(request.path_params["record_id"]))
        if record is None:
            raise _ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        wanted = tuple(f for f in request.query_params.get("fields", "").split(",") if f) or tuple(sorted(record))
        unknown = [f for f in wanted if f not in FIELDS[object_type]]
        if unknown:
            raise _ApiError(
                400, "INVALID_FIELD", f"No such column '{unknown[0]}' on entity '{object_type}'.", fields=unknown[:1]
            )
        return 200, self._view(record, object_type, str(request.path_params["version"]), wanted)

    @staticmethod
    def _writable(object_type: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _ApiError(400, "JSON_PARSER_ERROR", "The body must be a JSON object of field values")
        unknown = [f for f in body if f not in FIELDS[object_type] and not f.endswith("__c")]
        if unknown or "Id" in body or "SystemModstamp" in body:
            bad = unknown[:1] or (["Id"] if "Id" in body else ["SystemModstamp"])
            raise _ApiError(
                400, "INVALID_FIELD", f"No such column '{bad[0]}' on sobject of type {object_type}", fields=bad
            )
        locked = [f for f in body if f in READ_ONLY.get(object_type, frozenset())]
        if locked:
            raise _ApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}.",
                fields=locked,
            )
        return dict(body)

    def _create_record(self, org: _Org, request: Request, body: Any) -> tuple[int, Any]:
        object_type = str(request.path_params["sobject"])
        if object_type not in FIELDS:
            raise _ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        fields = self._writable(object_type, body)
        missing = [name for name in REQUIRED.get(object_type, ()) if not fields.get(name)]
        if missing:
            raise _ApiError(
                400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", fields=missing
            )
        record_id = self._create(org, object_type, fields, self._clock())
        return 201, {"id": record_id, "success": True, "errors": []}

    def _update(self, org: _Org, request: Request, body: Any) -> tuple[int, Any]:
        object_type = str(request.path_params["sobject"])
        if object_type not in FIELDS:
            raise _ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        fields = self._writable(object_type, body)
        records = org.records[object_type]
        record_id = str(request.path_params["record_id"])
        if record_id not in records:
            raise _ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        cleared = [name for name in REQUIRED.get(object_type, ()) if name in fields and not fields[name]]
        if cleared:
            raise _ApiError(
                400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(cleared)}]", fields=cleared
            )
        record = records.pop(record_id)  # storage order is last-write order
        record.update(fields)
        _derive(object_type, record)
        record["SystemModstamp"] = _stamp(self._clock())
        records[record_id] = record
        return 204, None

    def _upsert(self, org: _Org, request: Request, body: Any) -> tuple[int, Any]:
        object_type = str(request.path_params["sobject"])
        ext_field, value = str(request.path_params["ext_field"]), str(request.path_params["value"])
        if object_type not in FIELDS:
            raise _ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if not ext_field.endswith("__c"):
            raise _ApiError(
                400, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {ext_field}"
            )
        if not isinstance(body, dict):
            raise _ApiError(400, "JSON_PARSER_ERROR", "The body must be a JSON object of field values")
        if ext_field in body:
            raise _ApiError(
                400,
                "INVALID_FIELD",
                f"{ext_field} is the external id; do not repeat it in the body",
                fields=[ext_field],
            )
        unknown = [f for f in body if f not in FIELDS[object_type] and not f.endswith("__c")]
        if unknown or "Id" in body:
            bad = unknown[:1] or ["Id"]
            raise _ApiError(
                400, "INVALID_FIELD", f"No such column '{bad[0]}' on sobject of type {object_type}", fields=bad
            )
        matches = [r for r in org.records[object_type].values() if r.get(ext_field) == value]
        if len(matches) > 1:
            return 300, [
                f"/services/data/v{request.path_params['version']}/sobjects/{object_type}/{m['Id']}" for m in matches
            ]
        now = self._clock()
        if not matches:
            record_id = self._create(org, object_type, {**body, ext_field: value}, now)
            return 201, {"id": record_id, "success": True, "errors": [], "created": True}
        record = org.records[object_type].pop(matches[0]["Id"])  # storage order is last-write order
        record.update(body)
        _derive(object_type, record)
        record["SystemModstamp"] = _stamp(now)
        org.records[object_type][record["Id"]] = record
        if self._update_status == 204:
            return 204, None
        return 200, {"id": record["Id"], "success": True, "errors": [], "created": False}
