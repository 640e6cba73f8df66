"""The LinkedIn Marketing API (versioned REST) in memory: ad accounts, campaign groups / campaigns / creatives,
partial updates, targeting typeahead and daily ad analytics from the shared delivery model.

Shapes follow shared/reference/platform_apis.md §5 (``[~]`` = secondary material):

* auth: ``Authorization: Bearer <token>``; none, an unknown or a revoked token → 401 ``INVALID_ACCESS_TOKEN``
  (serviceErrorCode 65600) [~ codes]; a token reaches the ad accounts :meth:`LinkedInAdsSimulator.grant` gave it (a
  non-numeric account name gets a stable 9-digit id, :meth:`account_id_of`), others answer 403;
* every request names ``LinkedIn-Version`` (missing → 400 ``VERSION_MISSING``; one outside the year of active
  versions up to :data:`..client.LINKEDIN_VERSION` → 426 ``NONEXISTENT_VERSION`` [~]) and
  ``X-Restli-Protocol-Version: 2.0.0`` (§5 "Required headers");
* errors are ``{status, serviceErrorCode, code, message}`` [~]; throttling is a 429 with no Retry-After and no rate
  headers (§5 "Rate limits"); a 5xx carries the same body;
* creates (``POST adAccounts/{id}/adCampaignGroups | adCampaigns | creatives``) answer 201 with an empty body and
  the id in ``x-restli-id`` (and ``x-linkedin-id``): numbers for groups and campaigns, a
  ``urn:li:sponsoredCreative:`` URN for creatives (§5 [~ header]);
* changes: ``POST`` to the entity with ``X-RestLi-Method: PARTIAL_UPDATE`` and ``{"patch": {"$set": {…}}}`` → 204;
  archived objects take no change [~];
* money is ``{amount: "<string>", currencyCode}`` in the account currency (§5 "5000.00"): a JSON number, finer
  precision than the currency or another currency is a 400; a group's daily budget is at least 10 [~ LinkedIn help];
* a group's ``dailyBudget`` needs ``budgetOptimization.budgetOptimizationStrategy = DYNAMIC`` (campaign group budget
  optimisation: its campaigns then take no budget); otherwise each campaign needs its own ``dailyBudget`` [~];
* a campaign is SPONSORED_UPDATES (the only type served here) with ``costType``, ``unitCost`` (the bid) or an
  ``optimizationTargetType`` (automatic bidding), ``locale`` and ``targetingCriteria.include.and`` of OR-facets;
  the locations facet is required [~];
* a creative takes this project's inline payload (documented, not LinkedIn's exact shape, which references a post
  or goes through ``createInline`` [~]): ``{campaign, name?, intendedStatus, inlineContent: {post: {commentary ≤600,
  content: {article: {source (a web address), title ≤200, description? ≤300}}}}}``; at most 15 ACTIVE creatives
  per campaign (§5 "Limits");
* ``adAnalytics?q=analytics`` pivots on CAMPAIGN_GROUP / CAMPAIGN / CREATIVE with ``timeGranularity=DAILY``, a
  Rest.li ``dateRange`` record and a ``List(…)`` of URNs; no pagination; days without impressions are left out
  (§5). Delivery comes from :mod:`..model.ad_performance` (LinkedIn sponsored content benchmarks) for the time the
  creative, its campaign and its group were ACTIVE (changes stamped with the simulator's clock) inside the group's
  ``runSchedule``, under the current budget. Days are UTC [~];
* matched audiences: ``POST dmpSegments`` (``name, sourcePlatform, account, accessPolicy, type: USER,
  destinations: [{destination: LINKEDIN}]``) → 201 with ``x-restli-id``; ``POST dmpSegments/{id}/users`` with
  ``X-RestLi-Method: BATCH_CREATE`` and ``{elements: [{action: ADD|REMOVE, userIds: [{idType: SHA256_EMAIL,
  idValue}]}]}`` → ``{elements: [{status: 201}…]}`` (other id types, or values that are no SHA-256 hex digest,
  answer 400); ``GET dmpSegments/{id}`` → ``{id, name, account, type, status, matchedMemberCount, destinations:
  [{destination: LINKEDIN, status, destinationSegmentId: urn:li:adSegment:…}]}``. A segment matches ``MATCH_RATE``
  of its members' digests [~ modelling] and is READY once it holds ``READY_MIN_MEMBERS`` matched members (LinkedIn
  needs 300 to serve [~]), BUILDING before. Campaigns target ad segments in the
  ``urn:li:adTargetingFacet:audienceMatchingSegments`` facet (this account's only);
* ``GET audienceCounts?q=targetingCriteriaV2&targetingCriteria=<Rest.li record>`` → ``{elements: [{active,
  total}]}``: ``total`` from :mod:`..model.audience_reach`, ``active`` 60 % of it [~ modelling]; delivery uses the
  same reach.
"""

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote, urlsplit

