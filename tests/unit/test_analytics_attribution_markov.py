"""Markov removal-effect attribution: hand-worked chains and an independent dense-matrix implementation."""

import itertools
import random
from collections import defaultdict

import numpy as np
import pytest

from promptsales.domain_core.analytics.model import markov
from promptsales.domain_core.analytics.model.attribution import AttributionOptions, attribute
from promptsales.domain_core.analytics.model.journeys import Journeys
from promptsales.domain_core.shared.errors import ValidationFailed


def make(paths: list[str], converted: list[bool], values: list[float] | None = None) -> Journeys:
    """Journeys from strings of one-letter channels ("AB" = A then B); ages count down to 0."""
    return Journeys.from_paths(
        [[(c, float(len(p) - i - 1)) for i, c in enumerate(p)] for p in paths],
        converted,
        values if values is not None else [0.0] * len(paths),
    )


def credits(journeys: Journeys, order: int = 1) -> dict[str, tuple[float, float]]:
    result = attribute(journeys, "markov", AttributionOptions(markov_order=order))
    return {c.channel: (c.conversions, c.value) for c in result.credits}


def test_hand_worked_first_order_chain() -> None:
    # Journeys: A>B converts (value 10), A does not, B converts (value 20).
    # start->A 2/3, start->B 1/3; A->B 1/2, A->null 1/2; B->conv 2/2.
    # P = 2/3 * 1/2 * 1 + 1/3 * 1 = 2/3.
    # Without A: only start->B->conv is left: P = 1/3, RE_A = 1 - (1/3)/(2/3) = 1/2.
    # Without B: nothing reaches conversion: P = 0, RE_B = 1.
    # Credits: 2 conversions * (1/2, 1) / 1.5 = A 2/3, B 4/3; value 30 * (1/3, 2/3) = A 10, B 20.
    journeys = make(["AB", "A", "B"], [True, False, True], [10.0, 0.0, 20.0])
    assert markov.removal_effects(journeys) == pytest.approx({"A": 0.5, "B": 1.0})
    got = credits(journeys)
    assert got["A"] == pytest.approx((2 / 3, 10.0))
    assert got["B"] == pytest.approx((4 / 3, 20.0))
    assert markov.fit(journeys).p_conversion == pytest.approx(2 / 3)


def test_hand_worked_second_order_chain_with_a_short_journey() -> None:
    # Order 2, ChannelAttribution's windows: ABC walks (A,B) (B,C); AB walks (A,B); C is one state (C).
    # start->(A,B) 2/3, start->(C) 1/3; (A,B)->(B,C) 1/2, (A,B)->null 1/2; (B,C)->conv 1; (C)->conv 1.
    # P = 2/3 * 1/2 + 1/3 = 2/3.
    # Without A: (A,B) gone, P = 1/3, RE_A = 1/2. Without B: (A,B), (B,C) gone, P = 1/3, RE_B = 1/2.
    # Without C: (B,C), (C) gone, P = 0, RE_C = 1. Credits of 2 conversions: A 0.5, B 0.5, C 1.
    journeys = make(["ABC", "AB", "C"], [True, False, True])
    assert markov.removal_effects(journeys, order=2) == pytest.approx({"A": 0.5, "B": 0.5, "C": 1.0})
    assert markov.fit(journeys, 2).n_states == 3
    got = credits(journeys, 2)
    assert (got["A"][0], got["B"][0], got["C"][0]) == pytest.approx((0.5, 0.5, 1.0))


def windows(path: str, order: int, prefixes: bool = False) -> list[tuple[str, ...]]:
    """ChannelAttribution's states: sliding windows of `order` touches, or the whole path when it is shorter.

    With ``prefixes`` the walk opens with the growing prefixes instead: (A) (A,B) (A,B,C) (B,C,D) ...
    """
    if prefixes:
        return [tuple(path[max(0, i - order + 1) : i + 1]) for i in range(len(path))]
    if len(path) <= order:
        return [tuple(path)]
    return [tuple(path[i : i + order]) for i in range(len(path) - order + 1)]


