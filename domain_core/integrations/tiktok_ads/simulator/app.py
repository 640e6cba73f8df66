"""The TikTok Marketing API (v1.3) in memory: advertisers, campaigns / ad groups / ads, image uploads, status and
budget / bid updates, targeting lookups and the integrated report from the shared delivery model.

Shapes follow shared/reference/platform_apis.md §4 (``[~]`` = secondary material):

* auth: an ``Access-Token`` header (a ``Bearer`` header is not read: TikTok answers 40105 to it); no token →
  40104, an unknown or revoked one → 40105 [~ codes]; a token reaches the advertisers :meth:`TikTokAdsSimulator.grant`
  gave it (a non-numeric account name gets a stable 19-digit id, :meth:`advertiser_id_of`), others answer 40004
  (no permission) [~];
* every answer is HTTP 200 ``{code, message, request_id, data}``, ``code`` 0 = OK (§4 "Envelope"); throttling is
  40100 in a 200 (§4 matrix: no back-off hint), parameter errors 40001 (missing) / 40002 (invalid), system errors
  50000; a gateway 5xx is a real HTTP 5xx with a 50002 envelope;
* GET parameters that are arrays or objects arrive JSON encoded (§4 "Reports"); POST bodies are JSON; the image
  upload is multipart (``upload_type=UPLOAD_BY_FILE``, ``image_signature`` = MD5 of ``image_file``) [~];
* creates check what §4 lists: campaigns ``campaign_name`` (≤512, unique in the advertiser [~]), ``objective_type``,
  ``budget_mode`` and ``budget`` (major units; at least 50 a day, 5000 in zero-decimal currencies [~]); ad groups
  ``campaign_id, adgroup_name, billing_event`` plus placements, locations, bidding (``bid_price`` needs
  BID_TYPE_CUSTOM) and no own budget under a budget-optimised campaign (40002 [~]); ads ``creatives`` with a
  SINGLE_IMAGE format, an uploaded ``image_ids`` entry, ``ad_text`` ≤100 and ``landing_page_url``; single images
  are refused on TikTok-only placements (§4 "Single static image in-feed ads are rejected (error 40002)");
* lists page with ``page``/``page_size`` and ``page_info{page, page_size, total_number, total_page}`` (§4 [~]);
* the report: ``report/integrated/get/`` BASIC at AUCTION_CAMPAIGN / ADGROUP / AD, ``dimensions`` [<level>_id,
  stat_time_day], metrics as strings, at most 30 days a call [~] and 100 filtered ids (§4). Delivery comes from
  :mod:`..model.ad_performance` (TikTok in-feed benchmarks) for the time each ad, its ad group and its campaign
  were ENABLE (status changes stamped with the simulator's clock), under the current budget; days without
  impressions have no row [~];
* customer files (business-api.tiktok.com docs via tiktok/tiktok-business-api-sdk AudienceApi): ``POST
  dmp/custom_audience/file/upload/`` (multipart ``advertiser_id, calculate_type, file_signature`` = MD5 of
  ``file``; one SHA-256 hex digest a line [~]) → ``{file_path}``; ``POST dmp/custom_audience/create/``
  ``{advertiser_id, custom_audience_name ≤128, calculate_type, file_paths}`` (every file of the audience's own
  calculate_type, as the SDK's CustomAudienceUpdateBody says) → ``{custom_audience_id}``; ``GET
  dmp/custom_audience/get/?custom_audience_ids=[…]`` → ``{list: [{audience_details: {audience_id, name,
  cover_num, is_valid, calculate_type}}]}`` [~ field set]. A file audience covers ``MATCH_RATE`` of its distinct
  digests [~ modelling]. Ad groups take ``audience_ids`` of this advertiser's audiences;
* ``POST ad/audience_size/estimate/`` with an ad group's targeting → ``{user_count: {lower_end, upper_end},
  user_count_stage}`` (response fields as the SDK-derived typings show; the request fields are the ad group's
  [~]), sized by :mod:`..model.audience_reach`; delivery uses the same reach.
"""

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pycountry
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.integrations.model.ad_limits import days, exponent, minor_unit
from promptsales.domain_core.integrations.model.ad_performance import (
    TIKTOK_IN_FEED,
    CreativeSignal,
    DayResult,
    ServingAd,
    StatusTimeline,
    campaign_day,
    serving_fraction,
)
from promptsales.domain_core.integrations.model.audience_reach import matched, reach_range, targeted_reach
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.simulator_kit import Faults
from promptsales.domain_core.shared.clock import utc_now

