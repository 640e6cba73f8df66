"""The ad delivery model the ad-platform simulators share (pure and deterministic).

Given one ad's day — the budget it may spend, its bid (None: automatic bidding), the size of its audience, a
quality signal of its creative and the share of the day it was serving — :func:`simulate_day` gives impressions,
clicks, spend, conversions and conversion value. The simulators call it per ad and add the ads up for ad groups
and campaigns, so every level agrees.

How a day is computed (every constant below says where it comes from; ``[~]`` marks a modelling choice, not a
published figure):

* the platform's benchmark CTR / CPC / CVR (shared/reference/benchmarks.md, cited per :class:`Benchmark`) are
  varied ±15 % per (object id, day) by a hash, so a day's numbers are stable across runs and machines;
* CTR is scaled by the creative's quality (0.7-1.3);
* a bid below the day's market CPC pays the bid but wins only (bid / market CPC)² of the auctions [~]; a bid at
  or above it pays the market CPC and wins them all (second-price-like auctions);
* clicks are the smaller of what the budget buys and what the audience offers; spend is what the whole clicks
  cost, rounded DOWN to the currency's minor unit, so it never exceeds the day's budget. (Google may deliver up to
  2 times a daily budget on one day; no reference in this project states it, so the model never overdelivers.)

Every output is a non-decreasing function of the budget, and zero when nothing served (paused all day).
"""

import hashlib
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A platform's published averages: click-through rate, cost per click, conversion rate, and the value one
    conversion is worth by default."""

    platform: str
    ctr: float
    cpc: Decimal
    cvr: float
    value_per_conversion: Decimal
    source: str


# benchmarks.md §1.1 (WordStream / LocaliQ 2026 edition, Apr 2025 - Mar 2026, 13,474 US search campaigns,
# medians; strength B): CTR 6.64 %, CPC $5.42, CVR 8.18 %, CPL $66.69. No conversion-VALUE benchmark exists in
# the reference, so a conversion is worth the benchmark cost per lead by default: a break-even prior (ROAS 1) [~].
GOOGLE_SEARCH = Benchmark(
    platform="google_ads",
    ctr=0.0664,
    cpc=Decimal("5.42"),
    cvr=0.0818,
    value_per_conversion=Decimal("66.69"),
    source="benchmarks.md §1.1 WordStream/LocaliQ 2026 all industries (B)",
)
# benchmarks.md §3: WordStream 2025 Traffic objective CTR 1.71 %, CPC $0.70 (B, via adplay.ai and a repo table);
# 2026 Leads CVR 8.25 %, CPL $23.10 (C, via zeely.ai). Value per conversion = that CPL (break-even prior) [~].
META_FEED = Benchmark(
    platform="meta_ads",
    ctr=0.0171,
    cpc=Decimal("0.70"),
    cvr=0.0825,
    value_per_conversion=Decimal("23.10"),
    source="benchmarks.md §3 WordStream 2025 Traffic (B) + 2026 Leads CVR/CPL (C)",
)
# benchmarks.md §5 (all weak, W): CPC $0.80 and in-feed CTR ~0.9 % (calculatecreator.com 2026); post-click CVR
# 0.8-2.0 % (a public playbook), midpoint 1.4 %. No CPL is published: value = CPC / CVR = $57.14, break-even [~].
TIKTOK_IN_FEED = Benchmark(
    platform="tiktok_ads",
    ctr=0.009,
    cpc=Decimal("0.80"),
    cvr=0.014,
    value_per_conversion=Decimal("57.14"),
    source="benchmarks.md §5 calculatecreator 2026 + playbook CVR range (W)",
)
# benchmarks.md §4 (LinkedIn): single-image Sponsored Content CTR 0.56 % (theb2bhouse 2021 edition, C); CPC $8.95
# (digitalmoats single-number average, W; inside stackmatix's $5.50-9.25 range, W). The reference has no LinkedIn
# conversion rate: 6 % is a modelling choice [~], and value = CPC / CVR = $149.17, break-even like the others [~].
LINKEDIN_SPONSORED_CONTENT = Benchmark(
    platform="linkedin_ads",
    ctr=0.0056,
    cpc=Decimal("8.95"),
    cvr=0.06,
    value_per_conversion=Decimal("149.17"),
    source="benchmarks.md §4 theb2bhouse single image CTR (C) + digitalmoats CPC (W); CVR a modelling choice",
)

VARIATION = 0.15  # ±15 % day-to-day around the benchmark [~]
DAILY_IMPRESSIONS_PER_PERSON = 0.02  # an ad reaches 2 % of its audience per day at full delivery [~]
REACHABLE_PER_COUNTRY = 5_000_000  # reachable people per targeted country [~]: the model needs no census
REACHABLE_WORLDWIDE = 200_000_000  # no country targeting [~]
ADULT_AGE_MIN, ADULT_AGE_MAX = 18, 65  # 65 stands for "65+" (the platforms' top age bucket)
_PRECISION = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class CreativeSignal:
    """What the model reads from a creative: how many headline variants, how long, descriptions, an image."""

    headline_count: int
    mean_headline_length: float
    description_count: int
    has_image: bool

    @classmethod
    def of(cls, headlines: Sequence[str], descriptions: Sequence[str], *, has_image: bool) -> "CreativeSignal":
        """The signal of one creative's copy."""
        lengths = [len(h) for h in headlines]
        return cls(
            headline_count=len(headlines),
            mean_headline_length=sum(lengths) / len(lengths) if lengths else 0.0,
            description_count=len(descriptions),
            has_image=has_image,
        )

    def quality(self) -> float:
        """A CTR multiplier from 0.7 to 1.3 [~]: more headline variants (up to 10) give the platform more to rotate,
        headlines using 15-30 characters say more, two descriptions and an image each help."""
        variants = min(max(self.headline_count, 0), 10) / 10
        length = min(max(self.mean_headline_length, 0.0), 15.0) / 15 if self.mean_headline_length <= 30 else 0.5
        descriptions = min(max(self.description_count, 0), 2) / 2
        score = 0.4 * variants + 0.2 * length + 0.2 * descriptions + (0.2 if self.has_image else 0.0)
        return 0.7 + 0.6 * score


