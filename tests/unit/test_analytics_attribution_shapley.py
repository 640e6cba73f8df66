"""Shapley attribution: exact enumeration and sampling, checked against Zhao et al.'s closed form."""

import random
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pytest

from promptsales.domain_core.analytics.model import shapley
from promptsales.domain_core.analytics.model.attribution import AttributionOptions, attribute
from promptsales.domain_core.analytics.model.journeys import Journeys


def make(paths: Sequence[Sequence[str]], converted: list[bool], values: list[float] | None = None) -> Journeys:
    """Journeys from lists of channel names in time order."""
    return Journeys.from_paths(
        [[(c, float(len(p) - i - 1)) for i, c in enumerate(p)] for p in paths],
        converted,
        values if values is not None else [1.0 if c else 0.0 for c in converted],
    )


def closed_form(
    paths: Sequence[Sequence[str]], converted: list[bool], weights: list[float] | None = None
) -> dict[str, float]:
    """Zhao, Mahboobi, Bagheri (2018), simplified Shapley: phi_c = sum over sets T holding c of R(T) / |T|.

    R(T) is the conversions (or value, with ``weights``) of converting journeys whose channel set is exactly T.
    """
    totals: dict[frozenset[str], float] = defaultdict(float)
    for i, (path, conv) in enumerate(zip(paths, converted, strict=True)):
        if conv:
            totals[frozenset(path)] += weights[i] if weights is not None else 1.0
    phi = {c: 0.0 for path in paths for c in path}
    for channel_set, r in totals.items():
        for c in channel_set:
            phi[c] += r / len(channel_set)
    return phi


def credits(journeys: Journeys, samples: int = 2000, seed: int = 0) -> dict[str, tuple[float, float]]:
    result = attribute(journeys, "shapley", AttributionOptions(shapley_samples=samples, seed=seed))
    return {c.channel: (c.conversions, c.value) for c in result.credits}


def test_hand_worked_three_channels() -> None:
    # Converting sets: {A} x2, {A,B} x1, {A,B,C} x1 (and a non-converting {B,C} that changes nothing).
    # v(A)=2, v(B)=v(C)=v(BC)=0, v(AB)=3, v(AC)=2, v(ABC)=4.
    # Marginal contributions over the 6 orders (ABC ACB BAC BCA CAB CBA):
    #   A: 2 2 3 4 2 4 = 17 -> 17/6;  B: 1 2 0 0 2 0 = 5 -> 5/6;  C: 1 0 1 0 0 0 = 2 -> 1/3.  Sum 4 = conversions.
    journeys = make([["A"], ["A"], ["A", "B"], ["B", "A", "C"], ["B", "C"]], [True, True, True, True, False])
    got = credits(journeys)
    assert got["A"][0] == pytest.approx(17 / 6)
    assert got["B"][0] == pytest.approx(5 / 6)
    assert got["C"][0] == pytest.approx(1 / 3)
    assert attribute(journeys, "shapley").method == "Exact Shapley values over all 8 coalitions of 3 channels."


def random_paths(seed: int, n: int, channels: int) -> tuple[list[list[str]], list[bool], list[float]]:
    rng = random.Random(seed)
    names = [f"c{i:02d}" for i in range(channels)]
    weights = [rng.uniform(0.2, 3) for _ in names]  # uneven popularity so credits differ
    paths = [rng.choices(names, weights, k=rng.randint(1, 5)) for _ in range(n)]
    converted = [rng.random() < 0.2 + 0.4 * ("c01" in p) for p in paths]
    values = [round(rng.uniform(10, 200), 2) if c else 0.0 for c in converted]
    return paths, converted, values


@pytest.mark.parametrize(("channels", "seed"), [(4, 1), (7, 2), (12, 3)])
def test_exact_enumeration_matches_the_closed_form(channels: int, seed: int) -> None:
    paths, converted, values = random_paths(seed, 400, channels)
    got = credits(make(paths, converted, values))
    conversions = closed_form(paths, converted)
    value = closed_form(paths, converted, values)
    for channel in conversions:
        assert got[channel][0] == pytest.approx(conversions[channel], abs=1e-9)
        assert got[channel][1] == pytest.approx(value[channel], abs=1e-7)


def test_sampled_estimate_lies_within_its_stated_error_of_the_closed_form() -> None:
    paths, converted, values = random_paths(4, 300, 14)
    journeys = make(paths, converted, values)
    result = attribute(journeys, "shapley", AttributionOptions(shapley_samples=2000, seed=3))
    assert result.error is not None and 0 < result.error < 5
    assert (
        result.method
        == f"Shapley values sampled from 2,000 permutations (95% error ≤ ±{result.error:.1f} conversions)."
    )
    exact = closed_form(paths, converted)
    for credit in result.credits:
        assert abs(credit.conversions - exact[credit.channel]) <= result.error
    # Every permutation hands out each conversion once, so the sampled credits still add up exactly.
    assert sum(c.conversions for c in result.credits) == pytest.approx(sum(converted))
    assert sum(c.value for c in result.credits) == pytest.approx(sum(values))


def test_sampling_is_seeded_and_its_error_shrinks_with_more_permutations() -> None:
    paths, converted, _ = random_paths(6, 200, 13)
    journeys = make(paths, converted)
    assert credits(journeys, 500, seed=1) == credits(journeys, 500, seed=1)
    assert credits(journeys, 500, seed=1) != credits(journeys, 500, seed=2)
    few = shapley.fit(journeys, samples=500, seed=1).error
    many = shapley.fit(journeys, samples=4000, seed=1).error
    assert few is not None and many is not None and many < few


def test_non_converting_journeys_and_order_do_not_matter() -> None:
    a = make([["A", "B"], ["C"]], [True, False])
    b = make([["B", "A", "B"], ["C", "A"]], [True, False])
    assert credits(a)["A"][0] == pytest.approx(0.5) and credits(a)["C"][0] == 0
    assert credits(b)["A"][0] == pytest.approx(0.5) and credits(b)["C"][0] == 0


def test_exact_weights_sum_to_one_over_coalition_sizes() -> None:
    # A lone channel in every journey gets everything: the weighting of marginal contributions is a distribution.
    journeys = make([["solo"]] * 3 + [["other"]], [True, True, True, False])
    got = credits(journeys)
    assert got["solo"][0] == pytest.approx(3.0) and got["other"][0] == pytest.approx(0.0)
    assert np.isclose(sum(c for c, _ in got.values()), 3.0)
