"""TikTok ads behind the platform-neutral :class:`~promptsales.domain_core.integrations.ads.AdsPlatform` port.

Mapping (shared/reference/platform_apis.md §4; ``[~]`` = inferred or secondary):

* a campaign has the daily budget (``BUDGET_MODE_DAY``, major units) with campaign budget optimisation on
  (``budget_optimize_on``), so its ad groups carry no budget (mixing both is a 40002 [~]); created
  ``operation_status=DISABLE`` (paused). Objectives: awareness → REACH; traffic, leads and sales → TRAFFIC, since
  the conversion objectives need a pixel and an optimisation event on the ad group (§4 "Pixel rule") that the
  port does not carry [~];
* an ad group optimises CLICK billed CPC (REACH billed CPM for awareness); a bid is ``BID_TYPE_CUSTOM`` +
  ``bid_price``, none ``BID_TYPE_NO_BID`` (lowest cost); placement is automatic, so single-image ads can serve
  (§4: single static images are refused on TikTok-only in-feed placements [~]). Countries become ``location_ids``
  read from ``tool/region/``; ages the TikTok age buckets overlapping the range; interests the interest categories
  whose names contain the text (``tool/interest_category/``) [~];
* an ad is one SINGLE_IMAGE creative: the image uploaded first (TikTok in-feed ads need a video or an image; this
  adapter takes an image, so ``image_png`` is required), ``ad_text`` = the first description (≤100 characters),
  ``display_name`` = the first headline (≤40) [~], call to action LEARN_MORE to ``final_url``; created DISABLE;
* a customer list is a customer-file audience: the digests uploaded as one file (``EMAIL_SHA256`` or
  ``PHONE_SHA256``: a TikTok audience takes one calculate_type, so a list mixing emails and phones is refused
  before any request), the audience created from it, then read back for ``cover_num`` (its size). Ad groups
  target lists as ``audience_ids``;
* an audience estimate is ``ad/audience_size/estimate/`` for the ad group's targeting (basis
  ``tiktok_audience_size_estimate``);
* status, budget and bid changes POST absolute values (idempotent, retried on 40100/5xx) and read the object back;
  removal is ``operation_status=DELETE`` (a soft delete; TikTok keeps the id for reports);
* reports are read in windows of ≤30 days (TikTok's limit per call [~]); days TikTok has no row for come back as
  zeros, like the other adapters;
* TikTok takes no idempotency key (§4) and names are not unique there, so a create whose answer is lost is not
  looked up: the PlatformDown it raises says the change may have been applied. Every amount, status, kind and id is
  checked before the first request.
"""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

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
from promptsales.domain_core.integrations.model.ad_limits import (
    AdLimits,
    check_amount,
    check_kind,
    check_object_id,
    check_report,
    check_status,
)
from promptsales.domain_core.integrations.model.customer_lists import check_customer_list
from promptsales.domain_core.integrations.tiktok_ads.client import REPORT_DAYS_MAX, Level, TikTokAdsClient
from promptsales.domain_core.shared.errors import ValidationFailed

NAME_MAX = 512  # §4: adgroup_name ≤512 (campaign and ad names alike [~])
AD_TEXT_MAX, DISPLAY_NAME_MAX = 100, 40  # [~ TikTok creative specs]
INTEREST_MAX = 100  # interests / behaviours per ad group [~]
IMAGE_BYTES_MAX = 500 * 1024  # image ads up to 500 KB [~]
OBJECTIVES = {"awareness": "REACH", "traffic": "TRAFFIC", "leads": "TRAFFIC", "sales": "TRAFFIC"}
GOALS = {"REACH": ("REACH", "CPM")}  # everything else: ("CLICK", "CPC")
AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("AGE_13_17", 13, 17),
    ("AGE_18_24", 18, 24),
    ("AGE_25_34", 25, 34),
    ("AGE_35_44", 35, 44),
    ("AGE_45_54", 45, 54),
    ("AGE_55_100", 55, 100),
)
LEVELS: dict[str, Level] = {"campaign": "campaign", "ad_group": "adgroup", "ad": "ad"}
PARENT_FIELD: dict[str, str | None] = {"campaign": None, "ad_group": "campaign_id", "ad": "adgroup_id"}
TO_TIKTOK = {"active": "ENABLE", "paused": "DISABLE", "removed": "DELETE"}
OBJECT_KINDS: dict[str, ObjectKind] = {"campaign": "campaign", "ad_group": "ad_group", "ad": "ad"}
METRICS = ("spend", "impressions", "clicks", "conversion", "total_complete_payment_rate")


