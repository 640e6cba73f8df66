"""The Meta Marketing API (Graph v25.0) in memory: ad accounts, campaigns / ad sets / images / creatives / ads,
updates by POST to the object id, daily insights from the shared delivery model, Graph errors, BUC throttling.

Shapes follow shared/reference/platform_apis.md §3:

* auth: ``Authorization: Bearer`` or an ``access_token`` parameter; an unknown or revoked token answers HTTP 400
  ``{"error": {type: "OAuthException", code: 190, error_subcode: 460}}`` [~ subcode]; a token reaches the ad
  accounts :meth:`MetaAdsSimulator.grant` gave it (``act_<digits>``; a non-numeric account name gets a stable id,
  :meth:`account_id_of`); others answer code 200 "permissions error" with HTTP 403 [~];
* every ad-account call is counted in an hourly window and answered with ``X-Business-Use-Case-Usage`` (keyed by
  the ad account id: ``[{type: "ads_management", call_count, total_cputime, total_time,
  estimated_time_to_regain_access, ads_api_access_tier}]``, percentages, minutes); past the window, HTTP 400 code
  613 / subcode 1487742 with ``estimated_time_to_regain_access`` set (§3 "Rate limits");
* errors are HTTP 400 ``{error:{message, type, code, error_subcode, is_transient, error_user_title,
  error_user_msg, error_data:{blame_field_specs:[[field]]}, fbtrace_id}}`` (§3 "Errors" [~];
  ``blame_field_specs`` as the Business SDKs read it [~]); 5xx answers are code 1/2 with ``is_transient: true``;
* creates need what §3 lists: campaigns ``name, objective (OUTCOME_*), status, special_ad_categories`` (required
  even empty); a campaign with ``daily_budget`` is budget-optimised, so its ad sets must omit budgets; ad sets
  ``campaign_id, billing_event, optimization_goal, targeting`` (a location is required [~]) and ``bid_amount`` for
  the capped strategies; images ``bytes`` (base64) → ``{images:{<name>:{hash, url}}}``; creatives an
  ``object_story_spec`` with one of the account's ``page_id`` s and ``link_data``; ads ``adset_id`` and
  ``creative={"creative_id"}``. Budgets and bids are integers in minor units (§3: 5000 = $50.00); the smallest
  daily budget is 100 (one unit of the currency) [~];
* insights: ``GET /act_{id}/insights`` with ``level``, ``fields``, ``time_range``, ``time_increment=1``,
  ``filtering`` (``<level>.id IN``), ``limit``/``after``; metrics are strings, ``spend`` in major units (§3
  "Insights" example); conversions are ``actions`` / ``action_values`` of type
  ``offsite_conversion.fb_pixel_lead`` (``…_purchase`` for sales campaigns) [~]; days without delivery have no
  row [~]. Delivery is the shared model for the time each ad, its ad set and its campaign were ACTIVE (status
  changes stamped with the simulator's clock), under the campaign's current budget;
* custom audiences: ``POST /act_{id}/customaudiences`` (``name``, ``subtype=CUSTOM``, ``customer_file_source``
  required [~]) and ``POST /{audience_id}/users`` with ``payload={schema, data}`` (``EMAIL_SHA256`` /
  ``PHONE_SHA256``, ≤10,000 rows; rows that are no SHA-256 hex digest count as invalid) → ``{audience_id,
  session_id, num_received, num_invalid_entries, invalid_entry_samples}``. A list matches ``MATCH_RATE`` of its
  distinct digests [~ modelling]; ``approximate_count_lower_bound`` / ``…_upper_bound`` read back the matched
  range. Ad sets may target them (``targeting.custom_audiences: [{id}]``, this account's only);
* ``GET /act_{id}/reachestimate?targeting_spec=…`` → ``{data: {users_lower_bound, users_upper_bound,
  estimate_ready: true}}`` from :mod:`..model.audience_reach` (countries, ages, interests, lists); delivery uses
  the same reach.
"""

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.integrations.model.ad_limits import days, from_minor_units, minor_unit
from promptsales.domain_core.integrations.model.ad_performance import (
    META_FEED,
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

API_PREFIX = urlsplit(get_connector("meta_ads").sandbox_base_url).path  # "/v25.0"
OBJECTIVES = (
    "OUTCOME_AWARENESS",
    "OUTCOME_TRAFFIC",
    "OUTCOME_ENGAGEMENT",
    "OUTCOME_LEADS",
    "OUTCOME_APP_PROMOTION",
    "OUTCOME_SALES",
)
BID_STRATEGIES = ("LOWEST_COST_WITHOUT_CAP", "LOWEST_COST_WITH_BID_CAP", "COST_CAP", "LOWEST_COST_WITH_MIN_ROAS")
CAPPED = ("LOWEST_COST_WITH_BID_CAP", "COST_CAP")
BILLING_EVENTS = ("IMPRESSIONS", "LINK_CLICKS")
GOALS = ("LINK_CLICKS", "REACH", "IMPRESSIONS", "POST_ENGAGEMENT", "OFFSITE_CONVERSIONS", "LEAD_GENERATION")
SETTABLE_STATUSES = ("ACTIVE", "PAUSED", "DELETED", "ARCHIVED")
MIN_DAILY_BUDGET_UNITS = 1  # one unit of the account currency [~]
LEAD_ACTION = "offsite_conversion.fb_pixel_lead"
PURCHASE_ACTION = "offsite_conversion.fb_pixel_purchase"
MATCH_RATE = 0.6  # share of uploaded digests a custom audience matches [~ modelling]
USER_SCHEMAS = ("EMAIL_SHA256", "PHONE_SHA256")
USERS_PER_REQUEST_MAX = 10_000
_DIGEST = re.compile(r"[0-9a-f]{64}")
METRIC_FIELDS = frozenset({"impressions", "clicks", "spend", "actions", "action_values", "ctr", "cpc", "cpm", "reach"})


class _GraphError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        user_msg: str | None = None,
        blame: str | None = None,
        transient: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.subcode = status, code, message, subcode
        self.user_msg, self.blame, self.transient = user_msg, blame, transient
        self.headers = dict(headers or {})

    def document(self, trace: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "is_transient": self.transient,
            "fbtrace_id": trace,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_msg is not None:
            error["error_user_title"] = "Invalid parameter"
            error["error_user_msg"] = self.user_msg
        if self.blame is not None:
            error["error_data"] = {"blame_field_specs": [[self.blame]]}
        return {"error": error}


def _invalid(field_name: str, message: str, *, subcode: int | None = None) -> _GraphError:
    return _GraphError(400, 100, "(#100) Invalid parameter", subcode=subcode, user_msg=message, blame=field_name)


@dataclass
class _Account:
    id: str  # digits
    name: str
    currency: str
    time_zone: str
    page_id: str
    business_id: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → object (with "_type")
    images: dict[str, dict[str, Any]] = field(default_factory=dict)  # hash → image
    timelines: dict[str, StatusTimeline] = field(default_factory=dict)
    window: int = -1
    used: int = 0


@dataclass
class _Token:
    accounts: list[str] = field(default_factory=list)
    revoked: bool = False


def _digits(text: str, length: int) -> str:
    number = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
    return str(10 ** (length - 1) + number % (9 * 10 ** (length - 1)))


class MetaAdsSimulator:
    """Meta's Marketing API for several ad accounts. ``.app`` serves it; ``grant`` / ``revoke`` / ``fail_next``
    act as Meta would; ``requests`` logs (method, path) of every call that reached it."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        calls_per_hour: int = 10_000,
        currency: str = "USD",
        time_zone: str = "UTC",
        business_id: str = "1000000000000001",
    ) -> None:
        ZoneInfo(time_zone)
        self._clock = clock
        self._calls_per_hour = calls_per_hour
        self._currency, self._time_zone, self._business_id = currency.upper(), time_zone, business_id
        self._tokens: dict[str, _Token] = {}
        self._accounts: dict[str, _Account] = {}
        self._owner: dict[str, str] = {}  # object id → account id
        self._faults = Faults()
        self._next_id = 120_000_000_000_000
        self._calls = 0
        self.requests: list[tuple[str, str]] = []
        for token, account in (tokens or {}).items():
            self.grant(token, account)
        self.app = Starlette(routes=[Route(API_PREFIX + "/{rest:path}", self._endpoint, methods=["GET", "POST"])])

    # --- acting as Meta ------------------------------------------------------------------------------------------

    @staticmethod
    def account_id_of(account: str) -> str:
        """The ``act_<digits>`` id ``grant`` gives ``account`` (its own digits when it is already an id)."""
        bare = account.removeprefix("act_")
        return f"act_{bare if bare.isdigit() else _digits(account, 15)}"

    def open_account(self, account: str, *, name: str | None = None) -> str:
        """Create the ad account ``account`` (once) and return its ``act_`` id; ``name`` renames it."""
        digits = self.account_id_of(account).removeprefix("act_")
        if digits not in self._accounts:
            self._accounts[digits] = _Account(
                digits, account, self._currency, self._time_zone, _digits("page:" + digits, 15), self._business_id
            )
        if name:
            self._accounts[digits].name = name
        return f"act_{digits}"

    def grant(self, token: str, account: str) -> None:
        """``token`` becomes a valid access token that reaches the ad account ``account`` (created on first use)."""
        digits = self.open_account(account).removeprefix("act_")
        entry = self._tokens.setdefault(token, _Token())
        entry.revoked = False
        if digits not in entry.accounts:
            entry.accounts.append(digits)

    def revoke(self, token: str) -> None:
        """``token`` now answers Graph's code 190 (the user or app removed the authorisation)."""
        self._tokens.setdefault(token, _Token()).revoked = True

    def fail_next(
        self, status: int, *, times: int = 1, retry_after: int | None = None, after_apply: bool = False
    ) -> None:
        """The next ``times`` calls fail: 429 is Meta's throttling (HTTP 400, code 613, BUC header asking to wait
        ``retry_after`` seconds rounded up to whole minutes, 1 minute when None); a 5xx is Graph's transient
        error. With ``after_apply`` a write is applied first and only its answer is lost."""
        if status != 429 and not 500 <= status <= 599:
            raise ValueError("fail_next takes 429 or a 5xx status")
        self._faults.add(status, times=times, retry_after=retry_after, after_apply=after_apply)

    def objects(self, account: str, kind: str) -> list[dict[str, Any]]:
        """An account's stored campaigns / adsets / adcreatives / ads (for tests)."""
        stored = self._accounts[self.account_id_of(account).removeprefix("act_")]
        return [dict(o) for o in stored.objects.values() if o["_type"] == kind]

    # --- pipeline ------------------------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        self._calls += 1
        trace = f"SIM{self._calls:08d}"
        headers: dict[str, str] = {}
        try:
            form = (
                dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
                if request.method == "POST"
                else {}
            )
            params = {**dict(request.query_params), **form}
            token = self._authenticate(request, params)
            rest = request.path_params["rest"]
            account = self._account_of(token, rest)
            if account is not None:
                headers = self._spend(account)
            late = self._fault(account)
            status, document = self._dispatch(request.method, rest, token, account, params)
            if late is not None:
                raise late
        except _GraphError as error:
            return Response(
                json.dumps(error.document(trace)),
                error.status,
                headers={**headers, **error.headers, "x-fb-trace-id": trace},
                media_type="application/json",
            )
        return Response(
            json.dumps(document), status, headers={**headers, "x-fb-trace-id": trace}, media_type="application/json"
        )

    def _authenticate(self, request: Request, params: Mapping[str, str]) -> _Token:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        token = credential if scheme.lower() == "bearer" else params.get("access_token", "")
        entry = self._tokens.get(token)
        if entry is None or entry.revoked:
            raise _GraphError(
                400,
                190,
                "Error validating access token: The session has been invalidated because the user changed their "
                "password or Facebook has changed the session for security reasons.",
                subcode=460,
            )
        return entry

    def _account_of(self, token: _Token, rest: str) -> _Account | None:
        head = rest.split("/", 1)[0]
        digits: str | None = None
        if head.startswith("act_"):
            digits = head.removeprefix("act_")
        elif head in self._owner:
            digits = self._owner[head]
        if digits is None:
            return None
        if digits not in token.accounts or digits not in self._accounts:
            raise _GraphError(403, 200, "(#200) Ad account owner has NOT grant ads_management or ads_read permission")
        return self._accounts[digits]

    def _usage(self, account: _Account, wait_minutes: int) -> dict[str, str]:
        percent = min(100, math.ceil(100 * account.used / max(self._calls_per_hour, 1)))
        entry = {
            "type": "ads_management",
            "call_count": percent,
            "total_cputime": max(1, percent // 2),
            "total_time": max(1, percent // 2),
            "estimated_time_to_regain_access": wait_minutes,
            "ads_api_access_tier": "limited_access",
        }
        return {"X-Business-Use-Case-Usage": json.dumps({account.id: [entry]}, separators=(",", ":"))}

    def _spend(self, account: _Account) -> dict[str, str]:
        now = self._clock().timestamp()
        hour = math.floor(now / 3600)
        if hour != account.window:
            account.window, account.used = hour, 0
        account.used += 1
        if account.used > self._calls_per_hour:
            minutes = max(1, math.ceil(((hour + 1) * 3600 - now) / 60))
            raise _GraphError(
                400,
                613,
                "(#613) Calls to this api have exceeded the rate limit.",
                subcode=1487742,
                headers=self._usage(account, minutes),
            )
        return self._usage(account, 0)

    def _fault(self, account: _Account | None) -> _GraphError | None:
        fault = self._faults.take()
        if fault is None:
            return None
        if fault.status == 429:
            minutes = max(1, math.ceil((fault.retry_after or 60) / 60))
            usage = self._usage(account, minutes) if account is not None else {}
            if account is None:
                error = _GraphError(400, 17, "(#17) User request limit reached", subcode=2446079)
                error.headers = {
                    "X-Business-Use-Case-Usage": json.dumps(
                        {
                            "0": [
                                {
                                    "type": "ads_management",
                                    "call_count": 100,
                                    "estimated_time_to_regain_access": minutes,
                                }
                            ]
                        }
                    )
                }
            else:
                error = _GraphError(
                    400,
                    613,
                    "(#613) Calls to this api have exceeded the rate limit.",
                    subcode=1487742,
                    headers=usage,
                )
        elif fault.status == 503:
            error = _GraphError(503, 2, "Service temporarily unavailable", transient=True)
        else:
            error = _GraphError(fault.status, 1, "An unknown error occurred", transient=True)
        if fault.after_apply:
            return error
        raise error

    def _dispatch(
        self, method: str, rest: str, token: _Token, account: _Account | None, params: Mapping[str, str]
    ) -> tuple[int, Any]:
        parts = rest.split("/")
        if method == "GET" and rest == "me/adaccounts":
            return 200, self._page([self._account_view(self._accounts[a]) for a in token.accounts], params, rest)
        if method == "GET" and len(parts) == 2 and parts[1] == "owned_ad_accounts":
            owned = [
                self._account_view(self._accounts[a])
                for a in token.accounts
                if self._accounts[a].business_id == parts[0]
            ]
            return 200, self._page(owned, params, rest)
        if method == "GET" and rest == "search":
            return 200, self._search(params)
        if account is None:
            raise _GraphError(400, 803, f"(#803) Some of the aliases you requested do not exist: {parts[0]}")
        if parts[0].startswith("act_"):
            if len(parts) == 1 and method == "GET":
                return 200, self._fields(self._account_view(account), params)
            if len(parts) == 2 and method == "POST" and parts[1] in ("campaigns", "adsets", "adcreatives", "ads"):
                return 200, self._create(account, parts[1], params)
            if len(parts) == 2 and method == "POST" and parts[1] == "adimages":
                return 200, self._image(account, params)
            if len(parts) == 2 and method == "POST" and parts[1] == "customaudiences":
                return 200, self._create(account, parts[1], params)
            if len(parts) == 2 and method == "GET" and parts[1] == "reachestimate":
                return 200, self._reach_estimate(account, params)
            if len(parts) == 2 and method == "GET" and parts[1] == "insights":
                return 200, self._insights(account, params, rest)
            if len(parts) == 2 and method == "GET" and parts[1] == "promote_pages":
                return 200, {"data": [{"id": account.page_id, "name": f"{account.name} page"}]}
        elif len(parts) == 2 and parts[1] == "users" and method == "POST":
            return 200, self._add_users(account, account.objects[parts[0]], params)
        elif len(parts) == 1:
            stored = account.objects[parts[0]]
            if method == "POST":
                return 200, self._update(account, stored, params)
            return 200, self._fields({k: v for k, v in stored.items() if not k.startswith("_")}, params)
        raise _GraphError(400, 100, f"(#100) Unsupported {method} request.")

    @staticmethod
    def _fields(view: Mapping[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
        wanted = [f for f in params.get("fields", "id").split(",") if f]
        return {name: view[name] for name in ["id", *wanted] if name in view}

    def _page(
        self, rows: list[dict[str, Any]], params: Mapping[str, str], rest: str, *, select: bool = True
    ) -> dict[str, Any]:
        try:
            limit = int(params.get("limit", "25"))
            start = int(base64.urlsafe_b64decode(params["after"].encode()).decode()) if params.get("after") else 0
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _invalid("after", "The cursor or limit is not valid.") from None
        if not 0 < limit <= 5000 or not 0 <= start <= len(rows):
            raise _invalid("limit", "limit must be 1-5000 and the cursor one this API gave.")
        fields = [f for f in params.get("fields", "").split(",") if f]
        chosen = rows[start : start + limit]
        page = [{k: r[k] for k in ["id", *fields] if k in r} for r in chosen] if fields and select else chosen
        end = start + len(page)

        def cursor(position: int) -> str:
            return base64.urlsafe_b64encode(str(position).encode()).decode()

        document: dict[str, Any] = {"data": page}
        if rows:
            document["paging"] = {"cursors": {"before": cursor(start), "after": cursor(end)}}
            if end < len(rows):
                document["paging"]["next"] = (
                    f"https://graph.facebook.com{API_PREFIX}/{rest}?limit={limit}&after={cursor(end)}"
                )
        return document

    def _account_view(self, account: _Account) -> dict[str, Any]:
        return {
            "id": f"act_{account.id}",
            "account_id": account.id,
            "name": account.name,
            "currency": account.currency,
            "timezone_name": account.time_zone,
            "account_status": 1,
        }

    def _search(self, params: Mapping[str, str]) -> dict[str, Any]:
        if params.get("type") != "adinterest":
            raise _invalid("type", "Only type=adinterest is served by this simulator.")
        text = params.get("q", "").strip()
        if not text:
            return {"data": []}
        return {
            "data": [
                {
                    "id": _digits("interest:" + text.lower(), 13),
                    "name": text.title(),
                    "path": ["Interests", text.title()],
                }
            ]
        }

    # --- creates and updates ---------------------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    @staticmethod
    def _json(params: Mapping[str, str], name: str, kind: type) -> Any:
        raw = params.get(name)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise _invalid(name, f"{name} must be JSON.") from None
        if not isinstance(value, kind):
            raise _invalid(name, f"{name} has the wrong shape.")
        return value

    def _money(self, account: _Account, params: Mapping[str, str], name: str, *, minimum: int) -> int | None:
        raw = params.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            raise _invalid(name, f"{name} must be a whole number of minor currency units.")
        value = int(raw)
        if value < minimum:
            amount = from_minor_units(minimum, account.currency)
            raise _invalid(
                name, f"Your budget is too low. The minimum is {amount} {account.currency}.", subcode=1885272
            )
        return value

    def _status(self, params: Mapping[str, str]) -> str:
        status = params.get("status", "ACTIVE")
        if status not in ("ACTIVE", "PAUSED"):
            raise _invalid("status", "status must be ACTIVE or PAUSED on create.")
        return status

    def _create(self, account: _Account, edge: str, params: Mapping[str, str]) -> dict[str, Any]:
        name = params.get("name", "").strip()
        if not name:
            raise _invalid("name", "A name is required.")
        now = self._clock()
        entity: dict[str, Any] = {"name": name, "account_id": account.id, "created_time": now.isoformat()}
        if edge == "campaigns":
            objective = params.get("objective")
            if objective not in OBJECTIVES:
                raise _invalid("objective", "objective must be one of the OUTCOME_* objectives.")
            categories = self._json(params, "special_ad_categories", list)
            if categories is None:
                raise _invalid("special_ad_categories", "special_ad_categories is required (use [] for none).")
            budget = self._money(account, params, "daily_budget", minimum=self._minimum(account))
            strategy = params.get("bid_strategy")
            if strategy is not None and strategy not in BID_STRATEGIES:
                raise _invalid("bid_strategy", "Unknown bid strategy.")
            entity.update(objective=objective, special_ad_categories=categories, status=self._status(params))
            if budget is not None:
                entity.update(daily_budget=str(budget), bid_strategy=strategy or "LOWEST_COST_WITHOUT_CAP")
        elif edge == "adsets":
            campaign = self._owned(account, params.get("campaign_id"), "campaigns", "campaign_id")
            if params.get("daily_budget") is not None and campaign.get("daily_budget") is not None:
                raise _invalid(
                    "daily_budget",
                    "This campaign uses campaign budget optimisation: its ad sets cannot have their own budgets.",
                )
            if params.get("billing_event") not in BILLING_EVENTS:
                raise _invalid("billing_event", "billing_event must be IMPRESSIONS or LINK_CLICKS.")
            if params.get("optimization_goal") not in GOALS:
                raise _invalid("optimization_goal", "Unknown optimization_goal.")
            strategy = params.get("bid_strategy", campaign.get("bid_strategy", "LOWEST_COST_WITHOUT_CAP"))
            if strategy not in BID_STRATEGIES:
                raise _invalid("bid_strategy", "Unknown bid strategy.")
            bid = self._money(account, params, "bid_amount", minimum=1)
            if strategy in CAPPED and bid is None:
                raise _invalid("bid_amount", "bid_amount is required with a capped bid strategy.")
            targeting = self._targeting(params)
            self._custom_audiences(account, targeting)
            entity.update(
                campaign_id=campaign["id"],
                billing_event=params["billing_event"],
                optimization_goal=params["optimization_goal"],
                bid_strategy=strategy,
                targeting=targeting,
                status=self._status(params),
            )
            if bid is not None:
                entity["bid_amount"] = bid
        elif edge == "customaudiences":
            if params.get("subtype") != "CUSTOM":
                raise _invalid("subtype", "Only subtype=CUSTOM (customer file) audiences are served here.")
            if params.get("customer_file_source") not in (
                "USER_PROVIDED_ONLY",
                "PARTNER_PROVIDED_ONLY",
                "BOTH_USER_AND_PARTNER_PROVIDED",
            ):
                raise _invalid("customer_file_source", "customer_file_source is required for customer file audiences.")
            entity.update(
                subtype="CUSTOM",
                description=params.get("description", ""),
                customer_file_source=params["customer_file_source"],
                operation_status={"code": 200, "description": "Normal"},
                approximate_count_lower_bound=-1,
                approximate_count_upper_bound=-1,
                _users=set(),
            )
        elif edge == "adcreatives":
            spec = self._json(params, "object_story_spec", dict)
            if spec is None:
                raise _invalid("object_story_spec", "object_story_spec is required.")
            if str(spec.get("page_id")) != account.page_id:
                raise _invalid("object_story_spec", "page_id must be a page this ad account may promote.")
            link = spec.get("link_data")
            if not isinstance(link, dict) or not str(link.get("link", "")).startswith(("https://", "http://")):
                raise _invalid("object_story_spec", "link_data.link must be a web address.")
            if link.get("image_hash") is not None and link["image_hash"] not in account.images:
                raise _invalid("object_story_spec", "image_hash is not in this ad account's image library.")
            entity["object_story_spec"] = spec
        elif edge == "ads":
            adset = self._owned(account, params.get("adset_id"), "adsets", "adset_id")
            creative = self._json(params, "creative", dict)
            chosen = self._owned(account, str((creative or {}).get("creative_id", "")), "adcreatives", "creative")
            entity.update(
                adset_id=adset["id"],
                campaign_id=adset["campaign_id"],
                creative={"id": chosen["id"]},
                status=self._status(params),
            )
        object_id = self._new_id()
        entity["id"] = object_id
        entity["_type"] = edge
        if "status" in entity:
            entity["effective_status"] = entity["status"]
            timeline = StatusTimeline()
            account.timelines[object_id] = timeline.changed(now, True) if entity["status"] == "ACTIVE" else timeline
        account.objects[object_id] = entity
        self._owner[object_id] = account.id
        return {"id": object_id}

    def _minimum(self, account: _Account) -> int:
        return MIN_DAILY_BUDGET_UNITS * int(1 / minor_unit(account.currency))

    def _owned(self, account: _Account, object_id: str | None, kind: str, field_name: str) -> dict[str, Any]:
        stored = account.objects.get(object_id or "")
        if stored is None or stored["_type"] != kind or stored.get("status") == "DELETED":
            raise _invalid(field_name, f"{field_name} does not name a {kind[:-1]} of this ad account.")
        return stored

    def _targeting(self, params: Mapping[str, str], name: str = "targeting") -> dict[str, Any]:
        targeting = self._json(params, name, dict)
        if targeting is None:
            raise _invalid(name, f"{name} is required.")
        geo = targeting.get("geo_locations")
        countries = geo.get("countries") if isinstance(geo, dict) else None
        if not isinstance(countries, list) or not countries:
            raise _invalid("targeting", "targeting.geo_locations needs at least one location.")
        age_min, age_max = targeting.get("age_min", 18), targeting.get("age_max", 65)
        if not (isinstance(age_min, int) and isinstance(age_max, int) and 13 <= age_min <= age_max <= 65):
            raise _invalid("targeting", "age_min and age_max must be 13-65, age_min first.")
        interests = targeting.get("interests", [])
        if not isinstance(interests, list) or not all(
            isinstance(i, dict) and str(i.get("id", "")).isdigit() for i in interests
        ):
            raise _invalid("targeting", "interests are [{id, name}] from the targeting search.")
        return dict(targeting)

    def _custom_audiences(self, account: _Account, targeting: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The account's custom audiences ``targeting`` names (``custom_audiences: [{id}]``)."""
        chosen = targeting.get("custom_audiences", [])
        if not isinstance(chosen, list) or not all(isinstance(c, dict) for c in chosen):
            raise _invalid("targeting", "custom_audiences are [{id}].")
        found: list[dict[str, Any]] = []
        for entry in chosen:
            stored = account.objects.get(str(entry.get("id", "")))
            if stored is None or stored["_type"] != "customaudiences":
                raise _invalid(
                    "targeting", f"Custom audience {entry.get('id')} does not exist or this ad account cannot use it."
                )
            found.append(stored)
        return found

    def _reach(self, account: _Account, targeting: Mapping[str, Any]) -> int:
        """The people a targeting reaches, customer lists included (the shared audience model)."""
        lists = [matched(len(a["_users"]), MATCH_RATE) for a in self._custom_audiences(account, targeting)]
        return targeted_reach(
            targeting["geo_locations"]["countries"],
            targeting.get("age_min"),
            targeting.get("age_max"),
            [str(i.get("name", i["id"])) for i in targeting.get("interests", [])],
            lists,
        )

    def _reach_estimate(self, account: _Account, params: Mapping[str, str]) -> dict[str, Any]:
        targeting = self._targeting(params, "targeting_spec")
        lower, upper = reach_range(self._reach(account, targeting))
        return {"data": {"users_lower_bound": lower, "users_upper_bound": upper, "estimate_ready": True}}

    def _add_users(self, account: _Account, audience: dict[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
        if audience["_type"] != "customaudiences":
            raise _GraphError(400, 100, "(#100) Unsupported post request.")
        payload = self._json(params, "payload", dict)
        if payload is None:
            raise _invalid("payload", "payload is required.")
        schema, data = payload.get("schema"), payload.get("data")
        if schema not in USER_SCHEMAS:
            raise _invalid("payload", f"schema must be one of {', '.join(USER_SCHEMAS)} here.")
        if not isinstance(data, list) or not 0 < len(data) <= USERS_PER_REQUEST_MAX:
            raise _invalid("payload", f"data must hold 1-{USERS_PER_REQUEST_MAX} rows.")
        valid = [d for d in data if isinstance(d, str) and _DIGEST.fullmatch(d)]
        audience["_users"].update(valid)
        lower, upper = reach_range(matched(len(audience["_users"]), MATCH_RATE))
        audience.update(approximate_count_lower_bound=lower, approximate_count_upper_bound=upper)
        session = self._new_id()
        return {
            "audience_id": audience["id"],
            "session_id": session,
            "num_received": len(data),
            "num_invalid_entries": len(data) - len(valid),
            "invalid_entry_samples": {},
        }

    def _image(self, account: _Account, params: Mapping[str, str]) -> dict[str, Any]:
        try:
            raw = base64.b64decode(params.get("bytes", ""), validate=True)
        except binascii.Error:
            raw = b""
        if not raw.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise _invalid("bytes", "The image could not be read (PNG or JPEG bytes, base64).", subcode=1487242)
        image_hash = hashlib.md5(raw, usedforsecurity=False).hexdigest()
        name = params.get("name", "bytes") or "bytes"
        url = f"https://scontent.sandbox.promptsales.invalid/{image_hash}.png"
        account.images[image_hash] = {"hash": image_hash, "url": url, "name": name}
        return {"images": {name: {"hash": image_hash, "url": url}}}

    def _update(self, account: _Account, stored: dict[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name in params:
            if name in ("access_token", "appsecret_proof"):
                continue
            if name not in ("status", "daily_budget", "bid_amount", "bid_strategy", "name"):
                raise _invalid(name, f"{name} cannot be changed here.")
        if stored.get("status") == "DELETED":
            raise _GraphError(
                400, 100, "(#100) Cannot update a deleted object.", blame="status", user_msg="The object was deleted."
            )
        if "status" in params:
            if params["status"] not in SETTABLE_STATUSES:
                raise _invalid("status", "status must be ACTIVE, PAUSED, DELETED or ARCHIVED.")
            changes["status"] = params["status"]
        if "daily_budget" in params:
            if stored["_type"] != "campaigns" or stored.get("daily_budget") is None:
                raise _invalid("daily_budget", "Only a budget-optimised campaign's daily_budget is changed here.")
            changes["daily_budget"] = str(self._money(account, params, "daily_budget", minimum=self._minimum(account)))
        if "bid_amount" in params:
            if stored["_type"] != "adsets":
                raise _invalid("bid_amount", "bid_amount belongs to ad sets.")
            changes["bid_amount"] = self._money(account, params, "bid_amount", minimum=1)
        if "bid_strategy" in params:
            if params["bid_strategy"] not in BID_STRATEGIES:
                raise _invalid("bid_strategy", "Unknown bid strategy.")
            changes["bid_strategy"] = params["bid_strategy"]
        if "name" in params:
            if not params["name"].strip():
                raise _invalid("name", "A name is required.")
            changes["name"] = params["name"]
        stored.update(changes)
        if "status" in changes:
            stored["effective_status"] = changes["status"]
            timeline = account.timelines.get(stored["id"], StatusTimeline())
            account.timelines[stored["id"]] = timeline.changed(self._clock(), changes["status"] == "ACTIVE")
        return {"success": True}

    # --- insights ----------------------------------------------------------------------------------------------------

    def _insights(self, account: _Account, params: Mapping[str, str], rest: str) -> dict[str, Any]:
        level = params.get("level", "account")
        if level not in ("campaign", "adset", "ad"):
            raise _invalid("level", "level must be campaign, adset or ad here.")
        if params.get("time_increment", "all_days") != "1":
            raise _invalid("time_increment", "This simulator answers time_increment=1 only.")
        window = self._json(params, "time_range", dict) or {}
        try:
            since, until = date.fromisoformat(str(window["since"])), date.fromisoformat(str(window["until"]))
        except (KeyError, ValueError):
            raise _invalid("time_range", "time_range needs since and until as YYYY-MM-DD.") from None
        if until < since or (until - since).days > 37 * 31:
            raise _invalid("time_range", "until must not precede since; at most 37 months.")
        wanted: set[str] | None = None
        for rule in self._json(params, "filtering", list) or []:
            if isinstance(rule, dict) and rule.get("field") == f"{level}.id" and rule.get("operator") == "IN":
                wanted = {str(v) for v in rule.get("value", [])}
        fields = [f for f in params.get("fields", "impressions,spend").split(",") if f]
        unknown = [
            f
            for f in fields
            if f not in METRIC_FIELDS | {"campaign_id", "adset_id", "ad_id", "date_start", "date_stop"}
        ]
        if unknown:
            raise _invalid("fields", f"Unknown insights field {unknown[0]}.")
        now = self._clock()
        today = now.astimezone(ZoneInfo(account.time_zone)).date()
        key = {"campaign": "campaign_id", "adset": "adset_id", "ad": "id"}[level]
        rows: list[dict[str, Any]] = []
        for day in days(since, min(until, today)):
            totals: dict[str, tuple[DayResult, str]] = {}
            for ad_id, result in self._deliveries(account, day, now).items():
                ad = account.objects[ad_id]
                owner = ad[key] if level != "ad" else ad_id
                if wanted is not None and owner not in wanted:
                    continue
                campaign = account.objects[ad["campaign_id"]]
                action = PURCHASE_ACTION if campaign["objective"] == "OUTCOME_SALES" else LEAD_ACTION
                previous = totals.get(owner, (DayResult(), action))[0]
                totals[owner] = (previous + result, action)
            for owner in sorted(totals, key=int):
                total, action = totals[owner]
                if total.impressions == 0:
                    continue
                rows.append(self._row(level, owner, day, total, action, fields, account.objects))
        return self._page(rows, params, rest, select=False)

    @staticmethod
    def _row(
        level: str, owner: str, day: date, total: DayResult, action: str, fields: list[str], objects: Mapping[str, Any]
    ) -> dict[str, Any]:
        ids = {"campaign": {"campaign_id": owner}, "adset": {"adset_id": owner}, "ad": {"ad_id": owner}}[level]
        if level != "campaign":
            ids["campaign_id"] = objects[owner]["campaign_id"]
        if level == "ad":
            ids["adset_id"] = objects[owner]["adset_id"]
        metrics: dict[str, Any] = {
            "impressions": str(total.impressions),
            "clicks": str(total.clicks),
            "spend": format(total.spend.normalize(), "f"),
            "reach": str(total.impressions * 4 // 5),
            "ctr": f"{100 * total.clicks / total.impressions:.6f}" if total.impressions else "0",
            "cpc": f"{total.spend / total.clicks:.6f}" if total.clicks else "0",
            "cpm": f"{1000 * total.spend / total.impressions:.6f}" if total.impressions else "0",
            "actions": [{"action_type": "link_click", "value": str(total.clicks)}]
            + ([{"action_type": action, "value": f"{total.conversions:g}"}] if total.conversions else []),
            "action_values": [{"action_type": action, "value": format(total.conversion_value.normalize(), "f")}]
            if total.conversions
            else [],
        }
        row = {**ids, **{f: metrics[f] for f in fields if f in metrics}}
        row.update(date_start=day.isoformat(), date_stop=day.isoformat())
        return row

    def _deliveries(self, account: _Account, day: date, now: datetime) -> dict[str, DayResult]:
        results: dict[str, DayResult] = {}
        unit = minor_unit(account.currency)
        objects = account.objects
        images = account.images
        for campaign in [o for o in objects.values() if o["_type"] == "campaigns"]:
            if campaign.get("daily_budget") is None:
                continue
            budget = from_minor_units(campaign["daily_budget"], account.currency)
            serving: list[ServingAd] = []
            for ad in [o for o in objects.values() if o["_type"] == "ads" and o["campaign_id"] == campaign["id"]]:
                adset = objects[ad["adset_id"]]
                targeting = adset["targeting"]
                audience = self._reach(account, targeting)
                spec = objects[ad["creative"]["id"]]["object_story_spec"]
                link = spec.get("link_data", {})
                creative = CreativeSignal.of(
                    [str(link.get("name", ""))] if link.get("name") else [],
                    [str(t) for t in (link.get("message"), link.get("description")) if t],
                    has_image=link.get("image_hash") in images,
                )
                bid = from_minor_units(adset["bid_amount"], account.currency) if adset.get("bid_amount") else None
                timelines = [
                    account.timelines.get(i, StatusTimeline()) for i in (campaign["id"], adset["id"], ad["id"])
                ]
                fraction = serving_fraction(timelines, day, account.time_zone, now)
                serving.append(ServingAd(ad["id"], fraction, bid, audience, creative))
            results.update(campaign_day(day, budget, serving, META_FEED, minor_unit=unit))
        return results
