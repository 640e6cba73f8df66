"""Google Ads behind the platform-neutral :class:`~promptsales.domain_core.integrations.ads.AdsPlatform` port.

Mapping (shared/reference/platform_apis.md §2; ``[~]`` = inferred):

* a campaign is a non-shared campaign budget (``amountMicros``, unique name ``"<campaign> (daily budget)"``) plus a
  SEARCH campaign created PAUSED with ``containsEuPoliticalAdvertising: DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING``
  (required on new campaigns, §2). Objectives map to bidding [~]: awareness/traffic → Maximize clicks
  (``targetSpend``), leads/sales → ``maximizeConversions``. If the campaign create fails, the budget made for it
  is removed again;
* an ad group is created PAUSED; its bid is ``cpcBidMicros`` (§2 ad group create [~]); its countries become the
  campaign's location criteria (Google targets locations per campaign [~]; ``geoTargetConstants/<2000 + ISO
  numeric>`` [~]); ages become negative age-range criteria for the buckets wholly outside the range; interests
  become broad-match keywords (a search campaign's nearest notion) [~];
* an ad is a responsive search ad, created PAUSED; an image is uploaded as an image asset (``assets``,
  ``imageAsset.data`` base64 [~]) and linked to the ad group as ``AD_IMAGE`` [~]. Google keeps no name on
  responsive search ads, so the name given comes back from the create and later reads show the first headline;
* a customer list is Customer Match: a CRM-based user list (``CONTACT_INFO``, first party, 540-day membership
  [~ the longest Google allows]) filled by an offline user data job (create, add the ``hashedEmail`` /
  ``hashedPhoneNumber`` identifiers, run), then read back: its size is ``size_for_search`` once Google reports
  one (matching takes hours, so a new list is ``processing`` with no size). Phones must be hashed from the E.164
  text with its ``+`` (:func:`..model.customer_lists.hash_phone` with ``google_ads``). An ad group targets a list
  with a ``userList`` ad group criterion;
* audience estimate: Google Ads has no reach estimate for search targeting (ReachPlanService forecasts YouTube /
  video reach plans, KeywordPlan forecasts clicks), so the estimate is the targeted lists' ``size_for_search`` sum
  only, its basis saying so; without lists there is nothing to estimate from and the call is refused;
* ids: campaign and ad group ids are Google's; an ad's id is ``{adGroupId}~{adId}``, the ad group ad's key;
* no idempotency key exists (§2): a create is sent once (ConnectorHttp refuses to retry an unkeyed POST, since a
  timed-out create may have been applied). When a create fails with no usable answer (5xx, timeout) the adapter
  looks the object up by its unique name (budgets and campaigns per account, ad groups per campaign — Google
  refuses duplicates there) and returns it if it was made; ads have no unique name and are not looked up;
* every amount, status, kind and id is checked before the first request.
"""

import base64
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
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
from promptsales.domain_core.integrations.google_ads.client import (
    GoogleAdsClient,
    MutateResult,
    customer_id,
    field,
    from_micros,
    gaql_string,
    to_micros,
)
from promptsales.domain_core.integrations.model.ad_limits import (
    AdLimits,
    check_amount,
    check_kind,
    check_report,
    check_status,
)
from promptsales.domain_core.integrations.model.customer_lists import check_customer_list
from promptsales.domain_core.integrations.model.errors import PlatformDown, PlatformValidationError
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed

