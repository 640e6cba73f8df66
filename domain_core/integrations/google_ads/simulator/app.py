"""The Google Ads API (REST, v26) in memory: accessible customers, GAQL search with page tokens, per-service mutate,
performance from the shared delivery model, Google's RPC error envelope, quota errors and faults.

Shapes follow shared/reference/platform_apis.md §2:

* auth: ``Authorization: Bearer <token>`` plus a ``developer-token`` header on every call; a token works for the
  customers :meth:`GoogleAdsSimulator.grant` gave it (a customer named by a non-numeric account gets a stable
  10-digit test id, :meth:`customer_id_of`); ``login-customer-id`` must be one of them too. An unknown or revoked
  token answers 401 UNAUTHENTICATED; a customer the token cannot reach answers 403 PERMISSION_DENIED with
  ``authorizationError: USER_PERMISSION_DENIED`` [~ enum];
* rows are camelCase and int64 values (ids, micros, impressions, clicks) are JSON strings; ``conversions`` and
  ``conversionsValue`` are numbers (§2 "JSON casing/types"); pages hold ``page_size`` rows (10,000 live [~]) and
  ``pageSize`` in a request answers PAGE_SIZE_NOT_SUPPORTED (§2 "Search");
* a mutate is all or nothing (§2 "Mutate pattern"); errors use the envelope ``{error:{code, message, status,
  details:[{@type: …GoogleAdsFailure, errors:[{errorCode:{<category>: ENUM}, message, location:{fieldPathElements}}],
  requestId}]}}`` (§2 "Errors" [~ shape]); field names in locations are snake_case;
* throttling answers 429 RESOURCE_EXHAUSTED with ``quotaError: RESOURCE_EXHAUSTED`` and
  ``details.quotaErrorDetails.retryDelay`` ("30s") — the back-off travels in the body, not in a header (§2 "Rate
  limits", matrix);
* creates keep what the brief names: budgets need a unique name and an amount in whole minimum currency units,
  campaigns a unique name, a status, a bidding strategy and ``containsEuPoliticalAdvertising`` (else
  ``fieldError: REQUIRED``, §2 "Campaign create"), responsive search ads 3-15 unique headlines of ≤30 characters
  and 2-4 descriptions of ≤90 (§2 "Responsive search ad");
* performance: ``metrics.*`` with ``segments.date`` come from :mod:`..model.ad_performance` for the time each
  ad, its ad group and its campaign were ENABLED (status changes are stamped with the simulator's clock); rows
  with no impressions are left out, as Google leaves out zero rows when segmenting by date [~]. The campaign's
  current budget is used for every day (budget history is not kept);
* Customer Match: ``userLists:mutate`` creates CRM-based lists (``crm_based_user_list.upload_key_type``
  CONTACT_INFO, a unique name); ``offlineUserDataJobs:create`` (type CUSTOMER_MATCH_USER_LIST, the list in
  ``customer_match_user_list_metadata``) → ``{resourceName}``; ``{job}:addOperations`` takes ``create.
  user_identifiers`` of ``hashed_email`` / ``hashed_phone_number`` (SHA-256 hex; anything else is
  ``offlineUserDataJobError`` INVALID_SHA256_FORMAT [~ enum]) while the job is PENDING; ``{job}:run`` → ``{name:
  customers/{cid}/operations/{id}}``. The simulator runs a job at once (live: hours [~]): the list then matches
  ``MATCH_RATE`` of its distinct identifiers [~ modelling] and reports ``size_for_search`` / ``size_for_display``
  rounded to two significant digits [~]. Ad groups target lists with ``user_list`` criteria, and delivery narrows
  to them through :mod:`..model.audience_reach`.
"""

import base64
import binascii
import copy
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pycountry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.integrations.google_ads.simulator.gaql import Condition, GaqlError, Query, matches, parse
from promptsales.domain_core.integrations.model.ad_limits import days, minor_unit
from promptsales.domain_core.integrations.model.ad_performance import (
    GOOGLE_SEARCH,
    ZERO,
    CreativeSignal,
    DayResult,
    ServingAd,
    StatusTimeline,
    campaign_day,
    serving_fraction,
)
from promptsales.domain_core.integrations.model.audience_reach import matched, targeted_reach
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.simulator_kit import Faults
from promptsales.domain_core.shared.clock import utc_now

_DIGEST = re.compile(r"[0-9a-f]{64}")
API_PREFIX = urlsplit(get_connector("google_ads").sandbox_base_url).path  # "/v26"
FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure"
MICROS = Decimal(1_000_000)
HEADLINES = (3, 15, 30)  # §2: 3-15 headlines, ≤30 characters
DESCRIPTIONS = (2, 4, 90)  # §2: 2-4 descriptions, ≤90 characters [~ for 90]
# Google's age range criteria (AgeRangeType) and the ages each covers [~ enum values].
AGE_RANGES: Mapping[str, tuple[int, int]] = {
    "AGE_RANGE_18_24": (18, 24),
    "AGE_RANGE_25_34": (25, 34),
    "AGE_RANGE_35_44": (35, 44),
    "AGE_RANGE_45_54": (45, 54),
    "AGE_RANGE_55_64": (55, 64),
    "AGE_RANGE_65_UP": (65, 65),
}
BIDDING_FIELDS = ("manual_cpc", "target_spend", "maximize_conversions", "maximize_conversion_value")
# service path → (GAQL resource, result key in a MUTABLE_RESOURCE answer)
SERVICES: Mapping[str, tuple[str, str]] = {
    "campaignBudgets": ("campaign_budget", "campaignBudget"),
    "campaigns": ("campaign", "campaign"),
    "adGroups": ("ad_group", "adGroup"),
    "adGroupAds": ("ad_group_ad", "adGroupAd"),
    "campaignCriteria": ("campaign_criterion", "campaignCriterion"),
    "adGroupCriteria": ("ad_group_criterion", "adGroupCriterion"),
    "assets": ("asset", "asset"),
    "adGroupAssets": ("ad_group_asset", "adGroupAsset"),
    "userLists": ("user_list", "userList"),
}
MATCH_RATE = 0.6  # share of a Customer Match list's identifiers Google matches [~ modelling]
IDENTIFIER_FIELDS = ("hashed_email", "hashed_phone_number")
UPDATABLE: Mapping[str, frozenset[str]] = {
    "campaign_budget": frozenset({"amount_micros", "name"}),
    "campaign": frozenset({"status", "name", "end_date"}),
    "ad_group": frozenset({"status", "name", "cpc_bid_micros"}),
    "ad_group_ad": frozenset({"status"}),
}
STATUSES = ("ENABLED", "PAUSED")
METRIC_FIELDS = frozenset(
    {"impressions", "clicks", "cost_micros", "conversions", "conversions_value", "ctr", "average_cpc"}
)
PARENTS: Mapping[str, tuple[str, ...]] = {
    "customer": (),
    "campaign_budget": (),
    "campaign": ("campaign_budget",),
    "ad_group": ("campaign", "campaign_budget"),
    "ad_group_ad": ("ad_group", "campaign", "campaign_budget"),
    "campaign_criterion": ("campaign",),
    "ad_group_criterion": ("ad_group", "campaign"),
    "asset": (),
    "ad_group_asset": ("ad_group", "asset", "campaign"),
    "user_list": (),
}


