"""A thin Salesforce REST client over :class:`ConnectorHttp` (Contacts, Accounts, Opportunities, contact roles).

Wire shapes: shared/reference/platform_apis.md §10 (Salesforce REST API, "GA v66.0 seen in reference examples"):

* base ``{instance_url}/services/data/v66.0/…``; ``instance_url`` comes from the tenant's OAuth token response, so
  the ConnectorHttp of a client is built on it (:meth:`SalesforceClient.for_instance`);
* query: ``GET …/query?q=SELECT+…`` → ``{totalSize, done, nextRecordsUrl?, records:[{attributes:{type, url}, Id,
  …}]}``; ``nextRecordsUrl`` (``/services/data/v66.0/query/01g…-2000``) is followed until ``done`` is true; batches
  of 200-2,000 rows asked with ``Sforce-Query-Options: batchSize=…`` [~]; invalid SOQL → 400 ``MALFORMED_QUERY``;
  an expired locator → 400 ``INVALID_QUERY_LOCATOR`` (the query must be issued again);
* upsert by external id: ``PATCH …/sobjects/Contact/{ExtIdField}/{value}`` with the field map (the external id
  field not repeated) → 201 ``{id, success, errors, created:true}`` when inserted, 200 ``{…, created:false}``
  (older versions: 204, no body) when updated, 300 when the value matches several records (nothing written).
  It is idempotent by construction, so the policy retries it;
* get: ``GET …/sobjects/{type}/{id}?fields=…``;
* update by id: ``PATCH …/sobjects/{type}/{id}`` with the changed fields → 204 (no body); setting the same values
  again changes nothing more, so it is idempotent and the policy retries it;
* create: ``POST …/sobjects/{type}`` → 201 ``{id, success, errors}``. Salesforce takes no idempotency header
  (§10), so a create is sent once: a timeout may have created the record, and a retry could create a second one.

SOQL is built here, never taken from callers: object and field names must be plain identifiers or one
relationship hop such as ``Account.Name`` (SOQL cannot quote them), string values are escaped
(:func:`soql_string`) and datetimes are written as SOQL datetime literals, so no value can change the query.

Change queries read ``SystemModstamp >= since`` ordered by ``SystemModstamp, Id``: a strict ``>`` would lose a
record changed in the same millisecond as the last one seen, and without the ``Id`` tie-breaker records with equal
stamps come back in no defined order, so a query issued again could page them differently (skipping some,
repeating others); the boundary records read again are recognised by the caller (same id and stamp).

``Sforce-Limit-Info`` is read by ConnectorHttp like every rate header; an org over its daily allowance (403
``REQUEST_LIMIT_EXCEEDED``) becomes RateLimited there.
"""

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Self
from urllib.parse import quote, urlsplit

from pydantic import Field

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import ConnectorError
from promptsales.domain_core.integrations.views import FrozenView

API_VERSION = "66.0"  # §10: "GA v66.0 seen in reference examples"
DATA_PATH = f"/services/data/v{API_VERSION}"
BATCH_MIN, BATCH_MAX = 200, 2_000  # §10: Sforce-Query-Options batchSize=200..2000 [~]

SObjectType = Literal["Contact", "Account", "Opportunity", "OpportunityContactRole"]
DEFAULT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Contact": ("Id", "FirstName", "LastName", "Email", "AccountId", "SystemModstamp"),
    "Account": ("Id", "Name", "Website", "SystemModstamp"),
    "Opportunity": ("Id", "Name", "StageName", "Amount", "CloseDate", "AccountId", "SystemModstamp"),
    # The junction of an Opportunity and a Contact (one row per contact role; IsPrimary marks the primary one).
    "OpportunityContactRole": ("Id", "OpportunityId", "ContactId", "IsPrimary", "SystemModstamp"),
}
# Values per ``IN (…)`` list: ~21 characters each keeps the query URI far under Salesforce's 16,384 bytes (§10).
IN_LIST_MAX = 200

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
_FIELD_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}(?:\.[A-Za-z][A-Za-z0-9_]{0,79})?")
# The order every change query uses: modification time, then Id, so equal stamps have one order.
CHANGE_ORDER = "ORDER BY SystemModstamp, Id"
RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_LOCATOR = re.compile(re.escape(DATA_PATH) + r"/query/[A-Za-z0-9]{15,18}-[0-9]{1,9}")
# SOQL string literal escapes (SOQL reference "Quoted String Escape Sequences").
_SOQL_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def soql_identifier(name: str) -> str:
    """``name`` when it is a plain field / object name (SOQL cannot quote identifiers); ValueError otherwise."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a Salesforce field or object name: {name!r}")
    return name


def soql_field(name: str) -> str:
    """``name`` when it is a field or one relationship hop (``Account.Name``); ValueError otherwise."""
    if not _FIELD_PATH.fullmatch(name):
        raise ValueError(f"not a Salesforce field or object name: {name!r}")
    return name


def soql_string(value: str) -> str:
    """``value`` as a quoted SOQL string literal: quotes, backslashes and control characters are escaped."""
    return "'" + "".join(_SOQL_ESCAPES.get(ch, ch) for ch in value) + "'"


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal (unquoted, UTC, milliseconds): ``2026-12-01T09:30:00.000Z``."""
    if moment.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond // 1000:03d}Z"