API_PREFIX = urlsplit(get_connector("tiktok_ads").sandbox_base_url).path  # "/open_api/v1.3"
OBJECTIVES = (
    "REACH",
    "TRAFFIC",
    "VIDEO_VIEWS",
    "ENGAGEMENT",
    "LEAD_GENERATION",
    "WEB_CONVERSIONS",
    "APP_PROMOTION",
    "PRODUCT_SALES",
)
BUDGET_MODES = ("BUDGET_MODE_INFINITE", "BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL")
BILLING_EVENTS = ("CPC", "CPM", "OCPM", "CPV")
GOALS = ("CLICK", "CONVERT", "REACH", "SHOW", "VIDEO_VIEW")
BID_TYPES = ("BID_TYPE_NO_BID", "BID_TYPE_CUSTOM")
PLACEMENT_TYPES = ("PLACEMENT_TYPE_AUTOMATIC", "PLACEMENT_TYPE_NORMAL")
PLACEMENTS = ("PLACEMENT_TIKTOK", "PLACEMENT_PANGLE", "PLACEMENT_GLOBAL_APP_BUNDLE")
AGE_GROUPS: Mapping[str, tuple[int, int]] = {
    "AGE_13_17": (13, 17),
    "AGE_18_24": (18, 24),
    "AGE_25_34": (25, 34),
    "AGE_35_44": (35, 44),
    "AGE_45_54": (45, 54),
    "AGE_55_100": (55, 65),  # the delivery model's top age is 65 (it stands for 65+)
}
MATCH_RATE = 0.5  # share of a customer file's digests an audience covers [~ modelling]
CALCULATE_TYPES = ("EMAIL_SHA256", "PHONE_SHA256")
_DIGEST = re.compile(r"[0-9a-f]{64}")
CALLS_TO_ACTION = ("LEARN_MORE", "SHOP_NOW", "SIGN_UP", "CONTACT_US", "DOWNLOAD_NOW", "BOOK_NOW")
OPERATION_STATUSES = ("ENABLE", "DISABLE", "DELETE")
# Where TikTok ads do not serve [~]; the region lookup leaves them out.
NOT_SERVED = frozenset({"CN", "IN", "KP", "IR", "SY", "CU"})
INTEREST_CATEGORIES: tuple[str, ...] = (
    "Apparel & Accessories",
    "Baby, Kids & Maternity",
    "Beauty & Personal Care",
    "Business Services",
    "Education",
    "Financial Services",
    "Food & Beverage",
    "Games",
    "Health",
    "Home Improvement",
    "News & Entertainment",
    "Pets",
    "Running",
    "Software & Apps",
    "Sports & Outdoors",
    "Tech & Electronics",
    "Travel",
    "Vehicles & Transportation",
)
METRIC_FIELDS = frozenset(
    {"spend", "impressions", "clicks", "ctr", "cpc", "cpm", "conversion", "cost_per_conversion",
     "total_complete_payment_rate"}
)  # fmt: skip
REPORT_DAYS_MAX = 30
REPORT_IDS_MAX = 100
PAGE_SIZE_MAX = 1000
IMAGE_BYTES_MAX = 500 * 1024
DAILY_BUDGET_MIN = 50  # major units (5000 in zero-decimal currencies) [~]


class _ApiError(Exception):
    """An answer in TikTok's envelope (HTTP 200 unless ``http_status`` says otherwise)."""

    def __init__(self, code: int, message: str, *, http_status: int = 200) -> None:
        super().__init__(message)
        self.code, self.message, self.http_status = code, message, http_status


def _missing(name: str) -> _ApiError:
    return _ApiError(40001, f"{name}: Missing data for required field.")


def _invalid(name: str, reason: str) -> _ApiError:
    return _ApiError(40002, f"{name}: {reason}")


def location_id(alpha_2: str) -> str:
    """The simulator's location id of a country (live ids are GeoNames ids, read from tool/region/)."""
    country = pycountry.countries.get(alpha_2=alpha_2)
    if country is None:
        raise KeyError(alpha_2)
    return str(6_000_000 + int(country.numeric) * 100)


def interest_id(name: str) -> str:
    """The simulator's id of an interest category."""
    return str(10_000 + INTEREST_CATEGORIES.index(name) * 7)


_COUNTRY_OF: dict[str, str] = {}


def _country_of(location: str) -> str | None:
    if not _COUNTRY_OF:
        _COUNTRY_OF.update({location_id(c.alpha_2): c.alpha_2 for c in pycountry.countries})
    return _COUNTRY_OF.get(location)


@dataclass
class _Advertiser:
    id: str
    name: str
    currency: str
    time_zone: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → object (with "_level")
    images: dict[str, dict[str, Any]] = field(default_factory=dict)  # image id → image
    timelines: dict[str, StatusTimeline] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # file_path → {calculate_type, digests}
    audiences: dict[str, dict[str, Any]] = field(default_factory=dict)  # audience id → audience
    next_id: int = 0

    def new_id(self) -> str:
        self.next_id += 1
        return f"17{self.id[-8:].rjust(8, '0')}{self.next_id:09d}"


@dataclass
class _Token:
    advertisers: list[str] = field(default_factory=list)
    revoked: bool = False


