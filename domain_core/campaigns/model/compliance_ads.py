"""Checks for paid ads: special ad categories, age-gated and banned products, certifications, budget minimums."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from promptsales.domain_core.campaigns.model.compliance_base import (
    CheckSpec,
    CountryCode,
    Hit,
    Phrase,
    Registry,
    Scope,
    listed,
    money,
    phrases_in,
)
from promptsales.domain_core.campaigns.model.compliance_facts import CampaignFacts
from promptsales.domain_core.campaigns.model.plan import ChannelPlan, ProductCategory, SpecialAdCategory

Criterion = Literal["age", "gender", "postcode"]
Age = Annotated[int, Field(ge=13, le=65)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class RestrictedTargetingParams(Scope):
    """Targeting criteria a declared special ad category forbids; ages inside ``open_age_range`` are not targeting."""

    categories: tuple[SpecialAdCategory, ...] = Field(min_length=1)
    forbidden: tuple[Criterion, ...] = Field(min_length=1)
    open_age_range: tuple[Age, Age] | None = None  # Meta's fixed 18-65+; None: any age setting is targeting


def _criteria_used(plan: ChannelPlan, params: RestrictedTargetingParams) -> list[tuple[Criterion, str]]:
    targeting = plan.targeting
    used: list[tuple[Criterion, str]] = []
    low, high = params.open_age_range or (None, None)
    if "age" in params.forbidden and (targeting.age_min not in (None, low) or targeting.age_max not in (None, high)):
        used.append(("age", "targeting.age_min/age_max"))
    if "gender" in params.forbidden and targeting.genders and set(targeting.genders) != {"female", "male"}:
        used.append(("gender", "targeting.genders"))
    if "postcode" in params.forbidden and targeting.postcodes:
        used.append(("postcode", "targeting.postcodes"))
    return used


def restricted_targeting(facts: CampaignFacts, params: RestrictedTargetingParams) -> Iterator[Hit]:
    """Block age, gender or postcode targeting on channels where the declared special ad category forbids it."""
    if facts.special_ad_category not in params.categories:
        return
    for plan in params.channels_in_scope(facts):
        if not params.countries_in_scope(facts.channel_countries(plan)):
            continue
        used = _criteria_used(plan, params)
        if used:
            yield Hit(
                f"{facts.special_ad_category.capitalize()} ads on {plan.channel} may not target by "
                f"{listed(name for name, _ in used)}.",
                f"Remove {listed(field for _, field in used)} on {plan.channel}.",
                channel=plan.channel,
                subject=facts.special_ad_category,
            )


class UndeclaredCategoryParams(Scope):
    """Words in the copy that suggest a special ad category, per category."""

    keywords: dict[SpecialAdCategory, tuple[Phrase, ...]] = Field(min_length=1)


def undeclared_category(facts: CampaignFacts, params: UndeclaredCategoryParams) -> Iterator[Hit]:
    """Flag copy that reads like a housing, employment or credit ad in a campaign that declares no category."""
    if facts.special_ad_category != "none" or not params.channels_in_scope(facts):
        return
    for category, words in params.keywords.items():
        found: dict[str, None] = {}
        assets: list[str] = []
        for creative in facts.creatives:
            matched = phrases_in(creative.text, words)
            if matched:
                found.update(dict.fromkeys(matched))
                assets.append(creative.asset_id)
        if assets:
            copy = f"Creative {assets[0]} mentions" if len(assets) == 1 else f"Creatives {listed(assets)} mention"
            yield Hit(
                f"{copy} {listed(repr(w) for w in found)}, which reads like a {category} ad, and the campaign "
                "declares no special ad category.",
                f"Set special_ad_category to {category} (and drop age, gender and postcode targeting), or have an "
                f"approver confirm the campaign is not a {category} ad.",
                subject=category,
            )


class MinimumAgeParams(Scope):
    """Products whose ads must target adults: the minimum age, raised per market where the law says so."""

    categories: tuple[ProductCategory, ...] = Field(min_length=1)
    minimum_age: Age
    by_market: dict[CountryCode, Age] = {}


def minimum_age(facts: CampaignFacts, params: MinimumAgeParams) -> Iterator[Hit]:
    """Block ads channels of age-gated products whose age_min is unset or below the strictest market's age."""
    if facts.product_category not in params.categories:
        return
    for plan in params.channels_in_scope(facts):
        countries = params.countries_in_scope(facts.channel_countries(plan))
        if not countries:
            continue
        required = max(params.by_market.get(country, params.minimum_age) for country in countries)
        strictest = [c for c in countries if params.by_market.get(c, params.minimum_age) == required]
        age_min = plan.targeting.age_min
        if age_min is None or age_min < required:
            reaches = "every age" if age_min is None else f"ages from {age_min}"
            yield Hit(
                f"{facts.product_category.capitalize()} ads on {plan.channel} reach {reaches}; in "
                f"{listed(strictest)} they may only reach people aged {required} or over.",
                f"Set targeting.age_min to {required} on {plan.channel}.",
                channel=plan.channel,
                subject=listed(strictest),
            )


class ProductParams(Scope):
    """Product categories the rule is about, on its channels and markets."""

    categories: tuple[ProductCategory, ...] = Field(min_length=1)