def snake(name: str) -> str:
    """camelCase → snake_case."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def camel(name: str) -> str:
    """snake_case → camelCase."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {snake(k): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


def _wire(value: Any) -> Any:
    """A stored value on the wire: camelCase keys, int64 as strings (§2), floats and bools as they are."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {camel(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


class _ApiError(Exception):
    """An answer in Google's RPC envelope."""

    def __init__(
        self,
        code: int,
        status: str,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.errors = code, status, message, errors or []
        self.headers = dict(headers or {})

    def document(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.errors:
            error["details"] = [{"@type": FAILURE_TYPE, "errors": self.errors, "requestId": request_id}]
        return {"error": error}


def _ads_error(
    category: str, code: str, message: str, path: list[tuple[str, int | None]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"errorCode": {category: code}, "message": message}
    if path:
        error["location"] = {
            "fieldPathElements": [
                {"fieldName": name, **({"index": index} if index is not None else {})} for name, index in path
            ]
        }
    return error


def _invalid(errors: list[dict[str, Any]]) -> _ApiError:
    return _ApiError(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", errors)


def _quota_error(retry_after: int) -> _ApiError:
    detail = _ads_error("quotaError", "RESOURCE_EXHAUSTED", f"Too many requests. Retry in {retry_after} seconds.")
    detail["details"] = {
        "quotaErrorDetails": {
            "rateScope": "DEVELOPER",
            "rateName": "Number of operations for basic access",
            "retryDelay": f"{retry_after}s",
        }
    }
    return _ApiError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", [detail])


@dataclass
class _Customer:
    id: str
    name: str
    currency: str
    time_zone: str
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    timelines: dict[str, StatusTimeline] = field(default_factory=dict)
    next_id: int = 1000

    def table(self, resource: str) -> dict[str, dict[str, Any]]:
        return self.entities.setdefault(resource, {})

    def view(self) -> dict[str, Any]:
        return {
            "resource_name": f"customers/{self.id}",
            "id": int(self.id),
            "descriptive_name": self.name,
            "currency_code": self.currency,
            "time_zone": self.time_zone,
            "test_account": True,
            "manager": False,
        }


@dataclass
class _Token:
    customers: list[str] = field(default_factory=list)
    revoked: bool = False


class GoogleAdsSimulator:
    """Google Ads for several test customers. ``.app`` serves it; ``grant`` / ``revoke`` / ``fail_next`` act as
    Google would; ``requests`` logs (method, path, customer id) of every call that reached it."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        developer_token: str | None = None,
        page_size: int = 10_000,
        requests_per_minute: int | None = None,
        currency: str = "USD",
        time_zone: str = "UTC",
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be positive")
        ZoneInfo(time_zone)  # an unknown zone fails here, not in the middle of a report
        self._clock = clock
        self._developer_token = developer_token
        self._page_size = page_size
        self._per_minute = requests_per_minute
        self._currency, self._time_zone = currency.upper(), time_zone
        self._tokens: dict[str, _Token] = {}
        self._customers: dict[str, _Customer] = {}
        self._faults = Faults()
        self._window: tuple[int, int] = (-1, 0)  # (minute, requests in it)
        self._request_count = 0
        self.requests: list[tuple[str, str, str | None]] = []
        for token, account in (tokens or {}).items():
            self.grant(token, account)
        self.app = Starlette(routes=[Route(API_PREFIX + "/{rest:path}", self._endpoint, methods=["GET", "POST"])])

    # --- acting as Google ---------------------------------------------------------------------------------------

    @staticmethod
    def customer_id_of(account: str) -> str:
        """The 10-digit customer id ``grant`` gives ``account`` (its own digits when it is already an id)."""
        digits = account.replace("-", "")
        if len(digits) == 10 and digits.isdigit():
            return digits
        number = int.from_bytes(hashlib.blake2b(account.encode(), digest_size=8).digest(), "big")
        return str(1_000_000_000 + number % 9_000_000_000)

    def open_customer(self, account: str, *, name: str | None = None) -> str:
        """Create the test customer ``account`` (once) and return its id; ``name`` sets its descriptive name."""
        cid = self.customer_id_of(account)
        if cid not in self._customers:
            self._customers[cid] = _Customer(cid, account, self._currency, self._time_zone)
        if name:
            self._customers[cid].name = name
        return cid

    def grant(self, token: str, account: str) -> None:
        """``token`` becomes a valid access token that reaches ``account`` (a test customer, created on first use)."""
        cid = self.open_customer(account)
        entry = self._tokens.setdefault(token, _Token())
        entry.revoked = False
        if cid not in entry.customers:
            entry.customers.append(cid)

    def revoke(self, token: str) -> None:
        """``token`` now answers 401 UNAUTHENTICATED."""
        self._tokens.setdefault(token, _Token()).revoked = True

    def fail_next(
        self, status: int, *, times: int = 1, retry_after: int | None = None, after_apply: bool = False
    ) -> None:
        """The next ``times`` calls answer ``status``: 429 is RESOURCE_EXHAUSTED with ``retryDelay`` of
        ``retry_after`` seconds (30 when None), a 5xx is Google's UNAVAILABLE/INTERNAL. With ``after_apply`` a
        mutate is applied first and only its answer is lost."""
        if status != 429 and not 500 <= status <= 599:
            raise ValueError("fail_next takes 429 or a 5xx status")
        self._faults.add(status, times=times, retry_after=retry_after, after_apply=after_apply)

    def customer(self, account_or_id: str) -> _Customer:
        """A customer's state (for tests)."""
        return self._customers[self.customer_id_of(account_or_id)]

    def entities(self, account_or_id: str, resource: str) -> list[dict[str, Any]]:
        """The stored objects of one resource type in a customer (snake_case, as kept)."""
        return list(self.customer(account_or_id).table(resource).values())

    # --- pipeline ------------------------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        rest = request.path_params["rest"]
        customer_part = rest.split("/", 2)[1] if rest.startswith("customers/") else None
        self.requests.append((request.method, request.url.path, customer_part))
        self._request_count += 1
        request_id = f"sim-{self._request_count:08d}"
        try:
            token = self._authenticate(request)
            late = self._fault()
            self._spend_rate()
            status, document = await self._dispatch(request, rest, token)
            if late is not None:
                raise late
        except _ApiError as error:
            return Response(
                json.dumps(error.document(request_id)),
                error.code,
                headers={"request-id": request_id, **error.headers},
                media_type="application/json",
            )
        return Response(json.dumps(document), status, headers={"request-id": request_id}, media_type="application/json")

    def _authenticate(self, request: Request) -> _Token:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        entry = self._tokens.get(credential) if scheme.lower() == "bearer" else None
        if entry is None or entry.revoked:
            raise _ApiError(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential.",
            )
        developer_token = request.headers.get("developer-token")
        if not developer_token or (self._developer_token is not None and developer_token != self._developer_token):
            code = "DEVELOPER_TOKEN_PARAMETER_MISSING" if not developer_token else "DEVELOPER_TOKEN_INVALID"
            raise _ApiError(
                401,
                "UNAUTHENTICATED",
                "The developer token is missing or invalid.",
                [_ads_error("authenticationError", code, "The developer token is not valid.")],
            )
        return entry

    def _fault(self) -> _ApiError | None:
        fault = self._faults.take()
        if fault is None:
            return None
        if fault.status == 429:
            error = _quota_error(fault.retry_after if fault.retry_after is not None else 30)
        elif fault.status == 503:
            error = _ApiError(503, "UNAVAILABLE", "The service is currently unavailable.")
        else:
            error = _ApiError(fault.status, "INTERNAL", "Internal error encountered.")
        if fault.after_apply:
            return error
        raise error

    def _spend_rate(self) -> None:
        if self._per_minute is None:
            return
        now = self._clock().timestamp()
        minute = math.floor(now / 60)
        current, used = self._window
        used = used + 1 if current == minute else 1
        self._window = (minute, used)
        if used > self._per_minute:
            raise _quota_error(max(1, math.ceil((minute + 1) * 60 - now)))

    def _reach(self, token: _Token, request: Request, cid: str) -> _Customer:
        login = request.headers.get("login-customer-id")
        denied = [
            _ads_error(
                "authorizationError", "USER_PERMISSION_DENIED", "User doesn't have permission to access customer."
            )
        ]
        if cid not in token.customers or (login is not None and login not in token.customers):
            raise _ApiError(403, "PERMISSION_DENIED", "The caller does not have permission", denied)
        return self._customers[cid]

    async def _dispatch(self, request: Request, rest: str, token: _Token) -> tuple[int, Any]:
        if rest == "customers:listAccessibleCustomers" and request.method == "GET":
            return 200, {"resourceNames": [f"customers/{cid}" for cid in token.customers]}
        parts = rest.split("/")
        if len(parts) == 3 and parts[0] == "customers" and request.method == "POST":
            customer = self._reach(token, request, parts[1])
            body = await self._json(request)
            if parts[2] == "googleAds:search":
                return 200, self._search(customer, body)
            service, _, verb = parts[2].partition(":")
            if verb == "mutate" and service in SERVICES:
                return 200, self._mutate(customer, service, body)
            if parts[2] == "offlineUserDataJobs:create":
                return 200, self._create_job(customer, body)
        if (
            len(parts) == 4
            and parts[0] == "customers"
            and parts[2] == "offlineUserDataJobs"
            and request.method == "POST"
        ):
            customer = self._reach(token, request, parts[1])
            body = await self._json(request)
            job_id, _, verb = parts[3].partition(":")
            job = customer.table("offline_user_data_job").get(f"customers/{customer.id}/offlineUserDataJobs/{job_id}")
            if job is None:
                raise _invalid([_ads_error("mutateError", "RESOURCE_NOT_FOUND", "The job was not found.", [])])
            if verb == "addOperations":
                return 200, self._add_job_operations(job, body)
            if verb == "run":
                return 200, self._run_job(customer, job)
        raise _ApiError(404, "NOT_FOUND", f"Method not found: {request.method} {request.url.path}")

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise _ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
        if not isinstance(body, dict):
            raise _ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
        return body

    # --- search --------------------------------------------------------------------------------------------------

    def _search(self, customer: _Customer, body: Mapping[str, Any]) -> dict[str, Any]:
        if "pageSize" in body:
            raise _invalid(
                [
                    _ads_error(
                        "requestError",
                        "PAGE_SIZE_NOT_SUPPORTED",
                        "Setting page size is not supported.",
                        [("page_size", None)],
                    )
                ]
            )
        text = body.get("query")
        if not isinstance(text, str) or not text.strip():
            raise _invalid([_ads_error("queryError", "QUERY_NOT_SPECIFIED", "The query is empty.", [("query", None)])])
        try:
            query = parse(text)
            rows = self._rows(customer, query)
        except GaqlError as error:
            raise _invalid([_ads_error("queryError", error.code, str(error), [("query", None)])]) from None
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        offset = 0
        token = body.get("pageToken")
        if token:
            try:
                seen_digest, _, raw = base64.urlsafe_b64decode(str(token).encode()).decode().partition(":")
                offset = int(raw)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                seen_digest = ""
            if seen_digest != digest or not 0 <= offset <= len(rows):
                raise _invalid(
                    [_ads_error("requestError", "INVALID_PAGE_TOKEN", "Page token is invalid.", [("page_token", None)])]
                )
        page = rows[offset : offset + self._page_size]
        document: dict[str, Any] = {
            "results": page,
            "fieldMask": ",".join(".".join(camel(p) for p in f.split(".")) for f in query.fields),
        }
        if offset + self._page_size < len(rows):
            document["nextPageToken"] = base64.urlsafe_b64encode(
                f"{digest}:{offset + self._page_size}".encode()
            ).decode()
        return document

    def _contexts(self, customer: _Customer, resource: str) -> Iterator[dict[str, Any]]:
        if resource == "customer":
            yield {"customer": customer.view()}
            return
        if resource not in PARENTS:
            raise GaqlError("INVALID_RESOURCE", f"'{resource}' is not a resource this simulator serves.")
        for entity in customer.table(resource).values():
            context = {resource: entity, "customer": customer.view()}
            for parent in PARENTS[resource]:
                link = self._link(customer, context, parent)
                if link is not None:
                    context[parent] = link
            yield context

    @staticmethod
    def _link(customer: _Customer, context: Mapping[str, Any], parent: str) -> dict[str, Any] | None:
        for entity in context.values():
            name = entity.get(parent) if isinstance(entity, dict) else None
            if isinstance(name, str):
                return customer.table(parent).get(name)
        return None

    @staticmethod
    def _value(context: Mapping[str, Any], path: str) -> Any:
        node: Any = context
        for part in path.split("."):
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def _rows(self, customer: _Customer, query: Query) -> list[dict[str, Any]]:
        now = self._clock()
        today = now.astimezone(ZoneInfo(customer.time_zone)).date()
        for name in query.fields:
            head = name.split(".", 1)[0]
            if head in ("metrics", "segments"):
                if name != "segments.date" and (head != "metrics" or name.split(".", 1)[1] not in METRIC_FIELDS):
                    raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in the query: '{name}'.")
            elif head != query.resource and head not in PARENTS.get(query.resource, ()) and head != "customer":
                raise GaqlError(
                    "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE",
                    f"'{head}' cannot be selected with FROM {query.resource}.",
                )
        if query.wants_metrics and query.resource not in ("campaign", "ad_group", "ad_group_ad", "customer"):
            raise GaqlError("PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE", f"No metrics on {query.resource}.")
        window = query.date_range(today)
        if query.by_date and window is None:
            raise GaqlError(
                "EXPECTED_FILTERS_ON_DATE_RANGE", "Filters on segments.date are required when selecting it."
            )
        plain = [c for c in query.conditions if c.field != "segments.date" and not c.field.startswith("metrics.")]
        contexts = [c for c in self._contexts(customer, query.resource) if self._keep(c, plain)]
        rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        if not query.wants_metrics:
            for context in contexts:
                rows.append((self._sort_key(context, query), self._row(context, query.fields)))
        else:
            first = window[0] if window else self._first_day(customer, today)
            last = window[1] if window else today
            per_day = {day: self._deliveries(customer, day, now) for day in days(first, min(last, today))}
            for context in contexts:
                if query.by_date:
                    for day, results in per_day.items():
                        total = self._total(customer, query.resource, context, results)
                        if total.impressions == 0:
                            continue
                        row_context = {
                            **context,
                            "segments": {"date": day.isoformat()},
                            "metrics": self._metrics(total),
                        }
                        rows.append((self._sort_key(row_context, query), self._row(row_context, query.fields)))
                else:
                    total = ZERO
                    for results in per_day.values():
                        total = total + self._total(customer, query.resource, context, results)
                    row_context = {**context, "metrics": self._metrics(total)}
                    rows.append((self._sort_key(row_context, query), self._row(row_context, query.fields)))
        rows.sort(key=lambda pair: pair[0], reverse=bool(query.order_by and query.order_by[1]))
        found = [row for _, row in rows]
        return found[: query.limit] if query.limit is not None else found

    def _keep(self, context: Mapping[str, Any], conditions: list[Condition]) -> bool:
        return all(matches(self._value(context, c.field), c) for c in conditions)

    def _sort_key(self, context: Mapping[str, Any], query: Query) -> tuple[Any, ...]:
        main = context.get(query.resource, {})
        identity = str(main.get("resource_name", ""))
        ordinal = main.get("_seq", 0)
        day = self._value(context, "segments.date") or ""
        if query.order_by is not None:
            value = self._value(context, query.order_by[0])
            return (value is None, str(value) if not isinstance(value, int | float) else value, ordinal, day, identity)
        return (ordinal, day, identity)

    @staticmethod
    def _row(context: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for path in fields:
            parts = path.split(".")
            node: Any = context
            for part in parts:
                node = node.get(part) if isinstance(node, Mapping) else None
            if node is None:
                continue
            target = row
            for part in parts[:-1]:
                target = target.setdefault(camel(part), {})
            target[camel(parts[-1])] = _wire(node)
        # Google names each selected resource by its resourceName too.
        for head in {f.split(".", 1)[0] for f in fields} - {"metrics", "segments"}:
            entity = context.get(head)
            if isinstance(entity, Mapping) and "resource_name" in entity and camel(head) in row:
                row[camel(head)].setdefault("resourceName", entity["resource_name"])
        return row

    @staticmethod
    def _metrics(total: DayResult) -> dict[str, Any]:
        cost_micros = int(total.spend * MICROS)
        return {
            "impressions": total.impressions,
            "clicks": total.clicks,
            "cost_micros": cost_micros,
            "conversions": total.conversions,
            "conversions_value": float(total.conversion_value),
            "ctr": total.clicks / total.impressions if total.impressions else 0.0,
            "average_cpc": cost_micros / total.clicks if total.clicks else 0.0,
        }

    @staticmethod
    def _total(
        customer: _Customer, resource: str, context: Mapping[str, Any], results: Mapping[str, DayResult]
    ) -> DayResult:
        total = ZERO
        ads = customer.table("ad_group_ad")
        for name, result in results.items():
            ad = ads[name]
            if resource == "ad_group_ad":
                hit = name == context["ad_group_ad"]["resource_name"]
            elif resource == "ad_group":
                hit = ad["ad_group"] == context["ad_group"]["resource_name"]
            elif resource == "campaign":
                group = customer.table("ad_group").get(ad["ad_group"], {})
                hit = group.get("campaign") == context["campaign"]["resource_name"]
            else:
                hit = True
            if hit:
                total = total + result
        return total

    @staticmethod
    def _first_day(customer: _Customer, today: date) -> date:
        starts = [t.first_enabled for t in customer.timelines.values() if t.first_enabled is not None]
        if not starts:
            return today
        zone = ZoneInfo(customer.time_zone)
        return min(s.astimezone(zone).date() for s in starts)

    # --- delivery ------------------------------------------------------------------------------------------------

    def _deliveries(self, customer: _Customer, day: date, now: datetime) -> dict[str, DayResult]:
        """Each ad's result on ``day`` (keyed by the ad group ad's resource name)."""
        results: dict[str, DayResult] = {}
        groups = customer.table("ad_group")
        ads_by_group: dict[str, list[dict[str, Any]]] = {}
        for ad in customer.table("ad_group_ad").values():
            ads_by_group.setdefault(ad["ad_group"], []).append(ad)
        unit = minor_unit(customer.currency)
        for campaign in customer.table("campaign").values():
            budget = customer.table("campaign_budget").get(campaign["campaign_budget"], {})
            amount = Decimal(int(budget.get("amount_micros", 0))) / MICROS
            serving: list[ServingAd] = []
            names: dict[str, str] = {}
            for group in groups.values():
                if group["campaign"] != campaign["resource_name"]:
                    continue
                audience = self._audience(customer, campaign, group)
                bid = Decimal(int(group["cpc_bid_micros"])) / MICROS if group.get("cpc_bid_micros") else None
                has_image = any(
                    link["ad_group"] == group["resource_name"] and link.get("field_type") == "AD_IMAGE"
                    for link in customer.table("ad_group_asset").values()
                )
                for ad in ads_by_group.get(group["resource_name"], []):
                    timelines = [
                        customer.timelines.get(n, StatusTimeline())
                        for n in (campaign["resource_name"], group["resource_name"], ad["resource_name"])
                    ]
                    rsa = ad["ad"].get("responsive_search_ad", {})
                    creative = CreativeSignal.of(
                        [h.get("text", "") for h in rsa.get("headlines", [])],
                        [d.get("text", "") for d in rsa.get("descriptions", [])],
                        has_image=has_image,
                    )
                    ad_id = str(ad["ad"]["id"])
                    names[ad_id] = ad["resource_name"]
                    fraction = serving_fraction(timelines, day, customer.time_zone, now)
                    serving.append(ServingAd(ad_id, fraction, bid, audience, creative))
            for ad_id, result in campaign_day(day, amount, serving, GOOGLE_SEARCH, minor_unit=unit).items():
                results[names[ad_id]] = result
        return results

    @staticmethod
    def _audience(customer: _Customer, campaign: Mapping[str, Any], group: Mapping[str, Any]) -> int:
        countries: list[str] = []
        for criterion in customer.table("campaign_criterion").values():
            constant = criterion.get("location", {}).get("geo_target_constant", "")
            if criterion["campaign"] == campaign["resource_name"] and not criterion.get("negative"):
                country = pycountry.countries.get(numeric=f"{int(constant.rsplit('/', 1)[-1]) - 2000:03d}")
                if country is not None:
                    countries.append(country.alpha_2)
        excluded: set[str] = set()
        keywords: list[str] = []
        lists: list[int] = []
        for criterion in customer.table("ad_group_criterion").values():
            if criterion["ad_group"] != group["resource_name"]:
                continue
            if "age_range" in criterion and criterion.get("negative"):
                excluded.add(criterion["age_range"].get("type", ""))
            if "keyword" in criterion and not criterion.get("negative"):
                keywords.append(criterion["keyword"].get("text", ""))
            if "user_list" in criterion and not criterion.get("negative"):
                lists.append(int(customer.table("user_list")[criterion["user_list"]["user_list"]]["size_for_search"]))
        kept = [span for name, span in AGE_RANGES.items() if name not in excluded]
        if not kept:
            return 0
        return targeted_reach(countries, min(s[0] for s in kept), max(s[1] for s in kept), keywords, lists)

    # --- Customer Match ------------------------------------------------------------------------------------------

    def _create_job(self, customer: _Customer, body: Mapping[str, Any]) -> dict[str, Any]:
        job = _snake_keys(body.get("job"))
        if not isinstance(job, dict) or job.get("type") != "CUSTOMER_MATCH_USER_LIST":
            raise _invalid(
                [_ads_error("fieldError", "REQUIRED", "job.type must be CUSTOMER_MATCH_USER_LIST.", [("job", None)])]
            )
        metadata = job.get("customer_match_user_list_metadata")
        user_list = metadata.get("user_list") if isinstance(metadata, dict) else None
        if customer.table("user_list").get(str(user_list)) is None:
            raise _invalid(
                [
                    _ads_error(
                        "offlineUserDataJobError",
                        "INVALID_USER_LIST_ID",
                        "The user list was not found.",
                        [("job", None), ("customer_match_user_list_metadata", None), ("user_list", None)],
                    )
                ]
            )
        job_id = self._new_id(customer)
        name = f"customers/{customer.id}/offlineUserDataJobs/{job_id}"
        customer.table("offline_user_data_job")[name] = {
            "resource_name": name,
            "id": job_id,
            "type": "CUSTOMER_MATCH_USER_LIST",
            "status": "PENDING",
            "customer_match_user_list_metadata": {"user_list": user_list},
            "_identifiers": set(),
        }
        return {"resourceName": name}

    @staticmethod
    def _add_job_operations(job: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        if job["status"] != "PENDING":
            raise _invalid(
                [_ads_error("offlineUserDataJobError", "INVALID_JOB_STATUS", "The job has already run.", [])]
            )
        operations = _snake_keys(body.get("operations"))
        if not isinstance(operations, list) or not operations:
            raise _invalid([_ads_error("mutateError", "OPERATION_REQUIRED", "No operations.", [("operations", None)])])
        found: set[str] = set()
        for index, operation in enumerate(operations):
            create = operation.get("create") if isinstance(operation, dict) else None
            identifiers = create.get("user_identifiers") if isinstance(create, dict) else None
            if not isinstance(identifiers, list) or not identifiers:
                raise _invalid(
                    [_ads_error("fieldError", "REQUIRED", "user_identifiers is required.", [("operations", index)])]
                )
            for identifier in identifiers:
                kinds = [k for k in IDENTIFIER_FIELDS if isinstance(identifier, dict) and k in identifier]
                value = str(identifier[kinds[0]]) if kinds else ""
                if len(kinds) != 1 or not _DIGEST.fullmatch(value):
                    raise _invalid(
                        [
                            _ads_error(
                                "offlineUserDataJobError",
                                "INVALID_SHA256_FORMAT",
                                "Identifiers are hashed_email or hashed_phone_number as SHA-256 hex.",
                                [("operations", index), ("create", None), ("user_identifiers", None)],
                            )
                        ]
                    )
                found.add(f"{kinds[0]}:{value}")
        job["_identifiers"] |= found
        return {}

    def _run_job(self, customer: _Customer, job: dict[str, Any]) -> dict[str, Any]:
        if job["status"] != "PENDING":
            raise _invalid(
                [_ads_error("offlineUserDataJobError", "INVALID_JOB_STATUS", "The job has already run.", [])]
            )
        user_list = customer.table("user_list")[job["customer_match_user_list_metadata"]["user_list"]]
        user_list["_members"] |= job["_identifiers"]
        size = _two_significant(matched(len(user_list["_members"]), MATCH_RATE))
        user_list.update(size_for_search=size, size_for_display=size)
        job["status"] = "SUCCESS"
        return {"name": f"customers/{customer.id}/operations/{job['id']}"}

    def _create_user_list(self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]) -> str:
        self._unique_name(customer, "user_list", entity, at, ("userListError", "NAME_ALREADY_USED"))
        crm = entity.get("crm_based_user_list")
        if not isinstance(crm, dict) or crm.get("upload_key_type") != "CONTACT_INFO":
            raise _OperationError(
                _ads_error(
                    "userListError",
                    "INVALID_UPLOAD_KEY_TYPE",
                    "This sandbox serves CRM-based lists with upload_key_type CONTACT_INFO.",
                    [*at, ("crm_based_user_list", None)],
                )
            )
        entity.update(
            id=self._new_id(customer),
            type="CRM_BASED",
            membership_status=entity.get("membership_status", "OPEN"),
            size_for_search=0,
            size_for_display=0,
            _members=set(),
        )
        return f"customers/{customer.id}/userLists/{entity['id']}"

    # --- mutate --------------------------------------------------------------------------------------------------

    def _mutate(self, customer: _Customer, service: str, body: Mapping[str, Any]) -> dict[str, Any]:
        operations = body.get("operations")
        if not isinstance(operations, list) or not operations:
            raise _invalid([_ads_error("mutateError", "OPERATION_REQUIRED", "No operations.", [("operations", None)])])
        resource, result_key = SERVICES[service]
        staged = copy.deepcopy(customer)
        errors: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        now = self._clock()
        for index, raw in enumerate(operations):
            operation = _snake_keys(raw) if isinstance(raw, dict) else {}
            try:
                name = self._apply(staged, resource, operation, index, now)
            except _OperationError as failure:
                errors.extend(failure.errors)
                continue
            result: dict[str, Any] = {"resourceName": name}
            if body.get("responseContentType") == "MUTABLE_RESOURCE" and name in staged.table(resource):
                result[result_key] = _wire(
                    {k: v for k, v in staged.table(resource)[name].items() if not k.startswith("_")}
                )
            results.append(result)
        if errors:
            raise _invalid(errors)
        if not body.get("validateOnly"):
            customer.entities, customer.timelines, customer.next_id = staged.entities, staged.timelines, staged.next_id
        return {"results": results}

    def _apply(
        self, customer: _Customer, resource: str, operation: Mapping[str, Any], index: int, now: datetime
    ) -> str:
        at: list[tuple[str, int | None]] = [("operations", index)]
        if "create" in operation and isinstance(operation["create"], dict):
            entity = dict(operation["create"])
            entity.pop("resource_name", None)
            check = getattr(self, f"_create_{resource}")
            name: str = check(customer, entity, [*at, ("create", None)])
            entity["resource_name"] = name
            entity["_seq"] = customer.next_id
            customer.table(resource)[name] = entity
            if "status" in entity:
                customer.timelines[name] = (
                    StatusTimeline().changed(now, True) if entity["status"] == "ENABLED" else StatusTimeline()
                )
            return name
        if "update" in operation and isinstance(operation["update"], dict):
            changes = dict(operation["update"])
            name = str(changes.pop("resource_name", ""))
            stored = self._existing(customer, resource, name, [*at, ("update", None), ("resource_name", None)])
            mask = [snake(p.strip()) for p in str(operation.get("update_mask", "")).split(",") if p.strip()]
            allowed = UPDATABLE.get(resource, frozenset())
            for path in mask or list(changes):
                if path not in allowed:
                    raise _OperationError(
                        _ads_error(
                            "fieldError",
                            "IMMUTABLE_FIELD",
                            f"{path} cannot be changed.",
                            [*at, ("update", None), (path, None)],
                        )
                    )
            if stored.get("status") == "REMOVED":
                raise _OperationError(
                    _ads_error(
                        "mutateError",
                        "OPERATION_NOT_PERMITTED_FOR_REMOVED_RESOURCE",
                        "The resource is removed.",
                        [*at, ("update", None), ("resource_name", None)],
                    )
                )
            for path in mask or list(changes):
                value = self._check_update(
                    customer, resource, stored, path, changes.get(path), [*at, ("update", None), (path, None)]
                )
                stored[path] = value
                if path == "status":
                    timeline = customer.timelines.get(name, StatusTimeline())
                    customer.timelines[name] = timeline.changed(now, value == "ENABLED")
            return name
        if "remove" in operation and isinstance(operation["remove"], str):
            name = operation["remove"]
            stored = self._existing(customer, resource, name, [*at, ("remove", None)])
            if "status" in stored:
                stored["status"] = "REMOVED"
                customer.timelines[name] = customer.timelines.get(name, StatusTimeline()).changed(now, False)
            else:
                del customer.table(resource)[name]
            return name
        raise _OperationError(
            _ads_error("mutateError", "OPERATION_REQUIRED", "An operation needs create, update or remove.", at)
        )

    @staticmethod
    def _existing(customer: _Customer, resource: str, name: str, at: list[tuple[str, int | None]]) -> dict[str, Any]:
        stored = customer.table(resource).get(name)
        if stored is None:
            raise _OperationError(_ads_error("mutateError", "RESOURCE_NOT_FOUND", "Resource was not found.", at))
        return stored

    def _new_id(self, customer: _Customer) -> int:
        customer.next_id += 1
        # Google ids are large int64s: a per-customer counter offset keeps them distinct and readable.
        return int(customer.id[-4:]) * 1_000_000 + customer.next_id

    def _money(self, customer: _Customer, value: Any, at: list[tuple[str, int | None]], *, minimum: int) -> int:
        try:
            micros = int(value)
        except (TypeError, ValueError):
            raise _OperationError(
                _ads_error("fieldError", "REQUIRED", "An amount in micros is required.", at)
            ) from None
        if micros < minimum:
            raise _OperationError(_ads_error("rangeError", "TOO_LOW", "Too low.", at))
        step = int(minor_unit(customer.currency) * MICROS)
        if micros % step:
            raise _OperationError(
                _ads_error(
                    "campaignBudgetError",
                    "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT",
                    "The amount must be a multiple of the minimum currency unit.",
                    at,
                )
            )
        return micros

    def _status(self, entity: Mapping[str, Any], at: list[tuple[str, int | None]]) -> None:
        if entity.get("status") not in STATUSES:
            raise _OperationError(
                _ads_error(
                    "fieldError", "REQUIRED", "status must be ENABLED or PAUSED on create.", [*at, ("status", None)]
                )
            )

    def _unique_name(
        self,
        customer: _Customer,
        resource: str,
        entity: Mapping[str, Any],
        at: list[tuple[str, int | None]],
        code: tuple[str, str],
        scope: str | None = None,
    ) -> None:
        name = entity.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _OperationError(_ads_error("fieldError", "REQUIRED", "name is required.", [*at, ("name", None)]))
        if len(name) > 255:
            raise _OperationError(
                _ads_error("stringLengthError", "TOO_LONG", "name is too long.", [*at, ("name", None)])
            )
        for other in customer.table(resource).values():
            if (
                other.get("name") == name
                and other.get("status") != "REMOVED"
                and (scope is None or other.get(scope) == entity.get(scope))
            ):
                raise _OperationError(_ads_error(code[0], code[1], "The name is already used.", [*at, ("name", None)]))

    def _create_campaign_budget(
        self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]
    ) -> str:
        self._unique_name(customer, "campaign_budget", entity, at, ("campaignBudgetError", "DUPLICATE_NAME"))
        entity["amount_micros"] = self._money(
            customer, entity.get("amount_micros"), [*at, ("amount_micros", None)], minimum=1
        )
        entity.setdefault("delivery_method", "STANDARD")
        entity.setdefault("explicitly_shared", False)
        entity["id"] = self._new_id(customer)
        entity["status"] = "ENABLED"
        return f"customers/{customer.id}/campaignBudgets/{entity['id']}"

    def _create_campaign(self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]) -> str:
        self._unique_name(customer, "campaign", entity, at, ("campaignError", "DUPLICATE_CAMPAIGN_NAME"))
        self._status(entity, at)
        if entity.get("advertising_channel_type") not in ("SEARCH", "DISPLAY"):
            raise _OperationError(
                _ads_error(
                    "fieldError",
                    "REQUIRED",
                    "advertising_channel_type is required.",
                    [*at, ("advertising_channel_type", None)],
                )
            )
        budget = customer.table("campaign_budget").get(str(entity.get("campaign_budget", "")))
        if budget is None or budget.get("status") == "REMOVED":
            raise _OperationError(
                _ads_error(
                    "mutateError",
                    "RESOURCE_NOT_FOUND",
                    "The campaign budget was not found.",
                    [*at, ("campaign_budget", None)],
                )
            )
        if entity.get("contains_eu_political_advertising") not in (
            "CONTAINS_EU_POLITICAL_ADVERTISING",
            "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
        ):
            raise _OperationError(
                _ads_error(
                    "fieldError",
                    "REQUIRED",
                    "The required field was not present.",
                    [*at, ("contains_eu_political_advertising", None)],
                )
            )
        if sum(1 for name in BIDDING_FIELDS if name in entity) != 1:
            raise _OperationError(
                _ads_error(
                    "biddingError",
                    "BIDDING_STRATEGY_REQUIRED",
                    "Exactly one bidding strategy is required.",
                    [*at, ("campaign_bidding_strategy", None)],
                )
            )
        today = self._clock().astimezone(ZoneInfo(customer.time_zone)).date()
        for name in ("start_date", "end_date"):
            if name in entity:
                try:
                    if date.fromisoformat(str(entity[name])) < today:
                        message = f"{name} cannot be in the past."
                        error = _ads_error("campaignError", "CANNOT_SET_DATE_TO_PAST", message, [*at, (name, None)])
                        raise _OperationError(error)
                except ValueError:
                    raise _OperationError(
                        _ads_error(
                            "dateError", "INVALID_FIELD_VALUES_IN_DATE", f"{name} is not a date.", [*at, (name, None)]
                        )
                    ) from None
        entity["id"] = self._new_id(customer)
        return f"customers/{customer.id}/campaigns/{entity['id']}"

    def _create_ad_group(self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]) -> str:
        campaign = customer.table("campaign").get(str(entity.get("campaign", "")))
        if campaign is None or campaign.get("status") == "REMOVED":
            raise _OperationError(
                _ads_error(
                    "mutateError", "RESOURCE_NOT_FOUND", "The campaign was not found.", [*at, ("campaign", None)]
                )
            )
        self._unique_name(
            customer, "ad_group", entity, at, ("adGroupError", "DUPLICATE_ADGROUP_NAME"), scope="campaign"
        )
        self._status(entity, at)
        if "cpc_bid_micros" in entity:
            entity["cpc_bid_micros"] = self._money(
                customer, entity["cpc_bid_micros"], [*at, ("cpc_bid_micros", None)], minimum=10_000
            )
        entity.setdefault("type", "SEARCH_STANDARD")
        entity["id"] = self._new_id(customer)
        return f"customers/{customer.id}/adGroups/{entity['id']}"

    def _create_ad_group_ad(self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]) -> str:
        group = customer.table("ad_group").get(str(entity.get("ad_group", "")))
        if group is None or group.get("status") == "REMOVED":
            raise _OperationError(
                _ads_error(
                    "mutateError", "RESOURCE_NOT_FOUND", "The ad group was not found.", [*at, ("ad_group", None)]
                )
            )
        self._status(entity, at)
        ad = entity.get("ad")
        if not isinstance(ad, dict):
            raise _OperationError(_ads_error("fieldError", "REQUIRED", "ad is required.", [*at, ("ad", None)]))
        urls = ad.get("final_urls")
        if (
            not isinstance(urls, list)
            or not urls
            or not all(isinstance(u, str) and u.startswith(("https://", "http://")) for u in urls)
        ):
            raise _OperationError(
                _ads_error(
                    "adError",
                    "URL_NOT_VALID" if urls else "REQUIRED",
                    "A valid final URL is required.",
                    [*at, ("ad", None), ("final_urls", None)],
                )
            )
        rsa = ad.get("responsive_search_ad")
        if not isinstance(rsa, dict):
            raise _OperationError(
                _ads_error(
                    "fieldError",
                    "REQUIRED",
                    "responsive_search_ad is required.",
                    [*at, ("ad", None), ("responsive_search_ad", None)],
                )
            )
        for part, (low, high, length) in (("headlines", HEADLINES), ("descriptions", DESCRIPTIONS)):
            where = [*at, ("ad", None), ("responsive_search_ad", None)]
            items = rsa.get(part)
            texts = [i.get("text") if isinstance(i, dict) else None for i in items] if isinstance(items, list) else []
            if not low <= len(texts) <= high:
                code = "TOO_FEW_" + part.upper() if len(texts) < low else "TOO_MANY_" + part.upper()
                raise _OperationError(
                    _ads_error("adError", code, f"{low}-{high} {part} are required.", [*where, (part, None)])
                )
            for position, text in enumerate(texts):
                if not isinstance(text, str) or not text.strip():
                    raise _OperationError(
                        _ads_error(
                            "fieldError", "REQUIRED", "text is required.", [*where, (part, position), ("text", None)]
                        )
                    )
                if len(text) > length:
                    raise _OperationError(
                        _ads_error(
                            "stringLengthError",
                            "TOO_LONG",
                            f"Too long (max {length}).",
                            [*where, (part, position), ("text", None)],
                        )
                    )
            if len(set(texts)) != len(texts):
                raise _OperationError(
                    _ads_error("assetError", "DUPLICATE_ASSET", "Duplicate text.", [*where, (part, None)])
                )
        ad["id"] = self._new_id(customer)
        return f"customers/{customer.id}/adGroupAds/{group['id']}~{ad['id']}"

    def _create_campaign_criterion(
        self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]
    ) -> str:
        campaign = customer.table("campaign").get(str(entity.get("campaign", "")))
        if campaign is None:
            raise _OperationError(
                _ads_error(
                    "mutateError", "RESOURCE_NOT_FOUND", "The campaign was not found.", [*at, ("campaign", None)]
                )
            )
        constant = (
            str(entity.get("location", {}).get("geo_target_constant", ""))
            if isinstance(entity.get("location"), dict)
            else ""
        )
        number = constant.removeprefix("geoTargetConstants/")
        if not number.isdigit() or pycountry.countries.get(numeric=f"{int(number) - 2000:03d}") is None:
            raise _OperationError(
                _ads_error(
                    "criterionError",
                    "INVALID_GEO_TARGET_CONSTANT",
                    "Unknown location.",
                    [*at, ("location", None), ("geo_target_constant", None)],
                )
            )
        criterion_id = int(number)
        entity["criterion_id"] = criterion_id
        return f"customers/{customer.id}/campaignCriteria/{campaign['id']}~{criterion_id}"

    def _create_ad_group_criterion(
        self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]
    ) -> str:
        group = customer.table("ad_group").get(str(entity.get("ad_group", "")))
        if group is None:
            raise _OperationError(
                _ads_error(
                    "mutateError", "RESOURCE_NOT_FOUND", "The ad group was not found.", [*at, ("ad_group", None)]
                )
            )
        if isinstance(entity.get("keyword"), dict):
            text = entity["keyword"].get("text")
            if not isinstance(text, str) or not 0 < len(text) <= 80:
                raise _OperationError(
                    _ads_error(
                        "criterionError",
                        "KEYWORD_TEXT_TOO_LONG" if text else "KEYWORD_TEXT_EMPTY",
                        "Keyword text must be 1-80 characters.",
                        [*at, ("keyword", None), ("text", None)],
                    )
                )
            entity["keyword"].setdefault("match_type", "BROAD")
        elif isinstance(entity.get("user_list"), dict):
            if customer.table("user_list").get(str(entity["user_list"].get("user_list", ""))) is None:
                raise _OperationError(
                    _ads_error(
                        "criterionError",
                        "INVALID_USER_LIST_ID",
                        "The user list was not found in this customer.",
                        [*at, ("user_list", None), ("user_list", None)],
                    )
                )
        elif isinstance(entity.get("age_range"), dict):
            if entity["age_range"].get("type") not in AGE_RANGES:
                raise _OperationError(
                    _ads_error(
                        "criterionError",
                        "INVALID_AGE_RANGE",
                        "Unknown age range.",
                        [*at, ("age_range", None), ("type", None)],
                    )
                )
        else:
            raise _OperationError(
                _ads_error(
                    "criterionError",
                    "CRITERION_TYPE_NOT_SUPPORTED",
                    "Only keyword, age_range and user_list criteria.",
                    at,
                )
            )
        entity["criterion_id"] = self._new_id(customer)
        return f"customers/{customer.id}/adGroupCriteria/{group['id']}~{entity['criterion_id']}"

    def _create_asset(self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]) -> str:
        image = entity.get("image_asset")
        data = image.get("data") if isinstance(image, dict) else None
        try:
            raw = base64.b64decode(str(data), validate=True) if data else b""
        except binascii.Error:
            raw = b""
        if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
            raise _OperationError(
                _ads_error(
                    "imageError",
                    "INVALID_IMAGE",
                    "The image is not a valid PNG.",
                    [*at, ("image_asset", None), ("data", None)],
                )
            )
        image_asset = dict(image) if isinstance(image, dict) else {}
        image_asset.pop("data", None)  # kept small: queries never return the bytes
        image_asset["file_size"] = len(raw)
        entity["image_asset"] = image_asset
        entity["type"] = "IMAGE"
        entity["id"] = self._new_id(customer)
        return f"customers/{customer.id}/assets/{entity['id']}"

    def _create_ad_group_asset(
        self, customer: _Customer, entity: dict[str, Any], at: list[tuple[str, int | None]]
    ) -> str:
        group = customer.table("ad_group").get(str(entity.get("ad_group", "")))
        asset = customer.table("asset").get(str(entity.get("asset", "")))
        if group is None or asset is None:
            missing = "ad_group" if group is None else "asset"
            raise _OperationError(
                _ads_error("mutateError", "RESOURCE_NOT_FOUND", f"The {missing} was not found.", [*at, (missing, None)])
            )
        if entity.get("field_type") != "AD_IMAGE":
            raise _OperationError(
                _ads_error("fieldError", "REQUIRED", "field_type must be AD_IMAGE here.", [*at, ("field_type", None)])
            )
        entity.setdefault("status", "ENABLED")
        return f"customers/{customer.id}/adGroupAssets/{group['id']}~{asset['id']}~AD_IMAGE"

    def _check_update(
        self,
        customer: _Customer,
        resource: str,
        stored: Mapping[str, Any],
        path: str,
        value: Any,
        at: list[tuple[str, int | None]],
    ) -> Any:
        """The value an update stores at ``path`` after Google's checks."""
        if path == "status":
            if value not in STATUSES:
                message = "status must be ENABLED or PAUSED (remove to delete)."
                raise _OperationError(_ads_error("fieldError", "INVALID_VALUE", message, at))
            return value
        if path == "amount_micros":
            return self._money(customer, value, at, minimum=1)
        if path == "cpc_bid_micros":
            return self._money(customer, value, at, minimum=10_000)
        if path == "name":
            scope = "campaign" if resource == "ad_group" else None
            probe = {"name": value, "campaign": stored.get("campaign")}
            self._unique_name(customer, resource, probe, at[:-1], ("mutateError", "DUPLICATE_NAME"), scope=scope)
        return value


def _two_significant(number: int) -> int:
    """``number`` rounded down to two significant digits, as Google reports list sizes [~]."""
    step: int = 10 ** max(len(str(number)) - 2, 0)
    return number // step * step


class _OperationError(Exception):
    def __init__(self, *errors: dict[str, Any]) -> None:
        super().__init__("operation failed")
        self.errors = list(errors)