class TikTokAdsSimulator:
    """TikTok's Marketing API for several advertisers. ``.app`` serves it; ``grant`` / ``revoke`` / ``fail_next`` act
    as TikTok would; ``requests`` logs (method, path) of every call that reached it."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        requests_per_minute: int | None = None,
        currency: str = "USD",
        time_zone: str = "UTC",
    ) -> None:
        ZoneInfo(time_zone)
        self._clock = clock
        self._per_minute = requests_per_minute
        self._currency, self._time_zone = currency.upper(), time_zone
        self._tokens: dict[str, _Token] = {}
        self._advertisers: dict[str, _Advertiser] = {}
        self._faults = Faults()
        self._window: tuple[int, int] = (-1, 0)
        self._calls = 0
        self.requests: list[tuple[str, str]] = []
        for token, account in (tokens or {}).items():
            self.grant(token, account)
        self.app = Starlette(routes=[Route(API_PREFIX + "/{rest:path}", self._endpoint, methods=["GET", "POST"])])

    # --- acting as TikTok ----------------------------------------------------------------------------------------

    @staticmethod
    def advertiser_id_of(account: str) -> str:
        """The advertiser id ``grant`` gives ``account`` (its own digits when it is already one)."""
        if account.isdigit():
            return account
        number = int.from_bytes(hashlib.blake2b(account.encode(), digest_size=8).digest(), "big")
        return str(7_000_000_000_000_000_000 + number % 1_000_000_000_000_000_000)

    def open_advertiser(self, account: str, *, name: str | None = None) -> str:
        """Create the advertiser ``account`` (once) and return its id; ``name`` renames it."""
        advertiser = self.advertiser_id_of(account)
        if advertiser not in self._advertisers:
            self._advertisers[advertiser] = _Advertiser(advertiser, account, self._currency, self._time_zone)
        if name:
            self._advertisers[advertiser].name = name
        return advertiser

    def grant(self, token: str, account: str) -> None:
        """``token`` becomes a valid access token for the advertiser ``account`` (created on first use)."""
        advertiser = self.open_advertiser(account)
        entry = self._tokens.setdefault(token, _Token())
        entry.revoked = False
        if advertiser not in entry.advertisers:
            entry.advertisers.append(advertiser)

    def revoke(self, token: str) -> None:
        """``token`` now answers 40105 (the advertiser removed the app's authorization)."""
        self._tokens.setdefault(token, _Token()).revoked = True

    def fail_next(self, status: int, *, times: int = 1, after_apply: bool = False) -> None:
        """The next ``times`` calls fail: 429 is code 40100 in an HTTP 200; 500 is code 50000 in an HTTP 200; other
        5xx are that HTTP status with a 50002 envelope. With ``after_apply`` a write is applied first and only its
        answer is lost."""
        if status != 429 and not 500 <= status <= 599:
            raise ValueError("fail_next takes 429 or a 5xx status")
        self._faults.add(status, times=times, after_apply=after_apply)

    def objects(self, account: str, level: str) -> list[dict[str, Any]]:
        """An advertiser's stored campaigns / adgroups / ads (for tests)."""
        stored = self._advertisers[self.advertiser_id_of(account)]
        return [dict(o) for o in stored.objects.values() if o["_level"] == level]

    def images(self, account: str) -> list[dict[str, Any]]:
        """An advertiser's uploaded images (for tests)."""
        return list(self._advertisers[self.advertiser_id_of(account)].images.values())

    # --- pipeline ------------------------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        self._calls += 1
        request_id = f"2026{self._calls:016d}"
        try:
            token = self._authenticate(request)
            late = self._fault()
            self._spend_rate()
            data = await self._dispatch(request, request.path_params["rest"].strip("/"), token)
            if late is not None:
                raise late
        except _ApiError as error:
            document = {"code": error.code, "message": error.message, "request_id": request_id, "data": {}}
            return Response(json.dumps(document), error.http_status, media_type="application/json")
        document = {"code": 0, "message": "OK", "request_id": request_id, "data": data}
        return Response(json.dumps(document), 200, media_type="application/json")

    def _authenticate(self, request: Request) -> _Token:
        token = request.headers.get("access-token", "")
        if not token:
            raise _ApiError(40104, "Access token is null, please check your Access-Token header.")
        entry = self._tokens.get(token)
        if entry is None or entry.revoked:
            raise _ApiError(40105, "The access token is invalid or has been revoked.")
        return entry

    def _fault(self) -> _ApiError | None:
        fault = self._faults.take()
        if fault is None:
            return None
        if fault.status == 429:
            error = _ApiError(40100, "Too many requests. Please retry in some time.")
        elif fault.status == 500:
            error = _ApiError(50000, "System error, please try again later.")
        else:
            error = _ApiError(50002, "Server busy.", http_status=fault.status)
        if fault.after_apply:
            return error
        raise error

    def _spend_rate(self) -> None:
        if self._per_minute is None:
            return
        minute = math.floor(self._clock().timestamp() / 60)
        current, used = self._window
        used = used + 1 if current == minute else 1
        self._window = (minute, used)
        if used > self._per_minute:
            raise _ApiError(40100, "Too many requests. Please retry in some time.")

    def _advertiser(self, token: _Token, value: Any) -> _Advertiser:
        advertiser = str(value or "")
        if not advertiser:
            raise _missing("advertiser_id")
        if advertiser not in token.advertisers or advertiser not in self._advertisers:
            raise _ApiError(40004, f"No permission to operate advertiser {advertiser}.")
        return self._advertisers[advertiser]

    async def _dispatch(self, request: Request, rest: str, token: _Token) -> Any:
        if request.method == "GET":
            params = self._query(request)
            if rest == "user/info":
                user = hashlib.blake2b(",".join(token.advertisers).encode(), digest_size=6).hexdigest()
                return {"display_name": "Sandbox advertiser user", "id": str(int(user, 16))}
            if rest == "advertiser/info":
                return self._advertiser_info(token, params)
            advertiser = self._advertiser(token, params.get("advertiser_id"))
            if rest == "tool/region":
                return self._regions()
            if rest == "tool/interest_category":
                return {
                    "interest_categories": [
                        {"interest_category_id": interest_id(n), "interest_category_name": n, "level": 1}
                        for n in INTEREST_CATEGORIES
                    ]
                }
            if rest in ("campaign/get", "adgroup/get", "ad/get"):
                return self._list(advertiser, rest.split("/")[0], params)
            if rest == "report/integrated/get":
                return self._report(advertiser, params)
            if rest == "dmp/custom_audience/get":
                return self._audiences(advertiser, params)
        elif rest == "file/image/ad/upload":
            return await self._upload(request, token)
        elif rest == "dmp/custom_audience/file/upload":
            return await self._upload_file(request, token)
        else:
            body = await self._json(request)
            advertiser = self._advertiser(token, body.get("advertiser_id"))
            if rest == "campaign/create":
                return {"campaign_id": self._create_campaign(advertiser, body)}
            if rest == "adgroup/create":
                return {"adgroup_id": self._create_adgroup(advertiser, body)}
            if rest == "ad/create":
                return {"ad_ids": self._create_ads(advertiser, body)}
            if rest == "dmp/custom_audience/create":
                return {"custom_audience_id": self._create_audience(advertiser, body)}
            if rest == "ad/audience_size/estimate":
                return self._estimate(advertiser, body)
            if rest in ("campaign/status/update", "adgroup/status/update", "ad/status/update"):
                return self._set_status(advertiser, rest.split("/")[0], body)
            if rest == "campaign/update":
                return self._update_campaign(advertiser, body)
            if rest == "adgroup/update":
                return self._update_adgroup(advertiser, body)
        raise _ApiError(40002, f"Unknown endpoint: {request.method} /{rest}/", http_status=404)

    @staticmethod
    def _query(request: Request) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, raw in request.query_params.items():
            try:
                params[name] = json.loads(raw) if raw[:1] in ("[", "{") else raw
            except ValueError:
                raise _invalid(name, "must be JSON.") from None
        return params

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise _ApiError(40002, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _ApiError(40002, "The request body must be a JSON object.")
        return body

    # --- accounts and lookups ------------------------------------------------------------------------------------

    def _advertiser_info(self, token: _Token, params: Mapping[str, Any]) -> dict[str, Any]:
        ids = params.get("advertiser_ids")
        if not isinstance(ids, list) or not ids:
            raise _missing("advertiser_ids")
        rows = []
        for value in ids:
            advertiser = self._advertiser(token, value)
            rows.append(
                {
                    "advertiser_id": advertiser.id,
                    "name": advertiser.name,
                    "currency": advertiser.currency,
                    "timezone": advertiser.time_zone,
                    "display_timezone": advertiser.time_zone,
                    "status": "STATUS_ENABLE",
                }
            )
        return {"list": rows}

    @staticmethod
    def _regions() -> dict[str, Any]:
        return {
            "region_info": [
                {
                    "location_id": location_id(c.alpha_2),
                    "name": c.name,
                    "region_code": c.alpha_2,
                    "level": "COUNTRY",
                    "parent_id": "0",
                }
                for c in pycountry.countries
                if c.alpha_2 not in NOT_SERVED
            ]
        }

    # --- creates -------------------------------------------------------------------------------------------------

    @staticmethod
    def _text(body: Mapping[str, Any], name: str, *, limit: int) -> str:
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _missing(name)
        if not isinstance(value, str) or len(value) > limit:
            raise _invalid(name, f"must be a string of at most {limit} characters.")
        return value

    @staticmethod
    def _enum(body: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = body.get(name, default)
        if value is None:
            raise _missing(name)
        if value not in allowed:
            raise _invalid(name, f"must be one of {', '.join(allowed)}.")
        return str(value)

    def _money(self, advertiser: _Advertiser, value: Any, name: str, *, minimum: Decimal) -> Decimal:
        try:
            amount = Decimal(str(value)) if not isinstance(value, bool) and value is not None else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise _invalid(name, "must be a number.")
        if amount != amount.quantize(minor_unit(advertiser.currency)):
            raise _invalid(name, f"has more decimals than {advertiser.currency} allows.")
        if amount < minimum:
            raise _invalid(name, f"must be at least {minimum} {advertiser.currency}.")
        return amount.quantize(minor_unit(advertiser.currency))

    def _budget_min(self, advertiser: _Advertiser) -> Decimal:
        return Decimal(DAILY_BUDGET_MIN * (100 if exponent(advertiser.currency) == 0 else 1))

    def _owned(self, advertiser: _Advertiser, value: Any, level: str, name: str) -> dict[str, Any]:
        stored = advertiser.objects.get(str(value or ""))
        if value in (None, ""):
            raise _missing(name)
        if stored is None or stored["_level"] != level:
            raise _ApiError(40003, f"{name}: {value} does not exist in advertiser {advertiser.id}.")
        if stored["operation_status"] == "DELETE":
            raise _invalid(name, f"{value} was deleted.")
        return stored

    def _store(self, advertiser: _Advertiser, level: str, entity: dict[str, Any]) -> str:
        object_id = advertiser.new_id()
        now = self._clock()
        entity.update({f"{level}_id": object_id, "_level": level, "create_time": now.strftime("%Y-%m-%d %H:%M:%S")})
        advertiser.objects[object_id] = entity
        timeline = StatusTimeline()
        advertiser.timelines[object_id] = (
            timeline.changed(now, True) if entity["operation_status"] == "ENABLE" else timeline
        )
        return object_id

    def _create_campaign(self, advertiser: _Advertiser, body: Mapping[str, Any]) -> str:
        name = self._text(body, "campaign_name", limit=512)
        if any(o["_level"] == "campaign" and o["campaign_name"] == name and o["operation_status"] != "DELETE"
               for o in advertiser.objects.values()):  # fmt: skip
            raise _invalid("campaign_name", "Campaign name already exists.")
        entity: dict[str, Any] = {
            "campaign_name": name,
            "advertiser_id": advertiser.id,
            "objective_type": self._enum(body, "objective_type", OBJECTIVES),
            "budget_mode": self._enum(body, "budget_mode", BUDGET_MODES),
            "operation_status": self._enum(body, "operation_status", ("ENABLE", "DISABLE"), "ENABLE"),
            "budget_optimize_on": bool(body.get("budget_optimize_on", False)),
        }
        if entity["budget_mode"] == "BUDGET_MODE_INFINITE":
            entity["budget"] = "0.0"
        else:
            if body.get("budget") is None:
                raise _missing("budget")
            entity["budget"] = str(
                self._money(advertiser, body["budget"], "budget", minimum=self._budget_min(advertiser))
            )
        return self._store(advertiser, "campaign", entity)

    def _create_adgroup(self, advertiser: _Advertiser, body: Mapping[str, Any]) -> str:
        campaign = self._owned(advertiser, body.get("campaign_id"), "campaign", "campaign_id")
        entity: dict[str, Any] = {
            "adgroup_name": self._text(body, "adgroup_name", limit=512),
            "advertiser_id": advertiser.id,
            "campaign_id": campaign["campaign_id"],
            "billing_event": self._enum(body, "billing_event", BILLING_EVENTS),
            "optimization_goal": self._enum(body, "optimization_goal", GOALS, "CLICK"),
            "placement_type": self._enum(body, "placement_type", PLACEMENT_TYPES, "PLACEMENT_TYPE_AUTOMATIC"),
            "bid_type": self._enum(body, "bid_type", BID_TYPES, "BID_TYPE_NO_BID"),
            "schedule_type": self._enum(body, "schedule_type", ("SCHEDULE_FROM_NOW", "SCHEDULE_START_END")),
            "operation_status": self._enum(body, "operation_status", ("ENABLE", "DISABLE"), "ENABLE"),
            "gender": self._enum(
                body, "gender", ("GENDER_UNLIMITED", "GENDER_MALE", "GENDER_FEMALE"), "GENDER_UNLIMITED"
            ),
        }
        if entity["placement_type"] == "PLACEMENT_TYPE_NORMAL":
            placements = body.get("placements")
            if not isinstance(placements, list) or not placements or not set(placements) <= set(PLACEMENTS):
                raise _invalid("placements", f"give one or more of {', '.join(PLACEMENTS)}.")
            entity["placements"] = placements
        entity.update(self._targeting(advertiser, body))
        if entity["bid_type"] == "BID_TYPE_CUSTOM":
            if body.get("bid_price") is None:
                raise _missing("bid_price")
            entity["bid_price"] = str(
                self._money(advertiser, body["bid_price"], "bid_price", minimum=minor_unit(advertiser.currency))
            )
        elif body.get("bid_price") is not None:
            raise _invalid("bid_price", "needs bid_type BID_TYPE_CUSTOM.")
        if body.get("budget") is not None:
            if campaign["budget_optimize_on"] or campaign["budget_mode"] != "BUDGET_MODE_INFINITE":
                raise _invalid("budget", "The campaign has its own budget (budget optimisation): ad groups take none.")
            entity["budget_mode"] = self._enum(body, "budget_mode", ("BUDGET_MODE_DAY",))
            entity["budget"] = str(
                self._money(advertiser, body["budget"], "budget", minimum=self._budget_min(advertiser) * 2 / 5)
            )
        return self._store(advertiser, "adgroup", entity)

    @staticmethod
    def _targeting(advertiser: _Advertiser, body: Mapping[str, Any]) -> dict[str, Any]:
        """An ad group's (or an estimate's) checked targeting: locations, age groups, interests, audiences."""
        locations = body.get("location_ids")
        if not isinstance(locations, list) or not locations:
            raise _missing("location_ids")
        if not all(_country_of(str(v)) for v in locations):
            raise _invalid("location_ids", "contains an unknown location id.")
        ages = body.get("age_groups", [])
        if not isinstance(ages, list) or not set(ages) <= set(AGE_GROUPS):
            raise _invalid("age_groups", f"values are {', '.join(AGE_GROUPS)}.")
        interests = body.get("interest_category_ids", [])
        known = {interest_id(n): n for n in INTEREST_CATEGORIES}
        if not isinstance(interests, list) or not all(str(i) in known for i in interests):
            raise _invalid("interest_category_ids", "contains an unknown interest category.")
        audiences = body.get("audience_ids", [])
        if not isinstance(audiences, list) or not all(str(a) in advertiser.audiences for a in audiences):
            raise _invalid("audience_ids", "contains an audience this advertiser does not have.")
        return {
            "location_ids": [str(v) for v in locations],
            "age_groups": ages,
            "interest_category_ids": [str(i) for i in interests],
            "audience_ids": [str(a) for a in audiences],
        }

    @staticmethod
    def _reach(advertiser: _Advertiser, targeting: Mapping[str, Any]) -> int:
        """The people a targeting reaches, customer files included (the shared audience model)."""
        countries = [c for c in (_country_of(v) for v in targeting["location_ids"]) if c]
        spans = [AGE_GROUPS[a] for a in targeting["age_groups"]] or [(18, 65)]
        interests = [n for n in INTEREST_CATEGORIES if interest_id(n) in targeting["interest_category_ids"]]
        lists = [advertiser.audiences[a]["cover_num"] for a in targeting.get("audience_ids", [])]
        return targeted_reach(countries, min(s[0] for s in spans), max(s[1] for s in spans), interests, lists)

    def _estimate(self, advertiser: _Advertiser, body: Mapping[str, Any]) -> dict[str, Any]:
        self._enum(body, "objective_type", OBJECTIVES)
        lower, upper = reach_range(self._reach(advertiser, self._targeting(advertiser, body)))
        return {"user_count": {"lower_end": lower, "upper_end": upper}, "user_count_stage": 2}

    async def _upload_file(self, request: Request, token: _Token) -> dict[str, Any]:
        async with request.form() as form:
            advertiser = self._advertiser(token, form.get("advertiser_id"))
            calculate_type = str(form.get("calculate_type") or "")
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise _missing("file")
            raw = await upload.read()
            signature = str(form.get("file_signature") or "")
        if calculate_type not in CALCULATE_TYPES:
            raise _invalid("calculate_type", f"this sandbox takes {', '.join(CALCULATE_TYPES)}.")
        if signature != hashlib.md5(raw, usedforsecurity=False).hexdigest():
            raise _invalid("file_signature", "does not match the MD5 of file.")
        lines = [line.strip() for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]
        digests = {line for line in lines if _DIGEST.fullmatch(line)}
        if not digests:
            raise _invalid("file", f"holds no {calculate_type} values (one SHA-256 hex digest a line).")
        file_path = f"dmp/{advertiser.id}/{signature}.txt"
        advertiser.files[file_path] = {"calculate_type": calculate_type, "digests": digests}
        return {"file_path": file_path}

    def _create_audience(self, advertiser: _Advertiser, body: Mapping[str, Any]) -> str:
        name = self._text(body, "custom_audience_name", limit=128)
        calculate_type = self._enum(body, "calculate_type", CALCULATE_TYPES)
        paths = body.get("file_paths")
        if not isinstance(paths, list) or not paths:
            raise _missing("file_paths")
        files = [advertiser.files.get(str(p)) for p in paths]
        if any(f is None for f in files):
            raise _invalid("file_paths", "Upload the file first (dmp/custom_audience/file/upload/).")
        if any(f["calculate_type"] != calculate_type for f in files if f is not None):
            raise _invalid("calculate_type", "every file must use the audience's calculate_type.")
        digests: set[str] = set().union(*(f["digests"] for f in files if f is not None))
        audience_id = advertiser.new_id()
        advertiser.audiences[audience_id] = {
            "audience_id": audience_id,
            "name": name,
            "calculate_type": calculate_type,
            "audience_type": "Customer File",
            "cover_num": matched(len(digests), MATCH_RATE),
            "is_valid": True,
            "is_expiring": False,
        }
        return audience_id

    def _audiences(self, advertiser: _Advertiser, params: Mapping[str, Any]) -> dict[str, Any]:
        wanted = params.get("custom_audience_ids")
        if not isinstance(wanted, list) or not wanted:
            raise _missing("custom_audience_ids")
        unknown = [a for a in wanted if str(a) not in advertiser.audiences]
        if unknown:
            raise _invalid("custom_audience_ids", f"audience {unknown[0]} does not exist.")
        return {"list": [{"audience_details": dict(advertiser.audiences[str(a)])} for a in wanted]}

    def _create_ads(self, advertiser: _Advertiser, body: Mapping[str, Any]) -> list[str]:
        adgroup = self._owned(advertiser, body.get("adgroup_id"), "adgroup", "adgroup_id")
        creatives = body.get("creatives")
        if not isinstance(creatives, list) or not creatives:
            raise _missing("creatives")
        status = self._enum(body, "operation_status", ("ENABLE", "DISABLE"), "ENABLE")
        made: list[dict[str, Any]] = []
        for creative in creatives:
            if not isinstance(creative, dict):
                raise _invalid("creatives", "each creative is an object.")
            ad_format = self._enum(creative, "ad_format", ("SINGLE_IMAGE", "SINGLE_VIDEO", "CAROUSEL_ADS"))
            if ad_format != "SINGLE_IMAGE":
                raise _invalid("video_id", "The video does not exist (this sandbox takes SINGLE_IMAGE ads).")
            if adgroup["placement_type"] == "PLACEMENT_TYPE_NORMAL" and adgroup.get("placements") == [
                "PLACEMENT_TIKTOK"
            ]:
                raise _invalid("ad_format", "Single image ads are not supported on the TikTok placement.")
            images = creative.get("image_ids")
            if not isinstance(images, list) or not images or not all(str(i) in advertiser.images for i in images):
                raise _invalid("image_ids", "Upload the image first (file/image/ad/upload/).")
            url = self._text(creative, "landing_page_url", limit=2048)
            if not url.startswith(("https://", "http://")):
                raise _invalid("landing_page_url", "must be a web address.")
            made.append(
                {
                    "ad_name": self._text(creative, "ad_name", limit=512),
                    "ad_format": ad_format,
                    "image_ids": [str(i) for i in images],
                    "ad_text": self._text(creative, "ad_text", limit=100),
                    "display_name": self._text(creative, "display_name", limit=40),
                    "call_to_action": self._enum(creative, "call_to_action", CALLS_TO_ACTION, "LEARN_MORE"),
                    "landing_page_url": url,
                    "advertiser_id": advertiser.id,
                    "adgroup_id": adgroup["adgroup_id"],
                    "campaign_id": adgroup["campaign_id"],
                    "operation_status": status,
                }
            )
        return [self._store(advertiser, "ad", entity) for entity in made]

    async def _upload(self, request: Request, token: _Token) -> dict[str, Any]:
        async with request.form() as form:
            advertiser = self._advertiser(token, form.get("advertiser_id"))
            if form.get("upload_type") != "UPLOAD_BY_FILE":
                raise _invalid("upload_type", "this sandbox takes UPLOAD_BY_FILE.")
            upload = form.get("image_file")
            if not isinstance(upload, UploadFile):
                raise _missing("image_file")
            raw = await upload.read()
            signature = str(form.get("image_signature") or "")
            file_name = str(form.get("file_name") or upload.filename or "image")
        if not signature:
            raise _missing("image_signature")
        md5 = hashlib.md5(raw, usedforsecurity=False).hexdigest()
        if signature != md5:
            raise _invalid("image_signature", "does not match the MD5 of image_file.")
        if not raw.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise _ApiError(51001, "image_file: the image could not be processed (PNG or JPEG).")
        if len(raw) > IMAGE_BYTES_MAX:
            raise _invalid("image_file", "The image is larger than 500 KB.")
        image_id = f"ad-site-i18n-sg/{md5}"
        image = {
            "image_id": image_id,
            "signature": md5,
            "size": len(raw),
            "format": "png" if raw.startswith(b"\x89PNG") else "jpeg",
            "file_name": file_name,
            "image_url": f"https://p16-sign.sandbox.promptsales.invalid/{md5}.png",
        }
        advertiser.images[image_id] = image
        return image

    # --- changes -------------------------------------------------------------------------------------------------

    def _set_status(self, advertiser: _Advertiser, level: str, body: Mapping[str, Any]) -> dict[str, Any]:
        ids = body.get(f"{level}_ids")
        if not isinstance(ids, list) or not ids:
            raise _missing(f"{level}_ids")
        status = self._enum(body, "operation_status", OPERATION_STATUSES)
        stored = [self._owned(advertiser, i, level, f"{level}_ids") for i in ids]
        now = self._clock()
        for entity in stored:
            entity["operation_status"] = status
            object_id = entity[f"{level}_id"]
            advertiser.timelines[object_id] = advertiser.timelines.get(object_id, StatusTimeline()).changed(
                now, status == "ENABLE"
            )
        return {f"{level}_ids": [e[f"{level}_id"] for e in stored]}

    def _update_campaign(self, advertiser: _Advertiser, body: Mapping[str, Any]) -> dict[str, Any]:
        campaign = self._owned(advertiser, body.get("campaign_id"), "campaign", "campaign_id")
        for name in body:
            if name not in ("advertiser_id", "campaign_id", "campaign_name", "budget"):
                raise _invalid(name, "cannot be changed after creation.")
        if "budget" in body:
            if campaign["budget_mode"] == "BUDGET_MODE_INFINITE":
                raise _invalid("budget", "the campaign has no budget (BUDGET_MODE_INFINITE).")
            campaign["budget"] = str(
                self._money(advertiser, body["budget"], "budget", minimum=self._budget_min(advertiser))
            )
        if "campaign_name" in body:
            campaign["campaign_name"] = self._text(body, "campaign_name", limit=512)
        return {"campaign_id": campaign["campaign_id"]}

    def _update_adgroup(self, advertiser: _Advertiser, body: Mapping[str, Any]) -> dict[str, Any]:
        adgroup = self._owned(advertiser, body.get("adgroup_id"), "adgroup", "adgroup_id")
        for name in body:
            if name not in ("advertiser_id", "adgroup_id", "adgroup_name", "bid_type", "bid_price"):
                raise _invalid(name, "cannot be changed here.")
        bid_type = self._enum(body, "bid_type", BID_TYPES, adgroup["bid_type"])
        if "bid_price" in body:
            if bid_type != "BID_TYPE_CUSTOM":
                raise _invalid("bid_price", "needs bid_type BID_TYPE_CUSTOM.")
            adgroup["bid_price"] = str(
                self._money(advertiser, body["bid_price"], "bid_price", minimum=minor_unit(advertiser.currency))
            )
        elif bid_type == "BID_TYPE_CUSTOM" and adgroup.get("bid_price") is None:
            raise _missing("bid_price")
        adgroup["bid_type"] = bid_type
        if bid_type == "BID_TYPE_NO_BID":
            adgroup.pop("bid_price", None)
        if "adgroup_name" in body:
            adgroup["adgroup_name"] = self._text(body, "adgroup_name", limit=512)
        return {"adgroup_id": adgroup["adgroup_id"]}

    # --- reads ---------------------------------------------------------------------------------------------------

    @staticmethod
    def _page(rows: list[dict[str, Any]], params: Mapping[str, Any]) -> dict[str, Any]:
        try:
            page, size = int(params.get("page", 1)), int(params.get("page_size", 10))
        except (TypeError, ValueError):
            raise _invalid("page", "page and page_size are whole numbers.") from None
        if page < 1 or not 0 < size <= PAGE_SIZE_MAX:
            raise _invalid("page_size", f"page ≥ 1 and page_size 1-{PAGE_SIZE_MAX}.")
        total_page = max(1, math.ceil(len(rows) / size))
        return {
            "list": rows[(page - 1) * size : page * size],
            "page_info": {"page": page, "page_size": size, "total_number": len(rows), "total_page": total_page},
        }

    def _view(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        level = entity["_level"]
        view = {k: v for k, v in entity.items() if not k.startswith("_")}
        view["secondary_status"] = f"{level.upper()}_STATUS_{entity['operation_status']}"
        return view

    def _list(self, advertiser: _Advertiser, level: str, params: Mapping[str, Any]) -> dict[str, Any]:
        filtering = params.get("filtering") or {}
        if not isinstance(filtering, dict):
            raise _invalid("filtering", "must be a JSON object.")
        wanted = filtering.get(f"{level}_ids")
        rows = [
            self._view(o)
            for o in advertiser.objects.values()
            if o["_level"] == level and (wanted is None or o[f"{level}_id"] in {str(w) for w in wanted})
        ]
        return self._page(rows, params)

    def _report(self, advertiser: _Advertiser, params: Mapping[str, Any]) -> dict[str, Any]:
        if params.get("report_type") != "BASIC":
            raise _invalid("report_type", "this sandbox serves BASIC reports.")
        levels = {"AUCTION_CAMPAIGN": "campaign", "AUCTION_ADGROUP": "adgroup", "AUCTION_AD": "ad"}
        level = levels.get(str(params.get("data_level")))
        if level is None:
            raise _invalid("data_level", f"one of {', '.join(levels)}.")
        dimensions = params.get("dimensions")
        if not isinstance(dimensions, list) or set(dimensions) != {f"{level}_id", "stat_time_day"}:
            raise _invalid("dimensions", f'this sandbox serves ["{level}_id", "stat_time_day"].')
        metrics = params.get("metrics")
        if not isinstance(metrics, list) or not metrics or not set(metrics) <= METRIC_FIELDS:
            raise _invalid("metrics", f"known metrics: {', '.join(sorted(METRIC_FIELDS))}.")
        try:
            since = date.fromisoformat(str(params.get("start_date")))
            until = date.fromisoformat(str(params.get("end_date")))
        except ValueError:
            raise _invalid("start_date", "start_date and end_date are YYYY-MM-DD.") from None
        if until < since or (until - since).days + 1 > REPORT_DAYS_MAX:
            raise _invalid("end_date", f"the range is 1-{REPORT_DAYS_MAX} days.")
        wanted: set[str] | None = None
        for rule in params.get("filtering") or []:
            if isinstance(rule, dict) and rule.get("field_name") == f"{level}_ids" and rule.get("filter_type") == "IN":
                try:
                    values = json.loads(str(rule.get("filter_value", "[]")))
                except ValueError:
                    raise _invalid("filtering", "filter_value is a JSON list.") from None
                if not isinstance(values, list) or len(values) > REPORT_IDS_MAX:
                    raise _invalid("filtering", f"filter at most {REPORT_IDS_MAX} ids.")
                wanted = {str(v) for v in values}
        now = self._clock()
        today = now.astimezone(ZoneInfo(advertiser.time_zone)).date()
        rows: list[dict[str, Any]] = []
        for day in days(since, min(until, today)):
            totals: dict[str, DayResult] = {}
            for ad_id, result in self._deliveries(advertiser, day, now).items():
                ad = advertiser.objects[ad_id]
                owner = ad_id if level == "ad" else ad[f"{level}_id"]
                if wanted is not None and owner not in wanted:
                    continue
                totals[owner] = totals.get(owner, DayResult()) + result
            for owner in sorted(totals):
                total = totals[owner]
                if total.impressions == 0:
                    continue
                values = {
                    "spend": format(total.spend.quantize(minor_unit(advertiser.currency)), "f"),
                    "impressions": str(total.impressions),
                    "clicks": str(total.clicks),
                    "ctr": f"{100 * total.clicks / total.impressions:.2f}",
                    "cpc": f"{total.spend / total.clicks:.2f}" if total.clicks else "0.00",
                    "cpm": f"{1000 * total.spend / total.impressions:.2f}",
                    "conversion": f"{total.conversions:g}",
                    "cost_per_conversion": f"{total.spend / Decimal(str(total.conversions)):.2f}"
                    if total.conversions
                    else "0.00",
                    "total_complete_payment_rate": format(total.conversion_value, "f"),
                }
                rows.append(
                    {
                        "dimensions": {f"{level}_id": owner, "stat_time_day": f"{day.isoformat()} 00:00:00"},
                        "metrics": {m: values[m] for m in metrics},
                    }
                )
        return self._page(rows, params)

    def _deliveries(self, advertiser: _Advertiser, day: date, now: datetime) -> dict[str, DayResult]:
        results: dict[str, DayResult] = {}
        objects = advertiser.objects
        unit = minor_unit(advertiser.currency)
        groups = [o for o in objects.values() if o["_level"] == "adgroup"]
        ads = [o for o in objects.values() if o["_level"] == "ad"]
        for campaign in [o for o in objects.values() if o["_level"] == "campaign"]:
            own = [g for g in groups if g["campaign_id"] == campaign["campaign_id"]]
            if campaign["budget_mode"] == "BUDGET_MODE_DAY":
                pools = [(Decimal(campaign["budget"]), own)]  # one budget shared by every ad group (CBO)
            else:
                pools = [(Decimal(g["budget"]), [g]) for g in own if g.get("budget_mode") == "BUDGET_MODE_DAY"]
            for budget, members in pools:
                serving = self._serving(advertiser, campaign, members, ads, day, now)
                results.update(campaign_day(day, budget, serving, TIKTOK_IN_FEED, minor_unit=unit))
        return results

    @staticmethod
    def _serving(
        advertiser: _Advertiser,
        campaign: Mapping[str, Any],
        groups: list[dict[str, Any]],
        ads: list[dict[str, Any]],
        day: date,
        now: datetime,
    ) -> list[ServingAd]:
        serving: list[ServingAd] = []
        for group in groups:
            audience = TikTokAdsSimulator._reach(advertiser, group)
            bid = Decimal(group["bid_price"]) if group.get("bid_price") else None
            for ad in [a for a in ads if a["adgroup_id"] == group["adgroup_id"]]:
                timelines = [
                    advertiser.timelines.get(i, StatusTimeline())
                    for i in (campaign["campaign_id"], group["adgroup_id"], ad["ad_id"])
                ]
                creative = CreativeSignal.of([ad["display_name"]], [ad["ad_text"]], has_image=bool(ad["image_ids"]))
                fraction = serving_fraction(timelines, day, advertiser.time_zone, now)
                serving.append(ServingAd(ad["ad_id"], fraction, bid, audience, creative))
        return serving