def _select(object_type: SObjectType, fields: Iterable[str]) -> str:
    wanted = dict.fromkeys((*DEFAULT_FIELDS[object_type], *(soql_field(f) for f in fields)))
    return f"SELECT {', '.join(wanted)} FROM {object_type}"


class SObject(FrozenView):
    """One record as a query or a get returns it: its type, id, last change and every field asked for."""

    type: str
    id: str
    system_modstamp: datetime | None = None
    fields: Mapping[str, Any] = Field(default_factory=dict)

    @classmethod
    def read(cls, document: Any) -> "SObject":
        if not isinstance(document, dict):
            raise ValueError("Salesforce answered a record with something other than an object")
        attributes = document.get("attributes")
        kind = attributes.get("type") if isinstance(attributes, dict) else None
        fields = {k: v for k, v in document.items() if k != "attributes"}
        return cls(
            type=str(kind or ""),
            id=str(fields.get("Id") or ""),
            system_modstamp=fields.get("SystemModstamp"),
            fields=fields,
        )


class QueryPage(FrozenView):
    """One batch of a query; ``next_records_url`` is where the next batch is (None when ``done``)."""

    records: tuple[SObject, ...]
    total_size: int
    done: bool
    next_records_url: str | None = None


class UpsertResult(FrozenView):
    """What an upsert did. ``id`` is None only for the older 204 answer to an update (it carries no body)."""

    id: str | None
    created: bool


