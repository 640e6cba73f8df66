"""A thin TikTok Marketing API (API for Business, v1.3) client over :class:`ConnectorHttp`.

Wire shapes: shared/reference/platform_apis.md §4 (``[~]`` = secondary material, to check against the live docs):

* base ``https://business-api.tiktok.com/open_api/v1.3`` with a trailing slash on every path; the token travels in
  an ``Access-Token`` header, NOT ``Authorization: Bearer`` (§4 "Auth header"; the ConnectorHttp's ``auth``);
* every answer is ``{code, message, request_id, data}``, HTTP 200 even for failures; ``code`` 0 is success (§4
  "Envelope"). ConnectorHttp reads the envelope for this connector (:data:`..http.ENVELOPES`), so 40100 (QPS) is a
  RateLimited that reads are retried on, 40104/40105 an AuthExpired (the session refreshes or marks the connection
  needs_reauth), 40001/40002 a PlatformValidationError with TikTok's message, 50000 a PlatformDown;
* GET array / object parameters are JSON encoded in the query string (§4 "Reports": "array params JSON-encoded");
  POST bodies are JSON, except the image upload (multipart);
* lists page with ``page`` / ``page_size`` → ``data.page_info{page, page_size, total_number, total_page}`` (§4
  "Pagination" [~]); the client follows ``page < total_page``;
* creates: ``campaign/create/`` → ``data.campaign_id``, ``adgroup/create/`` → ``data.adgroup_id``, ``ad/create/`` →
  ``data.ad_ids`` (§4); ``file/image/ad/upload/`` multipart with ``upload_type=UPLOAD_BY_FILE``, ``image_signature``
  (MD5 hex of the file) and ``image_file`` → ``data.image_id`` [~ TikTok file API];
* changes: ``{campaign|adgroup|ad}/status/update/`` with ``operation_status`` ENABLE | DISABLE | DELETE,
  ``campaign/update/`` (budget), ``adgroup/update/`` (bid_price) [~]. Setting a status, a budget or a bid to a
  value is idempotent by construction, so those POSTs may be retried; creates are sent ONCE (TikTok takes no
  idempotency key, §4);
* reads: ``{campaign|adgroup|ad}/get/`` with ``filtering``; ``advertiser/info/`` (name, currency, time zone);
  ``tool/region/`` (location ids) and ``tool/interest_category/`` (interest ids) [~];
* customer files (tiktok/tiktok-business-api-sdk python_sdk/docs/AudienceApi.md, CustomAudienceCreateBody.md):
  ``dmp/custom_audience/file/upload/`` multipart ``advertiser_id, calculate_type, file_signature`` (MD5 hex) and
  ``file`` (one digest a line [~]) → ``data.file_path``; ``dmp/custom_audience/create/`` ``{advertiser_id,
  custom_audience_name ≤128, calculate_type, file_paths}`` → ``data.custom_audience_id`` (every file must share the
  audience's calculate_type: CustomAudienceUpdateBody.md); ``dmp/custom_audience/get/?custom_audience_ids=[…]`` →
  ``data.list[{audience_details: {audience_id, name, cover_num, is_valid}}]`` [~ field set];
* estimate: ``ad/audience_size/estimate/`` (POST, the ad group's targeting fields; an allow-listed tool [~]) →
  ``data.user_count{lower_end, upper_end}`` (typings generated from TikTok's spec); a read, so retried;
* report: ``report/integrated/get/`` ``report_type=BASIC``, ``data_level=AUCTION_CAMPAIGN|ADGROUP|AD``,
  ``dimensions=[<level>_id, "stat_time_day"]``, metrics, ``start_date``/``end_date`` (at most 30 days a call [~]),
  ``filtering=[{field_name, filter_type: "IN", filter_value: "<JSON list>"}]`` (≤100 ids, §4), ``page``/``page_size``
  → ``data.list[{dimensions:{…}, metrics:{…strings}}]``. Money is in the advertiser's currency, major units, as
  decimal strings (§4 "budget (major units)").
"""

import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date
from typing import Any, Literal, Self

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.views import FrozenView

