"""LinkedIn ads behind the platform-neutral :class:`~promptsales.domain_core.integrations.ads.AdsPlatform` port.

Mapping (shared/reference/platform_apis.md §5; ``[~]`` = inferred or secondary):

* our campaign is a LinkedIn **campaign group**, our ad group a LinkedIn **campaign**, our ad a **creative**;
* the campaign's daily budget is the group's ``dailyBudget`` under campaign group budget optimisation
  (``budgetOptimization.budgetOptimizationStrategy = DYNAMIC``: LinkedIn spreads it over the group's campaigns, which
  then carry no budget of their own [~ LinkedIn-Version ≥ 202504; airbyte discussion #85229, glama
  linkedin-ads-mcp create_campaign_group]), so one budget per campaign holds as on the other platforms. The group
  is created PAUSED, with a ``runSchedule`` when the spec has dates. Objectives: awareness → BRAND_AWARENESS,
  traffic, leads and sales → WEBSITE_VISIT (lead forms and conversion tracking are not carried by the port) [~];
* a campaign is ``type: SPONSORED_UPDATES`` under the group's URN, created PAUSED, ``costType`` CPC (CPM for
  awareness) with ``unitCost`` = the bid, or no unit cost and ``optimizationTargetType`` MAX_CLICK /
  MAX_IMPRESSION (automatic bidding) [~]; ``locale`` en_US; ``targetingCriteria.include.and`` of OR-facets:
  locations (geo URNs), age ranges and interests, each looked up with ``adTargetingEntities?q=typeahead`` [~];
* a creative is created ``intendedStatus: PAUSED`` with an inline single-article post: ``commentary`` = the first
  description (the intro text), ``article{source: final_url, title: first headline, description: second
  description}``. That inline shape is this project's documented payload for the simulator; live LinkedIn creates
  inline sponsored content through ``creatives?action=createInline`` with the post's author organisation, which
  the port does not carry [~ not verified]. ``image_png`` is not uploaded: LinkedIn takes an article's thumbnail
  from the landing page [~];
* a customer list is a DMP segment (``type: USER``, private, delivered to LinkedIn) with the email digests added as
  ``SHA256_EMAIL`` user ids, then read back: its id in the port is the **ad segment** LinkedIn made for it (the id
  campaigns target, ``urn:li:adSegment:<id>`` in the ``audienceMatchingSegments`` facet), its size
  ``matchedMemberCount`` when LinkedIn says. LinkedIn's user segments take no phone ids, so phone digests are
  refused before any request;
* an audience estimate is ``audienceCounts?q=targetingCriteriaV2`` for the campaign's targeting: ``lower`` the
  active members, ``upper`` the total (basis ``linkedin_audience_counts``);
* status, budget and bid changes are partial updates (``$set``) of absolute values — retried on 429/5xx — and the
  object is read back; removal archives (ARCHIVED: LinkedIn deletes only DRAFT objects [~]);
* analytics pivot on CAMPAIGN_GROUP / CAMPAIGN / CREATIVE, daily, one call per report (no pagination); days
  LinkedIn leaves out come back as zeros (:func:`..ads.every_day`);
* LinkedIn takes no idempotency key (§5): a create whose answer is lost is not retried or looked up, the
  PlatformDown says it may have been applied. Every amount, status, kind and id is checked before any request.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry

from promptsales.domain_core.integrations.ads import (
    AdAccount,
    AdGroupSpec,
    AdObject,
    AudienceEstimate,
    AudienceRef,
    AudienceStatus,
    CampaignSpec,
    CreativeSpec,
    CustomerListSpec,
    DailyPerformance,
    DeliveryStatus,
    ObjectKind,
    every_day,
)
from promptsales.domain_core.integrations.linkedin_ads.client import (
    Entity,
    LinkedInAdsClient,
    Pivot,
    id_of,
    urn,
)
from promptsales.domain_core.integrations.model.ad_limits import (
    AdLimits,
    check_amount,
    check_kind,
    check_object_id,
    check_report,
    check_status,
    minor_unit,
)
from promptsales.domain_core.integrations.model.customer_lists import check_customer_list
from promptsales.domain_core.integrations.model.errors import ConnectorError
from promptsales.domain_core.shared.clock import utc_now
from promptsales.domain_core.shared.errors import ValidationFailed

NAME_MAX = 100  # §5: campaign group name ≤100 (campaigns and creatives alike [~])
COMMENTARY_MAX, HEADLINE_MAX, DESCRIPTION_MAX = 600, 200, 300  # sponsored content text limits [~]
INTEREST_MAX = 100  # interests per campaign [~]
LOCATIONS_FACET = "urn:li:adTargetingFacet:locations"
AGE_FACET = "urn:li:adTargetingFacet:ageRanges"
INTERESTS_FACET = "urn:li:adTargetingFacet:interests"
SEGMENTS_FACET = "urn:li:adTargetingFacet:audienceMatchingSegments"
AD_SEGMENT = "urn:li:adSegment:"
SEGMENT_STATUSES: dict[str, AudienceStatus] = {"READY": "ready", "FAILED": "failed", "EXPIRED": "failed"}
AGE_RANGES: tuple[tuple[int, int], ...] = ((18, 24), (25, 34), (35, 54), (55, 2147483647))  # LinkedIn's buckets [~]
OBJECTIVES = {
    "awareness": "BRAND_AWARENESS",
    "traffic": "WEBSITE_VISIT",
    "leads": "WEBSITE_VISIT",
    "sales": "WEBSITE_VISIT",
}
ENTITIES: Mapping[str, Entity] = {"campaign": "adCampaignGroups", "ad_group": "adCampaigns", "ad": "creatives"}
PIVOTS: Mapping[str, Pivot] = {"campaign": "CAMPAIGN_GROUP", "ad_group": "CAMPAIGN", "ad": "CREATIVE"}
PARENT: Mapping[str, tuple[str, Entity] | None] = {
    "campaign": None,
    "ad_group": ("campaignGroup", "adCampaignGroups"),
    "ad": ("campaign", "adCampaigns"),
}
STATUS_FIELD = {"campaign": "status", "ad_group": "status", "ad": "intendedStatus"}
TO_LINKEDIN = {"active": "ACTIVE", "paused": "PAUSED", "removed": "ARCHIVED"}
REMOVED = frozenset({"ARCHIVED", "CANCELED", "REMOVED", "PENDING_DELETION"})
OBJECT_KINDS: dict[str, ObjectKind] = {"campaign": "campaign", "ad_group": "ad_group", "ad": "ad"}
FIELDS = (
    "impressions",
    "clicks",
    "costInLocalCurrency",
    "externalWebsiteConversions",
    "conversionValueInLocalCurrency",
)


def _account(account_id: str) -> str:
    if not (isinstance(account_id, str) and account_id.isdigit() and 0 < len(account_id) <= 20):
        raise ValidationFailed(
            "a LinkedIn account id is the ad account's number (digits).", field="account_id", hint="See list_accounts."
        )
    return account_id


def _id(value: str, field_name: str) -> str:
    check_object_id(value, field=field_name)
    if not value.isdigit() or len(value) > 20:
        raise ValidationFailed(f"a LinkedIn {field_name.replace('_', ' ')} is digits.", field=field_name)
    return value


def _name(value: str) -> str:
    if not value.strip() or len(value) > NAME_MAX:
        raise ValidationFailed(f"name must be 1-{NAME_MAX} characters.", field="name")
    return value


def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") and not isinstance(value, bool) else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _status(row: Mapping[str, Any], kind: str) -> DeliveryStatus:
    value = str(row.get(STATUS_FIELD[kind]) or "")
    if value in REMOVED:
        return "removed"
    return "active" if value == "ACTIVE" else "paused"


def _epoch_ms(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp() * 1000)


class LinkedInAdsAdapter:
    """:class:`AdsPlatform` for the LinkedIn ad accounts the authorised member holds a role on."""

    platform = "linkedin_ads"

    def __init__(
        self,
        client: LinkedInAdsClient,
        *,
        limits: AdLimits | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._limits = limits or AdLimits()
        self._clock = clock
        self._currencies: dict[str, str] = {}

    async def list_accounts(self) -> Sequence[AdAccount]:
        """Every ad account the member holds a role on, with its currency (LinkedIn reports in UTC days [~])."""
        found: list[AdAccount] = []
        for account_id in await self._client.account_ids():
            info = await self._client.account(account_id)
            if info.currency:
                self._currencies[account_id] = info.currency
            found.append(
                AdAccount(id=account_id, name=info.name or account_id, currency=info.currency or "", time_zone="UTC")
            )
        return found

    async def _money(self, account: str, amount: Decimal, field_name: str) -> dict[str, str]:
        """``{amount, currencyCode}`` after the precision check that needs the account's currency."""
        currency = self._currencies.get(account)
        if currency is None:
            currency = (await self._client.account(account)).currency or "USD"
            self._currencies[account] = currency
        maximum = self._limits.max_bid if field_name == "bid" else self._limits.max_daily_budget
        checked = check_amount(amount, field=field_name, maximum=maximum, currency=currency)
        # A string with the currency's decimals (§5 "5000.00"), whatever precision the caller's Decimal had.
        return {"amount": format(checked.quantize(minor_unit(currency)), "f"), "currencyCode": currency}

    # --- creates -------------------------------------------------------------------------------------------------

    async def create_campaign(self, account_id: str, spec: CampaignSpec) -> AdObject:
        """A paused campaign group whose daily budget its campaigns share (group budget optimisation)."""
        account = _account(account_id)
        amount = check_amount(spec.daily_budget, field="daily_budget", maximum=self._limits.max_daily_budget)
        name = _name(spec.name)
        if spec.start_date and spec.end_date and spec.end_date < spec.start_date:
            raise ValidationFailed("end_date is before start_date.", field="end_date")
        body: dict[str, Any] = {
            "account": urn("account", account),
            "name": name,
            "status": "PAUSED",  # created paused: nothing spends until activated
            "objectiveType": OBJECTIVES[spec.objective],
            "dailyBudget": await self._money(account, amount, "daily_budget"),
            "budgetOptimization": {"budgetOptimizationStrategy": "DYNAMIC"},
        }
        if spec.start_date or spec.end_date:
            start = spec.start_date or self._clock().astimezone(UTC).date()
            schedule: dict[str, int] = {"start": _epoch_ms(start)}
            if spec.end_date:
                schedule["end"] = _epoch_ms(spec.end_date) + 86_400_000 - 1  # through the end day
            body["runSchedule"] = schedule
        created = await self._client.create_entity(account, "adCampaignGroups", body)
        return AdObject(kind="campaign", id=created, name=name, status="paused")

    async def create_ad_group(self, account_id: str, campaign_id: str, spec: AdGroupSpec) -> AdObject:
        """A paused sponsored-content campaign in the group, with its targeting and optional bid."""
        account = _account(account_id)
        _id(campaign_id, "campaign_id")
        name = _name(spec.name)
        bid = check_amount(spec.bid, field="bid", maximum=self._limits.max_bid) if spec.bid is not None else None
        checked = self._checked_targeting(spec)
        group = await self._row(account, "campaign", campaign_id, "campaign_id")
        awareness = group.get("objectiveType") == "BRAND_AWARENESS"
        facets = await self._facets(*checked)
        body: dict[str, Any] = {
            "account": urn("account", account),
            "campaignGroup": urn("adCampaignGroups", campaign_id),
            "name": name,
            "type": "SPONSORED_UPDATES",
            "costType": "CPM" if awareness else "CPC",
            "locale": {"country": "US", "language": "en"},
            "targetingCriteria": {"include": {"and": facets}},
            "offsiteDeliveryEnabled": False,
            "politicalIntent": "NOT_POLITICAL",
            "status": "PAUSED",
        }
        if bid is None:
            body["optimizationTargetType"] = "MAX_IMPRESSION" if awareness else "MAX_CLICK"
        else:
            body["unitCost"] = await self._money(account, bid, "bid")
        created = await self._client.create_entity(account, "adCampaigns", body)
        return AdObject(kind="ad_group", id=created, name=name, status="paused", parent_id=campaign_id)

    def _checked_targeting(self, spec: AdGroupSpec) -> tuple[list[str], list[str], list[str], list[str]]:
        """``spec``'s countries, age range URNs, interests and ad segment ids, checked before any request."""
        countries = list(dict.fromkeys(c.strip().upper() for c in spec.countries if c.strip()))
        if not countries:
            raise ValidationFailed("LinkedIn needs at least one country to target.", field="countries")
        ages = self._age_ranges(spec.age_min, spec.age_max)
        wanted = list(dict.fromkeys(i.strip() for i in spec.interests if i.strip()))
        if len(wanted) > INTEREST_MAX:
            raise ValidationFailed(f"at most {INTEREST_MAX} interests.", field="interests")
        segments = [_id(a, "audience_ids") for a in dict.fromkeys(spec.audience_ids)]
        return countries, ages, wanted, segments

    async def _facets(
        self, countries: Sequence[str], ages: Sequence[str], wanted: Sequence[str], segments: Sequence[str]
    ) -> list[dict[str, Any]]:
        """``targetingCriteria.include.and``: one OR-facet each for locations, ages, interests and ad segments."""
        facets: list[dict[str, Any]] = [{"or": {LOCATIONS_FACET: await self._locations(countries)}}]
        if ages:
            facets.append({"or": {AGE_FACET: list(ages)}})
        if wanted:
            facets.append({"or": {INTERESTS_FACET: await self._interests(wanted)}})
        if segments:
            facets.append({"or": {SEGMENTS_FACET: [AD_SEGMENT + s for s in segments]}})
        return facets

    async def create_customer_list(self, account_id: str, spec: CustomerListSpec) -> AudienceRef:
        """A DMP segment of hashed emails; the ad segment campaigns target, with LinkedIn's matched count."""
        account = _account(account_id)
        emails, phones = check_customer_list(spec.name, spec.hashed_emails, spec.hashed_phones)
        if phones:
            raise ValidationFailed(
                "LinkedIn matched audiences take no phone numbers: give hashed emails only.", field="hashed_phones"
            )
        name = _name(spec.name)
        segment_id = await self._client.create_dmp_segment(account, name)
        await self._client.add_segment_users(segment_id, emails)
        segment = await self._client.dmp_segment(segment_id)
        ad_segment = segment.ad_segment
        if ad_segment is None or not ad_segment.removeprefix(AD_SEGMENT).isdigit():
            raise ConnectorError(
                platform=self.platform,
                summary=f"LinkedIn made DMP segment {segment_id} but no ad segment for it yet",
                hint="LinkedIn builds the ad segment in the background: look the list up again shortly.",
            )
        return AudienceRef(
            id=ad_segment.removeprefix(AD_SEGMENT),
            name=name,
            size=segment.matched_member_count,
            status=SEGMENT_STATUSES.get(str(segment.status), "processing"),
        )

    async def estimate_audience(self, account_id: str, spec: AdGroupSpec) -> AudienceEstimate:
        """LinkedIn's audience counts for the campaign's targeting: active members to all members."""
        _account(account_id)
        facets = await self._facets(*self._checked_targeting(spec))
        active, total = await self._client.audience_count({"include": {"and": facets}})
        return AudienceEstimate(lower=active, upper=total, basis="linkedin_audience_counts")

    @staticmethod
    def _age_ranges(age_min: int | None, age_max: int | None) -> list[str]:
        low = 18 if age_min is None else age_min
        high = 65 if age_max is None else age_max
        if not 18 <= low <= 65:
            raise ValidationFailed("age_min must be 18-65 (LinkedIn serves adults).", field="age_min")
        if not low <= high <= 100:
            raise ValidationFailed("age_max must be at least age_min and at most 100.", field="age_max")
        chosen = [(first, last) for first, last in AGE_RANGES if first <= high and last >= low]
        if len(chosen) == len(AGE_RANGES):
            return []  # every age: no age facet
        return [f"urn:li:ageRange:({first},{last})" for first, last in chosen]

    async def _locations(self, countries: Sequence[str]) -> list[str]:
        found: list[str] = []
        for code in countries:
            country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
            if country is None:
                raise ValidationFailed(
                    f"'{code}' is not an ISO 3166 country code.", field="countries", hint="Give codes like US, DE."
                )
            names = {country.name.lower(), str(getattr(country, "common_name", country.name)).lower()}
            elements = await self._client.typeahead(LOCATIONS_FACET, country.name)
            match = next(
                (str(e["urn"]) for e in elements if e.get("urn") and str(e.get("name", "")).lower() in names), None
            )
            if match is None:
                raise ValidationFailed(
                    f"LinkedIn cannot target '{code}'.",
                    field="countries",
                    hint="Give ISO 3166 two-letter codes of countries LinkedIn ads serve in.",
                )
            found.append(match)
        return found

    async def _interests(self, texts: Sequence[str]) -> list[str]:
        chosen: list[str] = []
        for text in texts:
            elements = await self._client.typeahead(INTERESTS_FACET, text)
            needle = text.lower()
            match = next(
                (str(e["urn"]) for e in elements if e.get("urn") and needle in str(e.get("name", "")).lower()), None
            )
            if match is None:
                raise ValidationFailed(
                    f"LinkedIn has no interest like '{text}'.",
                    field="interests",
                    hint="Use a broader word for a professional interest (e.g. 'software', 'marketing').",
                )
            if match not in chosen:
                chosen.append(match)
        return chosen

    async def create_ad(self, account_id: str, ad_group_id: str, creative: CreativeSpec) -> AdObject:
        """A paused creative in the campaign: an inline article post (intro text, headline, landing page)."""
        account = _account(account_id)
        _id(ad_group_id, "ad_group_id")
        name = _name(creative.name)
        if not creative.headlines or not 0 < len(creative.headlines[0]) <= HEADLINE_MAX:
            raise ValidationFailed(
                f"give a first headline of 1-{HEADLINE_MAX} characters (the article's title).", field="headlines"
            )
        if not creative.descriptions or not 0 < len(creative.descriptions[0]) <= COMMENTARY_MAX:
            raise ValidationFailed(
                f"give a first description of 1-{COMMENTARY_MAX} characters (the post's intro text).",
                field="descriptions",
            )
        if len(creative.descriptions) > 1 and len(creative.descriptions[1]) > DESCRIPTION_MAX:
            raise ValidationFailed(
                f"the second description (the article's) is at most {DESCRIPTION_MAX} characters.",
                field="descriptions",
            )
        if not creative.final_url.startswith("https://"):
            raise ValidationFailed("final_url must be an https:// address.", field="final_url")
        article: dict[str, str] = {"source": creative.final_url, "title": creative.headlines[0]}
        if len(creative.descriptions) > 1:
            article["description"] = creative.descriptions[1]
        body = {
            "campaign": urn("adCampaigns", ad_group_id),
            "name": name,
            "intendedStatus": "PAUSED",
            "inlineContent": {"post": {"commentary": creative.descriptions[0], "content": {"article": article}}},
        }
        created = await self._client.create_entity(account, "creatives", body)
        return AdObject(kind="ad", id=created, name=name, status="paused", parent_id=ad_group_id)

    # --- changes -------------------------------------------------------------------------------------------------

    @staticmethod
    def _unknown(account: str, kind: str, object_id: str, field_name: str) -> ValidationFailed:
        return ValidationFailed(
            f"LinkedIn has no {kind.replace('_', ' ')} {object_id} in account {account}.",
            field=field_name,
            hint="Use an id this connection created or listed.",
        )

    async def _row(self, account: str, kind: str, object_id: str, field_name: str) -> dict[str, Any]:
        try:
            return await self._client.entity(account, ENTITIES[kind], object_id)
        except ConnectorError as error:  # a 404 is LinkedIn saying the id is not in this account
            if error.status != 404:
                raise
        raise self._unknown(account, kind, object_id, field_name)

    async def _change(
        self, account: str, kind: str, object_id: str, changes: Mapping[str, Any], field_name: str
    ) -> AdObject:
        """Partially update the object, then read it back."""
        try:
            await self._client.update_entity(account, ENTITIES[kind], object_id, changes)
        except ConnectorError as error:
            if error.status != 404:
                raise
            raise self._unknown(account, kind, object_id, field_name) from None
        return await self._read(account, kind, object_id)

    async def _read(self, account: str, kind: str, object_id: str) -> AdObject:
        row = await self._row(account, kind, object_id, "object_id")
        parent = PARENT[kind]
        return AdObject(
            kind=OBJECT_KINDS[kind],
            id=object_id,
            name=str(row.get("name") or object_id),
            status=_status(row, kind),
            parent_id=id_of(row.get(parent[0]), parent[1]) if parent else None,
        )

    async def set_status(self, account_id: str, kind: ObjectKind, object_id: str, status: DeliveryStatus) -> AdObject:
        """Activate, pause or archive a campaign group, campaign or creative."""
        account = _account(account_id)
        check_kind(kind)
        check_status(status)
        _id(object_id, "object_id")
        return await self._change(account, kind, object_id, {STATUS_FIELD[kind]: TO_LINKEDIN[status]}, "object_id")

    async def set_daily_budget(self, account_id: str, campaign_id: str, amount: Decimal) -> AdObject:
        """Change the campaign group's daily budget."""
        account = _account(account_id)
        _id(campaign_id, "campaign_id")
        value = check_amount(amount, field="daily_budget", maximum=self._limits.max_daily_budget)
        budget = await self._money(account, value, "daily_budget")
        return await self._change(account, "campaign", campaign_id, {"dailyBudget": budget}, "campaign_id")

    async def set_bid(self, account_id: str, ad_group_id: str, amount: Decimal) -> AdObject:
        """Set the campaign's bid (its unit cost; automatic bidding stops)."""
        account = _account(account_id)
        _id(ad_group_id, "ad_group_id")
        value = check_amount(amount, field="bid", maximum=self._limits.max_bid)
        unit_cost = await self._money(account, value, "bid")
        return await self._change(account, "ad_group", ad_group_id, {"unitCost": unit_cost}, "ad_group_id")

    # --- reads ---------------------------------------------------------------------------------------------------

    async def daily_performance(
        self, account_id: str, kind: ObjectKind, object_ids: Sequence[str], since: date, until: date
    ) -> Sequence[DailyPerformance]:
        """One row per object and day (zeros where LinkedIn left the day out), from one analytics call."""
        _account(account_id)
        check_kind(kind)
        ids = check_report(object_ids, since, until)
        for object_id in ids:
            _id(object_id, "object_ids")
        entity = ENTITIES[kind]
        found: dict[tuple[str, date], DailyPerformance] = {}
        for row in await self._client.analytics(PIVOTS[kind], ids, since, until, FIELDS):
            owner = id_of(row.pivot, entity)
            if owner is None:
                continue
            metrics = row.metrics
            found[(owner, row.day)] = DailyPerformance(
                object_id=owner,
                day=row.day,
                impressions=int(_number(metrics.get("impressions"))),
                clicks=int(_number(metrics.get("clicks"))),
                spend=_number(metrics.get("costInLocalCurrency")),
                conversions=float(_number(metrics.get("externalWebsiteConversions"))),
                conversion_value=_number(metrics.get("conversionValueInLocalCurrency")),
            )
        return every_day(found, ids, since, until)