def product_banned(facts: CampaignFacts, params: ProductParams) -> Iterator[Hit]:
    """Block channels that would advertise a product category where law or platform policy bans it."""
    if facts.product_category not in params.categories:
        return
    for plan in params.channels_in_scope(facts):
        countries = params.countries_in_scope(facts.channel_countries(plan))
        if not countries:
            continue
        where = "" if params.markets is None else f" in {listed(countries)}"
        fix = f"Remove the {plan.channel} channel" + (
            "." if params.markets is None else f", or remove {listed(countries)} from its markets and targeting."
        )
        yield Hit(
            f"{facts.product_category.capitalize()} may not be advertised on {plan.channel}{where}.",
            fix,
            channel=plan.channel,
            subject=listed(countries) if params.markets is not None else facts.product_category,
        )


class ReviewParams(ProductParams):
    """What must be in place (a certification, a verified audience…) before such a product runs on the channels."""

    requirement: Annotated[str, Field(min_length=10, max_length=300)]


def product_review(facts: CampaignFacts, params: ReviewParams) -> Iterator[Hit]:
    """Ask an approver to confirm a regulated product's requirement (e.g. platform certification) per channel."""
    if facts.product_category not in params.categories:
        return
    for plan in params.channels_in_scope(facts):
        if params.countries_in_scope(facts.channel_countries(plan)):
            yield Hit(
                f"{facts.product_category.capitalize()} ads on {plan.channel} need {params.requirement}.",
                f"Have an approver confirm before activation that the campaign has {params.requirement}.",
                channel=plan.channel,
                subject=facts.product_category,
            )


class CategoryReviewParams(Scope):
    """Declared special ad categories that need the advertiser's authorization on the channels."""

    categories: tuple[SpecialAdCategory, ...] = Field(min_length=1)
    requirement: Annotated[str, Field(min_length=10, max_length=300)]


def category_review(facts: CampaignFacts, params: CategoryReviewParams) -> Iterator[Hit]:
    """Ask an approver to confirm the authorization a declared special ad category needs per channel."""
    if facts.special_ad_category not in params.categories:
        return
    for plan in params.channels_in_scope(facts):
        if params.countries_in_scope(facts.channel_countries(plan)):
            yield Hit(
                f"{facts.special_ad_category.replace('_', ' ').capitalize()} ads on {plan.channel} need "
                f"{params.requirement}.",
                f"Have an approver confirm before activation that the campaign has {params.requirement}.",
                channel=plan.channel,
                subject=facts.special_ad_category,
            )


class DailyMinimumParams(Scope):
    """The platforms' smallest daily budget per channel, per currency."""

    minimums: dict[str, dict[CurrencyCode, Annotated[Decimal, Field(gt=0)]]] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_has_one(self) -> "DailyMinimumParams":
        for channel, by_currency in self.minimums.items():
            if not by_currency:
                raise ValueError(f"minimums.{channel} names no currency")
        return self

    def channels_named(self) -> set[str]:
        """The scoped channels and those given a minimum."""
        return super().channels_named() | set(self.minimums)


def daily_minimum(facts: CampaignFacts, params: DailyMinimumParams) -> Iterator[Hit]:
    """Warn about channels whose daily budget is below the platform's minimum (or whose minimum is unknown)."""
    currency = facts.spend.currency
    for plan in params.channels_in_scope(facts):
        by_currency = params.minimums.get(plan.channel)
        if by_currency is None:
            continue
        daily = plan.daily_budget if plan.daily_budget is not None else plan.budget / facts.schedule.days
        minimum = by_currency.get(currency)
        if minimum is None:
            known = listed(money(amount, code) for code, amount in by_currency.items())
            yield Hit(
                f"The smallest daily budget {plan.channel} accepts in {currency} is not known to the rules "
                f"(it is {known}); {money(daily, currency)} a day could be refused.",
                f"Check {plan.channel}'s minimum daily budget in {currency} before activation.",
                channel=plan.channel,
            )
        elif daily < minimum:
            yield Hit(
                f"{plan.channel} gets {money(daily, currency)} a day, below the platform's minimum of "
                f"{money(minimum, currency)}.",
                f"Raise {plan.channel}'s daily_budget (or its budget over the flight) to at least "
                f"{money(minimum, currency)} a day, or move its money to another channel.",
                channel=plan.channel,
            )


def channel_has_creatives(facts: CampaignFacts, params: Scope) -> Iterator[Hit]:
    """Block ads channels that have no creative to run."""
    for plan in params.channels_in_scope(facts):
        if not facts.creatives_of(plan):
            yield Hit(
                f"{plan.channel} has no creative to run.",
                f"Add creatives made for {plan.channel} to its creative_ids (content_generate_copy, "
                "content_generate_image), or remove the channel.",
                channel=plan.channel,
            )


CHECKS: Registry = {
    "restricted_targeting": CheckSpec(RestrictedTargetingParams, restricted_targeting),
    "undeclared_category": CheckSpec(UndeclaredCategoryParams, undeclared_category),
    "minimum_age": CheckSpec(MinimumAgeParams, minimum_age),
    "product_banned": CheckSpec(ProductParams, product_banned),
    "product_review": CheckSpec(ReviewParams, product_review),
    "category_review": CheckSpec(CategoryReviewParams, category_review),
    "daily_minimum": CheckSpec(DailyMinimumParams, daily_minimum),
    "channel_has_creatives": CheckSpec(Scope, channel_has_creatives),
}
