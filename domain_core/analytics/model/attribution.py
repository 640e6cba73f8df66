"""Multi-touch attribution: credit conversions to channels by one of eight models, and explain where models differ."""

from collections.abc import Callable, Sequence
from typing import Annotated, Literal, get_args

import numpy as np
from pydantic import Field, model_validator

from promptsales.domain_core.analytics.model import attribution_rules as rules
from promptsales.domain_core.analytics.model import markov, shapley
from promptsales.domain_core.analytics.model.journeys import Journeys
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

ModelName = Literal[
    "first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based", "markov", "shapley"
]
MODEL_NAMES: tuple[ModelName, ...] = get_args(ModelName)

_LABELS: dict[str, str] = {
    "first_touch": "first touch",
    "last_touch": "last touch",
    "last_non_direct": "last non-direct touch",
    "linear": "linear",
    "time_decay": "time decay",
    "position_based": "position-based",
    "markov": "Markov",
    "shapley": "Shapley",
}


class AttributionOptions(Dto):
    """Tuning of the models that have any; the defaults follow Google Analytics and common practice."""

    half_life_days: Annotated[float, Field(gt=0, le=365)] = 7.0
    position_first: Annotated[float, Field(ge=0, le=1)] = 0.4
    position_last: Annotated[float, Field(ge=0, le=1)] = 0.4
    markov_order: Annotated[int, Field(ge=1, le=markov.MAX_ORDER)] = 1
    shapley_samples: Annotated[int, Field(ge=100, le=100_000)] = 2000
    seed: int = 0

    @model_validator(mode="after")
    def _positions_fit(self) -> "AttributionOptions":
        if self.position_first + self.position_last > 1 + 1e-12:
            raise ValueError("position_first + position_last must be at most 1")
        return self


class ChannelCredit(Dto):
    """What one channel earned under one model."""

    channel: str
    conversions: float
    value: float
    share: float


class ModelResult(Dto):
    """One model's credits per channel, its totals and how it computed them."""

    model: ModelName
    credits: tuple[ChannelCredit, ...]
    conversions: float
    value: float
    method: str
    error: float | None = None


class Disagreement(Dto):
    """How far apart the models are on one channel's share, and why."""

    channel: str
    lowest_model: ModelName
    lowest_share: float
    highest_model: ModelName
    highest_share: float
    spread: float
    explanation: str


def _rule_method(model: ModelName, options: AttributionOptions) -> str:
    """The plain sentence describing a rule-based model."""
    if model == "time_decay":
        return (
            "Each conversion shared among its journey's touches, a touch's weight halving for every "
            f"{options.half_life_days:g} days it came before the conversion."
        )
    if model == "position_based":
        rest = max(0.0, 1.0 - options.position_first - options.position_last)
        return (
            f"Each conversion gives {options.position_first:.0%} to the first touch and {options.position_last:.0%} "
            f"to the last, the other {rest:.0%} split equally among the touches between."
        )
    return {
        "first_touch": "Each conversion credited to the first touch of its journey.",
        "last_touch": "Each conversion credited to the last touch of its journey.",
        "last_non_direct": "Each conversion credited to the last touch that was not direct (direct only when the "
        "journey had nothing else).",
        "linear": "Each conversion shared equally among its journey's touches.",
    }[model]


def _markov(journeys: Journeys, options: AttributionOptions) -> tuple[rules.Credits, str, float | None]:
    """Markov credits and a method sentence listing the removal effects."""
    fitted = markov.fit(journeys, options.markov_order)
    order = np.argsort(-fitted.removal_effects, kind="stable")
    effects = ", ".join(
        f"{journeys.channels[c]} {fitted.removal_effects[c]:.2f}" for c in order if fitted.removal_effects[c] > 0
    )
    method = (
        f"Markov chain of order {fitted.order} over {fitted.n_states:,} channel states, "
        f"removal effects: {effects or 'none'}."
    )
    return (fitted.conversions, fitted.value), method, None


def _shapley(journeys: Journeys, options: AttributionOptions) -> tuple[rules.Credits, str, float | None]:
    """Shapley credits and a method sentence saying whether they were exact or sampled."""
    fitted = shapley.fit(journeys, options.shapley_samples, options.seed)
    n = len(journeys.channels)
    if fitted.samples is None:
        method = f"Exact Shapley values over all {2**n:,} coalitions of {n} channels."
    else:
        method = (
            f"Shapley values sampled from {fitted.samples:,} permutations "
            f"(95% error ≤ ±{fitted.error or 0.0:.1f} conversions)."
        )
    return (fitted.conversions, fitted.value), method, fitted.error


_RULES: dict[str, Callable[[Journeys, AttributionOptions], rules.Credits]] = {
    "first_touch": lambda j, o: rules.first_touch(j),
    "last_touch": lambda j, o: rules.last_touch(j),
    "last_non_direct": lambda j, o: rules.last_non_direct(j),
    "linear": lambda j, o: rules.linear(j),
    "time_decay": lambda j, o: rules.time_decay(j, o.half_life_days),
    "position_based": lambda j, o: rules.position_based(j, o.position_first, o.position_last),
}