class SalesforceClient:
    """SOQL reads, get / update / create by id and the Contact upsert, for one tenant's org (the ConnectorHttp
    carries auth)."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._http = http

    @classmethod
    def for_instance(cls, instance_url: str, *, tenant_id: str, **http_options: Any) -> Self:
        """A client on the org's ``instance_url`` (from its OAuth token response); ``http_options`` go to
        ConnectorHttp (auth, budget, policy, transport, …)."""
        parts = urlsplit(instance_url)
        if (
            parts.scheme != "https"
            or not parts.hostname
            or parts.username is not None
            or parts.password is not None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError("instance_url must be an https origin such as https://acme.my.salesforce.com")
        http = ConnectorHttp(get_connector("salesforce"), base_url=instance_url, tenant_id=tenant_id, **http_options)
        return cls(http)

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- queries -------------------------------------------------------------------------------------------------

    async def _query_page(self, next_records_url: str | None, soql: str, batch_size: int | None) -> QueryPage:
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size is not None else None
        if next_records_url is None:
            response = await self._http.request("GET", f"{DATA_PATH}/query", params={"q": soql}, headers=headers)
        else:
            # Only a locator of this API version on this instance is followed: a full URL from an answer would
            # send the org's token elsewhere.
            if not _LOCATOR.fullmatch(next_records_url):
                raise ValueError("not a Salesforce query locator (nextRecordsUrl)")
            response = await self._http.request("GET", next_records_url, headers=headers)
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("Salesforce answered a query with something other than an object")
        nxt = document.get("nextRecordsUrl")
        done = bool(document.get("done", True))
        return QueryPage(
            records=tuple(SObject.read(item) for item in document.get("records") or []),
            total_size=int(document.get("totalSize") or 0),
            done=done,
            next_records_url=str(nxt) if nxt and not done else None,
        )

    async def query_page(
        self, soql: str, *, next_records_url: str | None = None, batch_size: int | None = None
    ) -> QueryPage:
        """One batch of ``soql``: the first, or the one at ``next_records_url`` (a locator from the previous batch).
        ``soql`` must come from :meth:`select` / :meth:`modified_since_soql`, never from a user."""
        if batch_size is not None and not BATCH_MIN <= batch_size <= BATCH_MAX:
            raise ValueError(f"batch_size must be {BATCH_MIN}-{BATCH_MAX}")
        return await self._query_page(next_records_url, soql, batch_size)

    async def pages(
        self, soql: str, *, next_records_url: str | None = None, batch_size: int | None = None
    ) -> AsyncIterator[QueryPage]:
        """Every batch of ``soql`` to the end. To resume after a failure, pass the ``next_records_url`` of the last
        batch received. ``soql`` must come from :meth:`select` / :meth:`modified_since_soql`, never from a user."""
        if batch_size is not None and not BATCH_MIN <= batch_size <= BATCH_MAX:
            raise ValueError(f"batch_size must be {BATCH_MIN}-{BATCH_MAX}")
        cursor = next_records_url
        while True:
            page = await self._query_page(cursor, soql, batch_size)
            yield page
            if page.next_records_url is None or page.next_records_url == cursor:
                return
            cursor = page.next_records_url

    async def _all(self, soql: str) -> list[SObject]:
        found: list[SObject] = []
        async for page in self.pages(soql):
            found.extend(page.records)
        return found

    @staticmethod
    def select(
        object_type: SObjectType, *, fields: Iterable[str] = (), ordered: bool = False, limit: int | None = None
    ) -> str:
        """``SELECT <default fields + fields> FROM <object_type>`` (``ordered``: oldest change first, by Id on
        equal stamps; ``limit``: at most that many rows)."""
        soql = _select(object_type, fields)
        if ordered:
            soql += f" {CHANGE_ORDER}"
        if limit is not None:
            if not 1 <= limit <= 50_000:
                raise ValueError("limit must be 1-50000")
            soql += f" LIMIT {int(limit)}"
        return soql

    @staticmethod
    def modified_since_soql(object_type: SObjectType, since: datetime, *, fields: Iterable[str] = ()) -> str:
        """The incremental query: records changed at or after ``since``, oldest change first, by Id on equal stamps
        (the records stamped exactly ``since`` come again: one changed in that millisecond after the last read
        must not be lost, and the caller recognises the others)."""
        return f"{_select(object_type, fields)} WHERE SystemModstamp >= {soql_datetime(since)} {CHANGE_ORDER}"

    @staticmethod
    def where_in_soql(
        object_type: SObjectType, field: str, values: Iterable[str], *, fields: Iterable[str] = ()
    ) -> str:
        """The records whose ``field`` is one of ``values`` (escaped; 1-200 of them), in change order."""
        wanted = list(dict.fromkeys(values))
        if not 1 <= len(wanted) <= IN_LIST_MAX:
            raise ValueError(f"an IN list holds 1-{IN_LIST_MAX} values")
        listed = ", ".join(soql_string(value) for value in wanted)
        return f"{_select(object_type, fields)} WHERE {soql_identifier(field)} IN ({listed}) {CHANGE_ORDER}"

    async def list_all(self, object_type: SObjectType, *, fields: Iterable[str] = ()) -> list[SObject]:
        """Every record of ``object_type``, following ``nextRecordsUrl`` to the end."""
        return await self._all(self.select(object_type, fields=fields))

    async def modified_since(
        self, object_type: SObjectType, since: datetime, *, fields: Iterable[str] = ()
    ) -> list[SObject]:
        """Every record whose ``SystemModstamp`` is at or after ``since`` (all batches, oldest change first)."""
        return await self._all(self.modified_since_soql(object_type, since, fields=fields))

    async def where_in(
        self, object_type: SObjectType, field: str, values: Iterable[str], *, fields: Iterable[str] = ()
    ) -> list[SObject]:
        """Every record whose ``field`` is one of ``values`` (any number: asked 200 at a time)."""
        wanted = list(dict.fromkeys(values))
        found: list[SObject] = []
        for start in range(0, len(wanted), IN_LIST_MAX):
            chunk = wanted[start : start + IN_LIST_MAX]
            found.extend(await self._all(self.where_in_soql(object_type, field, chunk, fields=fields)))
        return found

    async def deleted(self, object_type: SObjectType, *, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """Records of ``object_type`` deleted between ``start`` and ``end`` (ids and when), from the "Get Deleted
        Records" resource ``GET /sobjects/{type}/deleted/?start&end`` → ``{deletedRecords:[{id, deletedDate}]}``
        [~ Salesforce REST API guide, resources_getdeleted; the reference's §10 names only queryAll]."""
        params = {"start": soql_datetime(start), "end": soql_datetime(end)}
        response = await self._http.request("GET", f"{DATA_PATH}/sobjects/{object_type}/deleted/", params=params)
        document = response.json()
        found = []
        for item in document.get("deletedRecords") or [] if isinstance(document, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("deletedDate"), str):
                found.append((item["id"], datetime.fromisoformat(item["deletedDate"].replace("Z", "+00:00"))))
        return found

    async def find_contacts_by_email(self, email: str, *, fields: Iterable[str] = ()) -> list[SObject]:
        """The Contacts whose Email is ``email`` (SOQL compares text without case; the value is escaped, so it
        cannot change the query), oldest change first."""
        return await self._all(f"{_select('Contact', fields)} WHERE Email = {soql_string(email)} {CHANGE_ORDER}")

    # --- records -------------------------------------------------------------------------------------------------

    async def get(self, object_type: SObjectType, record_id: str, *, fields: Iterable[str] = ()) -> SObject:
        """One record by its Salesforce id (a 404 raises ConnectorError)."""
        if not RECORD_ID.fullmatch(record_id):
            raise ValueError("a Salesforce id is 15 or 18 letters and digits")
        wanted = ",".join(dict.fromkeys((*DEFAULT_FIELDS[object_type], *(soql_identifier(f) for f in fields))))
        response = await self._http.request(
            "GET", f"{DATA_PATH}/sobjects/{object_type}/{record_id}", params={"fields": wanted}
        )
        return SObject.read(response.json())

    async def update(self, object_type: SObjectType, record_id: str, fields: Mapping[str, Any]) -> None:
        """Set ``fields`` on the record ``record_id`` (204); retried on failure, as setting the same values twice
        is harmless. A record deleted in Salesforce raises ConnectorError with status 404."""
        if not RECORD_ID.fullmatch(record_id):
            raise ValueError("a Salesforce id is 15 or 18 letters and digits")
        body = {soql_identifier(name): value for name, value in fields.items() if name != "Id"}
        if not body:
            raise ValueError("an update needs at least one field")
        path = f"{DATA_PATH}/sobjects/{object_type}/{record_id}"
        await self._http.request("PATCH", path, json_body=body, idempotent_write=True)

    async def create(self, object_type: SObjectType, fields: Mapping[str, Any]) -> str:
        """Create one record; its new id. Sent once (Salesforce takes no idempotency key, §10): after a timeout
        the caller finds out whether it was created (by email, for a Contact) before creating again."""
        body = {soql_identifier(name): value for name, value in fields.items() if name != "Id"}
        response = await self._http.request("POST", f"{DATA_PATH}/sobjects/{object_type}", json_body=body)
        document = response.json()
        if not isinstance(document, dict) or not document.get("id"):
            raise ValueError("Salesforce answered a create without a record id")
        return str(document["id"])

    async def upsert_contact(self, external_id_field: str, external_id: str, fields: Mapping[str, Any]) -> UpsertResult:
        """Create or update the Contact whose ``external_id_field`` is ``external_id``; safe to retry (the
        external id is the key, so a repeat cannot duplicate)."""
        soql_identifier(external_id_field)
        if not external_id:
            raise ValueError("an external id value is required")
        body = {soql_identifier(name): value for name, value in fields.items() if name != external_id_field}
        path = f"{DATA_PATH}/sobjects/Contact/{external_id_field}/{quote(external_id, safe='')}"
        response = await self._http.request("PATCH", path, json_body=body, idempotent_write=True)
        if response.status_code == 204:
            return UpsertResult(id=None, created=False)
        if response.status_code == 300:
            raise ConnectorError(
                platform=self._http.platform,
                summary=f"several Contacts have this {external_id_field}; nothing was written",
                status=300,
                hint="Make the external id field unique in Salesforce, or merge the duplicates, then try again.",
            )
        document = response.json()
        if not isinstance(document, dict) or not document.get("id"):
            raise ValueError("Salesforce answered an upsert without a record id")
        return UpsertResult(id=str(document["id"]), created=bool(document.get("created")))