NAME_MAX = 255
HEADLINE_MAX, DESCRIPTION_MAX = 15, 4  # §2 responsive search ads: 3-15 headlines, 2-4 descriptions
INTEREST_MAX = 50
IMAGE_BYTES_MAX = 5 * 1024 * 1024  # Google image assets up to 5 MB [~]
AGE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("AGE_RANGE_18_24", 18, 24),
    ("AGE_RANGE_25_34", 25, 34),
    ("AGE_RANGE_35_44", 35, 44),
    ("AGE_RANGE_45_54", 45, 54),
    ("AGE_RANGE_55_64", 55, 64),
    ("AGE_RANGE_65_UP", 65, 200),
)
BIDDING = {
    "awareness": "targetSpend",
    "traffic": "targetSpend",
    "leads": "maximizeConversions",
    "sales": "maximizeConversions",
}
TO_GOOGLE: dict[str, str] = {"active": "ENABLED", "paused": "PAUSED"}
OBJECT_KINDS: dict[str, ObjectKind] = {"campaign": "campaign", "ad_group": "ad_group", "ad": "ad"}
FROM_GOOGLE: dict[str, DeliveryStatus] = {"ENABLED": "active", "PAUSED": "paused", "REMOVED": "removed"}
# kind → (mutate service, GAQL resource, camelCase row key, id field in GAQL)
KINDS: dict[str, tuple[str, str, str, str]] = {
    "campaign": ("campaigns", "campaign", "campaign", "campaign.id"),
    "ad_group": ("adGroups", "ad_group", "adGroup", "ad_group.id"),
    "ad": ("adGroupAds", "ad_group_ad", "adGroupAd", "ad_group_ad.ad.id"),
}
MEMBERSHIP_DAYS = 540  # Customer Match membership life span; 540 is Google's maximum [~]
LISTS_ONLY_BASIS = (
    "google_user_list_sizes: the targeted customer lists' search sizes only (Google Ads offers no reach estimate "
    "for search targeting, so countries, ages and interests are not applied)"
)
METRICS = (
    "segments.date, metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions, "
    "metrics.conversions_value"
)


def _id_of(resource_name: str) -> str:
    return resource_name.rsplit("/", 1)[-1]


def _check_id(kind: str, object_id: str, *, field_name: str = "object_id") -> str:
    parts = object_id.split("~")
    wanted = 2 if kind == "ad" else 1
    if len(parts) != wanted or not all(p.isdigit() and 0 < len(p) <= 19 for p in parts):
        shape = "'{adGroupId}~{adId}'" if kind == "ad" else "digits"
        raise ValidationFailed(f"a Google Ads {kind} id is {shape}.", field=field_name)
    return object_id


def _account(account_id: str) -> str:
    try:
        return customer_id(account_id)
    except ValueError:
        raise ValidationFailed(
            "a Google Ads account id is the 10-digit customer id.", field="account_id", hint="See list_accounts."
        ) from None


def _name(value: str, *, field_name: str = "name") -> str:
    if not value.strip() or len(value) > NAME_MAX:
        raise ValidationFailed(f"{field_name} must be 1-{NAME_MAX} characters.", field=field_name)
    return value


def _status(value: object) -> DeliveryStatus:
    return FROM_GOOGLE.get(str(value), "paused")


