"""A thin LinkedIn Marketing API (versioned REST) client over :class:`ConnectorHttp`.

Wire shapes: shared/reference/platform_apis.md §5 (``[~]`` = secondary material, to check against the live docs):

* base ``https://api.linkedin.com/rest``; every request carries ``Authorization: Bearer`` (the ConnectorHttp's
  ``auth``), ``LinkedIn-Version: YYYYMM`` (no default on LinkedIn's side; each monthly version lives about a year,
  so it is one constant here, :data:`LINKEDIN_VERSION`) and ``X-Restli-Protocol-Version: 2.0.0``;
* Rest.li 2.0 query syntax: records ``(k:v,…)``, lists ``List(…)``, URNs percent-encoded inside them (§5
  "Analytics"); the client writes those query strings itself so the parentheses and colons stay as they are;
* creates answer 201 with an empty body and the new id in the ``x-restli-id`` header [~ header]; LinkedIn takes no
  idempotency key (§5 "Idempotency: none — a retried create duplicates"), so creates are sent ONCE;
* changes are partial updates: ``POST`` with ``X-RestLi-Method: PARTIAL_UPDATE`` and ``{"patch": {"$set": {…}}}``
  [~]; setting a value again changes nothing, so those may be retried;
* errors are ``{status, serviceErrorCode, code, message}`` [~] (ConnectorHttp reads ``message`` and ``code``);
  throttling is HTTP 429 without Retry-After or rate headers (§5 "Rate limits"): the policy's back-off;
* accounts: ``GET adAccountUsers?q=authenticatedUser`` (§5) and ``GET adAccounts/{id}`` (name, currency) [~];
* analytics: ``GET adAnalytics?q=analytics&pivot=…&timeGranularity=DAILY&dateRange=(start:(…),end:(…))&
  <facet>=List(<urns>)&fields=…`` → ``{elements:[…]}``, no pagination, days without activity left out (§5);
* matched audiences (learn.microsoft.com/linkedin/marketing/matched-audiences; request shapes as
  segmentio/action-destinations' linkedin-audiences destination sends them): ``POST dmpSegments`` ``{name,
  sourcePlatform, account: urn:li:sponsoredAccount:…, accessPolicy: PRIVATE, type: USER, destinations:
  [{destination: LINKEDIN}]}`` → ``x-restli-id``; ``POST dmpSegments/{id}/users`` with ``X-RestLi-Method:
  BATCH_CREATE`` and ``{elements: [{action: ADD, userIds: [{idType: SHA256_EMAIL, idValue}]}]}``; ``GET
  dmpSegments/{id}`` → ``{status, matchedMemberCount?, destinations: [{destination, destinationSegmentId:
  urn:li:adSegment:…}]}`` [~ read fields]. The ad segment URN is what campaigns target, in the
  ``urn:li:adTargetingFacet:audienceMatchingSegments`` facet [~ facet name from LinkedIn's targeting facets list];
* audience counts: ``GET audienceCounts?q=targetingCriteriaV2&targetingCriteria=<Rest.li record>`` →
  ``{elements: [{active, total}]}`` [~ LinkedIn's audience counts API; ``active`` = members active lately];
* targeting lookups: ``GET adTargetingEntities?q=typeahead&facet=<facet urn>&query=<text>`` → ``{elements:[{urn,
  name}]}`` [~ not in the reference: LinkedIn's targeting guide].

Money is ``{amount: "12.50", currencyCode}``: a string in the account currency's major units (§5 "5000.00").
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal, Self
from urllib.parse import quote

import httpx
from pydantic import Field

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.views import FrozenView

LINKEDIN_VERSION = "202611"  # the monthly API version every request names (§5: required, no default)
RESTLI_PROTOCOL_VERSION = "2.0.0"
SOURCE_PLATFORM = "LIST_UPLOAD"  # a DMP segment's sourcePlatform for lists uploaded by the advertiser [~]
SEGMENT_USERS_PER_BATCH = 5_000  # users per BATCH_CREATE [~ LinkedIn's batch limit]
Entity = Literal["adCampaignGroups", "adCampaigns", "creatives"]
Pivot = Literal["CAMPAIGN_GROUP", "CAMPAIGN", "CREATIVE"]
URN_PREFIX: Mapping[str, str] = {
    "account": "urn:li:sponsoredAccount:",
    "adCampaignGroups": "urn:li:sponsoredCampaignGroup:",
    "adCampaigns": "urn:li:sponsoredCampaign:",
    "creatives": "urn:li:sponsoredCreative:",
}
PIVOT_FACETS: Mapping[Pivot, tuple[str, Entity]] = {
    "CAMPAIGN_GROUP": ("campaignGroups", "adCampaignGroups"),
    "CAMPAIGN": ("campaigns", "adCampaigns"),
    "CREATIVE": ("creatives", "creatives"),
}
ANALYTICS_IDS_MAX = 100  # URNs per analytics call [~ not in the reference; the port's report limit]


def digits(value: str, field: str) -> str:
    """A LinkedIn numeric id (account, campaign group, campaign, creative): digits, so no id turns into a path."""
    if not (isinstance(value, str) and value.isdigit() and 0 < len(value) <= 20):
        raise ValueError(f"a LinkedIn {field} is digits")
    return value


def urn(kind: str, object_id: str) -> str:
    """``urn:li:sponsored…:<id>`` of an account (``"account"``) or an entity."""
    return URN_PREFIX[kind] + digits(object_id, f"{kind} id")


def id_of(value: Any, kind: str) -> str | None:
    """The numeric id in a URN (or a bare id) of ``kind``; None when it is something else."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    text = text.removeprefix(URN_PREFIX[kind])
    return text if text.isdigit() else None


