"""Meta ads behind the platform-neutral :class:`~promptsales.domain_core.integrations.ads.AdsPlatform` port.

Mapping (shared/reference/platform_apis.md §3; ``[~]`` = inferred):

* a campaign carries the daily budget (minor units) with ``bid_strategy=LOWEST_COST_WITHOUT_CAP``: campaign budget
  optimisation, so its ad sets omit budgets (§3 "Campaign"); objectives map to OUTCOME_AWARENESS / TRAFFIC /
  LEADS / SALES; ``special_ad_categories=[]`` is always sent (required even when empty, §3); created PAUSED;
* an ad set bills IMPRESSIONS and optimises REACH (awareness) or LINK_CLICKS (the rest: without a pixel or a lead
  form the adapter cannot ask Meta to optimise for conversions [~]); a bid becomes ``bid_amount`` (minor units)
  with ``bid_strategy=LOWEST_COST_WITH_BID_CAP`` on that ad set [~ ad-set strategies under a budget-optimised
  campaign]; targeting is ``geo_locations.countries``, ``age_min``/``age_max`` and interests looked up by name
  (``/search?type=adinterest``) — Meta needs a location, so at least one country is required;
* an ad is an image upload (``adimages``, bytes) when given, a link creative (``object_story_spec.link_data``:
  first headline as ``name``, first description as ``message``, second as ``description``) on a page the account
  may promote (``pages`` given to the adapter, else the account's first promote page [~]), and the ad, PAUSED;
* a customer list is a custom audience (``subtype=CUSTOM``, ``customer_file_source=USER_PROVIDED_ONLY``) with the
  email digests uploaded as ``EMAIL_SHA256`` and the phone digests as ``PHONE_SHA256``; its size is what Meta
  received less what it found invalid (Meta matches asynchronously: the list is ``processing``); an ad set targets
  lists as ``targeting.custom_audiences``;
* an audience estimate is ``/reachestimate`` for the ad set's targeting (basis ``meta_reachestimate``);
* status, budget and bid changes POST to the object's id, then read it back; removal is ``status=DELETED`` [~];
* money: amounts are checked (sign, ceiling) before any request; the account's currency (read once) then decides
  the minor units (cents; whole units for zero-decimal currencies) and refuses finer amounts;
* Meta has no idempotency key and no unique names (§3), so a create whose answer is lost is not looked up or sent
  again: the PlatformDown it raises says the change may have been applied.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry

from promptsales.domain_core.integrations.ads import (
    AdAccount,
    AdGroupSpec,
    AdObject,
    AudienceEstimate,
    AudienceRef,
    CampaignSpec,
    CreativeSpec,
    CustomerListSpec,
    DailyPerformance,
    DeliveryStatus,
    ObjectKind,
    every_day,
)
from promptsales.domain_core.integrations.meta_ads.client import MetaAdsClient, account_path
from promptsales.domain_core.integrations.model.ad_limits import (
    AdLimits,
    check_amount,
    check_kind,
    check_object_id,
    check_report,
    check_status,
    to_minor_units,
)
from promptsales.domain_core.integrations.model.customer_lists import check_customer_list
from promptsales.domain_core.shared.errors import ValidationFailed

NAME_MAX = 400  # Graph object names [~]
INTEREST_MAX = 25
IMAGE_BYTES_MAX = 30 * 1024 * 1024  # Meta image uploads up to 30 MB [~]
OBJECTIVES = {
    "awareness": "OUTCOME_AWARENESS",
    "traffic": "OUTCOME_TRAFFIC",
    "leads": "OUTCOME_LEADS",
    "sales": "OUTCOME_SALES",
}
GOALS = {"OUTCOME_AWARENESS": "REACH"}  # everything else: LINK_CLICKS
TO_META = {"active": "ACTIVE", "paused": "PAUSED", "removed": "DELETED"}
FROM_META: dict[str, DeliveryStatus] = {
    "ACTIVE": "active",
    "PAUSED": "paused",
    "DELETED": "removed",
    "ARCHIVED": "removed",
}
LEVELS: dict[str, tuple[str, str]] = {
    "campaign": ("campaign", "campaign_id"),
    "ad_group": ("adset", "adset_id"),
    "ad": ("ad", "ad_id"),
}
PARENT_FIELD = {"campaign": None, "ad_group": "campaign_id", "ad": "adset_id"}
OBJECT_KINDS: dict[str, ObjectKind] = {"campaign": "campaign", "ad_group": "ad_group", "ad": "ad"}
# Conversions counted from insights ``actions`` [~]: the pixel's lead and purchase events and on-Meta leads.
CONVERSION_ACTIONS = frozenset(
    {"offsite_conversion.fb_pixel_lead", "offsite_conversion.fb_pixel_purchase", "onsite_conversion.lead_grouped"}
)


def _account(account_id: str) -> str:
    try:
        return account_path(account_id)
    except ValueError:
        raise ValidationFailed(
            "a Meta ad account id is act_<digits>.", field="account_id", hint="See list_accounts."
        ) from None


def _graph_id(value: str, field_name: str) -> str:
    check_object_id(value, field=field_name)
    if not value.isdigit():
        raise ValidationFailed(f"a Meta {field_name.replace('_', ' ')} is digits.", field=field_name)
    return value


def _name(value: str) -> str:
    if not value.strip() or len(value) > NAME_MAX:
        raise ValidationFailed(f"name must be 1-{NAME_MAX} characters.", field="name")
    return value


def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


class MetaAdsAdapter:
    """:class:`AdsPlatform` for the Meta ad accounts one token reaches."""

    platform = "meta_ads"

    def __init__(
        self,
        client: MetaAdsClient,
        *,
        limits: AdLimits | None = None,
        business_id: str | None = None,
        pages: Mapping[str, str] | None = None,
        page_limit: int = 100,
    ) -> None:
        self._client = client
        self._page_limit = page_limit
        self._limits = limits or AdLimits()
        self._business_id = business_id
        self._pages = {account_path(k): v for k, v in (pages or {}).items()}
        self._currencies: dict[str, str] = {}

    async def list_accounts(self) -> Sequence[AdAccount]:
        """The ad accounts the token reaches (or the business owns, when the adapter was given one)."""
        accounts = await self._client.ad_accounts(business_id=self._business_id)
        found: list[AdAccount] = []
        for account in accounts:
            if account.currency:
                self._currencies[account_path(account.id)] = account.currency
            found.append(
                AdAccount(
                    id=account.id,
                    name=account.name or account.id,
                    currency=account.currency or "",
                    time_zone=account.timezone_name or "UTC",
                )
            )
        return found

    async def _minor(self, account: str, amount: Decimal, field_name: str) -> str:
        """``amount`` in the account currency's minor units, after the precision check that needs the currency."""
        currency = self._currencies.get(account)
        if currency is None:
            currency = (await self._client.account(account)).currency or "USD"
            self._currencies[account] = currency
        maximum = self._limits.max_bid if field_name == "bid" else self._limits.max_daily_budget
        check_amount(amount, field=field_name, maximum=maximum, currency=currency)
        return str(to_minor_units(amount, currency))

    # --- creates -------------------------------------------------------------------------------------------------

    async def create_campaign(self, account_id: str, spec: CampaignSpec) -> AdObject:
        """A paused, budget-optimised campaign."""
        account = _account(account_id)
        amount = check_amount(spec.daily_budget, field="daily_budget", maximum=self._limits.max_daily_budget)
        name = _name(spec.name)
        if spec.start_date and spec.end_date and spec.end_date < spec.start_date:
            raise ValidationFailed("end_date is before start_date.", field="end_date")
        fields: dict[str, Any] = {
            "name": name,
            "objective": OBJECTIVES[spec.objective],
            "status": "PAUSED",  # §3 "create a PAUSED campaign initially"
            "special_ad_categories": [],
            "daily_budget": await self._minor(account, amount, "daily_budget"),
            "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
        }
        if spec.start_date:
            fields["start_time"] = spec.start_date.isoformat()
        if spec.end_date:
            fields["stop_time"] = spec.end_date.isoformat()
        created = await self._client.create(account, "campaigns", fields)
        return AdObject(kind="campaign", id=created, name=name, status="paused")

    async def create_ad_group(self, account_id: str, campaign_id: str, spec: AdGroupSpec) -> AdObject:
        """A paused ad set under the campaign, with its targeting and optional bid cap."""
        account = _account(account_id)
        _graph_id(campaign_id, "campaign_id")
        name = _name(spec.name)
        bid = check_amount(spec.bid, field="bid", maximum=self._limits.max_bid) if spec.bid is not None else None
        targeting = await self._targeting(spec)
        campaign = await self._client.get(campaign_id, ["id", "objective"])
        fields: dict[str, Any] = {
            "name": name,
            "campaign_id": campaign_id,
            "billing_event": "IMPRESSIONS",
            "optimization_goal": GOALS.get(str(campaign.get("objective")), "LINK_CLICKS"),
            "targeting": targeting,
            "status": "PAUSED",
        }
        if bid is not None:
            fields["bid_strategy"] = "LOWEST_COST_WITH_BID_CAP"
            fields["bid_amount"] = await self._minor(account, bid, "bid")
        created = await self._client.create(account, "adsets", fields)
        return AdObject(kind="ad_group", id=created, name=name, status="paused", parent_id=campaign_id)

    async def _targeting(self, spec: AdGroupSpec) -> dict[str, Any]:
        """The ad set targeting for ``spec``: countries, ages, interests looked up by name, custom audiences."""
        countries = self._countries(spec.countries)
        age_min = 18 if spec.age_min is None else spec.age_min
        age_max = 65 if spec.age_max is None else spec.age_max
        if not 13 <= age_min <= 65:
            raise ValidationFailed("age_min must be 13-65 on Meta.", field="age_min")
        if not age_min <= age_max <= 65:
            raise ValidationFailed("age_max must be from age_min to 65 on Meta (65 means 65+).", field="age_max")
        wanted = list(dict.fromkeys(i.strip() for i in spec.interests if i.strip()))
        if len(wanted) > INTEREST_MAX:
            raise ValidationFailed(f"at most {INTEREST_MAX} interests.", field="interests")
        audiences = [_graph_id(a, "audience_ids") for a in dict.fromkeys(spec.audience_ids)]
        interests: list[dict[str, Any]] = []
        for text in wanted:
            found = await self._client.search_interest(text)
            if found is None:
                raise ValidationFailed(f"Meta knows no targeting interest like '{text}'.", field="interests")
            interests.append(found)
        targeting: dict[str, Any] = {"geo_locations": {"countries": countries}, "age_min": age_min, "age_max": age_max}
        if interests:
            targeting["interests"] = interests
        if audiences:
            targeting["custom_audiences"] = [{"id": a} for a in audiences]
        return targeting

    @staticmethod
    def _countries(codes: Sequence[str]) -> list[str]:
        found = list(dict.fromkeys(c.strip().upper() for c in codes))
        if not found:
            raise ValidationFailed("Meta needs at least one country to target.", field="countries")
        for code in found:
            if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
                raise ValidationFailed(f"'{code}' is not an ISO 3166 two-letter country code.", field="countries")
        return found

    async def create_ad(self, account_id: str, ad_group_id: str, creative: CreativeSpec) -> AdObject:
        """A paused ad: the image (if any) uploaded, a link creative, then the ad."""
        account = _account(account_id)
        _graph_id(ad_group_id, "ad_group_id")
        name = _name(creative.name)
        if not creative.headlines or not creative.descriptions:
            raise ValidationFailed("give at least one headline and one description.", field="headlines")
        if not creative.final_url.startswith("https://"):
            raise ValidationFailed("final_url must be an https:// address.", field="final_url")
        if creative.image_png is not None and not 0 < len(creative.image_png) <= IMAGE_BYTES_MAX:
            raise ValidationFailed("image_png must be 1 byte to 30 MB.", field="image_png")
        page_id = self._pages.get(account)
        if page_id is None:
            pages = await self._client.promote_pages(account)
            if not pages:
                raise ValidationFailed(
                    "this ad account has no Facebook page to run ads from.",
                    field="page_id",
                    hint="Connect a page to the ad account in Meta Business Settings.",
                )
            page_id = self._pages[account] = pages[0]
        link: dict[str, Any] = {
            "link": creative.final_url,
            "name": creative.headlines[0],
            "message": creative.descriptions[0],
            "call_to_action": {"type": "LEARN_MORE", "value": {"link": creative.final_url}},
        }
        if len(creative.descriptions) > 1:
            link["description"] = creative.descriptions[1]
        if creative.image_png is not None:
            link["image_hash"] = await self._client.upload_image(account, creative.image_png, name=f"{name}.png")
        creative_id = await self._client.create(
            account, "adcreatives", {"name": name, "object_story_spec": {"page_id": page_id, "link_data": link}}
        )
        created = await self._client.create(
            account,
            "ads",
            {"name": name, "adset_id": ad_group_id, "creative": {"creative_id": creative_id}, "status": "PAUSED"},
        )
        return AdObject(kind="ad", id=created, name=name, status="paused", parent_id=ad_group_id)

    async def create_customer_list(self, account_id: str, spec: CustomerListSpec) -> AudienceRef:
        """A custom audience from the hashed emails and phones (Meta matches them in the background)."""
        account = _account(account_id)
        emails, phones = check_customer_list(spec.name, spec.hashed_emails, spec.hashed_phones)
        name = _name(spec.name)
        audience_id = await self._client.create(
            account,
            "customaudiences",
            {
                "name": name,
                "subtype": "CUSTOM",
                "description": "Customer list uploaded by PromptSales",
                "customer_file_source": "USER_PROVIDED_ONLY",
            },
        )
        received = 0
        for schema, digests in (("EMAIL_SHA256", emails), ("PHONE_SHA256", phones)):
            if digests:
                answer = await self._client.add_users(audience_id, schema, digests)
                received += max(answer.num_received - answer.num_invalid_entries, 0)
        return AudienceRef(id=audience_id, name=name, size=received, status="processing")

    async def estimate_audience(self, account_id: str, spec: AdGroupSpec) -> AudienceEstimate:
        """Meta's reach estimate for the ad set's targeting."""
        account = _account(account_id)
        estimate = await self._client.reach_estimate(account, await self._targeting(spec))
        return AudienceEstimate(
            lower=estimate.users_lower_bound, upper=estimate.users_upper_bound, basis="meta_reachestimate"
        )

    # --- changes -------------------------------------------------------------------------------------------------

    async def _read(self, kind: str, graph_id: str) -> AdObject:
        parent = PARENT_FIELD[kind]
        document = await self._client.get(graph_id, ["id", "name", "status", *([parent] if parent else [])])
        return AdObject(
            kind=OBJECT_KINDS[kind],
            id=str(document.get("id", graph_id)),
            name=str(document.get("name") or graph_id),
            status=FROM_META.get(str(document.get("status")), "paused"),
            parent_id=str(document[parent]) if parent and document.get(parent) else None,
        )

    async def set_status(self, account_id: str, kind: ObjectKind, object_id: str, status: DeliveryStatus) -> AdObject:
        """Pause, activate or delete a campaign, ad set or ad."""
        _account(account_id)
        check_kind(kind)
        check_status(status)
        _graph_id(object_id, "object_id")
        await self._client.update(object_id, {"status": TO_META[status]})
        return await self._read(kind, object_id)

    async def set_daily_budget(self, account_id: str, campaign_id: str, amount: Decimal) -> AdObject:
        """Change the campaign's daily budget."""
        account = _account(account_id)
        _graph_id(campaign_id, "campaign_id")
        value = check_amount(amount, field="daily_budget", maximum=self._limits.max_daily_budget)
        await self._client.update(campaign_id, {"daily_budget": await self._minor(account, value, "daily_budget")})
        return await self._read("campaign", campaign_id)

    async def set_bid(self, account_id: str, ad_group_id: str, amount: Decimal) -> AdObject:
        """Cap what the ad set bids."""
        account = _account(account_id)
        _graph_id(ad_group_id, "ad_group_id")
        value = check_amount(amount, field="bid", maximum=self._limits.max_bid)
        minor = await self._minor(account, value, "bid")
        await self._client.update(ad_group_id, {"bid_amount": minor, "bid_strategy": "LOWEST_COST_WITH_BID_CAP"})
        return await self._read("ad_group", ad_group_id)

    # --- reads ---------------------------------------------------------------------------------------------------

    async def daily_performance(
        self, account_id: str, kind: ObjectKind, object_ids: Sequence[str], since: date, until: date
    ) -> Sequence[DailyPerformance]:
        """One row per object and day (zeros where Meta had no row), from daily insights."""
        account = _account(account_id)
        check_kind(kind)
        ids = check_report(object_ids, since, until)
        for graph_id in ids:
            _graph_id(graph_id, "object_ids")
        level, key = LEVELS[kind]
        found: dict[tuple[str, date], DailyPerformance] = {}
        rows = self._client.insights(
            account,
            level=level,
            ids=ids,
            since=since,
            until=until,
            fields=[key, "impressions", "clicks", "spend", "actions", "action_values"],
            limit=self._page_limit,
        )
        async for row in rows:
            try:
                day = date.fromisoformat(str(row.get("date_start")))
            except ValueError:
                continue
            owner = str(row.get(key, ""))
            actions = [a for a in row.get("actions") or [] if isinstance(a, dict)]
            values = [a for a in row.get("action_values") or [] if isinstance(a, dict)]
            found[(owner, day)] = DailyPerformance(
                object_id=owner,
                day=day,
                impressions=int(_number(row.get("impressions"))),
                clicks=int(_number(row.get("clicks"))),
                spend=_number(row.get("spend")),
                conversions=float(
                    sum(_number(a.get("value")) for a in actions if a.get("action_type") in CONVERSION_ACTIONS)
                ),
                conversion_value=sum(
                    (_number(a.get("value")) for a in values if a.get("action_type") in CONVERSION_ACTIONS), Decimal(0)
                ),
            )
        return every_day(found, ids, since, until)
