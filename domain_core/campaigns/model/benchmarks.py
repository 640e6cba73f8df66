"""Published channel benchmarks (CTR, CPC, CPM, conversion rate, message costs) as planning priors, in USD.

Figures come from /work/shared/reference/benchmarks.md; each row names its source URL, the reference's strength
grade (A strongest … W weak) and the data window. Where the reference gives no range, low/high widen the expected
figure by strength (A ±15 %, B ±25 %, C ±35 %, W ±50 %), so weaker sources carry wider forecasts.
"""

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from promptsales.domain_core.campaigns.model.plan import Range
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

ALL_INDUSTRIES = "all"

# Free-text industry words (whole words, optional plural s) → the closest benchmark row, first match wins.
# Software and SaaS map to WordStream's legacy "Technology" row (no current software row exists), so "accounting
# software" is technology, while accounting, consulting or agency work maps to business services; the B2B row
# catches explicit "b2b". Rows absent for a channel fall back to "all".
_INDUSTRY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "technology",
        (
            "software",
            "saas",
            "technology",
            "tech",
            "apps",
            "mobile app",
            "cloud",
            "it services",
            "computers",
            "electronics",
        ),
    ),
    ("b2b", ("b2b",)),
    ("legal_services", ("legal", "law", "attorney", "lawyer")),
    ("finance_insurance", ("finance", "financial", "insurance", "bank", "loan", "credit", "fintech")),
    ("business_services", ("accounting", "consulting", "business service", "agency", "marketing", "recruit")),
    ("real_estate", ("real estate", "property", "realtor", "housing")),
    ("dental", ("dental", "dentist")),
    ("physicians_surgeons", ("physician", "surgeon", "clinic", "medical", "doctor")),
    ("health_fitness", ("health", "fitness", "gym", "wellness")),
    ("education", ("education", "school", "course", "training", "university")),
    ("travel", ("travel", "hotel", "tourism", "airline")),
    ("restaurants_food", ("restaurant", "food", "catering", "cafe")),
    ("beauty_personal_care", ("beauty", "cosmetic", "salon", "skincare")),
    ("apparel_fashion_jewelry", ("apparel", "fashion", "jewelry", "jewellery", "clothing")),
    ("shopping_gifts", ("ecommerce", "e-commerce", "retail", "shop", "gift")),
    ("home_improvement", ("home improvement", "construction", "plumbing", "roofing", "renovation")),
    ("automotive_sales", ("car dealer", "automotive", "vehicle")),
    ("automotive_repair", ("auto repair", "mechanic", "car repair")),
    ("industrial_commercial", ("industrial", "manufacturing", "manufacturer", "commercial")),
    ("career_employment", ("career", "employment", "job")),
    ("animals_pets", ("pet", "animal", "veterinary", "vet")),
    ("sports_recreation", ("sport", "recreation", "outdoor")),
    ("arts_entertainment", ("arts", "artist", "entertainment", "music", "event")),
    ("furniture", ("furniture",)),
    ("personal_services", ("personal service", "cleaning", "wedding")),
)


class ChannelBenchmark(Dto):
    """One channel's published priors in USD; rates are fractions (0.0664 = 6.64 %)."""

    channel: str
    industry: str
    ctr: Range  # clicks per impression; for owned channels clicks per delivered message
    cpc: Range | None = None
    cpm: Range | None = None
    cvr: Range  # conversions per click
    cost_per_message: Range | None = None  # owned channels: an assumption on send prices, never a benchmark
    click_rate_per_message: Range | None = None
    source: str
    strength: str
    data_window: str


def _range(figure: Mapping[str, float], widening: float) -> Range:
    expected = figure["expected"]
    if "low" in figure:
        return Range(low=figure["low"], expected=expected, high=figure["high"])
    return Range(low=expected * (1 - widening), expected=expected, high=expected * (1 + widening))


def _row(raw: Mapping[str, Any], widenings: Mapping[str, float]) -> ChannelBenchmark:
    widening = widenings[raw["strength"]]
    ranges = {
        name: _range(raw[name], widening)
        for name in ("ctr", "cpc", "cpm", "cvr", "cost_per_message", "click_rate_per_message")
        if name in raw
    }
    texts = {name: raw[name] for name in ("channel", "industry", "source", "strength", "data_window")}
    return ChannelBenchmark.model_validate(texts | ranges)


@cache
def _table() -> Mapping[tuple[str, str], ChannelBenchmark]:
    raw = json.loads(files(__package__).joinpath("benchmarks.json").read_text(encoding="utf-8"))
    widenings = {grade: float(value) for grade, value in raw["widening"].items() if grade != "note"}
    rows = (_row(entry, widenings) for entry in raw["rows"])
    return MappingProxyType({(row.channel, row.industry): row for row in rows})


def industries() -> tuple[str, ...]:
    """Every industry some channel has a benchmark row for (``all`` first)."""
    names = sorted({industry for _, industry in _table()} - {ALL_INDUSTRIES})
    return (ALL_INDUSTRIES, *names)


def industry_key(industry: str | None) -> str:
    """The benchmark industry closest to free text such as "accounting software" (``all`` when nothing matches)."""
    if not industry:
        return ALL_INDUSTRIES
    text = industry.strip().lower().replace("_", " ")
    if text.replace(" ", "_") in industries():
        return text.replace(" ", "_")
    for key, words in _INDUSTRY_KEYWORDS:
        if any(re.search(rf"\b{re.escape(word)}s?\b", text) for word in words):
            return key
    return ALL_INDUSTRIES


def has_benchmark(channel: str) -> bool:
    """Whether the reference holds any benchmark for this channel."""
    return (channel, ALL_INDUSTRIES) in _table()


def benchmark(channel: str, industry: str | None = None) -> ChannelBenchmark:
    """The channel's benchmark for the industry closest to ``industry``, else its all-industries row."""
    table = _table()
    row = table.get((channel, industry_key(industry))) or table.get((channel, ALL_INDUSTRIES))
    if row is None:
        covered = sorted({name for name, _ in table})
        raise ValidationFailed(
            f"No published benchmark for channel '{channel}', so it cannot be forecast.",
            field="channel",
            hint=f"Channels with benchmarks: {', '.join(covered)}.",
        )
    return row


def effective_cpc(bench: ChannelBenchmark) -> Range:
    """Cost per click in USD: the CPC, else CPM / (1000 · CTR), else message cost / click rate (cheap end = low)."""
    if bench.cpc is not None:
        return bench.cpc
    rate = bench.click_rate_per_message or bench.ctr
    if bench.cost_per_message is not None:
        unit, per = bench.cost_per_message, 1.0
    elif bench.cpm is not None:
        unit, per = bench.cpm, 1000.0
    else:
        raise ValidationFailed(f"Benchmark for '{bench.channel}' has no cost figure.", field="channel")
    return Range(
        low=unit.low / (per * rate.high),
        expected=unit.expected / (per * rate.expected),
        high=unit.high / (per * rate.low),
    )


def cost_per_conversion(bench: ChannelBenchmark) -> float:
    """Expected USD per conversion at the benchmark: cost per click / click→conversion rate."""
    return effective_cpc(bench).expected / bench.cvr.expected