class GoogleAdsAdapter:
    """:class:`AdsPlatform` for the Google Ads customers one OAuth connection reaches."""

    platform = "google_ads"

    def __init__(self, client: GoogleAdsClient, *, limits: AdLimits | None = None) -> None:
        self._client = client
        self._limits = limits or AdLimits()

    # --- accounts ------------------------------------------------------------------------------------------------

    async def list_accounts(self) -> Sequence[AdAccount]:
        """Every customer the connection reaches directly, with its currency and time zone."""
        accounts: list[AdAccount] = []
        query = (
            "SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone FROM customer"
        )
        for cid in await self._client.list_accessible_customers():
            for row in await self._client.search_all(cid, query):
                accounts.append(
                    AdAccount(
                        id=cid,
                        name=str(field(row, "customer.descriptiveName") or cid),
                        currency=str(field(row, "customer.currencyCode") or ""),
                        time_zone=str(field(row, "customer.timeZone") or "UTC"),
                    )
                )
        return accounts

    # --- creates -------------------------------------------------------------------------------------------------

    async def _create(self, cid: str, service: str, body: dict[str, Any], lookup: str | None, key: str) -> MutateResult:
        """One create, sent once; after a failure without a usable answer, the object found by its unique name."""
        try:
            return (await self._client.mutate(cid, service, [{"create": body}]))[0]
        except PlatformDown as lost:
            if lookup is None:
                raise
            try:
                rows = await self._client.search_all(cid, lookup)
            except PlatformDown:
                raise lost from None
            found = rows[0].get(key) if rows else None
            if not isinstance(found, dict) or not isinstance(found.get("resourceName"), str):
                raise
            return MutateResult(resource_name=found["resourceName"], resource=found)

    async def _remove_quietly(self, cid: str, service: str, resource_name: str) -> None:
        """Undo a half-made object; a failure here must not hide the error that caused it."""
        try:
            await self._client.mutate(cid, service, [{"remove": resource_name}], content="RESOURCE_NAME_ONLY")
        except (PlatformDown, PlatformValidationError):
            return

    async def create_campaign(self, account_id: str, spec: CampaignSpec) -> AdObject:
        """A paused search campaign with its own daily budget."""
        cid = _account(account_id)
        amount = check_amount(spec.daily_budget, field="daily_budget", maximum=self._limits.max_daily_budget)
        name = _name(spec.name)
        if spec.start_date and spec.end_date and spec.end_date < spec.start_date:
            raise ValidationFailed("end_date is before start_date.", field="end_date")
        budget_name = f"{name} (daily budget)"[:NAME_MAX]
        budget = await self._create(
            cid,
            "campaignBudgets",
            {
                "name": budget_name,
                "amountMicros": to_micros(amount),
                "deliveryMethod": "STANDARD",
                "explicitlyShared": False,
            },
            "SELECT campaign_budget.resource_name, campaign_budget.name FROM campaign_budget "
            f"WHERE campaign_budget.name = {gaql_string(budget_name)}",
            "campaignBudget",
        )
        body: dict[str, Any] = {
            "name": name,
            "status": "PAUSED",  # §3/§2 test mode: create everything paused so nothing spends
            "advertisingChannelType": "SEARCH",
            "campaignBudget": budget.resource_name,
            BIDDING[spec.objective]: {},
            "networkSettings": {
                "targetGoogleSearch": True,
                "targetSearchNetwork": False,
                "targetContentNetwork": False,
            },
            "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
        }
        if spec.start_date:
            body["startDate"] = spec.start_date.isoformat()
        if spec.end_date:
            body["endDate"] = spec.end_date.isoformat()
        lookup = (
            "SELECT campaign.resource_name, campaign.id, campaign.name, campaign.status FROM campaign "
            f"WHERE campaign.name = {gaql_string(name)} AND campaign.status != 'REMOVED'"
        )
        try:
            created = await self._create(cid, "campaigns", body, lookup, "campaign")
        except PlatformValidationError:
            await self._remove_quietly(cid, "campaignBudgets", budget.resource_name)
            raise
        return self._object("campaign", created, fallback_name=name)

    async def create_ad_group(self, account_id: str, campaign_id: str, spec: AdGroupSpec) -> AdObject:
        """A paused ad group with its bid, plus its targeting as location, age and keyword criteria."""
        cid = _account(account_id)
        _check_id("campaign", campaign_id, field_name="campaign_id")
        name = _name(spec.name)
        bid = check_amount(spec.bid, field="bid", maximum=self._limits.max_bid) if spec.bid is not None else None
        countries = self._countries(spec.countries)
        excluded = self._excluded_ages(spec.age_min, spec.age_max)
        interests = self._interests(spec.interests)
        lists = [self._user_list(cid, a) for a in dict.fromkeys(spec.audience_ids)]
        campaign = f"customers/{cid}/campaigns/{campaign_id}"
        body: dict[str, Any] = {"name": name, "campaign": campaign, "status": "PAUSED", "type": "SEARCH_STANDARD"}
        if bid is not None:
            body["cpcBidMicros"] = to_micros(bid)
        lookup = (
            "SELECT ad_group.resource_name, ad_group.id, ad_group.name, ad_group.status, ad_group.campaign "
            f"FROM ad_group WHERE ad_group.name = {gaql_string(name)} AND campaign.id = {campaign_id} "
            "AND ad_group.status != 'REMOVED'"
        )
        group = await self._create(cid, "adGroups", body, lookup, "adGroup")
        try:
            await self._target(cid, campaign_id, campaign, group.resource_name, countries, excluded, interests, lists)
        except PlatformValidationError:
            await self._remove_quietly(cid, "adGroups", group.resource_name)
            raise
        return self._object("ad_group", group, fallback_name=name, parent_id=campaign_id)

    async def _target(
        self,
        cid: str,
        campaign_id: str,
        campaign: str,
        group: str,
        countries: Sequence[str],
        excluded: Sequence[str],
        interests: Sequence[str],
        lists: Sequence[str] = (),
    ) -> None:
        if countries:
            have = await self._client.search_all(
                cid,
                "SELECT campaign_criterion.location.geo_target_constant FROM campaign_criterion "
                f"WHERE campaign.id = {campaign_id}",
            )
            present = {field(r, "campaignCriterion.location.geoTargetConstant") for r in have}
            wanted = [c for c in countries if c not in present]
            if wanted:
                operations = [{"create": {"campaign": campaign, "location": {"geoTargetConstant": c}}} for c in wanted]
                await self._client.mutate(cid, "campaignCriteria", operations, content="RESOURCE_NAME_ONLY")
        criteria: list[dict[str, Any]] = [
            {"create": {"adGroup": group, "negative": True, "ageRange": {"type": bucket}}} for bucket in excluded
        ]
        criteria += [
            {"create": {"adGroup": group, "status": "ENABLED", "keyword": {"text": text, "matchType": "BROAD"}}}
            for text in interests
        ]
        criteria += [{"create": {"adGroup": group, "status": "ENABLED", "userList": {"userList": u}}} for u in lists]
        if criteria:
            await self._client.mutate(cid, "adGroupCriteria", criteria, content="RESOURCE_NAME_ONLY")

    @staticmethod
    def _user_list(cid: str, audience_id: str) -> str:
        _check_id("campaign", audience_id, field_name="audience_ids")  # a user list id is digits like a campaign's
        return f"customers/{cid}/userLists/{audience_id}"

    async def create_customer_list(self, account_id: str, spec: CustomerListSpec) -> AudienceRef:
        """A Customer Match user list, filled by an offline user data job, read back for its size."""
        cid = _account(account_id)
        emails, phones = check_customer_list(spec.name, spec.hashed_emails, spec.hashed_phones)
        name = _name(spec.name)
        body = {
            "name": name,
            "description": "Customer list uploaded by PromptSales",
            "membershipStatus": "OPEN",
            "membershipLifeSpan": str(MEMBERSHIP_DAYS),
            "crmBasedUserList": {"uploadKeyType": "CONTACT_INFO", "dataSourceType": "FIRST_PARTY"},
        }
        lookup = (
            "SELECT user_list.resource_name, user_list.id, user_list.name FROM user_list "
            f"WHERE user_list.name = {gaql_string(name)}"
        )
        made = await self._create(cid, "userLists", body, lookup, "userList")
        job = await self._client.create_customer_match_job(cid, made.resource_name)
        identifiers = [{"hashedEmail": e} for e in emails] + [{"hashedPhoneNumber": p} for p in phones]
        await self._client.add_job_identifiers(job, identifiers)
        await self._client.run_job(job)
        rows = await self._client.search_all(
            cid,
            "SELECT user_list.id, user_list.name, user_list.size_for_search FROM user_list "
            f"WHERE user_list.id = {made.id}",
        )
        size = int(field(rows[0], "userList.sizeForSearch") or 0) if rows else 0
        return AudienceRef(id=made.id, name=name, size=size or None, status="ready" if size else "processing")

    async def estimate_audience(self, account_id: str, spec: AdGroupSpec) -> AudienceEstimate:
        """The targeted customer lists' search sizes (Google has no reach estimate for search targeting)."""
        cid = _account(account_id)
        self._countries(spec.countries)
        self._excluded_ages(spec.age_min, spec.age_max)
        self._interests(spec.interests)
        ids = list(dict.fromkeys(spec.audience_ids))
        if not ids:
            raise ValidationFailed(
                "Google Ads gives no audience size for search targeting by countries, ages and interests.",
                field="audience_ids",
                hint="Give customer lists (audience_ids) to size them; otherwise plan from Keyword Planner volumes.",
            )
        for audience_id in ids:
            self._user_list(cid, audience_id)
        rows = await self._client.search_all(
            cid,
            f"SELECT user_list.id, user_list.size_for_search FROM user_list WHERE user_list.id IN ({', '.join(ids)})",
        )
        sizes = {str(field(r, "userList.id")): int(field(r, "userList.sizeForSearch") or 0) for r in rows}
        missing = [i for i in ids if i not in sizes]
        if missing:
            raise NotFound("Google Ads customer list", missing[0], field="audience_ids")
        total = sum(sizes.values())
        return AudienceEstimate(lower=total, upper=total, basis=LISTS_ONLY_BASIS)

    @staticmethod
    def _countries(codes: Sequence[str]) -> list[str]:
        constants: list[str] = []
        for code in dict.fromkeys(c.strip().upper() for c in codes):
            country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
            if country is None:
                raise ValidationFailed(f"'{code}' is not an ISO 3166 two-letter country code.", field="countries")
            constants.append(f"geoTargetConstants/{2000 + int(country.numeric)}")
        return constants

    @staticmethod
    def _excluded_ages(age_min: int | None, age_max: int | None) -> list[str]:
        low = 18 if age_min is None else age_min
        high = 65 if age_max is None else age_max
        if not 13 <= low <= 65:
            raise ValidationFailed("age_min must be 13-65.", field="age_min")
        if not low <= high <= 100:
            raise ValidationFailed("age_max must be at least age_min and at most 100.", field="age_max")
        # Google's buckets are coarse: only buckets wholly outside the range are excluded.
        return [name for name, first, last in AGE_BUCKETS if last < low or first > high]

    @staticmethod
    def _interests(values: Sequence[str]) -> list[str]:
        texts = list(dict.fromkeys(v.strip() for v in values if v.strip()))
        if len(texts) > INTEREST_MAX or any(len(t) > 80 for t in texts):
            raise ValidationFailed(f"at most {INTEREST_MAX} interests of up to 80 characters.", field="interests")
        return texts

    async def create_ad(self, account_id: str, ad_group_id: str, creative: CreativeSpec) -> AdObject:
        """A paused responsive search ad (and the image, when given, as the ad group's image asset)."""
        cid = _account(account_id)
        _check_id("ad_group", ad_group_id, field_name="ad_group_id")
        _name(creative.name)
        if not 0 < len(creative.headlines) <= HEADLINE_MAX:
            raise ValidationFailed(f"give 1-{HEADLINE_MAX} headlines (Google needs 3).", field="headlines")
        if not 0 < len(creative.descriptions) <= DESCRIPTION_MAX:
            raise ValidationFailed(f"give 1-{DESCRIPTION_MAX} descriptions (Google needs 2).", field="descriptions")
        if not creative.final_url.startswith("https://"):
            raise ValidationFailed("final_url must be an https:// address.", field="final_url")
        if creative.image_png is not None and not 0 < len(creative.image_png) <= IMAGE_BYTES_MAX:
            raise ValidationFailed("image_png must be 1 byte to 5 MB.", field="image_png")
        group = f"customers/{cid}/adGroups/{ad_group_id}"
        if creative.image_png is not None:
            asset = await self._create(
                cid,
                "assets",
                {
                    "name": f"{creative.name} image"[:NAME_MAX],
                    "type": "IMAGE",
                    "imageAsset": {"data": base64.b64encode(creative.image_png).decode()},
                },
                None,
                "asset",
            )
            link = {"adGroup": group, "asset": asset.resource_name, "fieldType": "AD_IMAGE"}
            await self._client.mutate(cid, "adGroupAssets", [{"create": link}], content="RESOURCE_NAME_ONLY")
        body = {
            "adGroup": group,
            "status": "PAUSED",
            "ad": {
                "finalUrls": [creative.final_url],
                "responsiveSearchAd": {
                    "headlines": [{"text": text} for text in creative.headlines],
                    "descriptions": [{"text": text} for text in creative.descriptions],
                },
            },
        }
        created = await self._create(cid, "adGroupAds", body, None, "adGroupAd")
        return self._object("ad", created, fallback_name=creative.name, parent_id=ad_group_id, name=creative.name)

    # --- changes -------------------------------------------------------------------------------------------------

    async def set_status(self, account_id: str, kind: ObjectKind, object_id: str, status: DeliveryStatus) -> AdObject:
        """Pause, enable or remove a campaign, ad group or ad."""
        cid = _account(account_id)
        check_kind(kind)
        check_status(status)
        _check_id(kind, object_id)
        service = KINDS[kind][0]
        name = f"customers/{cid}/{service}/{object_id}"
        if status == "removed":
            await self._client.mutate(cid, service, [{"remove": name}], content="RESOURCE_NAME_ONLY")
            return await self._read(cid, kind, object_id)
        update = {"update": {"resourceName": name, "status": TO_GOOGLE[status]}, "updateMask": "status"}
        result = (await self._client.mutate(cid, service, [update]))[0]
        if result.resource is None or "status" not in result.resource:
            return await self._read(cid, kind, object_id)
        return self._object(kind, result, fallback_name=object_id)

    async def set_daily_budget(self, account_id: str, campaign_id: str, amount: Decimal) -> AdObject:
        """Change the campaign's own budget (created unshared, so no other campaign moves)."""
        cid = _account(account_id)
        _check_id("campaign", campaign_id, field_name="campaign_id")
        value = check_amount(amount, field="daily_budget", maximum=self._limits.max_daily_budget)
        rows = await self._client.search_all(
            cid,
            "SELECT campaign.resource_name, campaign.id, campaign.name, campaign.status, campaign.campaign_budget "
            f"FROM campaign WHERE campaign.id = {campaign_id}",
        )
        campaign = rows[0].get("campaign") if rows else None
        if not isinstance(campaign, dict) or not isinstance(campaign.get("campaignBudget"), str):
            raise NotFound("Google Ads campaign", campaign_id, field="campaign_id", lookup="the campaign list")
        update = {
            "update": {"resourceName": campaign["campaignBudget"], "amountMicros": to_micros(value)},
            "updateMask": "amountMicros",
        }
        await self._client.mutate(cid, "campaignBudgets", [update], content="RESOURCE_NAME_ONLY")
        return self._object(
            "campaign",
            MutateResult(resource_name=campaign["resourceName"], resource=campaign),
            fallback_name=campaign_id,
        )

    async def set_bid(self, account_id: str, ad_group_id: str, amount: Decimal) -> AdObject:
        """Change the ad group's maximum cost per click."""
        cid = _account(account_id)
        _check_id("ad_group", ad_group_id, field_name="ad_group_id")
        value = check_amount(amount, field="bid", maximum=self._limits.max_bid)
        update = {
            "update": {"resourceName": f"customers/{cid}/adGroups/{ad_group_id}", "cpcBidMicros": to_micros(value)},
            "updateMask": "cpcBidMicros",
        }
        result = (await self._client.mutate(cid, "adGroups", [update]))[0]
        return self._object("ad_group", result, fallback_name=ad_group_id)

    # --- reads ---------------------------------------------------------------------------------------------------

    async def _read(self, cid: str, kind: str, object_id: str) -> AdObject:
        _, resource, key, id_field = KINDS[kind]
        wanted = object_id.split("~")[-1]
        extra = {
            "campaign": "campaign.name",
            "ad_group": "ad_group.name, ad_group.campaign",
            "ad": "ad_group_ad.ad_group, ad_group_ad.ad.responsive_search_ad.headlines",
        }[kind]
        rows = await self._client.search_all(
            cid,
            f"SELECT {resource}.resource_name, {resource}.status, {extra} FROM {resource} WHERE {id_field} = {wanted}",
        )
        for row in rows:
            found = row.get(key)
            if isinstance(found, dict) and _id_of(str(found.get("resourceName", ""))) == object_id:
                result = MutateResult(resource_name=found["resourceName"], resource=found)
                return self._object(kind, result, fallback_name=object_id)
        raise NotFound(f"Google Ads {kind.replace('_', ' ')}", object_id, field="object_id")

    @staticmethod
    def _object(
        kind: str, result: MutateResult, *, fallback_name: str, parent_id: str | None = None, name: str | None = None
    ) -> AdObject:
        resource = result.resource or {}
        object_id = _id_of(result.resource_name)
        if kind == "ad":
            parent_id = parent_id or object_id.split("~")[0]
            headlines = field(resource, "ad.responsiveSearchAd.headlines")
            first = (
                headlines[0].get("text")
                if isinstance(headlines, list) and headlines and isinstance(headlines[0], dict)
                else None
            )
            name = name or (str(first) if first else None)
        elif kind == "ad_group" and parent_id is None and isinstance(resource.get("campaign"), str):
            parent_id = _id_of(resource["campaign"])
        return AdObject(
            kind=OBJECT_KINDS[kind],
            id=object_id,
            name=name or str(resource.get("name") or fallback_name),
            status=_status(resource.get("status", "PAUSED")),
            parent_id=parent_id,
        )

    async def daily_performance(
        self, account_id: str, kind: ObjectKind, object_ids: Sequence[str], since: date, until: date
    ) -> Sequence[DailyPerformance]:
        """One row per object and day from ``since`` to ``until`` (zeros where Google returned no row)."""
        cid = _account(account_id)
        check_kind(kind)
        ids = check_report(object_ids, since, until)
        for object_id in ids:
            _check_id(kind, object_id, field_name="object_ids")
        _, resource, key, id_field = KINDS[kind]
        wanted = [i.split("~")[-1] for i in ids]
        select = "ad_group.id, ad_group_ad.ad.id" if kind == "ad" else id_field
        query = (
            f"SELECT {select}, {METRICS} FROM {resource} WHERE {id_field} IN ({', '.join(wanted)}) "
            f"AND segments.date BETWEEN '{since.isoformat()}' AND '{until.isoformat()}'"
        )
        found: dict[tuple[str, date], DailyPerformance] = {}
        async for row in self._client.search(cid, query):
            if kind == "ad":
                object_id = f"{field(row, 'adGroup.id')}~{field(row, 'adGroupAd.ad.id')}"
            else:
                object_id = str(field(row, f"{key}.id"))
            try:
                day = date.fromisoformat(str(field(row, "segments.date")))
            except ValueError:
                continue
            found[(object_id, day)] = DailyPerformance(
                object_id=object_id,
                day=day,
                impressions=int(field(row, "metrics.impressions") or 0),
                clicks=int(field(row, "metrics.clicks") or 0),
                spend=from_micros(field(row, "metrics.costMicros") or 0),
                conversions=float(field(row, "metrics.conversions") or 0.0),
                conversion_value=Decimal(str(field(row, "metrics.conversionsValue") or 0)),
            )
        return every_day(found, ids, since, until)