def audience_size(countries: Iterable[str], age_min: int | None, age_max: int | None, interests: Iterable[str]) -> int:
    """People an ad group can reach [~ modelling]: a fixed number per country (or a worldwide pool), times the
    targeted share of the 18-65+ age span, times an interest share (20 % for one interest, +5 % per extra one,
    at most 60 %: interests widen each other, as OR-ed interest lists do)."""
    distinct_countries = {c.upper() for c in countries}
    base = len(distinct_countries) * REACHABLE_PER_COUNTRY if distinct_countries else REACHABLE_WORLDWIDE
    low = max(ADULT_AGE_MIN, age_min if age_min is not None else ADULT_AGE_MIN)
    high = min(ADULT_AGE_MAX, age_max if age_max is not None else ADULT_AGE_MAX)
    if high < low:
        return 0
    age_share = (high - low + 1) / (ADULT_AGE_MAX - ADULT_AGE_MIN + 1)
    topics = {i.strip().lower() for i in interests if i.strip()}
    interest_share = min(0.6, 0.2 + 0.05 * (len(topics) - 1)) if topics else 1.0
    return int(base * age_share * interest_share)


@dataclass(frozen=True, slots=True)
class DayResult:
    """One object's results on one day."""

    impressions: int = 0
    clicks: int = 0
    spend: Decimal = Decimal(0)
    conversions: float = 0.0
    conversion_value: Decimal = Decimal(0)

    def __add__(self, other: "DayResult") -> "DayResult":
        return DayResult(
            impressions=self.impressions + other.impressions,
            clicks=self.clicks + other.clicks,
            spend=self.spend + other.spend,
            conversions=round(self.conversions + other.conversions, 2),
            conversion_value=self.conversion_value + other.conversion_value,
        )

    @property
    def empty(self) -> bool:
        """Nothing happened that day."""
        return self.impressions == 0 and self.clicks == 0 and self.spend == 0


ZERO = DayResult()


@dataclass(frozen=True, slots=True)
class DeliveryInput:
    """One ad's day: the budget it may spend (already its share of the campaign's), its bid, audience, creative,
    and the fraction of the day it was serving (0: paused all day)."""

    object_id: str
    day: date
    daily_budget: Decimal
    bid: Decimal | None
    audience_size: int
    creative: CreativeSignal
    serving_fraction: float = 1.0


