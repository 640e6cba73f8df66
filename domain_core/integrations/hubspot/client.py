"""A thin HubSpot CRM v3 client over :class:`ConnectorHttp` (contacts and companies).

Wire shapes: shared/reference/platform_apis.md §9 (HubSpot CRM):

* list: ``GET /crm/v3/objects/{type}?limit=…&after=…&properties=…`` → ``{results:[{id, properties, createdAt,
  updatedAt, archived}], paging:{next:{after, link}}}``; no ``paging.next`` on the last page;
* search: ``POST /crm/v3/objects/{type}/search`` ``{filterGroups:[{filters:[{propertyName, operator, value}]}],
  sorts:[{propertyName, direction}], properties, limit (≤200), after}`` → ``{total, results, paging}``; at most
  10,000 results per query [~]; it is a read, so it is sent as idempotent and retried like a GET;
* batch upsert: ``POST /crm/v3/objects/contacts/batch/upsert`` ``{inputs:[{idProperty:"email", id, properties}]}``
  (≤100 inputs [~]) → ``{status, results:[{id, new, properties, createdAt, updatedAt}]}``; idempotent by
  construction (a unique property is the key), so it is retried; partial failures come back as 207 + ``errors``;
* get: ``GET /crm/v3/objects/{type}/{id}``.

Listing goes page by page; a page that fails after the policy's retries raises, and the caller resumes from
the last cursor it saw (:attr:`HubSpotPage.next_after`), so nothing is read twice or skipped.
"""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.views import FrozenView

ObjectType = Literal["contacts", "companies", "deals"]

# The property that holds "last modified" differs by object: contacts keep the legacy ``lastmodifieddate`` (one
# of their default properties, §9), every other CRM object ``hs_lastmodifieddate`` [~ HubSpot search guide].
LAST_MODIFIED_PROPERTY: Mapping[str, str] = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}

LIST_PAGE_MAX = 100  # §9 list pagination: limit=100
SEARCH_PAGE_MAX = 200  # §9 search: limit ≤ 200
SEARCH_RESULTS_MAX = 10_000  # §9 search: ≤ 10,000 results per query [~]
UPSERT_BATCH_MAX = 100  # §9 batch upsert: ≤ 100 inputs [~]

_BASE = "/crm/v3/objects"