def dense_removal_effects(
    paths: list[str], converted: list[bool], order: int, prefixes: bool = False
) -> dict[str, float]:
    """An independent implementation: dict-counted transitions and absorption by explicit matrix inversion."""
    counts: dict[tuple[object, object], int] = defaultdict(int)
    for path, conv in zip(paths, converted, strict=True):
        walk: list[object] = ["start", *windows(path, order, prefixes), "conv" if conv else "null"]
        for a, b in itertools.pairwise(walk):
            counts[(a, b)] += 1
    transient = ["start", *sorted({a for a, _ in counts if a != "start"}, key=str)]
    index = {s: i for i, s in enumerate(transient)}
    channels = sorted(set("".join(paths)))

    def p_conversion(removed: str | None) -> float:
        q = np.zeros((len(transient), len(transient)))
        r = np.zeros(len(transient))
        out: dict[object, int] = defaultdict(int)
        for (a, _), n in counts.items():
            out[a] += n
        for (a, b), n in counts.items():
            if b == "conv":
                r[index[a]] += n / out[a]
            elif b != "null" and not (removed is not None and removed in b):  # type: ignore[operator]
                q[index[a], index[b]] += n / out[a]
        # Fundamental matrix N = (I - Q)^-1; absorption probabilities B = N R (Kemeny & Snell).
        fundamental = np.linalg.inv(np.eye(len(transient)) - q)
        return float((fundamental @ r)[0])

    base = p_conversion(None)
    return {c: 1 - p_conversion(c) / base for c in channels}


def random_paths(seed: int, n: int, alphabet: str = "ABCDE") -> tuple[list[str], list[bool]]:
    rng = random.Random(seed)
    paths = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(n)]
    # Conversion more likely with C or E on the path, so removal effects differ.
    converted = [rng.random() < 0.15 + 0.3 * ("C" in p) + 0.2 * p.endswith("E") for p in paths]
    return paths, converted


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("solver", ["lu", "gmres"])
def test_removal_effects_match_a_dense_inversion(
    order: int, seed: int, solver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if solver == "gmres":  # big chains are solved iteratively: force that path on a small one
        monkeypatch.setattr(markov, "DIRECT_MAX_STATES", 0)
    paths, converted = random_paths(seed, 150)
    got = markov.removal_effects(make(paths, converted), order)
    expected = dense_removal_effects(paths, converted, order)
    assert got == pytest.approx(expected, abs=1e-10)
    # The growing-prefix convention only splits start's step: same removal effects.
    assert dense_removal_effects(paths, converted, order, prefixes=True) == pytest.approx(expected, abs=1e-10)


def test_credits_are_normalised_removal_effects() -> None:
    paths, converted = random_paths(5, 120)
    values = [float(i % 7) * 10 if c else 0.0 for i, c in enumerate(converted)]
    journeys = make(paths, converted, values)
    effects = dense_removal_effects(paths, converted, 2)
    total = sum(effects.values())
    got = credits(journeys, 2)
    for channel, effect in effects.items():
        assert got[channel][0] == pytest.approx(sum(converted) * effect / total)
        assert got[channel][1] == pytest.approx(sum(values) * effect / total)


def test_order_one_is_unchanged_by_consecutive_repeats() -> None:
    # Repeats are kept as self-loops; at order 1 a self-loop cancels out of the absorption probabilities.
    with_repeats = make(["AAB", "ACC", "BBBC", "C"], [True, False, True, True])
    collapsed = make(["AB", "AC", "BC", "C"], [True, False, True, True])
    assert markov.removal_effects(with_repeats) == pytest.approx(markov.removal_effects(collapsed))
    # At order 2 the repeat (A,A) is a state of its own, so the chains differ.
    assert markov.fit(with_repeats, 2).n_states > markov.fit(collapsed, 2).n_states


def test_method_names_order_states_and_effects() -> None:
    journeys = make(["AB", "A", "B"], [True, False, True])
    result = attribute(journeys, "markov")
    assert result.method == "Markov chain of order 1 over 2 channel states, removal effects: B 1.00, A 0.50."
    assert result.error is None


def test_no_conversions_and_bad_order() -> None:
    journeys = make(["AB", "B"], [False, False])
    assert markov.removal_effects(journeys) == {"A": 0.0, "B": 0.0}
    with pytest.raises(ValidationFailed) as caught:
        markov.fit(journeys, 4)
    assert caught.value.field == "markov_order"


def test_a_channel_on_every_converting_path_has_removal_effect_one() -> None:
    journeys = make(["XAY", "AZ", "YA", "XY"], [True, True, True, False])
    effects = markov.removal_effects(journeys, 3)
    assert effects["A"] == pytest.approx(1.0)
    assert all(0 <= e <= 1 for e in effects.values())