def _unit(object_id: str, day: date, salt: str) -> float:
    """A number in [0, 1) fixed by (object id, day, salt): the model's only source of variation."""
    digest = hashlib.blake2b(f"{object_id}|{day.isoformat()}|{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _vary(object_id: str, day: date, salt: str) -> float:
    return 1.0 - VARIATION + 2 * VARIATION * _unit(object_id, day, salt)


def _down(value: float, unit: Decimal) -> Decimal:
    return Decimal(value).quantize(_PRECISION, rounding=ROUND_DOWN).quantize(unit, rounding=ROUND_DOWN)


def simulate_day(
    delivery: DeliveryInput,
    benchmark: Benchmark,
    *,
    minor_unit: Decimal = Decimal("0.01"),
    value_per_conversion: Decimal | None = None,
) -> DayResult:
    """The ad's results for the day (see the module docstring); ZERO when it did not serve or had no budget."""
    fraction = min(max(delivery.serving_fraction, 0.0), 1.0)
    budget = delivery.daily_budget * Decimal(fraction).quantize(_PRECISION, rounding=ROUND_DOWN)
    if fraction <= 0 or budget <= 0 or delivery.audience_size <= 0:
        return ZERO
    ctr = benchmark.ctr * delivery.creative.quality() * _vary(delivery.object_id, delivery.day, "ctr")
    market_cpc = float(benchmark.cpc) * _vary(delivery.object_id, delivery.day, "cpc")
    cvr = benchmark.cvr * _vary(delivery.object_id, delivery.day, "cvr")
    bid = float(delivery.bid) if delivery.bid is not None else None
    if bid is not None and bid <= 0:
        return ZERO
    if bid is None or bid >= market_cpc:
        cpc, win_rate = market_cpc, 1.0
    else:
        cpc, win_rate = bid, (bid / market_cpc) ** 2
    available_impressions = delivery.audience_size * DAILY_IMPRESSIONS_PER_PERSON * fraction * win_rate
    clicks_exact = min(float(budget) / cpc, available_impressions * ctr)
    clicks = math.floor(clicks_exact)
    # Charged per whole click, so the average CPC never exceeds the bid; rounding down keeps spend ≤ budget.
    spend = min(_down(clicks * cpc, minor_unit), budget.quantize(minor_unit, rounding=ROUND_DOWN))
    conversions_exact = clicks * cvr
    value = value_per_conversion if value_per_conversion is not None else benchmark.value_per_conversion
    return DayResult(
        impressions=math.floor(clicks_exact / ctr),
        clicks=clicks,
        spend=spend,
        conversions=math.floor(conversions_exact * 100) / 100,
        conversion_value=_down(conversions_exact * float(value), minor_unit),
    )


@dataclass(frozen=True, slots=True)
class ServingAd:
    """An ad under a campaign on one day, with what the model needs from its ad group and creative."""

    ad_id: str
    serving_fraction: float
    bid: Decimal | None
    audience_size: int
    creative: CreativeSignal


def campaign_day(
    day: date,
    daily_budget: Decimal,
    ads: Sequence[ServingAd],
    benchmark: Benchmark,
    *,
    minor_unit: Decimal = Decimal("0.01"),
) -> dict[str, DayResult]:
    """Each serving ad's result when a campaign budget is shared evenly by the ads serving that day; the sum of
    the spends never exceeds ``daily_budget``."""
    serving = [ad for ad in ads if ad.serving_fraction > 0]
    if not serving or daily_budget <= 0:
        return {}
    share = (daily_budget / len(serving)).quantize(_PRECISION, rounding=ROUND_DOWN)
    return {
        ad.ad_id: simulate_day(
            DeliveryInput(ad.ad_id, day, share, ad.bid, ad.audience_size, ad.creative, ad.serving_fraction),
            benchmark,
            minor_unit=minor_unit,
        )
        for ad in serving
    }


@dataclass(frozen=True, slots=True)
class StatusTimeline:
    """When an object was switched on and off (aware datetimes, in order); off before the first change."""

    changes: tuple[tuple[datetime, bool], ...] = field(default_factory=tuple)

    def changed(self, at: datetime, enabled: bool) -> "StatusTimeline":
        """This timeline with one more change at ``at`` (never earlier than the last one)."""
        if at.tzinfo is None:
            raise ValueError("timeline moments must be timezone-aware")
        if self.changes and at < self.changes[-1][0]:
            raise ValueError("a status change cannot precede the previous one")
        if self.changes and self.changes[-1][1] == enabled:
            return self
        return StatusTimeline((*self.changes, (at, enabled)))

    def enabled_at(self, moment: datetime) -> bool:
        """Whether the object was on at ``moment``."""
        state = False
        for at, enabled in self.changes:
            if at > moment:
                break
            state = enabled
        return state

    @property
    def first_enabled(self) -> datetime | None:
        """When it was first switched on (None: never)."""
        return next((at for at, enabled in self.changes if enabled), None)


def day_bounds(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """The start and end of ``day`` in ``time_zone`` (a day may be 23 or 25 hours long)."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def serving_fraction(timelines: Sequence[StatusTimeline], day: date, time_zone: str, now: datetime) -> float:
    """The share of ``day`` (account time zone) up to ``now`` during which every timeline was on: an ad serves
    only while it, its ad group and its campaign are all enabled."""
    start, end = day_bounds(day, time_zone)
    length = (end - start).total_seconds()
    stop = min(end, now)
    if stop <= start or not timelines:
        return 0.0
    points = sorted({start, stop, *(at for t in timelines for at, _ in t.changes if start < at < stop)})
    served = 0.0
    for begin, finish in itertools.pairwise(points):
        if all(t.enabled_at(begin) for t in timelines):
            served += (finish - begin).total_seconds()
    return served / length
