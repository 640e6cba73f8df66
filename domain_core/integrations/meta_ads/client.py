"""A thin Meta Marketing API (Graph) client over :class:`ConnectorHttp`: ad accounts, creates, updates, insights.

Wire shapes: shared/reference/platform_apis.md §3 (Graph v25.0):

* base ``https://graph.facebook.com/v25.0``; the token travels as ``Authorization: Bearer`` (the ConnectorHttp's
  ``auth``; §3 "Auth");
* ad accounts: ``GET /me/adaccounts`` or ``GET /{business_id}/owned_ad_accounts`` with ``fields`` [~ edges];
* creates: ``POST /act_{id}/campaigns | adsets | adimages | adcreatives | ads`` as a form (nested values JSON
  encoded) → ``{id}`` (adimages → ``{images:{<name>:{hash, url}}}``, the bytes sent base64 in ``bytes`` [~]);
  budgets and bids are integers in the currency's MINOR units (5000 = $50.00; §3 "Ad set");
* updates: ``POST /{object_id}`` with the changed fields → ``{success: true}`` [~]; reads ``GET /{object_id}``;
* interests: ``GET /search?type=adinterest&q=…`` → ``{data:[{id, name, …}]}`` (§3 "look up keys via /search" —
  shown there for locations; the interest type is [~]);
* insights: ``GET /act_{id}/insights?level=…&fields=…&time_range={"since","until"}&time_increment=1&filtering=[…]``
  → ``{data:[{…metrics as strings, date_start, date_stop}], paging:{cursors:{before, after}, next?}}``; followed
  by ``after`` while ``paging.next`` is present (§3 "Insights", "Pagination"). ``paging.next`` itself is never
  requested: it is an absolute URL that may carry the token;
* Meta takes no idempotency key (§3 "Idempotency": none), so creates and updates are sent once (ConnectorHttp);
  reads are GETs and are retried, waiting what ``X-Business-Use-Case-Usage`` says (``estimated_time_to_regain_
  access``, minutes) on throttling codes 17/613 (§3 "Rate limits");
* customer lists (developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences): ``POST
  /act_{id}/customaudiences`` ``name, subtype=CUSTOM, customer_file_source=USER_PROVIDED_ONLY`` → ``{id}``, then
  ``POST /{audience_id}/users`` with ``payload={"schema": "EMAIL_SHA256" | "PHONE_SHA256", "data": [digest, …]}``
  (≤10,000 rows a request) → ``{audience_id, session_id, num_received, num_invalid_entries}`` [~ single-key data
  as a flat list]; an ad set targets them as ``targeting.custom_audiences: [{id}]``;
* reach: ``GET /act_{id}/reachestimate?targeting_spec={…}`` → ``{data: {users_lower_bound, users_upper_bound,
  estimate_ready}}`` [~ field names as the Marketing API reference lists them; not re-read at the source];
* errors ``{error:{message, type, code, error_subcode, error_user_msg, error_data?, fbtrace_id}}`` (§3 "Errors")
  and code 190 (revoked token) are read by ConnectorHttp/ErrorBody like every platform's.
"""

import base64
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date
from typing import Any, Self

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.views import FrozenView

CREATE_EDGES = frozenset({"campaigns", "adsets", "adimages", "adcreatives", "ads", "customaudiences"})
USER_SCHEMAS = frozenset({"EMAIL_SHA256", "PHONE_SHA256"})
USERS_PER_REQUEST_MAX = 10_000
PAGE_LIMIT_MAX = 500  # Graph pages are capped [~]; the client asks for at most this many rows per page
LEVELS = frozenset({"campaign", "adset", "ad"})
_ACCOUNT = re.compile(r"(?:act_)?(\d{1,20})")
_OBJECT_ID = re.compile(r"\d{1,25}")


def account_path(account_id: str) -> str:
    """``act_{digits}`` for an ad account id given with or without the prefix; ValueError otherwise."""
    match = _ACCOUNT.fullmatch(account_id.strip())
    if match is None:
        raise ValueError("a Meta ad account id is act_<digits> or <digits>")
    return f"act_{match.group(1)}"


def object_id(value: str) -> str:
    """A Graph object id (digits); ValueError otherwise, so no id can turn into another path."""
    if not _OBJECT_ID.fullmatch(value):
        raise ValueError("a Meta object id is digits")
    return value