import pycountry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.integrations.linkedin_ads.client import LINKEDIN_VERSION, URN_PREFIX, id_of
from promptsales.domain_core.integrations.model.ad_limits import days, exponent, minor_unit
from promptsales.domain_core.integrations.model.ad_performance import (
    LINKEDIN_SPONSORED_CONTENT,
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

API_PREFIX = urlsplit(get_connector("linkedin_ads").sandbox_base_url).path  # "/rest"
LOCATIONS_FACET = "urn:li:adTargetingFacet:locations"
AGE_FACET = "urn:li:adTargetingFacet:ageRanges"
INTERESTS_FACET = "urn:li:adTargetingFacet:interests"
SEGMENTS_FACET = "urn:li:adTargetingFacet:audienceMatchingSegments"
AD_SEGMENT = "urn:li:adSegment:"
MATCH_RATE = 0.55  # share of uploaded email digests a segment matches to members [~ modelling]
ACTIVE_SHARE = 0.6  # members active lately among those a targeting reaches [~ modelling]
READY_MIN_MEMBERS = 300  # matched members a segment needs before it serves [~ LinkedIn help]
SEGMENT_USERS_PER_BATCH = 5_000
_DIGEST = re.compile(r"[0-9a-f]{64}")
SETTABLE_STATUSES = ("ACTIVE", "PAUSED", "DRAFT", "ARCHIVED")  # what a partial update may set [~]
OBJECTIVES = ("BRAND_AWARENESS", "WEBSITE_VISIT", "ENGAGEMENT", "VIDEO_VIEW", "LEAD_GENERATION", "WEBSITE_CONVERSION")
CAMPAIGN_TYPES = ("SPONSORED_UPDATES", "TEXT_AD", "SPONSORED_INMAILS", "DYNAMIC")
COST_TYPES = ("CPC", "CPM", "CPV")
OPTIMIZATION_TARGETS = ("MAX_CLICK", "MAX_IMPRESSION", "MAX_CONVERSION")
AGE_RANGES: Mapping[str, tuple[int, int]] = {
    "urn:li:ageRange:(18,24)": (18, 24),
    "urn:li:ageRange:(25,34)": (25, 34),
    "urn:li:ageRange:(35,54)": (35, 54),
    "urn:li:ageRange:(55,2147483647)": (55, 65),  # the delivery model's top age is 65 (it stands for 65+)
}
INTERESTS: tuple[str, ...] = (
    "Artificial Intelligence",
    "Entrepreneurship",
    "Finance",
    "Fitness",
    "Healthcare",
    "Human Resources",
    "Marketing",
    "Running",
    "Sales",
    "Software Development",
    "Sustainability",
    "Travel",
)
METRIC_FIELDS = frozenset(
    {"impressions", "clicks", "landingPageClicks", "costInLocalCurrency", "costInUsd", "externalWebsiteConversions",
     "conversionValueInLocalCurrency", "dateRange", "pivotValues"}
)  # fmt: skip
PIVOTS: Mapping[str, tuple[str, str]] = {
    "CAMPAIGN_GROUP": ("campaignGroups", "adCampaignGroups"),
    "CAMPAIGN": ("campaigns", "adCampaigns"),
    "CREATIVE": ("creatives", "creatives"),
}
ID_LEAD = {"adCampaignGroups": "6", "adCampaigns": "3", "creatives": "1"}  # 9-digit ids, told apart at a glance
ACTIVE_CREATIVES_MAX = 15  # §5: 15 active + 85 inactive creatives per campaign
DAILY_BUDGET_MIN = 10  # major units (1000 in zero-decimal currencies) [~ LinkedIn help: $10 a day]
DATE_RANGE = re.compile(
    r"^\(start:\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\),end:\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\)\)$"
)
LIST = re.compile(r"^List\((.*)\)$")


def active_versions(newest: str, months: int = 12) -> frozenset[str]:
    """The ``YYYYMM`` versions served: ``newest`` and the months before it (§5: each version lives ~12 months)."""
    index = int(newest[:4]) * 12 + int(newest[4:]) - 1
    return frozenset(f"{(index - back) // 12:04d}{(index - back) % 12 + 1:02d}" for back in range(months))


ACTIVE_VERSIONS = active_versions(LINKEDIN_VERSION)


class _ApiError(Exception):
    """A LinkedIn error answer."""

    def __init__(self, status: int, code: str, message: str, *, service_code: int = 100) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.service_code = status, code, message, service_code


def _invalid(name: str, reason: str) -> _ApiError:
    return _ApiError(400, "INVALID_VALUE", f"{name}: {reason}")


def _missing(name: str) -> _ApiError:
    return _ApiError(400, "FIELD_MISSING", f"{name}: a value is required.")


def geo_urn(alpha_2: str) -> str:
    """The simulator's geo URN of a country (live ids are LinkedIn's, read from the typeahead)."""
    country = pycountry.countries.get(alpha_2=alpha_2)
    if country is None:
        raise KeyError(alpha_2)
    return f"urn:li:geo:{100_000_000 + int(country.numeric) * 1000}"


def interest_urn(name: str) -> str:
    """The simulator's URN of an interest."""
    return f"urn:li:interest:{7000 + INTERESTS.index(name) * 13}"


_COUNTRY_OF: dict[str, str] = {}


def _country_of(geo: str) -> str | None:
    if not _COUNTRY_OF:
        _COUNTRY_OF.update({geo_urn(c.alpha_2): c.alpha_2 for c in pycountry.countries})
    return _COUNTRY_OF.get(geo)


@dataclass
class _Account:
    id: str
    name: str
    currency: str
    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"adCampaignGroups": {}, "adCampaigns": {}, "creatives": {}}
    )
    timelines: dict[tuple[str, str], StatusTimeline] = field(default_factory=dict)
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)  # DMP segment id → segment (with "_users")
    ad_segments: dict[str, str] = field(default_factory=dict)  # ad segment id → DMP segment id

    def matched_members(self, ad_segment: str) -> int:
        """The members an ad segment's DMP segment matched."""
        return int(self.segments[self.ad_segments[ad_segment]]["matchedMemberCount"])


def parse_restli(text: str) -> Any:
    """A Rest.li 2.0 query value (records, ``List(…)``, percent-encoded leaves) as dicts, lists and strings."""
    value, end = _restli_at(text, 0)
    if end != len(text):
        raise ValueError(f"unexpected text at {end}")
    return value


def _restli_at(text: str, at: int) -> tuple[Any, int]:
    if text.startswith("List(", at):
        items: list[Any] = []
        at += 5
        while text[at : at + 1] != ")":
            item, at = _restli_at(text, at)
            items.append(item)
            if text[at : at + 1] == ",":
                at += 1
        return items, at + 1
    if text[at : at + 1] == "(":
        record: dict[str, Any] = {}
        at += 1
        while text[at : at + 1] != ")":
            colon = text.index(":", at)
            key = unquote(text[at:colon])
            record[key], at = _restli_at(text, colon + 1)
            if text[at : at + 1] == ",":
                at += 1
            elif text[at : at + 1] != ")":
                raise ValueError(f"expected , or ) at {at}")
        return record, at + 1
    end = at
    while end < len(text) and text[end] not in ",()":
        end += 1
    if end == at:
        raise ValueError(f"empty value at {at}")
    return unquote(text[at:end]), end