def attribute(journeys: Journeys, model: ModelName, options: AttributionOptions | None = None) -> ModelResult:
    """Credit the journeys' conversions and value to their channels with one model."""
    if model not in MODEL_NAMES:
        raise ValidationFailed(
            f"Unknown attribution model '{model}'.", field="model", hint=f"Use one of: {', '.join(MODEL_NAMES)}."
        )
    options = options or AttributionOptions()
    error: float | None = None
    if model == "markov":
        (conversions, value), method, error = _markov(journeys, options)
    elif model == "shapley":
        (conversions, value), method, error = _shapley(journeys, options)
    else:
        conversions, value = _RULES[model](journeys, options)
        method = _rule_method(model, options)
    total = float(journeys.n_conversions)
    credits = sorted(
        (
            ChannelCredit(
                channel=name,
                conversions=float(conversions[code]),
                value=float(value[code]),
                share=float(conversions[code]) / total if total else 0.0,
            )
            for code, name in enumerate(journeys.channels)
        ),
        key=lambda credit: (-credit.conversions, credit.channel),
    )
    return ModelResult(
        model=model,
        credits=tuple(credits),
        conversions=total,
        value=float(journeys.value[journeys.converted].sum()),
        method=method,
        error=error,
    )


def _roles(journeys: Journeys) -> dict[str, dict[str, float]]:
    """Per channel, the fractions of converting journeys it opens, closes, sits inside or touches last non-direct."""
    n = journeys.n_conversions
    if n == 0:
        return {}
    lengths = journeys.lengths()
    position = np.arange(journeys.n_touches) - np.repeat(journeys.offsets[:-1], lengths)
    inside = (position > 0) & (position < np.repeat(lengths, lengths) - 1) & np.repeat(journeys.converted, lengths)
    in_converting = np.repeat(journeys.converted, lengths)
    journey = journeys.journey_of_touch()
    size = len(journeys.channels)

    def journeys_with(touches: np.ndarray) -> np.ndarray:
        """Fraction of converting journeys with at least one of the given touches, per channel."""
        pairs = np.unique(journey[touches] * size + journeys.codes[touches])
        return np.bincount(pairs % size, minlength=size) / n

    touch_share = np.bincount(journeys.codes[in_converting], minlength=size) / max(1, int(in_converting.sum()))
    figures = {
        "opens": rules.first_touch(journeys)[0] / n,
        "closes": rules.last_touch(journeys)[0] / n,
        "last_non_direct": rules.last_non_direct(journeys)[0] / n,
        "middle": journeys_with(inside),
        "present": journeys_with(in_converting),
        "touches": touch_share,
    }
    return {
        name: {key: float(values[code]) for key, values in figures.items()}
        for code, name in enumerate(journeys.channels)
    }


def _reason(model: ModelName, role: dict[str, float]) -> str:
    """Why this model gives the channel the share it does, in the journeys' own figures."""
    opens, closes = role.get("opens", 0.0), role.get("closes", 0.0)
    return {
        "first_touch": f"it opens {opens:.0%} of converting journeys",
        "last_touch": f"it closes {closes:.0%} of them",
        "last_non_direct": f"it is the last non-direct touch in {role.get('last_non_direct', 0.0):.0%} of them",
        "linear": f"it makes up {role.get('touches', 0.0):.0%} of their touches",
        "time_decay": f"it closes {closes:.0%} of them and touches near the conversion weigh more",
        "position_based": f"it opens {opens:.0%} and closes {closes:.0%} of them",
        "markov": f"it lies on the way to {role.get('present', 0.0):.0%} of conversions",
        "shapley": f"it appears in {role.get('present', 0.0):.0%} of converting journeys, sharing each with the "
        "channels beside it",
    }[model]


def compare(results: Sequence[ModelResult], journeys: Journeys) -> tuple[Disagreement, ...]:
    """Per channel, the models giving it the lowest and highest share, widest spread first, with the reasons."""
    if len(results) < 2:
        return ()
    roles = _roles(journeys)
    channels = sorted({credit.channel for result in results for credit in result.credits})
    found: list[Disagreement] = []
    for channel in channels:
        shares = [
            (next((c.share for c in result.credits if c.channel == channel), 0.0), result.model) for result in results
        ]
        low_share, low_model = min(shares, key=lambda pair: pair[0])
        high_share, high_model = max(shares, key=lambda pair: pair[0])
        role = roles.get(channel, {})
        context = (
            f"Across converting journeys {channel} opens {role.get('opens', 0.0):.0%}, closes "
            f"{role.get('closes', 0.0):.0%} and sits in the middle of {role.get('middle', 0.0):.0%}."
        )
        if high_share - low_share <= 1e-12:
            explanation = f"Every model gives {channel} {high_share:.0%}. {context}"
        else:
            explanation = (
                f"{_LABELS[high_model].capitalize()} credits {channel} with {high_share:.0%} because "
                f"{_reason(high_model, role)}; {_LABELS[low_model]} {low_share:.0%} because "
                f"{_reason(low_model, role)}. {context}"
            )
        found.append(
            Disagreement(
                channel=channel,
                lowest_model=low_model,
                lowest_share=low_share,
                highest_model=high_model,
                highest_share=high_share,
                spread=high_share - low_share,
                explanation=explanation,
            )
        )
    # Rounded so float noise in equal spreads does not decide the order; names do.
    return tuple(sorted(found, key=lambda d: (-round(d.spread, 9), d.channel)))
