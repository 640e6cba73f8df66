"""Deterministic variant assignment: the same experiment and unit always land in the same variant."""

import hashlib
import math
from collections.abc import Sequence

from promptsales.domain_core.shared.errors import ValidationFailed

_SEPARATOR = "\x1f"  # ASCII unit separator: no id can fake a boundary ("a"+"bc" vs "ab"+"c")
_SCALE = 2.0**64


def bucket(experiment_id: str, unit_id: str) -> float:
    """A uniform number in [0, 1) fixed by the pair: SHA-256's first 8 bytes (big-endian) over 2**64."""
    digest = hashlib.sha256(f"{experiment_id}{_SEPARATOR}{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def _validated_weights(variants: Sequence[tuple[str, float]]) -> list[float]:
    """The weights normalised to sum to 1, after checking names and weights."""
    if len(variants) < 1:
        raise ValidationFailed("An experiment needs at least one variant.", field="variants")
    names = [name for name, _ in variants]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise ValidationFailed("Variant names must be non-empty and unique.", field="variants")
    weights = [float(weight) for _, weight in variants]
    if any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValidationFailed(
            "Variant weights must be finite, non-negative and not all zero.",
            field="variants",
            hint="Give e.g. [('control', 0.5), ('variant', 0.5)].",
        )
    total = sum(weights)
    return [w / total for w in weights]


def assign(experiment_id: str, unit_id: str, variants: Sequence[tuple[str, float]]) -> str:
    """The variant name a unit sees in an experiment, picked by cumulative normalised weight."""
    if not experiment_id:
        raise ValidationFailed("experiment_id must not be empty.", field="experiment_id")
    if not unit_id:
        raise ValidationFailed("unit_id must not be empty.", field="unit_id")
    weights = _validated_weights(variants)
    u = bucket(experiment_id, unit_id)
    cumulative = 0.0
    for (name, _), weight in zip(variants, weights, strict=True):
        cumulative += weight
        if weight > 0 and u < cumulative:
            return name
    # Rounding can leave the cumulative sum a hair under 1: the last variant with traffic takes the remainder.
    return next(name for (name, _), weight in zip(reversed(variants), reversed(weights), strict=True) if weight > 0)