class _Targeting(NamedTuple):
    countries: list[str]
    age_groups: list[str]
    interests: list[str]
    audience_ids: list[str]


def _account(account_id: str) -> str:
    if not (isinstance(account_id, str) and account_id.isdigit() and 0 < len(account_id) <= 32):
        raise ValidationFailed(
            "a TikTok account id is the advertiser id (digits).", field="account_id", hint="See list_accounts."
        )
    return account_id


def _id(value: str, field_name: str) -> str:
    check_object_id(value, field=field_name)
    if not value.isdigit():
        raise ValidationFailed(f"a TikTok {field_name.replace('_', ' ')} is digits.", field=field_name)
    return value


def _name(value: str, field_name: str = "name") -> str:
    if not value.strip() or len(value) > NAME_MAX:
        raise ValidationFailed(f"{field_name} must be 1-{NAME_MAX} characters.", field=field_name)
    return value


def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "", "-") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _status(row: Mapping[str, Any]) -> DeliveryStatus:
    secondary = str(row.get("secondary_status") or "")
    if secondary.endswith("_DELETE") or row.get("operation_status") == "DELETE":
        return "removed"
    return "active" if row.get("operation_status") == "ENABLE" else "paused"


def _money(amount: Decimal) -> float:
    # TikTok takes amounts as JSON numbers in major units (§4); a checked amount has at most two decimals and at
    # most 2**53 minor units, so the float prints back exactly.
    return float(amount)


