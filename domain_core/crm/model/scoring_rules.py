"""Lead-scoring rules as typed, validated data: one tenant's numbers, with the defaults shipped as JSON.

Every number that decides a lead's score, stage, potential or customer type lives in a
:class:`ScoringRules` document; the scorer (``scoring.py``) holds none. A tenant's rules are the
defaults (``default_scoring_rules.json``) with that tenant's overrides merged on top
(:func:`merge_rule_overrides`). Validation rejects inconsistent rules up front and every error carries
the location of the bad field (for example ``stages`` with "mql_min_score ... sql_min_score").
"""

import functools
import importlib.resources
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from promptsales.domain_core.crm.model.vocabulary import CustomerType, PurchasePotential, Seniority

Points = Annotated[int, Field(ge=0, le=100)]
Threshold = Annotated[int, Field(ge=0, le=100)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]

# Most senior first; "unknown" has no keywords (it means no title at all).
_KEYWORD_LEVELS: tuple[Seniority, ...] = ("c_level", "vp", "director", "manager", "individual_contributor")
_SEPARATORS = re.compile(r"[\s\-]+")
_WORDS = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower-case ``text`` and drop accents, so "Dueño" and "dueno" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_key(text: str) -> str:
    """Normalize free text to a rule key: folded, trimmed, runs of spaces/hyphens as ``_``."""
    return _SEPARATORS.sub("_", fold(text)).strip("_")


def words(text: str) -> tuple[str, ...]:
    """Split folded ``text`` into whole words (punctuation and hyphens separate words)."""
    return tuple(_WORDS.findall(fold(text).replace("_", " ")))


def _normalized_keys(points: Mapping[str, int], what: str) -> dict[str, int]:
    """Return ``points`` keyed by normalized keys; two spellings of one key are ambiguous, so reject."""
    result: dict[str, int] = {}
    for key, value in points.items():
        norm = normalize_key(key)
        if not norm:
            raise ValueError(f"{what} key {key!r} is empty once normalized")
        if norm in result:
            raise ValueError(f"{what} keys collide once normalized: {norm!r}")
        result[norm] = value
    return result


class _Band(Protocol):
    @property
    def min(self) -> int: ...
    @property
    def max(self) -> int | None: ...


_B = TypeVar("_B", bound=_Band)


def _band_for(bands: Sequence[_B], size: int) -> _B | None:
    """Return the band holding ``size`` (bounds inclusive), if any."""
    return next((b for b in bands if b.min <= size and (b.max is None or size <= b.max)), None)


def _check_bands(bands: Sequence[_Band]) -> None:
    """Bands must be sorted by ``min``, non-overlapping, and only the last may be open-ended."""
    for index, band in enumerate(bands):
        if band.max is not None and band.max < band.min:
            raise ValueError(f"band {index}: max ({band.max}) is below min ({band.min})")
        if index == 0:
            continue
        previous = bands[index - 1]
        if previous.max is None:
            raise ValueError(f"band {index - 1} is open-ended (max null) but is not the last band")
        if band.min <= previous.max:
            raise ValueError(
                f"band {index} (min {band.min}) must start after band {index - 1} ends (max {previous.max})"
            )


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IndustryRules(_Rules):
    """Points per normalized industry; ``default_points`` for a stated industry not listed."""

    default_points: Points
    points: Mapping[str, Points]

    @field_validator("points")
    @classmethod
    def _keys(cls, value: Mapping[str, int]) -> dict[str, int]:
        return _normalized_keys(value, "industry")

    @property
    def max_points(self) -> int:
        """The most points this factor can give."""
        return max([self.default_points, *self.points.values()])


class SizeBand(_Rules):
    """Employee counts from ``min`` to ``max`` (inclusive; ``None`` = no upper bound) give ``points``."""

    min: Annotated[int, Field(ge=0)]
    max: Annotated[int, Field(ge=0)] | None = None
    points: Points


class CompanySizeRules(_Rules):
    """Company-size bands; an unknown size or one outside every band gives 0 points."""

    bands: tuple[SizeBand, ...]

    @field_validator("bands")
    @classmethod
    def _sorted(cls, bands: tuple[SizeBand, ...]) -> tuple[SizeBand, ...]:
        _check_bands(bands)
        return bands

    @property
    def max_points(self) -> int:
        """The most points this factor can give."""
        return max((band.points for band in self.bands), default=0)

    def band_for(self, employee_count: int) -> SizeBand | None:
        """Return the band holding ``employee_count``, if any."""
        return _band_for(self.bands, employee_count)