def restli_date(day: date) -> str:
    """A Rest.li date record: ``(year:2026,month:3,day:1)``."""
    return f"(year:{day.year},month:{day.month},day:{day.day})"


def restli_list(values: Sequence[str]) -> str:
    """A Rest.li list of URNs, each percent-encoded: ``List(urn%3Ali%3A…,…)``."""
    return "List(" + ",".join(quote(v, safe="") for v in values) + ")"


def restli_value(value: Any) -> str:
    """Any JSON-like value in Rest.li 2.0 query syntax: records ``(k:v,…)``, ``List(…)``, leaves percent-encoded."""
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{quote(str(k), safe='')}:{restli_value(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "List(" + ",".join(restli_value(v) for v in value) + ")"
    return quote(str(value), safe="")


class DmpSegment(FrozenView):
    """A DMP segment as ``dmpSegments/{id}`` returns it; ``ad_segment`` is the URN campaigns target."""

    id: int | str | None = None
    name: str | None = None
    status: str | None = None
    matched_member_count: int | None = Field(default=None, alias="matchedMemberCount")
    destinations: tuple[dict[str, Any], ...] = ()

    @property
    def ad_segment(self) -> str | None:
        """The LinkedIn destination's ``urn:li:adSegment:…`` once LinkedIn made it."""
        for destination in self.destinations:
            value = destination.get("destinationSegmentId")
            if destination.get("destination") == "LINKEDIN" and isinstance(value, str) and value:
                return value
        return None


class AccountInfo(FrozenView):
    """One ad account as ``adAccounts/{id}`` returns it."""

    id: int | str
    name: str | None = None
    currency: str | None = None
    status: str | None = None


class AnalyticsRow(FrozenView):
    """One analytics element: the pivot's URN, its day and the metrics asked for."""

    pivot: str
    day: date
    metrics: dict[str, Any]


class LinkedInAdsClient:
    """LinkedIn Marketing API calls for one connection (the ConnectorHttp carries the Bearer header)."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._http = http

    @classmethod
    def connect(cls, *, tenant_id: str, base_url: str | None = None, **http_options: Any) -> Self:
        """A client on the live API (or ``base_url``); ``http_options`` go to ConnectorHttp (auth, transport, …)."""
        connector = get_connector("linkedin_ads")
        return cls(
            ConnectorHttp(connector, base_url=base_url or connector.live_url(), tenant_id=tenant_id, **http_options)
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @staticmethod
    def _headers(method: str | None = None) -> dict[str, str]:
        headers = {"LinkedIn-Version": LINKEDIN_VERSION, "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION}
        if method is not None:
            headers["X-RestLi-Method"] = method
        return headers

    async def get(self, path: str, query: str = "") -> dict[str, Any]:
        """One GET (``query``: an already encoded Rest.li query string); its JSON object."""
        response = await self._http.request("GET", f"{path}?{query}" if query else path, headers=self._headers())
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("LinkedIn answered without a JSON object")
        return document

    async def create(self, path: str, body: Mapping[str, Any]) -> str:
        """One create, sent once (no idempotency key, §5); the new id from ``x-restli-id``."""
        response = await self._http.request("POST", path, json_body=dict(body), headers=self._headers("CREATE"))
        return self._created_id(response)

    @staticmethod
    def _created_id(response: httpx.Response) -> str:
        value = str(response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id") or "")
        if not value:
            raise ValueError("LinkedIn answered a create without x-restli-id")
        return value

    async def partial_update(self, path: str, changes: Mapping[str, Any]) -> None:
        """``$set`` the given fields (absolute values: idempotent, so retried like a read)."""
        await self._http.request(
            "POST",
            path,
            json_body={"patch": {"$set": dict(changes)}},
            headers=self._headers("PARTIAL_UPDATE"),
            idempotent_write=True,
        )

    # --- accounts and lookups ------------------------------------------------------------------------------------

    async def account_ids(self) -> list[str]:
        """The ad accounts the authenticated member holds a role on (``adAccountUsers?q=authenticatedUser``)."""
        document = await self.get("/adAccountUsers", "q=authenticatedUser")
        found: list[str] = []
        for element in document.get("elements") or []:
            account = id_of(element.get("account"), "account") if isinstance(element, dict) else None
            if account and account not in found:
                found.append(account)
        return found

    async def account(self, account_id: str) -> AccountInfo:
        """An ad account's name, currency and status."""
        return AccountInfo.model_validate(await self.get(f"/adAccounts/{digits(account_id, 'account id')}"))

    async def typeahead(self, facet: str, text: str) -> list[dict[str, Any]]:
        """Targeting values of ``facet`` (e.g. ``urn:li:adTargetingFacet:locations``) matching ``text`` [~]."""
        query = f"q=typeahead&facet={quote(facet, safe='')}&query={quote(text, safe='')}"
        document = await self.get("/adTargetingEntities", query)
        elements = document.get("elements")
        return [e for e in elements if isinstance(e, dict)] if isinstance(elements, list) else []

    # --- entities ------------------------------------------------------------------------------------------------

    @staticmethod
    def _entity_path(account_id: str, entity: Entity, object_id: str | None = None) -> str:
        path = f"/adAccounts/{digits(account_id, 'account id')}/{entity}"
        if object_id is None:
            return path
        if entity == "creatives":  # creatives are keyed by their URN (§5: ids come back as urn:li:sponsoredCreative)
            return f"{path}/{quote(urn(entity, object_id), safe='')}"
        return f"{path}/{digits(object_id, f'{entity} id')}"

    async def create_entity(self, account_id: str, entity: Entity, body: Mapping[str, Any]) -> str:
        """Create a campaign group, campaign or creative; its numeric id (a creative's URN is unwrapped)."""
        created = await self.create(self._entity_path(account_id, entity), body)
        object_id = id_of(created, entity)
        if object_id is None:
            raise ValueError(f"LinkedIn answered a create with an unexpected id {created[:80]!r}")
        return object_id

    async def entity(self, account_id: str, entity: Entity, object_id: str) -> dict[str, Any]:
        """One campaign group, campaign or creative."""
        return await self.get(self._entity_path(account_id, entity, object_id))

    async def update_entity(self, account_id: str, entity: Entity, object_id: str, changes: Mapping[str, Any]) -> None:
        """Partially update one campaign group, campaign or creative."""
        await self.partial_update(self._entity_path(account_id, entity, object_id), changes)

    # --- matched audiences and counts ------------------------------------------------------------------------------

    async def create_dmp_segment(self, account_id: str, name: str) -> str:
        """A private USER segment for list uploads, delivered to LinkedIn (sent once); its id."""
        body = {
            "name": name,
            "sourcePlatform": SOURCE_PLATFORM,
            "account": urn("account", account_id),
            "accessPolicy": "PRIVATE",
            "type": "USER",
            "destinations": [{"destination": "LINKEDIN"}],
        }
        return digits(await self.create("/dmpSegments", body), "DMP segment id")

    async def add_segment_users(self, segment_id: str, email_digests: Sequence[str]) -> None:
        """Add members by SHA-256 email digests, in batches of :data:`SEGMENT_USERS_PER_BATCH`."""
        path = f"/dmpSegments/{digits(segment_id, 'DMP segment id')}/users"
        for start in range(0, len(email_digests), SEGMENT_USERS_PER_BATCH):
            batch = email_digests[start : start + SEGMENT_USERS_PER_BATCH]
            elements = [{"action": "ADD", "userIds": [{"idType": "SHA256_EMAIL", "idValue": d}]} for d in batch]
            await self._http.request(  # adding members already there changes nothing: safe to retry
                "POST",
                path,
                json_body={"elements": elements},
                headers=self._headers("BATCH_CREATE"),
                idempotent_write=True,
            )

    async def dmp_segment(self, segment_id: str) -> DmpSegment:
        """One DMP segment: its status, matched members and ad segment."""
        return DmpSegment.model_validate(await self.get(f"/dmpSegments/{digits(segment_id, 'DMP segment id')}"))

    async def audience_count(self, targeting: Mapping[str, Any]) -> tuple[int, int]:
        """``(active, total)`` members a ``targetingCriteria`` reaches."""
        document = await self.get(
            "/audienceCounts", f"q=targetingCriteriaV2&targetingCriteria={restli_value(targeting)}"
        )
        elements = document.get("elements")
        first = elements[0] if isinstance(elements, list) and elements and isinstance(elements[0], dict) else {}
        active, total = first.get("active"), first.get("total")
        if not isinstance(active, int) or not isinstance(total, int):
            raise ValueError("LinkedIn answered audience counts without active and total")
        return active, total

    # --- analytics -----------------------------------------------------------------------------------------------

    async def analytics(
        self, pivot: Pivot, object_ids: Sequence[str], since: date, until: date, fields: Sequence[str]
    ) -> list[AnalyticsRow]:
        """Daily rows of the given objects (no pagination; days without activity are left out, §5)."""
        if not 0 < len(object_ids) <= ANALYTICS_IDS_MAX:
            raise ValueError(f"analytics take 1-{ANALYTICS_IDS_MAX} ids")
        if until < since:
            raise ValueError("until is before since")
        facet, entity = PIVOT_FACETS[pivot]
        urns = [urn(entity, i) for i in object_ids]
        query = "&".join(
            (
                "q=analytics",
                f"pivot={pivot}",
                "timeGranularity=DAILY",
                f"dateRange=(start:{restli_date(since)},end:{restli_date(until)})",
                f"{facet}={restli_list(urns)}",
                "fields=" + ",".join((*fields, "dateRange", "pivotValues")),
            )
        )
        document = await self.get("/adAnalytics", query)
        rows: list[AnalyticsRow] = []
        for element in document.get("elements") or []:
            row = self._row(element)
            if row is not None:
                rows.append(row)
        return rows

    @staticmethod
    def _row(element: Any) -> AnalyticsRow | None:
        if not isinstance(element, dict):
            return None
        pivots = element.get("pivotValues")
        start = (element.get("dateRange") or {}).get("start") if isinstance(element.get("dateRange"), dict) else None
        if not isinstance(pivots, list) or not pivots or not isinstance(start, dict):
            return None
        try:
            day = date(int(start["year"]), int(start["month"]), int(start["day"]))
        except (KeyError, TypeError, ValueError):
            return None
        metrics = {k: v for k, v in element.items() if k not in ("pivotValues", "dateRange")}
        return AnalyticsRow(pivot=str(pivots[0]), day=day, metrics=metrics)