class TikTokAdsAdapter:
    """:class:`AdsPlatform` for the TikTok advertisers one authorization reaches."""

    platform = "tiktok_ads"

    def __init__(
        self,
        client: TikTokAdsClient,
        *,
        advertiser_ids: Sequence[str],
        limits: AdLimits | None = None,
        page_size: int = 200,
    ) -> None:
        self._client = client
        self._advertisers = tuple(dict.fromkeys(a for a in advertiser_ids if a))
        self._limits = limits or AdLimits()
        self._page_size = page_size
        self._currencies: dict[str, str] = {}

    async def list_accounts(self) -> Sequence[AdAccount]:
        """The advertisers the authorization granted, with currency and time zone."""
        found: list[AdAccount] = []
        for advertiser in await self._client.advertisers(self._advertisers):
            if advertiser.currency:
                self._currencies[advertiser.advertiser_id] = advertiser.currency
            found.append(
                AdAccount(
                    id=advertiser.advertiser_id,
                    name=advertiser.name or advertiser.advertiser_id,
                    currency=advertiser.currency or "",
                    time_zone=advertiser.timezone or advertiser.display_timezone or "UTC",
                )
            )
        return found

    async def _amount(self, advertiser: str, amount: Decimal, field_name: str) -> float:
        """``amount`` as TikTok's JSON number after the currency-precision check that needs the currency."""
        currency = self._currencies.get(advertiser)
        if currency is None:
            infos = await self._client.advertisers([advertiser])
            currency = next((i.currency for i in infos if i.currency), None) or "USD"
            self._currencies[advertiser] = currency
        maximum = self._limits.max_bid if field_name == "bid" else self._limits.max_daily_budget
        return _money(check_amount(amount, field=field_name, maximum=maximum, currency=currency))

    # --- creates -------------------------------------------------------------------------------------------------

    async def create_campaign(self, account_id: str, spec: CampaignSpec) -> AdObject:
        """A disabled (paused) campaign with a daily budget it shares among its ad groups."""
        advertiser = _account(account_id)
        amount = check_amount(spec.daily_budget, field="daily_budget", maximum=self._limits.max_daily_budget)
        name = _name(spec.name)
        if spec.start_date and spec.end_date and spec.end_date < spec.start_date:
            raise ValidationFailed("end_date is before start_date.", field="end_date")
        body: dict[str, Any] = {
            "advertiser_id": advertiser,
            "campaign_name": name,
            "objective_type": OBJECTIVES[spec.objective],
            "budget_mode": "BUDGET_MODE_DAY",
            "budget": await self._amount(advertiser, amount, "daily_budget"),
            "budget_optimize_on": True,
            "operation_status": "DISABLE",  # created paused: nothing spends until activated
        }
        created = await self._client.create_campaign(body)
        return AdObject(kind="campaign", id=created, name=name, status="paused")

    async def create_ad_group(self, account_id: str, campaign_id: str, spec: AdGroupSpec) -> AdObject:
        """A disabled ad group under the campaign, with its targeting and optional bid."""
        advertiser = _account(account_id)
        _id(campaign_id, "campaign_id")
        name = _name(spec.name)
        bid = check_amount(spec.bid, field="bid", maximum=self._limits.max_bid) if spec.bid is not None else None
        checked = self._checked_targeting(spec)
        [campaign] = await self._rows(advertiser, "campaign", [campaign_id], "campaign_id")
        objective = str(campaign.get("objective_type") or "TRAFFIC")
        goal, billing = GOALS.get(objective, ("CLICK", "CPC"))
        body: dict[str, Any] = {
            "advertiser_id": advertiser,
            "campaign_id": campaign_id,
            "adgroup_name": name,
            "promotion_type": "WEBSITE",
            "placement_type": "PLACEMENT_TYPE_AUTOMATIC",
            **await self._targeting(advertiser, objective, checked),
            "gender": "GENDER_UNLIMITED",
            "schedule_type": "SCHEDULE_FROM_NOW",
            "optimization_goal": goal,
            "billing_event": billing,
            "bid_type": "BID_TYPE_NO_BID" if bid is None else "BID_TYPE_CUSTOM",
            "operation_status": "DISABLE",
        }
        if bid is not None:
            body["bid_price"] = await self._amount(advertiser, bid, "bid")
        created = await self._client.create_adgroup(body)
        return AdObject(kind="ad_group", id=created, name=name, status="paused", parent_id=campaign_id)

    def _checked_targeting(self, spec: AdGroupSpec) -> _Targeting:
        """``spec``'s targeting checked before any request: countries, age groups, interests, audience ids."""
        countries = list(dict.fromkeys(c.strip().upper() for c in spec.countries if c.strip()))
        if not countries:
            raise ValidationFailed("TikTok needs at least one country to target.", field="countries")
        ages = self._age_groups(spec.age_min, spec.age_max)
        wanted = list(dict.fromkeys(i.strip() for i in spec.interests if i.strip()))
        if len(wanted) > INTEREST_MAX:
            raise ValidationFailed(f"at most {INTEREST_MAX} interests.", field="interests")
        audiences = [_id(a, "audience_ids") for a in dict.fromkeys(spec.audience_ids)]
        return _Targeting(countries, ages, wanted, audiences)

    async def _targeting(self, advertiser: str, objective: str, checked: _Targeting) -> dict[str, Any]:
        """The ad group's targeting fields: location ids, age groups, interest category ids, audience ids."""
        countries, ages, wanted, audiences = checked
        targeting: dict[str, Any] = {"location_ids": await self._locations(advertiser, objective, countries)}
        if ages:
            targeting["age_groups"] = ages
        if wanted:
            targeting["interest_category_ids"] = await self._interests(advertiser, wanted)
        if audiences:
            targeting["audience_ids"] = audiences
        return targeting

    async def create_customer_list(self, account_id: str, spec: CustomerListSpec) -> AudienceRef:
        """A customer-file audience from one kind of digest (emails or phones), read back for its size."""
        advertiser = _account(account_id)
        emails, phones = check_customer_list(spec.name, spec.hashed_emails, spec.hashed_phones)
        if emails and phones:
            raise ValidationFailed(
                "a TikTok audience takes one identifier type: give emails or phones, not both.",
                field="hashed_phones",
                hint="Create a second list for the phone numbers.",
            )
        name = _name(spec.name)
        calculate_type, digests = ("EMAIL_SHA256", emails) if emails else ("PHONE_SHA256", phones)
        content = "".join(f"{d}\n" for d in digests).encode()
        path = await self._client.upload_audience_file(advertiser, content, calculate_type=calculate_type)
        audience_id = await self._client.create_custom_audience(advertiser, name, [path], calculate_type=calculate_type)
        details = await self._client.custom_audiences(advertiser, [audience_id])
        found = details[0] if details else {}
        size = found.get("cover_num")
        return AudienceRef(
            id=audience_id,
            name=name,
            size=size if isinstance(size, int) and size >= 0 else None,
            status="ready" if found.get("is_valid") else "processing",
        )

    async def estimate_audience(self, account_id: str, spec: AdGroupSpec) -> AudienceEstimate:
        """TikTok's audience size estimate for the ad group's targeting (a traffic ad group's goal)."""
        advertiser = _account(account_id)
        checked = self._checked_targeting(spec)
        body = {
            "advertiser_id": advertiser,
            "objective_type": "TRAFFIC",
            "placement_type": "PLACEMENT_TYPE_AUTOMATIC",
            "optimization_goal": "CLICK",
            **await self._targeting(advertiser, "TRAFFIC", checked),
        }
        lower, upper = await self._client.audience_size(body)
        return AudienceEstimate(lower=lower, upper=upper, basis="tiktok_audience_size_estimate")

    @staticmethod
    def _age_groups(age_min: int | None, age_max: int | None) -> list[str]:
        low = 18 if age_min is None else age_min
        high = 100 if age_max is None else age_max
        if not 13 <= low <= 65:
            raise ValidationFailed("age_min must be 13-65.", field="age_min")
        if not low <= high <= 100:
            raise ValidationFailed("age_max must be at least age_min and at most 100.", field="age_max")
        chosen = [name for name, first, last in AGE_GROUPS if first <= high and last >= low]
        adults = [name for name, first, _ in AGE_GROUPS if first >= 18]
        return [] if chosen == adults else chosen  # no age_groups: every adult (TikTok's default [~])

    async def _locations(self, advertiser: str, objective: str, countries: Sequence[str]) -> list[str]:
        regions = await self._client.regions(advertiser, objective_type=objective)
        by_code = {
            str(r.get("region_code", "")).upper(): str(r["location_id"])
            for r in regions
            if r.get("location_id") and str(r.get("level", "COUNTRY")).upper() == "COUNTRY"
        }
        missing = [c for c in countries if c not in by_code]
        if missing:
            raise ValidationFailed(
                f"TikTok cannot target '{missing[0]}' for this advertiser.",
                field="countries",
                hint="Give ISO 3166 two-letter codes of countries TikTok ads serve in.",
            )
        return [by_code[c] for c in countries]

    async def _interests(self, advertiser: str, texts: Sequence[str]) -> list[str]:
        categories = await self._client.interest_categories(advertiser)
        chosen: list[str] = []
        for text in texts:
            needle = text.lower()
            match = next(
                (
                    str(c["interest_category_id"])
                    for c in categories
                    if c.get("interest_category_id") and needle in str(c.get("interest_category_name", "")).lower()
                ),
                None,
            )
            if match is None:
                names = ", ".join(str(c.get("interest_category_name")) for c in categories[:25])
                raise ValidationFailed(
                    f"TikTok has no interest category like '{text}'.",
                    field="interests",
                    hint=f"Use words from TikTok's categories: {names}.",
                )
            if match not in chosen:
                chosen.append(match)
        return chosen

    async def create_ad(self, account_id: str, ad_group_id: str, creative: CreativeSpec) -> AdObject:
        """A disabled single-image ad: the image uploaded, then the ad with its text and landing page."""
        advertiser = _account(account_id)
        _id(ad_group_id, "ad_group_id")
        name = _name(creative.name)
        if not creative.headlines or len(creative.headlines[0]) > DISPLAY_NAME_MAX:
            raise ValidationFailed(
                f"give a first headline of 1-{DISPLAY_NAME_MAX} characters (TikTok shows it as the display name).",
                field="headlines",
            )
        if not creative.descriptions or not 0 < len(creative.descriptions[0]) <= AD_TEXT_MAX:
            raise ValidationFailed(
                f"give a first description of 1-{AD_TEXT_MAX} characters (TikTok's ad text).", field="descriptions"
            )
        if not creative.final_url.startswith("https://"):
            raise ValidationFailed("final_url must be an https:// address.", field="final_url")
        if creative.image_png is None or not 0 < len(creative.image_png) <= IMAGE_BYTES_MAX:
            raise ValidationFailed(
                "TikTok ads here need image_png (1 byte to 500 KB): in-feed ads cannot be text only.",
                field="image_png",
                hint="Give the creative's image, compressed under 500 KB.",
            )
        image_id = await self._client.upload_image(advertiser, creative.image_png, file_name=f"{name[:60]}.png")
        [created] = await self._client.create_ads(
            {
                "advertiser_id": advertiser,
                "adgroup_id": ad_group_id,
                "creatives": [
                    {
                        "ad_name": name,
                        "ad_format": "SINGLE_IMAGE",
                        "image_ids": [image_id],
                        "display_name": creative.headlines[0],
                        "ad_text": creative.descriptions[0],
                        "call_to_action": "LEARN_MORE",
                        "landing_page_url": creative.final_url,
                    }
                ],
                "operation_status": "DISABLE",
            }
        )
        return AdObject(kind="ad", id=created, name=name, status="paused", parent_id=ad_group_id)

    # --- changes -------------------------------------------------------------------------------------------------

    async def _rows(self, advertiser: str, kind: str, ids: Sequence[str], field_name: str) -> list[dict[str, Any]]:
        level = LEVELS[kind]
        rows = await self._client.objects(advertiser, level, ids)
        key = f"{level}_id"
        found = {str(r.get(key)): r for r in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationFailed(
                f"TikTok has no {kind.replace('_', ' ')} {missing[0]} in advertiser {advertiser}.",
                field=field_name,
                hint="Use an id this connection created or listed.",
            )
        return [found[i] for i in ids]

    async def _read(self, advertiser: str, kind: str, object_id: str) -> AdObject:
        [row] = await self._rows(advertiser, kind, [object_id], "object_id")
        level = LEVELS[kind]
        parent = PARENT_FIELD[kind]
        return AdObject(
            kind=OBJECT_KINDS[kind],
            id=object_id,
            name=str(row.get(f"{level}_name") or object_id),
            status=_status(row),
            parent_id=str(row[parent]) if parent and row.get(parent) else None,
        )

    async def set_status(self, account_id: str, kind: ObjectKind, object_id: str, status: DeliveryStatus) -> AdObject:
        """Enable, disable or delete a campaign, ad group or ad."""
        advertiser = _account(account_id)
        check_kind(kind)
        check_status(status)
        _id(object_id, "object_id")
        await self._client.set_status(advertiser, LEVELS[kind], object_id, TO_TIKTOK[status])
        return await self._read(advertiser, kind, object_id)

    async def set_daily_budget(self, account_id: str, campaign_id: str, amount: Decimal) -> AdObject:
        """Change the campaign's daily budget."""
        advertiser = _account(account_id)
        _id(campaign_id, "campaign_id")
        value = check_amount(amount, field="daily_budget", maximum=self._limits.max_daily_budget)
        budget = await self._amount(advertiser, value, "daily_budget")
        await self._client.update(advertiser, "campaign", {"campaign_id": campaign_id, "budget": budget})
        return await self._read(advertiser, "campaign", campaign_id)

    async def set_bid(self, account_id: str, ad_group_id: str, amount: Decimal) -> AdObject:
        """Set the ad group's bid (it becomes a custom bid)."""
        advertiser = _account(account_id)
        _id(ad_group_id, "ad_group_id")
        value = check_amount(amount, field="bid", maximum=self._limits.max_bid)
        price = await self._amount(advertiser, value, "bid")
        await self._client.update(
            advertiser, "adgroup", {"adgroup_id": ad_group_id, "bid_type": "BID_TYPE_CUSTOM", "bid_price": price}
        )
        return await self._read(advertiser, "ad_group", ad_group_id)

    # --- reads ---------------------------------------------------------------------------------------------------

    async def daily_performance(
        self, account_id: str, kind: ObjectKind, object_ids: Sequence[str], since: date, until: date
    ) -> Sequence[DailyPerformance]:
        """One row per object and day (zeros where TikTok had no row), read in windows of ≤30 days."""
        advertiser = _account(account_id)
        check_kind(kind)
        ids = check_report(object_ids, since, until)
        for object_id in ids:
            _id(object_id, "object_ids")
        level = LEVELS[kind]
        found: dict[tuple[str, date], DailyPerformance] = {}
        start = since
        while start <= until:
            stop = min(until, start + timedelta(days=REPORT_DAYS_MAX - 1))
            rows = self._client.report(advertiser, level, ids, start, stop, METRICS, page_size=self._page_size)
            async for row in rows:
                owner = str(row.dimensions.get(f"{level}_id", ""))
                try:
                    day = date.fromisoformat(str(row.dimensions.get("stat_time_day", ""))[:10])
                except ValueError:
                    continue
                metrics = row.metrics
                found[(owner, day)] = DailyPerformance(
                    object_id=owner,
                    day=day,
                    impressions=int(_number(metrics.get("impressions"))),
                    clicks=int(_number(metrics.get("clicks"))),
                    spend=_number(metrics.get("spend")),
                    conversions=float(_number(metrics.get("conversion"))),
                    conversion_value=_number(metrics.get("total_complete_payment_rate")),
                )
            start = stop + timedelta(days=1)
        return every_day(found, ids, since, until)