@dataclass
class _Token:
    accounts: list[str] = field(default_factory=list)
    revoked: bool = False


class LinkedInAdsSimulator:
    """LinkedIn's Marketing API for several ad accounts. ``.app`` serves it; ``grant`` / ``revoke`` / ``fail_next``
    act as LinkedIn would; ``requests`` logs (method, path) of every call that reached it."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        requests_per_minute: int | None = None,
        currency: str = "USD",
    ) -> None:
        self._clock = clock
        self._per_minute = requests_per_minute
        self._currency = currency.upper()
        self._tokens: dict[str, _Token] = {}
        self._accounts: dict[str, _Account] = {}
        self._faults = Faults()
        self._window: tuple[int, int] = (-1, 0)
        self._next_id = 0
        self.requests: list[tuple[str, str]] = []
        for token, account in (tokens or {}).items():
            self.grant(token, account)
        self.app = Starlette(routes=[Route(API_PREFIX + "/{rest:path}", self._endpoint, methods=["GET", "POST"])])

    # --- acting as LinkedIn --------------------------------------------------------------------------------------

    @staticmethod
    def account_id_of(account: str) -> str:
        """The ad account id ``grant`` gives ``account`` (its own digits when it is already one)."""
        if account.isdigit():
            return account
        number = int.from_bytes(hashlib.blake2b(account.encode(), digest_size=8).digest(), "big")
        return str(500_000_000 + number % 400_000_000)

    def open_account(self, account: str, *, name: str | None = None) -> str:
        """Create the ad account ``account`` (once) and return its id; ``name`` renames it."""
        account_id = self.account_id_of(account)
        if account_id not in self._accounts:
            self._accounts[account_id] = _Account(account_id, account, self._currency)
        if name:
            self._accounts[account_id].name = name
        return account_id

    def grant(self, token: str, account: str) -> None:
        """``token`` becomes a valid access token of a member with a role on ``account`` (created on first use)."""
        account_id = self.open_account(account)
        entry = self._tokens.setdefault(token, _Token())
        entry.revoked = False
        if account_id not in entry.accounts:
            entry.accounts.append(account_id)

    def revoke(self, token: str) -> None:
        """``token`` now answers 401 (the member revoked the app, or it expired)."""
        self._tokens.setdefault(token, _Token()).revoked = True

    def fail_next(self, status: int, *, times: int = 1, after_apply: bool = False) -> None:
        """The next ``times`` calls answer ``status`` (429 or a 5xx); with ``after_apply`` a write is applied first
        and only its answer is lost."""
        if status != 429 and not 500 <= status <= 599:
            raise ValueError("fail_next takes 429 or a 5xx status")
        self._faults.add(status, times=times, after_apply=after_apply)

    def objects(self, account: str, entity: str) -> list[dict[str, Any]]:
        """An account's stored adCampaignGroups / adCampaigns / creatives (for tests)."""
        return [dict(o) for o in self._accounts[self.account_id_of(account)].objects[entity].values()]

    # --- pipeline ------------------------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        try:
            token = self._authenticate(request)
            self._check_protocol(request)
            late = self._fault()
            self._spend_rate()
            answer = await self._dispatch(request, request.path_params["rest"].strip("/"), token)
            if late is not None:
                raise late
        except _ApiError as error:
            document = {
                "status": error.status,
                "serviceErrorCode": error.service_code,
                "code": error.code,
                "message": error.message,
            }
            return Response(json.dumps(document), error.status, media_type="application/json")
        return answer

    def _authenticate(self, request: Request) -> _Token:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        entry = self._tokens.get(token) if scheme.lower() == "bearer" and token else None
        if entry is None or entry.revoked:
            raise _ApiError(401, "INVALID_ACCESS_TOKEN", "Invalid access token", service_code=65600)
        return entry

    @staticmethod
    def _check_protocol(request: Request) -> None:
        version = request.headers.get("linkedin-version")
        if not version:
            raise _ApiError(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            )
        if version not in ACTIVE_VERSIONS:
            raise _ApiError(426, "NONEXISTENT_VERSION", f"Requested version {version[:12]} is not active")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise _ApiError(400, "INVALID_VALUE", "X-Restli-Protocol-Version must be 2.0.0 for these endpoints.")

    def _fault(self) -> _ApiError | None:
        fault = self._faults.take()
        if fault is None:
            return None
        if fault.status == 429:
            error = _ApiError(
                429,
                "TOO_MANY_REQUESTS",
                "Resource level throttle limit for calls to this resource is reached.",
                service_code=101,
            )
        else:
            error = _ApiError(fault.status, "SERVER_ERROR", "Internal Server Error", service_code=0)
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
            raise _ApiError(429, "TOO_MANY_REQUESTS", "Resource level throttle limit reached.", service_code=101)

    def _account(self, token: _Token, value: str) -> _Account:
        if not value.isdigit() or value not in self._accounts:
            raise _ApiError(404, "NOT_FOUND", f"Ad account {value[:20]} does not exist.")
        if value not in token.accounts:
            raise _ApiError(403, "ACCESS_DENIED", f"Not enough permissions to access ad account {value}.")
        return self._accounts[value]

    async def _dispatch(self, request: Request, rest: str, token: _Token) -> Response:
        parts = rest.split("/")
        method = request.headers.get("x-restli-method", "").upper()
        if request.method == "GET":
            params = request.query_params
            if rest == "adAccountUsers" and params.get("q") == "authenticatedUser":
                return self._json(self._account_users(token))
            if rest == "adTargetingEntities" and params.get("q") == "typeahead":
                return self._json(self._typeahead(params.get("facet", ""), params.get("query", "")))
            if rest == "adAnalytics" and params.get("q") == "analytics":
                return self._json(self._analytics(token, params))
            if rest == "audienceCounts" and params.get("q") == "targetingCriteriaV2":
                return self._json(self._audience_counts(token, request.url.query))
            if len(parts) == 2 and parts[0] == "dmpSegments":
                _, segment = self._segment(token, parts[1])
                return self._json(self._segment_view(segment))
            if len(parts) == 2 and parts[0] == "adAccounts":
                return self._json(self._account_view(self._account(token, parts[1])))
            if len(parts) == 4 and parts[0] == "adAccounts" and parts[2] in URN_PREFIX:
                account = self._account(token, parts[1])
                return self._json(self._view(self._owned(account, parts[2], parts[3], parts[2])))
        elif rest == "dmpSegments" and method in ("", "CREATE"):
            created = self._create_segment(token, await self._body(request))
            return Response(status_code=201, headers={"x-restli-id": created, "x-linkedin-id": created})
        elif len(parts) == 3 and parts[0] == "dmpSegments" and parts[2] == "users":
            if method != "BATCH_CREATE":
                raise _ApiError(400, "INVALID_VALUE", "dmpSegments/{id}/users takes X-RestLi-Method: BATCH_CREATE.")
            _, segment = self._segment(token, parts[1])
            return self._json(self._add_users(segment, await self._body(request)))
        elif len(parts) in (3, 4) and parts[0] == "adAccounts" and parts[2] in URN_PREFIX:
            account = self._account(token, parts[1])
            body = await self._body(request)
            entity = parts[2]
            if len(parts) == 3 and method in ("", "CREATE"):
                created = self._create(account, entity, body)
                return Response(status_code=201, headers={"x-restli-id": created, "x-linkedin-id": created})
            if len(parts) == 4 and method == "PARTIAL_UPDATE":
                self._update(account, entity, self._owned(account, entity, parts[3], "id"), body)
                return Response(status_code=204)
            raise _ApiError(400, "INVALID_VALUE", f"X-RestLi-Method {method or '(none)'} is not served here.")
        raise _ApiError(404, "NOT_FOUND", f"No resource at {request.method} /rest/{rest[:80]}.")

    @staticmethod
    def _json(document: Any) -> Response:
        return Response(json.dumps(document), 200, media_type="application/json")

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise _ApiError(400, "INVALID_VALUE", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _ApiError(400, "INVALID_VALUE", "The request body must be a JSON object.")
        return body

    # --- accounts and lookups ------------------------------------------------------------------------------------

    def _account_users(self, token: _Token) -> dict[str, Any]:
        user = hashlib.blake2b(",".join(token.accounts).encode(), digest_size=4).hexdigest()
        return {
            "elements": [
                {"account": URN_PREFIX["account"] + a, "role": "ACCOUNT_MANAGER", "user": f"urn:li:person:{user}"}
                for a in token.accounts
            ],
            "paging": {"start": 0, "count": len(token.accounts), "links": []},
        }

    @staticmethod
    def _account_view(account: _Account) -> dict[str, Any]:
        return {
            "id": int(account.id),
            "name": account.name,
            "currency": account.currency,
            "status": "ACTIVE",
            "type": "BUSINESS",
            "test": True,
            "reference": "urn:li:organization:0",
        }

    @staticmethod
    def _typeahead(facet: str, query: str) -> dict[str, Any]:
        needle = query.strip().lower()
        if not needle:
            raise _missing("query")
        if facet == LOCATIONS_FACET:
            found = [
                {"urn": geo_urn(c.alpha_2), "facetUrn": facet, "name": c.name}
                for c in pycountry.countries
                if needle in c.name.lower() or needle in str(getattr(c, "common_name", "")).lower()
            ]
        elif facet == INTERESTS_FACET:
            found = [{"urn": interest_urn(n), "facetUrn": facet, "name": n} for n in INTERESTS if needle in n.lower()]
        else:
            raise _invalid("facet", f"this sandbox serves {LOCATIONS_FACET} and {INTERESTS_FACET}.")
        return {"elements": found[:20]}

    # --- creates and changes -------------------------------------------------------------------------------------

    @staticmethod
    def _text(body: Mapping[str, Any], name: str, *, limit: int, required: bool = True) -> str | None:
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise _missing(name)
            return None
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

    def _money(self, account: _Account, value: Any, name: str, *, minimum: Decimal) -> dict[str, str]:
        if not isinstance(value, dict):
            raise _invalid(name, "must be {amount, currencyCode}.")
        raw = value.get("amount")
        if not isinstance(raw, str):
            raise _invalid(f"{name}.amount", 'must be a string such as "25.00".')
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise _invalid(f"{name}.amount", "is not a number.") from None
        if not amount.is_finite() or amount != amount.quantize(minor_unit(account.currency)):
            raise _invalid(f"{name}.amount", f"has more decimals than {account.currency} allows.")
        if value.get("currencyCode") != account.currency:
            raise _invalid(f"{name}.currencyCode", f"must be the account currency {account.currency}.")
        if amount < minimum:
            raise _invalid(f"{name}.amount", f"must be at least {minimum} {account.currency}.")
        return {"amount": format(amount.quantize(minor_unit(account.currency)), "f"), "currencyCode": account.currency}

    def _budget_min(self, account: _Account) -> Decimal:
        return Decimal(DAILY_BUDGET_MIN * (100 if exponent(account.currency) == 0 else 1))

    def _owned(self, account: _Account, entity: str, value: Any, name: str) -> dict[str, Any]:
        object_id = id_of(value, entity) if entity in URN_PREFIX else None
        stored = account.objects.get(entity, {}).get(object_id or "")
        if stored is None:
            raise _ApiError(404, "NOT_FOUND", f"{name}: {str(value)[:60]} does not exist in account {account.id}.")
        return stored

    def _parent(self, account: _Account, body: Mapping[str, Any], name: str, entity: str) -> dict[str, Any]:
        value = body.get(name)
        if not isinstance(value, str) or not value.startswith(URN_PREFIX[entity]):
            raise _invalid(name, f"must be a {URN_PREFIX[entity]}<id> URN.")
        parent = self._owned(account, entity, value, name)
        if parent["status" if entity != "creatives" else "intendedStatus"] == "ARCHIVED":
            raise _invalid(name, f"{value} is archived.")
        return parent

    def _create(self, account: _Account, entity: str, body: Mapping[str, Any]) -> str:
        if entity != "creatives" and body.get("account") != URN_PREFIX["account"] + account.id:
            raise _invalid("account", f"must be {URN_PREFIX['account']}{account.id} (the account in the path).")
        if entity == "adCampaignGroups":
            stored = self._create_group(account, body)
        elif entity == "adCampaigns":
            stored = self._create_campaign(account, body)
        else:
            stored = self._create_creative(account, body)
        self._next_id += 1
        object_id = f"{ID_LEAD[entity]}{self._next_id:08d}"
        now = self._clock()
        stored.update({"id": object_id, "_entity": entity, "created": int(now.timestamp() * 1000)})
        account.objects[entity][object_id] = stored
        status = stored.get("status", stored.get("intendedStatus"))
        account.timelines[(entity, object_id)] = StatusTimeline().changed(now, status == "ACTIVE")
        return URN_PREFIX[entity] + object_id if entity == "creatives" else object_id

    def _create_group(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        group: dict[str, Any] = {
            "account": URN_PREFIX["account"] + account.id,
            "name": self._text(body, "name", limit=100),
            "status": self._enum(body, "status", ("ACTIVE", "PAUSED", "DRAFT"), "DRAFT"),
            "objectiveType": self._enum(body, "objectiveType", OBJECTIVES, "WEBSITE_VISIT"),
        }
        schedule = body.get("runSchedule")
        if schedule is not None:
            start, end = (schedule.get("start"), schedule.get("end")) if isinstance(schedule, dict) else (None, None)
            if not isinstance(start, int) or (end is not None and (not isinstance(end, int) or end <= start)):
                raise _invalid("runSchedule", "is {start: epoch ms, end?: a later epoch ms}.")
            group["runSchedule"] = {"start": start, **({"end": end} if end is not None else {})}
        if body.get("totalBudget") is not None:
            if "end" not in group.get("runSchedule", {}):
                raise _invalid("totalBudget", "needs runSchedule.end.")
            group["totalBudget"] = self._money(account, body["totalBudget"], "totalBudget", minimum=Decimal(100))
        optimization = body.get("budgetOptimization")
        if optimization is not None:
            strategy = optimization.get("budgetOptimizationStrategy") if isinstance(optimization, dict) else None
            if strategy != "DYNAMIC":
                raise _invalid("budgetOptimization.budgetOptimizationStrategy", "this sandbox serves DYNAMIC.")
            group["budgetOptimization"] = {"budgetOptimizationStrategy": "DYNAMIC"}
        if body.get("dailyBudget") is not None:
            if "budgetOptimization" not in group:
                raise _invalid("dailyBudget", "a campaign group takes a daily budget only with budget optimization.")
            group["dailyBudget"] = self._money(
                account, body["dailyBudget"], "dailyBudget", minimum=self._budget_min(account)
            )
        return group

    def _create_campaign(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        group = self._parent(account, body, "campaignGroup", "adCampaignGroups")
        kind = self._enum(body, "type", CAMPAIGN_TYPES)
        if kind != "SPONSORED_UPDATES":
            raise _invalid("type", "this sandbox serves SPONSORED_UPDATES campaigns.")
        campaign: dict[str, Any] = {
            "account": URN_PREFIX["account"] + account.id,
            "campaignGroup": URN_PREFIX["adCampaignGroups"] + group["id"],
            "name": self._text(body, "name", limit=100),
            "type": kind,
            "costType": self._enum(body, "costType", COST_TYPES),
            "objectiveType": group["objectiveType"],
            "status": self._enum(body, "status", ("ACTIVE", "PAUSED", "DRAFT"), "DRAFT"),
            "offsiteDeliveryEnabled": bool(body.get("offsiteDeliveryEnabled", False)),
        }
        locale = body.get("locale")
        if not isinstance(locale, dict) or not locale.get("country") or not locale.get("language"):
            raise _invalid("locale", "is {country, language}.")
        campaign["locale"] = {"country": str(locale["country"]), "language": str(locale["language"])}
        if body.get("unitCost") is not None:
            unit = minor_unit(account.currency)
            campaign["unitCost"] = self._money(account, body["unitCost"], "unitCost", minimum=unit)
        else:
            campaign["optimizationTargetType"] = self._enum(body, "optimizationTargetType", OPTIMIZATION_TARGETS)
        if "budgetOptimization" in group:
            if body.get("dailyBudget") is not None or body.get("totalBudget") is not None:
                raise _invalid("dailyBudget", "the campaign group has budget optimization: its campaigns take none.")
        elif body.get("dailyBudget") is None:
            raise _missing("dailyBudget")
        else:
            campaign["dailyBudget"] = self._money(
                account, body["dailyBudget"], "dailyBudget", minimum=self._budget_min(account)
            )
        campaign["targetingCriteria"] = self._targeting(account, body.get("targetingCriteria"))
        return campaign

    @staticmethod
    def _targeting(account: _Account, value: Any) -> dict[str, Any]:
        clauses = value.get("include", {}).get("and") if isinstance(value, dict) else None
        if not isinstance(clauses, list) or not clauses:
            raise _invalid("targetingCriteria", "is {include: {and: [{or: {<facet urn>: [<urns>]}}]}}.")
        facets: dict[str, list[str]] = {}
        for clause in clauses:
            either = clause.get("or") if isinstance(clause, dict) else None
            if not isinstance(either, dict) or not either:
                raise _invalid("targetingCriteria", "each clause is {or: {<facet urn>: [<urns>]}}.")
            for facet, values in either.items():
                if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                    raise _invalid("targetingCriteria", f"{facet} takes a list of URNs.")
                facets.setdefault(facet, []).extend(values)
        if not facets.get(LOCATIONS_FACET):
            raise _invalid("targetingCriteria", f"must include {LOCATIONS_FACET}.")
        known: dict[str, Callable[[str], bool]] = {
            LOCATIONS_FACET: lambda v: _country_of(v) is not None,
            AGE_FACET: lambda v: v in AGE_RANGES,
            INTERESTS_FACET: lambda v: v in {interest_urn(n) for n in INTERESTS},
            SEGMENTS_FACET: lambda v: v.startswith(AD_SEGMENT) and v.removeprefix(AD_SEGMENT) in account.ad_segments,
        }
        for facet, values in facets.items():
            check = known.get(facet)
            if check is None:
                raise _invalid("targetingCriteria", f"this sandbox does not serve {facet}.")
            if not all(check(v) for v in values):
                raise _invalid("targetingCriteria", f"{facet} holds an unknown URN.")
        return {"include": {"and": [{"or": {facet: values}} for facet, values in facets.items()]}}

    @staticmethod
    def _reach(account: _Account, targeting: Mapping[str, Any]) -> int:
        """The members a campaign's targeting reaches, ad segments included (the shared audience model)."""
        facets = {f: v for c in targeting["include"]["and"] for f, v in c["or"].items()}
        countries = [c for c in (_country_of(v) for v in facets.get(LOCATIONS_FACET, [])) if c]
        spans = [AGE_RANGES[a] for a in facets.get(AGE_FACET, [])] or [(18, 65)]
        interests = [n for n in INTERESTS if interest_urn(n) in facets.get(INTERESTS_FACET, [])]
        lists = [account.matched_members(v.removeprefix(AD_SEGMENT)) for v in facets.get(SEGMENTS_FACET, [])]
        return targeted_reach(countries, min(s[0] for s in spans), max(s[1] for s in spans), interests, lists)

    # --- matched audiences ---------------------------------------------------------------------------------------

    def _create_segment(self, token: _Token, body: Mapping[str, Any]) -> str:
        account_id = id_of(body.get("account"), "account")
        if account_id is None or not str(body.get("account", "")).startswith(URN_PREFIX["account"]):
            raise _invalid("account", "is urn:li:sponsoredAccount:<id>.")
        account = self._account(token, account_id)
        name = self._text(body, "name", limit=100)
        self._text(body, "sourcePlatform", limit=64)
        self._enum(body, "accessPolicy", ("PRIVATE", "PUBLIC"))
        if self._enum(body, "type", ("USER", "COMPANY")) != "USER":
            raise _invalid("type", "this sandbox serves USER segments.")
        destinations = body.get("destinations")
        if not isinstance(destinations, list) or {"destination": "LINKEDIN"} not in destinations:
            raise _invalid("destinations", "must include {destination: LINKEDIN}.")
        self._next_id += 1
        segment_id, ad_segment = f"8{self._next_id:08d}", f"7{self._next_id:08d}"
        account.segments[segment_id] = {
            "id": int(segment_id),
            "name": name,
            "account": URN_PREFIX["account"] + account.id,
            "type": "USER",
            "status": "BUILDING",
            "matchedMemberCount": 0,
            "destinations": [
                {"destination": "LINKEDIN", "status": "BUILDING", "destinationSegmentId": AD_SEGMENT + ad_segment}
            ],
            "_users": set(),
        }
        account.ad_segments[ad_segment] = segment_id
        return segment_id

    def _segment(self, token: _Token, segment_id: str) -> tuple[_Account, dict[str, Any]]:
        for account_id in token.accounts:
            account = self._accounts[account_id]
            if segment_id in account.segments:
                return account, account.segments[segment_id]
        raise _ApiError(404, "NOT_FOUND", f"DMP segment {segment_id[:20]} does not exist.")

    @staticmethod
    def _segment_view(segment: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in segment.items() if not k.startswith("_")}

    @staticmethod
    def _add_users(segment: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        elements = body.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= SEGMENT_USERS_PER_BATCH:
            raise _invalid("elements", f"holds 1-{SEGMENT_USERS_PER_BATCH} users.")
        for element in elements:
            ids = element.get("userIds") if isinstance(element, dict) else None
            if element.get("action") not in ("ADD", "REMOVE") or not isinstance(ids, list) or not ids:
                raise _invalid("elements", "each is {action: ADD|REMOVE, userIds: [{idType, idValue}]}.")
            for user in ids:
                if not isinstance(user, dict) or user.get("idType") != "SHA256_EMAIL":
                    raise _invalid("userIds", "this sandbox takes idType SHA256_EMAIL.")
                if not _DIGEST.fullmatch(str(user.get("idValue", ""))):
                    raise _invalid("idValue", "is a SHA-256 hex digest of the normalised email.")
        for element in elements:
            digests = {str(u["idValue"]) for u in element["userIds"]}
            if element["action"] == "ADD":
                segment["_users"] |= digests
            else:
                segment["_users"] -= digests
        members = matched(len(segment["_users"]), MATCH_RATE)
        status = "READY" if members >= READY_MIN_MEMBERS else "BUILDING"
        segment.update(matchedMemberCount=members, status=status)
        segment["destinations"][0]["status"] = status
        return {"elements": [{"status": 201} for _ in elements]}

    def _audience_counts(self, token: _Token, raw_query: str) -> dict[str, Any]:
        # Read from the raw query: decoding first would merge the URNs' colons into the Rest.li syntax.
        raw = next((p.partition("=")[2] for p in raw_query.split("&") if p.startswith("targetingCriteria=")), "")
        if not raw:
            raise _missing("targetingCriteria")
        try:
            criteria = parse_restli(raw)
        except (ValueError, IndexError):
            raise _invalid("targetingCriteria", "is a Rest.li record (include:(and:List((or:(…)))))") from None
        accounts = [self._accounts[a] for a in token.accounts]
        segments = [
            v
            for clause in (criteria.get("include", {}).get("and", []) if isinstance(criteria, dict) else [])
            if isinstance(clause, dict)
            for v in clause.get("or", {}).get(SEGMENTS_FACET, [])
        ]
        owner = next(
            (a for a in accounts if all(str(v).removeprefix(AD_SEGMENT) in a.ad_segments for v in segments)), None
        )
        if owner is None:
            raise _invalid("targetingCriteria", f"{SEGMENTS_FACET} names an ad segment this member cannot use.")
        total = self._reach(owner, self._targeting(owner, criteria))
        return {"elements": [{"active": int(total * ACTIVE_SHARE), "total": total}]}

    def _create_creative(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        campaign = self._parent(account, body, "campaign", "adCampaigns")
        status = self._enum(body, "intendedStatus", ("ACTIVE", "PAUSED", "DRAFT"), "DRAFT")
        if body.get("content") is not None:
            raise _invalid("content", "this sandbox takes inlineContent (see the simulator's docstring).")
        post = body.get("inlineContent", {}).get("post") if isinstance(body.get("inlineContent"), dict) else None
        if not isinstance(post, dict):
            raise _missing("inlineContent.post")
        article = post.get("content", {}).get("article") if isinstance(post.get("content"), dict) else None
        if not isinstance(article, dict):
            raise _missing("inlineContent.post.content.article")
        source = self._text(article, "source", limit=2000) or ""
        if not source.startswith(("https://", "http://")):
            raise _invalid("article.source", "must be a web address.")
        creative: dict[str, Any] = {
            "account": URN_PREFIX["account"] + account.id,
            "campaign": URN_PREFIX["adCampaigns"] + campaign["id"],
            "name": self._text(body, "name", limit=100, required=False),
            "intendedStatus": status,
            "commentary": self._text(post, "commentary", limit=600),
            "article": {
                "source": source,
                "title": self._text(article, "title", limit=200),
                "description": self._text(article, "description", limit=300, required=False),
            },
        }
        if status == "ACTIVE":
            self._check_active_room(account, campaign["id"])
        return creative

    def _check_active_room(self, account: _Account, campaign_id: str) -> None:
        urn_ = URN_PREFIX["adCampaigns"] + campaign_id
        active = [
            c
            for c in account.objects["creatives"].values()
            if c["campaign"] == urn_ and c["intendedStatus"] == "ACTIVE"
        ]
        if len(active) >= ACTIVE_CREATIVES_MAX:
            raise _invalid("intendedStatus", f"a campaign has at most {ACTIVE_CREATIVES_MAX} active creatives.")

    def _update(self, account: _Account, entity: str, stored: dict[str, Any], body: Mapping[str, Any]) -> None:
        patch = body.get("patch")
        changes = patch.get("$set") if isinstance(patch, dict) else None
        if not isinstance(changes, dict) or not changes:
            raise _invalid("patch", 'is {"$set": {<field>: <value>}}.')
        status_field = "intendedStatus" if entity == "creatives" else "status"
        if stored[status_field] == "ARCHIVED":
            raise _invalid(status_field, f"{stored['id']} is archived and takes no change.")
        allowed = {
            "adCampaignGroups": ("status", "name", "dailyBudget"),
            "adCampaigns": ("status", "name", "unitCost"),
            "creatives": ("intendedStatus", "name"),
        }[entity]
        for name in changes:
            if name not in allowed:
                raise _invalid(name, "cannot be changed with a partial update here.")
        update: dict[str, Any] = {}
        if "name" in changes:
            update["name"] = self._text(changes, "name", limit=100)
        if "dailyBudget" in changes:
            if "budgetOptimization" not in stored:
                raise _invalid("dailyBudget", "the campaign group has no budget optimization.")
            update["dailyBudget"] = self._money(
                account, changes["dailyBudget"], "dailyBudget", minimum=self._budget_min(account)
            )
        if "unitCost" in changes:
            unit = minor_unit(account.currency)
            update["unitCost"] = self._money(account, changes["unitCost"], "unitCost", minimum=unit)
            stored.pop("optimizationTargetType", None)
        if status_field in changes:
            update[status_field] = self._enum(changes, status_field, SETTABLE_STATUSES)
            if entity == "creatives" and update[status_field] == "ACTIVE" and stored[status_field] != "ACTIVE":
                self._check_active_room(account, str(id_of(stored["campaign"], "adCampaigns")))
        stored.update(update)
        if status_field in update:
            key = (entity, stored["id"])
            account.timelines[key] = account.timelines.get(key, StatusTimeline()).changed(
                self._clock(), update[status_field] == "ACTIVE"
            )

    @staticmethod
    def _view(stored: Mapping[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in stored.items() if not k.startswith("_") and v is not None}
        if stored["_entity"] == "creatives":
            view["id"] = URN_PREFIX["creatives"] + stored["id"]
        else:
            view["id"] = int(stored["id"])
        return view

    # --- analytics -----------------------------------------------------------------------------------------------

    def _analytics(self, token: _Token, params: Mapping[str, str]) -> dict[str, Any]:
        pivot = params.get("pivot", "")
        if pivot not in PIVOTS:
            raise _invalid("pivot", f"one of {', '.join(PIVOTS)}.")
        if params.get("timeGranularity") != "DAILY":
            raise _invalid("timeGranularity", "this sandbox serves DAILY.")
        matched = DATE_RANGE.match(params.get("dateRange", ""))
        if matched is None:
            raise _invalid("dateRange", "is (start:(year:Y,month:M,day:D),end:(year:Y,month:M,day:D)).")
        numbers = [int(n) for n in matched.groups()]
        try:
            since, until = date(*numbers[:3]), date(*numbers[3:])
        except ValueError:
            raise _invalid("dateRange", "holds an impossible date.") from None
        if until < since:
            raise _invalid("dateRange", "ends before it starts.")
        facet, entity = PIVOTS[pivot]
        listed = LIST.match(params.get(facet, ""))
        if listed is None or not listed.group(1):
            raise _invalid(facet, f"is List(<{URN_PREFIX[entity]}…>) for pivot {pivot}.")
        wanted: set[str] = set()
        for value in listed.group(1).split(","):
            object_id = id_of(value, entity)
            if object_id is None or not value.startswith(URN_PREFIX[entity]):
                raise _invalid(facet, f"{value[:60]} is not a {URN_PREFIX[entity]} URN.")
            wanted.add(object_id)
        fields = [f for f in params.get("fields", "").split(",") if f]
        if not fields or not set(fields) <= METRIC_FIELDS:
            raise _invalid("fields", f"known fields: {', '.join(sorted(METRIC_FIELDS))}.")
        now = self._clock()
        elements: list[dict[str, Any]] = []
        for account_id in token.accounts:
            account = self._accounts[account_id]
            owned = wanted & set(account.objects[entity])
            if owned:
                elements.extend(self._rows(account, pivot, owned, since, min(until, now.date()), fields, now))
        return {"elements": elements, "paging": {"start": 0, "count": len(elements), "links": []}}

    def _rows(
        self,
        account: _Account,
        pivot: str,
        wanted: set[str],
        since: date,
        until: date,
        fields: list[str],
        now: datetime,
    ) -> list[dict[str, Any]]:
        entity = PIVOTS[pivot][1]
        rows: list[dict[str, Any]] = []
        for day in days(since, until):
            totals: dict[str, DayResult] = {}
            for creative_id, result in self._deliveries(account, day, now).items():
                creative = account.objects["creatives"][creative_id]
                campaign_id = str(id_of(creative["campaign"], "adCampaigns"))
                owner = {
                    "CREATIVE": creative_id,
                    "CAMPAIGN": campaign_id,
                    "CAMPAIGN_GROUP": str(
                        id_of(account.objects["adCampaigns"][campaign_id]["campaignGroup"], "adCampaignGroups")
                    ),
                }[pivot]
                if owner in wanted:
                    totals[owner] = totals.get(owner, DayResult()) + result
            for owner in sorted(totals):
                total = totals[owner]
                if total.impressions == 0:
                    continue  # §5: no row for a day without activity
                cost = format(total.spend.quantize(minor_unit(account.currency)), "f")
                values: dict[str, Any] = {
                    "impressions": total.impressions,
                    "clicks": total.clicks,
                    "landingPageClicks": total.clicks,
                    "costInLocalCurrency": cost,
                    "costInUsd": cost if account.currency == "USD" else None,
                    "externalWebsiteConversions": total.conversions,
                    "conversionValueInLocalCurrency": format(total.conversion_value, "f"),
                    "dateRange": {
                        "start": {"year": day.year, "month": day.month, "day": day.day},
                        "end": {"year": day.year, "month": day.month, "day": day.day},
                    },
                    "pivotValues": [URN_PREFIX[entity] + owner],
                }
                rows.append({f: values[f] for f in fields if values[f] is not None})
        return rows

    def _deliveries(self, account: _Account, day: date, now: datetime) -> dict[str, DayResult]:
        results: dict[str, DayResult] = {}
        campaigns = list(account.objects["adCampaigns"].values())
        creatives = list(account.objects["creatives"].values())
        unit = minor_unit(account.currency)
        for group in account.objects["adCampaignGroups"].values():
            if not self._scheduled(group, day):
                continue
            own = [c for c in campaigns if c["campaignGroup"] == URN_PREFIX["adCampaignGroups"] + group["id"]]
            if "dailyBudget" in group:
                pools = [(Decimal(group["dailyBudget"]["amount"]), own)]  # one budget the campaigns share
            else:
                pools = [(Decimal(c["dailyBudget"]["amount"]), [c]) for c in own if "dailyBudget" in c]
            for budget, members in pools:
                serving = self._serving(account, group, members, creatives, day, now)
                results.update(campaign_day(day, budget, serving, LINKEDIN_SPONSORED_CONTENT, minor_unit=unit))
        return results

    @staticmethod
    def _scheduled(group: Mapping[str, Any], day: date) -> bool:
        schedule = group.get("runSchedule")
        if not schedule:
            return True
        start = datetime.fromtimestamp(schedule["start"] / 1000, UTC).date()
        end = datetime.fromtimestamp(schedule["end"] / 1000, UTC).date() if "end" in schedule else None
        return start <= day and (end is None or day <= end)

    @staticmethod
    def _serving(
        account: _Account,
        group: Mapping[str, Any],
        campaigns: list[dict[str, Any]],
        creatives: list[dict[str, Any]],
        day: date,
        now: datetime,
    ) -> list[ServingAd]:
        serving: list[ServingAd] = []
        for campaign in campaigns:
            audience = LinkedInAdsSimulator._reach(account, campaign["targetingCriteria"])
            bid = Decimal(campaign["unitCost"]["amount"]) if "unitCost" in campaign else None
            campaign_urn = URN_PREFIX["adCampaigns"] + campaign["id"]
            for creative in [c for c in creatives if c["campaign"] == campaign_urn]:
                timelines = [
                    account.timelines.get(key, StatusTimeline())
                    for key in (
                        ("adCampaignGroups", group["id"]),
                        ("adCampaigns", campaign["id"]),
                        ("creatives", creative["id"]),
                    )
                ]
                article = creative["article"]
                descriptions = [creative["commentary"], *([article["description"]] if article["description"] else [])]
                signal = CreativeSignal.of([article["title"]], descriptions, has_image=False)
                fraction = serving_fraction(timelines, day, "UTC", now)
                serving.append(ServingAd(creative["id"], fraction, bid, audience, signal))
        return serving
