"""The platform-neutral ads surface campaigns use through the integrations facade (one adapter per ad platform).

Money is in the account's currency as Decimal (clients convert: Google micros, Meta minor units, TikTok decimals).
Everything is created PAUSED; status, budget and bid changes are checked (sign, upper bound) before any request.
Customer lists carry only SHA-256 hex digests of normalised identifiers (:mod:`.model.customer_lists` makes them);
an ad group may target such lists (``audience_ids``), and a targeting can be sized before anything is created.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

from promptsales.domain_core.integrations.model.ad_limits import days
from promptsales.domain_core.integrations.views import FrozenView

ObjectKind = Literal["campaign", "ad_group", "ad"]
DeliveryStatus = Literal["paused", "active", "removed"]
AudienceStatus = Literal["processing", "ready", "failed"]


class AdAccount(FrozenView):
    """One ad account the connection can manage."""

    id: str
    name: str
    currency: str
    time_zone: str


class CampaignSpec(FrozenView):
    """A campaign to create: objective in the product's words, daily budget in the account currency."""

    name: str
    objective: Literal["awareness", "traffic", "leads", "sales"]
    daily_budget: Decimal
    start_date: date | None = None
    end_date: date | None = None


class AdGroupSpec(FrozenView):
    """An ad group / ad set: who sees it and what each result may cost (None: the platform's automatic bidding)."""

    name: str
    bid: Decimal | None = None
    countries: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    interests: tuple[str, ...] = ()
    audience_ids: tuple[str, ...] = ()  # customer lists (AudienceRef.id) the ad group is shown to


class CustomerListSpec(FrozenView):
    """A customer-match audience to create from identifiers already normalised and SHA-256 hashed (64 hex
    characters each; :func:`~.model.customer_lists.hash_email` / ``hash_phone`` make them for the platform)."""

    name: str
    hashed_emails: tuple[str, ...] = ()
    hashed_phones: tuple[str, ...] = ()


class AudienceRef(FrozenView):
    """A customer list as the platform holds it; ``size`` is the matched (or uploaded) count when it says."""

    id: str
    name: str
    size: int | None = None
    status: AudienceStatus


class AudienceEstimate(FrozenView):
    """How many people a targeting may reach (``lower``-``upper``) and what the figure rests on."""

    lower: int
    upper: int
    basis: str


class CreativeSpec(FrozenView):
    """The ad's copy and landing page, plus an optional image (bytes uploaded to the platform's asset library)."""

    name: str
    headlines: tuple[str, ...]
    descriptions: tuple[str, ...]
    final_url: str
    image_png: bytes | None = None


class AdObject(FrozenView):
    """A campaign, ad group or ad as the platform holds it."""

    kind: ObjectKind
    id: str
    name: str
    status: DeliveryStatus
    parent_id: str | None = None


class DailyPerformance(FrozenView):
    """One object's results on one day (the account's time zone)."""

    object_id: str
    day: date
    impressions: int
    clicks: int
    spend: Decimal
    conversions: float
    conversion_value: Decimal


def every_day(
    found: Mapping[tuple[str, date], DailyPerformance], object_ids: Sequence[str], since: date, until: date
) -> list[DailyPerformance]:
    """One row per object and day from ``since`` to ``until``: what the platform reported, zeros where it omits a
    day without delivery (reports skip empty rows)."""
    return [
        found.get((object_id, day))
        or DailyPerformance(
            object_id=object_id,
            day=day,
            impressions=0,
            clicks=0,
            spend=Decimal(0),
            conversions=0.0,
            conversion_value=Decimal(0),
        )
        for object_id in object_ids
        for day in days(since, until)
    ]


class AdsPlatform(Protocol):
    """What every ad platform adapter does for one connected account set."""

    async def list_accounts(self) -> Sequence[AdAccount]: ...

    async def create_campaign(self, account_id: str, spec: CampaignSpec) -> AdObject: ...

    async def create_ad_group(self, account_id: str, campaign_id: str, spec: AdGroupSpec) -> AdObject: ...

    async def create_ad(self, account_id: str, ad_group_id: str, creative: CreativeSpec) -> AdObject: ...

    async def set_status(
        self, account_id: str, kind: ObjectKind, object_id: str, status: DeliveryStatus
    ) -> AdObject: ...

    async def set_daily_budget(self, account_id: str, campaign_id: str, amount: Decimal) -> AdObject: ...

    async def set_bid(self, account_id: str, ad_group_id: str, amount: Decimal) -> AdObject: ...

    async def daily_performance(
        self, account_id: str, kind: ObjectKind, object_ids: Sequence[str], since: date, until: date
    ) -> Sequence[DailyPerformance]: ...

    async def create_customer_list(self, account_id: str, spec: CustomerListSpec) -> AudienceRef: ...

    async def estimate_audience(self, account_id: str, spec: AdGroupSpec) -> AudienceEstimate: ...