Level = Literal["campaign", "adgroup", "ad"]
LEVELS: tuple[Level, ...] = ("campaign", "adgroup", "ad")
PAGE_SIZE_MAX = 1000  # list and report pages [~]
REPORT_DAYS_MAX = 30  # report/integrated/get/ covers at most 30 days a call [~]
REPORT_IDS_MAX = 100  # §4: "filter ≤100 ids"
DATA_LEVELS: Mapping[Level, str] = {"campaign": "AUCTION_CAMPAIGN", "adgroup": "AUCTION_ADGROUP", "ad": "AUCTION_AD"}


def _query_value(value: Any) -> str:
    """A GET parameter as TikTok takes it: strings as they are, lists and objects JSON encoded (§4)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def digits(value: str, field: str) -> str:
    """A TikTok id (advertiser, campaign, ad group, ad, image…): digits, so no id can turn into another path."""
    if not (isinstance(value, str) and value.isdigit() and 0 < len(value) <= 32):
        raise ValueError(f"a TikTok {field} is digits")
    return value


class Advertiser(FrozenView):
    """One advertiser (ad account) as ``advertiser/info/`` returns it."""

    advertiser_id: str
    name: str | None = None
    currency: str | None = None
    timezone: str | None = None
    display_timezone: str | None = None


class ReportRow(FrozenView):
    """One row of an integrated report: its dimensions and metrics (strings, as TikTok sends them)."""

    dimensions: dict[str, Any]
    metrics: dict[str, Any]


class TikTokAdsClient:
    """TikTok Marketing API calls for one connection (the ConnectorHttp carries the Access-Token header)."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._http = http

    @classmethod
    def connect(cls, *, tenant_id: str, base_url: str | None = None, **http_options: Any) -> Self:
        """A client on the live API (or ``base_url``); ``http_options`` go to ConnectorHttp (auth, transport, …)."""
        connector = get_connector("tiktok_ads")
        return cls(
            ConnectorHttp(connector, base_url=base_url or connector.live_url(), tenant_id=tenant_id, **http_options)
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @staticmethod
    def _data(document: Any) -> dict[str, Any]:
        # A failing code never gets here: ConnectorHttp turned it into a typed error already.
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict):
            raise ValueError("TikTok answered without a data object")
        return data

    async def get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One GET; the ``data`` object of its envelope."""
        query = {name: _query_value(value) for name, value in params.items() if value is not None}
        response = await self._http.request("GET", path, params=query)
        return self._data(response.json())

    async def post(self, path: str, body: Mapping[str, Any], *, idempotent: bool = False) -> dict[str, Any]:
        """One JSON POST (sent once unless ``idempotent``: setting a value again changes nothing)."""
        response = await self._http.request("POST", path, json_body=dict(body), idempotent_write=idempotent)
        return self._data(response.json())

    async def pages(self, path: str, params: Mapping[str, Any], *, page_size: int) -> AsyncIterator[dict[str, Any]]:
        """Every item of a paged list (``data.list``), page by page until ``page_info.total_page``."""
        if not 0 < page_size <= PAGE_SIZE_MAX:
            raise ValueError(f"page_size must be 1-{PAGE_SIZE_MAX}")
        page = 1
        while True:
            data = await self.get(path, {**params, "page": str(page), "page_size": str(page_size)})
            items = data.get("list")
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    yield item
            info = data.get("page_info")
            total = info.get("total_page") if isinstance(info, dict) else None
            if not isinstance(total, int) or page >= total or not items:
                return
            page += 1

    # --- accounts ------------------------------------------------------------------------------------------------

    async def user(self) -> dict[str, Any]:
        """Who the token belongs to (``user/info/`` [~]): the cheapest call that proves a token."""
        return await self.get("/user/info/", {})

    async def advertisers(self, advertiser_ids: Sequence[str]) -> list[Advertiser]:
        """Name, currency and time zone of each advertiser (``advertiser/info/``)."""
        ids = [digits(i, "advertiser id") for i in advertiser_ids]
        if not ids:
            return []
        data = await self.get(
            "/advertiser/info/",
            {"advertiser_ids": ids, "fields": ["advertiser_id", "name", "currency", "timezone", "display_timezone"]},
        )
        rows = data.get("list")
        return [Advertiser.model_validate(r) for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    # --- targeting lookups ---------------------------------------------------------------------------------------

    async def regions(self, advertiser_id: str, *, objective_type: str) -> list[dict[str, Any]]:
        """The countries an advertiser may target, each ``{location_id, region_code, name, level}`` [~]."""
        data = await self.get(
            "/tool/region/",
            {
                "advertiser_id": digits(advertiser_id, "advertiser id"),
                "placements": ["PLACEMENT_TIKTOK"],
                "objective_type": objective_type,
                "level_range": "TO_COUNTRY",
            },
        )
        rows = data.get("region_info")
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    async def interest_categories(self, advertiser_id: str) -> list[dict[str, Any]]:
        """The interest categories ``{interest_category_id, interest_category_name, level}`` [~]."""
        data = await self.get(
            "/tool/interest_category/", {"advertiser_id": digits(advertiser_id, "advertiser id"), "version": "2"}
        )
        rows = data.get("interest_categories")
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    # --- creates -------------------------------------------------------------------------------------------------

    async def create_campaign(self, body: Mapping[str, Any]) -> str:
        """``campaign/create/`` → the new campaign id."""
        return self._id(await self.post("/campaign/create/", body), "campaign_id")

    async def create_adgroup(self, body: Mapping[str, Any]) -> str:
        """``adgroup/create/`` → the new ad group id."""
        return self._id(await self.post("/adgroup/create/", body), "adgroup_id")

    async def create_ads(self, body: Mapping[str, Any]) -> list[str]:
        """``ad/create/`` → the new ad ids (one per creative)."""
        data = await self.post("/ad/create/", body)
        ids = data.get("ad_ids")
        if not isinstance(ids, list) or not ids:
            raise ValueError("TikTok answered an ad create without ad ids")
        return [str(i) for i in ids]

    async def upload_image(self, advertiser_id: str, image: bytes, *, file_name: str) -> str:
        """Upload image bytes to the advertiser's library (UPLOAD_BY_FILE, MD5 signature); its image id."""
        signature = hashlib.md5(image, usedforsecurity=False).hexdigest()
        response = await self._http.request(
            "POST",
            "/file/image/ad/upload/",
            form={
                "advertiser_id": digits(advertiser_id, "advertiser id"),
                "upload_type": "UPLOAD_BY_FILE",
                "image_signature": signature,
                "file_name": file_name,
            },
            files={"image_file": (file_name, image, "image/png")},
        )
        return self._id(self._data(response.json()), "image_id")

    @staticmethod
    def _id(data: Mapping[str, Any], key: str) -> str:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value):
            raise ValueError(f"TikTok answered without {key}")
        return str(value)

    # --- customer files and estimates ------------------------------------------------------------------------------

    async def upload_audience_file(self, advertiser_id: str, content: bytes, *, calculate_type: str) -> str:
        """Upload one customer file (a digest a line) for a custom audience; its ``file_path``."""
        response = await self._http.request(
            "POST",
            "/dmp/custom_audience/file/upload/",
            form={
                "advertiser_id": digits(advertiser_id, "advertiser id"),
                "calculate_type": calculate_type,
                "file_signature": hashlib.md5(content, usedforsecurity=False).hexdigest(),
            },
            files={"file": ("customers.txt", content, "text/plain")},
        )
        return self._id(self._data(response.json()), "file_path")

    async def create_custom_audience(
        self, advertiser_id: str, name: str, file_paths: Sequence[str], *, calculate_type: str
    ) -> str:
        """A customer-file audience from uploaded files (sent once); its id."""
        body = {
            "advertiser_id": digits(advertiser_id, "advertiser id"),
            "custom_audience_name": name,
            "calculate_type": calculate_type,
            "file_paths": list(file_paths),
        }
        return self._id(await self.post("/dmp/custom_audience/create/", body), "custom_audience_id")

    async def custom_audiences(self, advertiser_id: str, audience_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The ``audience_details`` of the given custom audiences."""
        data = await self.get(
            "/dmp/custom_audience/get/",
            {"advertiser_id": digits(advertiser_id, "advertiser id"), "custom_audience_ids": list(audience_ids)},
        )
        rows = data.get("list")
        found = [r.get("audience_details") for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
        return [d for d in found if isinstance(d, dict)]

    async def audience_size(self, body: Mapping[str, Any]) -> tuple[int, int]:
        """TikTok's ``(lower_end, upper_end)`` estimate for an ad group's targeting (a read: retried)."""
        data = await self.post("/ad/audience_size/estimate/", body, idempotent=True)
        count = data.get("user_count")
        if not isinstance(count, dict):
            raise ValueError("TikTok answered an audience estimate without user_count")
        lower, upper = count.get("lower_end"), count.get("upper_end")
        if not isinstance(lower, int) or not isinstance(upper, int):
            raise ValueError("TikTok answered an audience estimate without its bounds")
        return lower, upper

    # --- changes -------------------------------------------------------------------------------------------------

    async def set_status(self, advertiser_id: str, level: Level, object_id: str, operation_status: str) -> None:
        """ENABLE, DISABLE or DELETE one campaign, ad group or ad."""
        if level not in LEVELS or operation_status not in ("ENABLE", "DISABLE", "DELETE"):
            raise ValueError("unknown level or operation status")
        await self.post(
            f"/{level}/status/update/",
            {
                "advertiser_id": digits(advertiser_id, "advertiser id"),
                f"{level}_ids": [digits(object_id, f"{level} id")],
                "operation_status": operation_status,
            },
            idempotent=True,
        )

    async def update(
        self, advertiser_id: str, level: Literal["campaign", "adgroup"], fields: Mapping[str, Any]
    ) -> None:
        """``campaign/update/`` or ``adgroup/update/`` with the changed fields (absolute values: idempotent)."""
        body = {"advertiser_id": digits(advertiser_id, "advertiser id"), **fields}
        await self.post(f"/{level}/update/", body, idempotent=True)

    # --- reads ---------------------------------------------------------------------------------------------------

    async def objects(self, advertiser_id: str, level: Level, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Campaigns, ad groups or ads by id (``{level}/get/`` filtered by ``{level}_ids``)."""
        if level not in LEVELS:
            raise ValueError("unknown level")
        params = {
            "advertiser_id": digits(advertiser_id, "advertiser id"),
            "filtering": {f"{level}_ids": [digits(i, f"{level} id") for i in ids]},
        }
        return [item async for item in self.pages(f"/{level}/get/", params, page_size=100)]

    async def report(
        self,
        advertiser_id: str,
        level: Level,
        ids: Sequence[str],
        since: date,
        until: date,
        metrics: Sequence[str],
        *,
        page_size: int = 200,
    ) -> AsyncIterator[ReportRow]:
        """Daily rows (``stat_time_day``) of the given objects, every page; the window is ≤30 days."""
        if level not in LEVELS:
            raise ValueError("unknown level")
        if not 0 < len(ids) <= REPORT_IDS_MAX:
            raise ValueError(f"a report filters 1-{REPORT_IDS_MAX} ids")
        if until < since or (until - since).days + 1 > REPORT_DAYS_MAX:
            raise ValueError(f"a report covers 1-{REPORT_DAYS_MAX} days")
        checked = [digits(i, f"{level} id") for i in ids]
        params = {
            "advertiser_id": digits(advertiser_id, "advertiser id"),
            "report_type": "BASIC",
            "data_level": DATA_LEVELS[level],
            "dimensions": [f"{level}_id", "stat_time_day"],
            "metrics": list(metrics),
            "start_date": since.isoformat(),
            "end_date": until.isoformat(),
            "filtering": [
                {"field_name": f"{level}_ids", "filter_type": "IN", "filter_value": json.dumps(checked)},
            ],
        }
        async for item in self.pages("/report/integrated/get/", params, page_size=page_size):
            dimensions, values = item.get("dimensions"), item.get("metrics")
            if isinstance(dimensions, dict) and isinstance(values, dict):
                yield ReportRow(dimensions=dimensions, metrics=values)