def _form(fields: Mapping[str, Any]) -> dict[str, str]:
    """Graph form values: strings as they are, everything else JSON encoded (targeting, lists, specs)."""
    return {
        name: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for name, value in fields.items()
        if value is not None
    }


class MetaAdAccount(FrozenView):
    """One ad account as Graph returns it."""

    id: str
    account_id: str | None = None
    name: str | None = None
    currency: str | None = None
    timezone_name: str | None = None
    account_status: int | None = None


class UsersReceived(FrozenView):
    """What Meta says about one upload of hashed users to a custom audience."""

    audience_id: str | None = None
    session_id: str | int | None = None
    num_received: int = 0
    num_invalid_entries: int = 0


class ReachEstimate(FrozenView):
    """Meta's audience size range for a targeting spec."""

    users_lower_bound: int
    users_upper_bound: int
    estimate_ready: bool = True


class InsightsPage(FrozenView):
    """One page of insights rows (strings as Graph sends them) and the ``after`` cursor of the next (None: last)."""

    rows: tuple[dict[str, Any], ...]
    after: str | None = None


class MetaAdsClient:
    """Graph calls of the Marketing API for one connection (the ConnectorHttp carries the token)."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._http = http

    @classmethod
    def connect(cls, *, tenant_id: str, base_url: str | None = None, **http_options: Any) -> Self:
        """A client on the live Graph API (or ``base_url``); ``http_options`` go to ConnectorHttp."""
        connector = get_connector("meta_ads")
        return cls(
            ConnectorHttp(connector, base_url=base_url or connector.live_url(), tenant_id=tenant_id, **http_options)
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        response = await self._http.request("GET", path, params=params)
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("Graph answered with something other than an object")
        return document

    async def _post(self, path: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        response = await self._http.request("POST", path, form=_form(fields))
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("Graph answered with something other than an object")
        return document

    async def _pages(self, path: str, params: Mapping[str, str]) -> AsyncIterator[InsightsPage]:
        after: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params)
            if after is not None:
                query["after"] = after
            document = await self._get(path, query)
            data = document.get("data")
            paging = document.get("paging")
            paging = paging if isinstance(paging, dict) else {}
            cursors = paging.get("cursors")
            cursors = cursors if isinstance(cursors, dict) else {}
            nxt = cursors.get("after") if paging.get("next") else None
            page = InsightsPage(
                rows=tuple(r for r in data if isinstance(r, dict)) if isinstance(data, list) else (),
                after=nxt if isinstance(nxt, str) and nxt else None,
            )
            yield page
            if page.after is None or page.after in seen:
                return
            seen.add(page.after)
            after = page.after

    async def ad_accounts(self, *, business_id: str | None = None, limit: int = 100) -> list[MetaAdAccount]:
        """The ad accounts the token reaches (``/me/adaccounts``), or a business's own (``owned_ad_accounts``)."""
        if not 0 < limit <= PAGE_LIMIT_MAX:
            raise ValueError(f"limit must be 1-{PAGE_LIMIT_MAX}")
        path = f"/{object_id(business_id)}/owned_ad_accounts" if business_id else "/me/adaccounts"
        params = {"fields": "id,account_id,name,currency,timezone_name,account_status", "limit": str(limit)}
        found: list[MetaAdAccount] = []
        async for page in self._pages(path, params):
            found.extend(MetaAdAccount.model_validate(row) for row in page.rows)
        return found

    async def account(self, account_id: str) -> MetaAdAccount:
        """One ad account's name, currency and time zone."""
        document = await self._get(
            f"/{account_path(account_id)}", {"fields": "id,account_id,name,currency,timezone_name"}
        )
        return MetaAdAccount.model_validate(document)

    async def promote_pages(self, account_id: str) -> list[str]:
        """The ids of the Facebook pages the ad account may promote [~ edge]."""
        document = await self._get(f"/{account_path(account_id)}/promote_pages", {"fields": "id,name"})
        data = document.get("data")
        return [str(p["id"]) for p in data if isinstance(p, dict) and p.get("id")] if isinstance(data, list) else []

    async def search_interest(self, text: str) -> dict[str, Any] | None:
        """The best-matching targeting interest ``{id, name}`` for ``text`` (None: none known)."""
        document = await self._get("/search", {"type": "adinterest", "q": text, "limit": "1"})
        data = document.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else None
        return {"id": str(first["id"]), "name": str(first.get("name", text))} if first and first.get("id") else None

    async def create(self, account_id: str, edge: str, fields: Mapping[str, Any]) -> str:
        """Create one object under the ad account; its id. Sent once (no idempotency key exists)."""
        if edge not in CREATE_EDGES - {"adimages"}:
            raise ValueError(f"unsupported create edge {edge!r}")
        document = await self._post(f"/{account_path(account_id)}/{edge}", fields)
        created = document.get("id")
        if not isinstance(created, str | int) or not str(created):
            raise ValueError("Graph answered a create without an id")
        return str(created)

    async def upload_image(self, account_id: str, png: bytes, *, name: str = "bytes") -> str:
        """Upload image bytes to the ad account's library; the image hash creatives refer to."""
        document = await self._post(
            f"/{account_path(account_id)}/adimages", {"bytes": base64.b64encode(png).decode(), "name": name}
        )
        images = document.get("images")
        entry = next(iter(images.values()), None) if isinstance(images, dict) and images else None
        image_hash = entry.get("hash") if isinstance(entry, dict) else None
        if not isinstance(image_hash, str) or not image_hash:
            raise ValueError("Graph answered an image upload without a hash")
        return image_hash

    async def add_users(self, audience_id: str, schema: str, digests: Sequence[str]) -> UsersReceived:
        """Upload SHA-256 digests of one kind (``EMAIL_SHA256`` / ``PHONE_SHA256``) to a custom audience (sent once)."""
        if schema not in USER_SCHEMAS:
            raise ValueError(f"schema must be one of {sorted(USER_SCHEMAS)}")
        if not 0 < len(digests) <= USERS_PER_REQUEST_MAX:
            raise ValueError(f"an upload takes 1-{USERS_PER_REQUEST_MAX} rows")
        document = await self._post(
            f"/{object_id(audience_id)}/users", {"payload": {"schema": schema, "data": digests}}
        )
        return UsersReceived.model_validate(document)

    async def reach_estimate(self, account_id: str, targeting: Mapping[str, Any]) -> ReachEstimate:
        """The number of people ``targeting`` may reach (a range)."""
        document = await self._get(
            f"/{account_path(account_id)}/reachestimate",
            {"targeting_spec": json.dumps(targeting, separators=(",", ":"))},
        )
        data = document.get("data")
        if isinstance(data, list):  # some API versions wrap the estimate in a one-element list [~]
            data = data[0] if data else None
        if not isinstance(data, dict):
            raise ValueError("Graph answered a reach estimate without data")
        return ReachEstimate.model_validate(data)

    async def update(self, graph_id: str, fields: Mapping[str, Any]) -> None:
        """Change fields of a campaign, ad set or ad by POSTing to its id (sent once)."""
        document = await self._post(f"/{object_id(graph_id)}", fields)
        if document.get("success") is not True:
            raise ValueError("Graph did not confirm the update")

    async def get(self, graph_id: str, fields: Sequence[str]) -> dict[str, Any]:
        """Read fields of one object."""
        return await self._get(f"/{object_id(graph_id)}", {"fields": ",".join(fields)})

    async def insights(
        self,
        account_id: str,
        *,
        level: str,
        ids: Sequence[str],
        since: date,
        until: date,
        fields: Sequence[str],
        limit: int = 100,
    ) -> AsyncIterator[dict[str, Any]]:
        """Daily insights rows (``time_increment=1``) of the given campaigns / ad sets / ads, every page."""
        if level not in LEVELS:
            raise ValueError(f"level must be one of {sorted(LEVELS)}")
        if not 0 < limit <= PAGE_LIMIT_MAX:
            raise ValueError(f"limit must be 1-{PAGE_LIMIT_MAX}")
        params = {
            "level": level,
            "fields": ",".join(fields),
            "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
            "time_increment": "1",
            "filtering": json.dumps([{"field": f"{level}.id", "operator": "IN", "value": [object_id(i) for i in ids]}]),
            "limit": str(limit),
        }
        async for page in self._pages(f"/{account_path(account_id)}/insights", params):
            for row in page.rows:
                yield row