class RegionRules(_Rules):
    """Points per country, optionally refined per normalized region of a country; else ``default_points``."""

    default_points: Points
    countries: Mapping[CountryCode, Points]
    regions: Mapping[CountryCode, Mapping[str, Points]] = Field(default_factory=dict)

    @field_validator("regions")
    @classmethod
    def _region_keys(cls, value: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
        return {country: _normalized_keys(points, f"{country} region") for country, points in value.items()}

    @property
    def max_points(self) -> int:
        """The most points this factor can give."""
        regional = [points for per_country in self.regions.values() for points in per_country.values()]
        return max([self.default_points, *self.countries.values(), *regional])


class SeniorityPoints(_Rules):
    """Points for each seniority level."""

    c_level: Points
    vp: Points
    director: Points
    manager: Points
    individual_contributor: Points
    unknown: Points


class SeniorityKeywords(_Rules):
    """Title words or phrases (whole words, any case, accents ignored) that mark each seniority level."""

    c_level: tuple[str, ...] = ()
    vp: tuple[str, ...] = ()
    director: tuple[str, ...] = ()
    manager: tuple[str, ...] = ()
    individual_contributor: tuple[str, ...] = ()

    def match(self, title: str | None) -> tuple[Seniority, str | None]:
        """Return the seniority a title implies and the keyword that decided it (None when none did)."""
        # No title is "unknown"; a title without any keyword is "individual_contributor".
        if title is None or not title.strip():
            return "unknown", None
        tokens = words(title)
        found: list[tuple[int, int, int, str]] = []  # (start, end, rank, keyword); rank 0 = most senior
        for rank, level in enumerate(_KEYWORD_LEVELS):
            for keyword in getattr(self, level):
                phrase = words(keyword)
                for start in range(len(tokens) - len(phrase) + 1):
                    if tokens[start : start + len(phrase)] == phrase:
                        found.append((start, start + len(phrase), rank, keyword))
        # A phrase beats the words inside it: "vice president" is vp, not the c_level "president", and
        # "lead generation" is not the manager "lead". Of the rest the most senior wins ("CEO & Head of").
        kept = [m for m in found if not any(o[0] <= m[0] and m[1] <= o[1] and o[1] - o[0] > m[1] - m[0] for o in found)]
        if not kept:
            return "individual_contributor", None
        _, _, rank, keyword = min(kept, key=lambda m: (m[2], m[0]))
        return _KEYWORD_LEVELS[rank], keyword

    @model_validator(mode="after")
    def _distinct(self) -> "SeniorityKeywords":
        seen: dict[tuple[str, ...], str] = {}
        for level, keywords in self.model_dump().items():
            for keyword in keywords:
                key = words(keyword)
                if not key:
                    raise ValueError(f"{level}: keyword {keyword!r} has no words")
                if key in seen and seen[key] != level:
                    raise ValueError(f"keyword {keyword!r} is listed under both {seen[key]} and {level}")
                seen[key] = level
        return self


class SeniorityRules(_Rules):
    """Seniority points and the keywords that infer seniority from a job title."""

    points: SeniorityPoints
    keywords: SeniorityKeywords

    @property
    def max_points(self) -> int:
        """The most points this factor can give."""
        return max(int(points) for points in self.points.model_dump().values())


class FitRules(_Rules):
    """Who the lead is: industry, company size, region and seniority, capped at ``max_points``."""

    max_points: Points
    industry: IndustryRules
    company_size: CompanySizeRules
    region: RegionRules
    seniority: SeniorityRules


class TouchRules(_Rules):
    """Points per lead capture/touch, up to ``max_points``."""

    points_per_touch: Points
    max_points: Points


class RecencyBand(_Rules):
    """Last activity at most ``within_days`` days before now gives ``points``."""

    within_days: Annotated[int, Field(gt=0)]
    points: Points


class RecencyRules(_Rules):
    """Recency bands, nearest first; no activity or older than every band gives 0."""

    bands: tuple[RecencyBand, ...]

    @field_validator("bands")
    @classmethod
    def _sorted(cls, bands: tuple[RecencyBand, ...]) -> tuple[RecencyBand, ...]:
        for index in range(1, len(bands)):
            if bands[index].within_days <= bands[index - 1].within_days:
                raise ValueError(f"band {index}: within_days must grow strictly from band to band")
        return bands

    @property
    def max_points(self) -> int:
        """The most points this factor can give."""
        return max((band.points for band in self.bands), default=0)


class ChannelRules(_Rules):
    """Points per distinct source channel, up to ``max_points``."""

    points_per_channel: Points
    max_points: Points


class InteractionRules(_Rules):
    """Points per interaction plus extra per inbound one, up to ``max_points``."""

    points_per_interaction: Points
    points_per_inbound: Points
    max_points: Points


SignalPoints = Annotated[int, Field(ge=-50, le=50)]


class SignalRules(_Rules):
    """Points for what the latest analysed interaction says: its intent and sentiment (may be negative)."""

    intent_points: Mapping[str, SignalPoints]
    sentiment_points: Mapping[str, SignalPoints]
    max_points: Points


# Buying intents raise engagement, leaving intents lower it; rules stored before signals existed get these.
DEFAULT_SIGNALS = SignalRules(
    intent_points={
        "purchase": 10,
        "demo_request": 8,
        "pricing": 6,
        "scheduling": 4,
        "information": 2,
        "support": 0,
        "other": 0,
        "complaint": -4,
        "churn_risk": -6,
        "unsubscribe": -10,
    },
    sentiment_points={"positive": 3, "neutral": 0, "negative": -3},
    max_points=12,
)


class EngagementRules(_Rules):
    """What the lead did: touches, recency, channels, interactions and their signals, capped at ``max_points``."""

    max_points: Points
    touches: TouchRules
    recency: RecencyRules
    channels: ChannelRules
    interactions: InteractionRules
    signals: SignalRules = DEFAULT_SIGNALS


class QualificationRules(_Rules):
    """Points per qualification (BANT) answer: ``answers[question][choice_id]``, capped at ``max_points``."""

    max_points: Points
    answers: Mapping[str, Mapping[str, Points]]


class StageRules(_Rules):
    """Score thresholds for MQL and SQL, and the questions SQL needs answered positively (points > 0)."""

    mql_min_score: Threshold
    sql_min_score: Threshold
    sql_requires: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> "StageRules":
        if self.mql_min_score >= self.sql_min_score:
            raise ValueError(f"mql_min_score ({self.mql_min_score}) must be below sql_min_score ({self.sql_min_score})")
        return self


class PotentialRules(_Rules):
    """Score thresholds for medium/high purchase potential; a budget in ``high_budgets`` is always high."""

    high_min_score: Threshold
    medium_min_score: Threshold
    high_budgets: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> "PotentialRules":
        if self.medium_min_score >= self.high_min_score:
            raise ValueError(
                f"medium_min_score ({self.medium_min_score}) must be below high_min_score ({self.high_min_score})"
            )
        return self

    def level(self, score: int, budget: str | None) -> PurchasePotential:
        """High on score or a listed high budget answer, medium on score, else low."""
        if score >= self.high_min_score or (budget or "").strip() in self.high_budgets:
            return "high"
        return "medium" if score >= self.medium_min_score else "low"


class CustomerTypeBand(_Rules):
    """Employee counts from ``min`` to ``max`` (inclusive; ``None`` = no upper bound) mean ``type``."""

    min: Annotated[int, Field(ge=0)]
    max: Annotated[int, Field(ge=0)] | None = None
    type: CustomerType


class CustomerTypeRules(_Rules):
    """Customer type by employee count; fallbacks for an unknown size and for no company at all."""

    bands: tuple[CustomerTypeBand, ...]
    unknown_size_type: CustomerType
    no_company_type: CustomerType

    @field_validator("bands")
    @classmethod
    def _sorted(cls, bands: tuple[CustomerTypeBand, ...]) -> tuple[CustomerTypeBand, ...]:
        _check_bands(bands)
        return bands

    def type_for(self, employee_count: int | None, has_company: bool) -> CustomerType:
        """Customer type by size band; the fallbacks cover an unknown or unbanded size and no company."""
        if employee_count is None:
            return self.unknown_size_type if has_company else self.no_company_type
        band = _band_for(self.bands, employee_count)
        return self.unknown_size_type if band is None else band.type


class ScoringRules(_Rules):
    """One tenant's complete scoring rules; ``version`` is stamped on every classification."""

    version: Annotated[int, Field(ge=1)]
    description: str = ""
    fit: FitRules
    engagement: EngagementRules
    qualification: QualificationRules
    stages: StageRules
    potential: PotentialRules
    customer_type: CustomerTypeRules

    # Field validators (not a model validator) so the error location names the offending section.
    @field_validator("stages")
    @classmethod
    def _known_sql_questions(cls, stages: StageRules, info: ValidationInfo) -> StageRules:
        qualification = info.data.get("qualification")
        if qualification is not None:
            unknown = [key for key in stages.sql_requires if key not in qualification.answers]
            if unknown:
                raise ValueError(f"sql_requires names questions missing from qualification.answers: {unknown}")
        return stages

    @field_validator("potential")
    @classmethod
    def _known_budgets(cls, potential: PotentialRules, info: ValidationInfo) -> PotentialRules:
        qualification = info.data.get("qualification")
        if qualification is not None:
            budgets = qualification.answers.get("budget", {})
            unknown = [value for value in potential.high_budgets if value not in budgets]
            if unknown:
                raise ValueError(f"high_budgets names answers missing from qualification.answers.budget: {unknown}")
        return potential


def _deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``overrides`` into ``base``: nested objects merge, anything else (lists too) replaces."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_rule_overrides(base: ScoringRules, overrides: Mapping[str, Any]) -> ScoringRules:
    """Return ``base`` with a tenant's partial overrides merged in, validated as a whole."""
    return ScoringRules.model_validate(_deep_merge(base.model_dump(mode="json"), overrides))


@functools.cache
def default_scoring_rules() -> ScoringRules:
    """Return the shipped default rules (loaded and validated once)."""
    resource = importlib.resources.files("promptsales.domain_core.crm.model").joinpath("default_scoring_rules.json")
    return ScoringRules.model_validate_json(resource.read_text(encoding="utf-8"))