class HubSpotObject(FrozenView):
    """One CRM record as HubSpot returns it (properties are strings or null on the wire)."""

    id: str
    properties: Mapping[str, str | None] = Field(default_factory=dict)
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    archived: bool = False
    # ``?associations=contacts``: {"contacts": {"results": [{"id", "type"}]}} → {"contacts": ("101", …)}
    associations: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("associations", mode="before")
    @classmethod
    def _association_ids(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return {}
        ids: dict[str, tuple[str, ...]] = {}
        for other, block in value.items():
            results = block.get("results") if isinstance(block, dict) else block
            if isinstance(results, list):
                ids[str(other)] = tuple(str(item["id"]) for item in results if isinstance(item, dict) and "id" in item)
        return ids


class UpsertedObject(HubSpotObject):
    """One result of a batch upsert: ``new`` is true when the record was created, false when updated."""

    new: bool


class HubSpotPage(FrozenView):
    """One page of a listing or a search; ``next_after`` is the cursor of the next page (None on the last)."""

    results: tuple[HubSpotObject, ...]
    next_after: str | None = None
    total: int | None = None


class UpsertFailure(FrozenView):
    """One input a batch upsert refused (HTTP 207 ``errors[]``)."""

    message: str
    category: str | None = None
    context: Mapping[str, Any] = Field(default_factory=dict)


class UpsertOutcome(FrozenView):
    """What a batch upsert did: the records it created or updated, and the inputs it refused."""

    results: tuple[UpsertedObject, ...]
    errors: tuple[UpsertFailure, ...] = ()


class ContactUpsert(FrozenView):
    """A contact to create or update, keyed by its email (a unique-value property)."""

    email: str
    properties: Mapping[str, str] = Field(default_factory=dict)


def _hubspot_ms(moment: datetime) -> str:
    """A datetime filter value: epoch milliseconds as a string, as HubSpot's search takes datetimes [~]."""
    if moment.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    return str(int(moment.astimezone(UTC).timestamp() * 1000))


def _page(document: Any) -> HubSpotPage:
    if not isinstance(document, dict):
        raise ValueError("HubSpot answered a listing with something other than an object")
    paging = document.get("paging")
    nxt = paging.get("next") if isinstance(paging, dict) else None
    after = nxt.get("after") if isinstance(nxt, dict) else None
    total = document.get("total")
    return HubSpotPage(
        results=tuple(HubSpotObject.model_validate(item) for item in document.get("results") or []),
        next_after=str(after) if after not in (None, "") else None,
        total=total if isinstance(total, int) and not isinstance(total, bool) else None,
    )


class HubSpotClient:
    """CRM v3 reads and the contact upsert, for one tenant's HubSpot portal (the ConnectorHttp carries auth)."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._http = http

    async def list_page(
        self,
        object_type: ObjectType,
        *,
        after: str | None = None,
        limit: int = LIST_PAGE_MAX,
        properties: Iterable[str] = (),
        associations: Iterable[str] = (),
    ) -> HubSpotPage:
        """One page of ``object_type``, starting at cursor ``after`` (None: the first page), with the ids of the
        ``associations`` object types each record is associated with."""
        if not 1 <= limit <= LIST_PAGE_MAX:
            raise ValueError(f"limit must be 1-{LIST_PAGE_MAX}")
        params = {"limit": str(limit), "archived": "false"}
        if after is not None:
            params["after"] = after
        wanted = ",".join(properties)
        if wanted:
            params["properties"] = wanted
        linked = ",".join(associations)
        if linked:
            params["associations"] = linked
        response = await self._http.request("GET", f"{_BASE}/{object_type}", params=params)
        return _page(response.json())

    async def pages(
        self,
        object_type: ObjectType,
        *,
        after: str | None = None,
        limit: int = LIST_PAGE_MAX,
        properties: Iterable[str] = (),
    ) -> AsyncIterator[HubSpotPage]:
        """Every page from cursor ``after`` to the end. To resume after a failure, pass the ``next_after`` of the
        last page received."""
        wanted = tuple(properties)
        cursor = after
        while True:
            page = await self.list_page(object_type, after=cursor, limit=limit, properties=wanted)
            yield page
            if page.next_after is None or page.next_after == cursor:
                return
            cursor = page.next_after

    async def list_all(
        self, object_type: ObjectType, *, limit: int = LIST_PAGE_MAX, properties: Iterable[str] = ()
    ) -> list[HubSpotObject]:
        """Every record of ``object_type``, following ``paging.next.after`` to the end."""
        found: list[HubSpotObject] = []
        async for page in self.pages(object_type, limit=limit, properties=properties):
            found.extend(page.results)
        return found

    async def search_modified_since(
        self,
        object_type: ObjectType,
        since: datetime,
        *,
        after: str | None = None,
        limit: int = SEARCH_PAGE_MAX,
        properties: Iterable[str] = (),
    ) -> HubSpotPage:
        """One page of the records modified at or after ``since``, oldest change first."""
        if not 1 <= limit <= SEARCH_PAGE_MAX:
            raise ValueError(f"limit must be 1-{SEARCH_PAGE_MAX}")
        modified = LAST_MODIFIED_PROPERTY[object_type]
        body: dict[str, Any] = {
            "filterGroups": [{"filters": [{"propertyName": modified, "operator": "GTE", "value": _hubspot_ms(since)}]}],
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": sorted({modified, *properties}),
            "limit": limit,
        }
        if after is not None:
            body["after"] = after
        # A search is a read sent as POST: safe to retry.
        response = await self._http.request(
            "POST", f"{_BASE}/{object_type}/search", json_body=body, idempotent_write=True
        )
        return _page(response.json())

    async def modified_since(
        self, object_type: ObjectType, since: datetime, *, limit: int = SEARCH_PAGE_MAX, properties: Iterable[str] = ()
    ) -> list[HubSpotObject]:
        """Every record modified at or after ``since`` (all pages of one search, oldest change first).

        One search query returns at most 10,000 results [~]; a larger backlog needs a new query from the last
        modification time seen (not done here yet).
        """
        wanted = tuple(properties)
        found: list[HubSpotObject] = []
        cursor: str | None = None
        while True:
            page = await self.search_modified_since(object_type, since, after=cursor, limit=limit, properties=wanted)
            found.extend(page.results)
            if page.next_after is None or page.next_after == cursor:
                return found
            cursor = page.next_after

    async def get(
        self,
        object_type: ObjectType,
        object_id: str,
        *,
        properties: Iterable[str] = (),
        associations: Iterable[str] = (),
    ) -> HubSpotObject:
        """One record by its HubSpot id (a 404 raises ConnectorError)."""
        if not (object_id.isascii() and object_id.isdigit()):
            raise ValueError("a HubSpot object id is a number")
        params = {
            name: joined
            for name, joined in (("properties", ",".join(properties)), ("associations", ",".join(associations)))
            if joined
        } or None
        response = await self._http.request("GET", f"{_BASE}/{object_type}/{object_id}", params=params)
        return HubSpotObject.model_validate(response.json())

    async def upsert_contacts(self, contacts: Sequence[ContactUpsert]) -> UpsertOutcome:
        """Create or update contacts by email in one batch (≤100); safe to retry, it cannot duplicate."""
        if not 1 <= len(contacts) <= UPSERT_BATCH_MAX:
            raise ValueError(f"a batch upsert takes 1-{UPSERT_BATCH_MAX} contacts")
        body = {
            "inputs": [
                {"idProperty": "email", "id": c.email, "properties": {**c.properties, "email": c.email}}
                for c in contacts
            ]
        }
        response = await self._http.request(
            "POST", f"{_BASE}/contacts/batch/upsert", json_body=body, idempotent_write=True
        )
        document = response.json()
        return UpsertOutcome(
            results=tuple(UpsertedObject.model_validate(item) for item in document.get("results") or []),
            errors=tuple(UpsertFailure.model_validate(item) for item in document.get("errors") or []),
        )
