"""Rule-based attribution (first/last/last non-direct/linear/time decay/position based), journeys and compare()."""

import random

import numpy as np
import pytest
from pydantic import ValidationError

from promptsales.domain_core.analytics.model.attribution import (
    MODEL_NAMES,
    AttributionOptions,
    ModelResult,
    attribute,
    compare,
)
from promptsales.domain_core.analytics.model.journeys import Journeys
from promptsales.domain_core.shared.errors import ValidationFailed

# Four journeys (ages in days before the journey's end); channels sort to direct, email, search, social.
#   J1 search(10) > email(3) > direct(0)   converts, 100
#   J2 social(7) > search(0)               converts, 50
#   J3 direct(0)                           converts, 30
#   J4 email(5) > social(0)                no conversion: earns nothing anywhere
HAND = Journeys.from_paths(
    [
        [("search", 10), ("email", 3), ("direct", 0)],
        [("social", 7), ("search", 0)],
        [("direct", 0)],
        [("email", 5), ("social", 0)],
    ],
    converted=[True, True, True, False],
    values=[100, 50, 30, 0],
)


def credits(result: ModelResult) -> dict[str, tuple[float, float]]:
    """Channel -> (conversions, value)."""
    return {c.channel: (c.conversions, c.value) for c in result.credits}


def assert_credits(result: ModelResult, expected: dict[str, tuple[float, float]]) -> None:
    got = credits(result)
    assert set(got) == {"direct", "email", "search", "social"}
    for channel in got:
        conv, value = expected.get(channel, (0.0, 0.0))
        assert got[channel][0] == pytest.approx(conv, abs=1e-12), channel
        assert got[channel][1] == pytest.approx(value, abs=1e-9), channel


def test_first_touch_credits_the_opener() -> None:
    # J1 -> search, J2 -> social, J3 -> direct.
    assert_credits(attribute(HAND, "first_touch"), {"search": (1, 100), "social": (1, 50), "direct": (1, 30)})


def test_last_touch_credits_the_closer() -> None:
    # J1 -> direct, J2 -> search, J3 -> direct.
    assert_credits(attribute(HAND, "last_touch"), {"direct": (2, 130), "search": (1, 50)})


def test_last_non_direct_skips_direct_unless_it_is_all_there_is() -> None:
    # J1 -> email (direct skipped), J2 -> search, J3 is all direct -> direct.
    assert_credits(attribute(HAND, "last_non_direct"), {"email": (1, 100), "search": (1, 50), "direct": (1, 30)})


def test_linear_shares_equally_per_touch() -> None:
    # J1: 1/3 each to search, email, direct (100/3 each); J2: 1/2 to social and search (25 each); J3: direct 1.
    assert_credits(
        attribute(HAND, "linear"),
        {
            "search": (1 / 3 + 1 / 2, 100 / 3 + 25),
            "email": (1 / 3, 100 / 3),
            "direct": (1 / 3 + 1, 100 / 3 + 30),
            "social": (1 / 2, 25),
        },
    )


def test_time_decay_halves_weight_per_half_life() -> None:
    # J1 weights 2^(-10/7) ~ 0.3715, 2^(-3/7) ~ 0.7430, 2^0 = 1 (sum ~ 2.1145): search ~ 0.1757, email ~ 0.3514,
    # direct ~ 0.4729. J2: social is one half-life (7 d) older than search: weights 1/2 : 1 -> 1/3, 2/3.
    # J3: direct 1.
    w_search, w_email, w_direct = 2 ** (-10 / 7), 2 ** (-3 / 7), 1.0
    total = w_search + w_email + w_direct
    assert_credits(
        attribute(HAND, "time_decay"),
        {
            "search": (w_search / total + 2 / 3, 100 * w_search / total + 50 * 2 / 3),
            "email": (w_email / total, 100 * w_email / total),
            "direct": (w_direct / total + 1, 100 * w_direct / total + 30),
            "social": (1 / 3, 50 / 3),
        },
    )
    assert w_search / total == pytest.approx(0.17569, abs=1e-5)


def test_time_decay_half_life_option_and_very_old_journeys() -> None:
    # With a 1-day half-life J2's social (7 days older) weighs 2^-7 of search.
    result = attribute(HAND, "time_decay", AttributionOptions(half_life_days=1))
    social = credits(result)["social"][0]
    assert social == pytest.approx(2**-7 / (1 + 2**-7))
    # Ages of thousands of days would underflow 2^(-age/h); weights relative to the newest touch do not.
    old = Journeys.from_paths([[("a", 9000.0), ("b", 8993.0)]], [True], [10.0])
    got = credits(attribute(old, "time_decay"))
    assert got["a"][0] == pytest.approx(1 / 3) and got["b"][0] == pytest.approx(2 / 3)


def test_position_based_default_40_20_40() -> None:
    # J1 (3 touches): search 0.4, email 0.2, direct 0.4. J2 (2 touches, 0.4:0.4): 0.5 / 0.5. J3: direct 1.
    assert_credits(
        attribute(HAND, "position_based"),
        {"search": (0.9, 65), "email": (0.2, 20), "direct": (1.4, 70), "social": (0.5, 25)},
    )


def test_position_based_two_touches_split_in_the_first_to_last_ratio() -> None:
    # first 0.3, last 0.5: J1 search 0.3, email 0.2, direct 0.5; J2 social 0.3/0.8 = 0.375, search 0.625; J3 direct 1.
    options = AttributionOptions(position_first=0.3, position_last=0.5)
    assert_credits(
        attribute(HAND, "position_based", options),
        {
            "search": (0.3 + 0.625, 30 + 31.25),
            "email": (0.2, 20),
            "direct": (0.5 + 1, 50 + 30),
            "social": (0.375, 18.75),
        },
    )


def test_results_are_sorted_and_shares_add_up() -> None:
    result = attribute(HAND, "linear")
    assert [c.channel for c in result.credits] == ["direct", "search", "social", "email"]
    assert result.conversions == 3 and result.value == 180
    assert sum(c.share for c in result.credits) == pytest.approx(1.0)
    assert credits(result)["direct"][0] / 3 == pytest.approx(result.credits[0].share)


def random_journeys(seed: int, n: int = 300, channels: str = "abcdefg") -> Journeys:
    rng = random.Random(seed)
    paths, converted, values = [], [], []
    for _ in range(n):
        length = rng.randint(0, 7)  # some empty journeys: dropped
        ages = sorted((rng.uniform(0, 40) for _ in range(length)), reverse=True)
        names = [rng.choice(channels + "d") for _ in range(length)]
        paths.append([("direct" if c == "d" else c, age) for c, age in zip(names, ages, strict=True)])
        converted.append(rng.random() < 0.4)
        values.append(round(rng.uniform(0, 500), 2))
    return Journeys.from_paths(paths, converted, values)


def naive(journeys: Journeys, model: str, options: AttributionOptions) -> dict[str, list[float]]:
    """An independent per-journey loop implementation of the six rules."""
    out = {name: [0.0, 0.0] for name in journeys.channels}
    for j in range(journeys.n_journeys):
        if not journeys.converted[j]:
            continue
        lo, hi = int(journeys.offsets[j]), int(journeys.offsets[j + 1])
        names = [journeys.channels[int(c)] for c in journeys.codes[lo:hi]]
        ages = [float(a) for a in journeys.ages[lo:hi]]
        n = len(names)
        if model == "first_touch":
            w = [1.0] + [0.0] * (n - 1)
        elif model == "last_touch":
            w = [0.0] * (n - 1) + [1.0]
        elif model == "last_non_direct":
            keep = [i for i, name in enumerate(names) if name != "direct"]
            w = [0.0] * n
            w[keep[-1] if keep else n - 1] = 1.0
        elif model == "linear":
            w = [1 / n] * n
        elif model == "time_decay":
            raw = [0.5 ** (a / options.half_life_days) for a in ages]
            w = [x / sum(raw) for x in raw]
        else:
            f, last = options.position_first, options.position_last
            if n == 1:
                w = [1.0]
            elif n == 2:
                w = [f / (f + last), last / (f + last)]
            else:
                w = [f] + [(1 - f - last) / (n - 2)] * (n - 2) + [last]
        for name, weight in zip(names, w, strict=True):
            out[name][0] += weight
            out[name][1] += weight * float(journeys.value[j])
    return out


@pytest.mark.parametrize("model", ["first_touch", "last_touch", "last_non_direct", "linear", "time_decay",
                                   "position_based"])  # fmt: skip
@pytest.mark.parametrize("seed", [1, 2])
def test_vectorised_rules_match_a_per_journey_loop(model: str, seed: int) -> None:
    journeys = random_journeys(seed)
    options = AttributionOptions(half_life_days=5, position_first=0.25, position_last=0.45)
    got = credits(attribute(journeys, model, options))  # type: ignore[arg-type]
    expected = naive(journeys, model, options)
    for name, (conv, value) in expected.items():
        assert got[name][0] == pytest.approx(conv, abs=1e-9)
        assert got[name][1] == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_model_hands_out_exactly_the_conversions_and_value(model: str) -> None:
    journeys = random_journeys(3)
    result = attribute(journeys, model)  # type: ignore[arg-type]
    assert result.conversions == journeys.n_conversions
    assert sum(c.conversions for c in result.credits) == pytest.approx(journeys.n_conversions, rel=1e-9)
    assert sum(c.value for c in result.credits) == pytest.approx(journeys.value[journeys.converted].sum(), rel=1e-9)
    assert all(c.conversions >= -1e-12 for c in result.credits)


def test_no_conversions_gives_zero_credit() -> None:
    journeys = Journeys.from_paths([[("a", 1), ("b", 0)]], [False], [0])
    nothing = Journeys.from_paths([[]], [True], [3.0])  # the only journey has no touch: dropped
    assert nothing.n_journeys == 0 and nothing.channels == ()
    for model in MODEL_NAMES:
        result = attribute(journeys, model)
        assert result.conversions == 0 and all(c.conversions == 0 and c.share == 0 for c in result.credits)
        assert attribute(nothing, model).credits == ()


def test_from_paths_builds_columns_and_drops_empty_journeys() -> None:
    journeys = Journeys.from_paths(
        [[("b", 2.0), ("a", 1.0)], [], [("a", 0.0)]], converted=[True, True, False], values=[5, 7, 9]
    )
    assert journeys.channels == ("a", "b")
    assert journeys.offsets.tolist() == [0, 2, 3]
    assert journeys.codes.tolist() == [1, 0, 0]
    assert journeys.converted.tolist() == [True, False]
    assert journeys.value.tolist() == [5.0, 0.0]  # no conversion, no value
    assert (journeys.n_journeys, journeys.n_touches, journeys.n_conversions) == (2, 3, 1)


@pytest.mark.parametrize(
    ("paths", "converted", "values", "field"),
    [
        ([[("a", 1.0)]], [True, False], [1.0], "converted"),
        ([[("a", 1.0)]], [True], [], "values"),
        ([[("a", -1.0)]], [True], [1.0], "paths"),
        ([[("a", float("nan"))]], [True], [1.0], "paths"),
        ([[("", 1.0)]], [True], [1.0], "paths"),
        ([[("a", 1.0), ("b", 2.0)]], [True], [1.0], "paths"),  # ages grow: not in time order
        ([[("a", 1.0)]], [True], [-3.0], "values"),
    ],
)
def test_from_paths_rejects_bad_input_naming_the_field(
    paths: list[list[tuple[str, float]]], converted: list[bool], values: list[float], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Journeys.from_paths(paths, converted, values)
    assert caught.value.field == field


def test_constructor_rejects_inconsistent_arrays() -> None:
    ok = {
        "channels": ("a",),
        "offsets": np.array([0, 1]),
        "codes": np.array([0], dtype=np.int32),
        "ages": np.array([0.0]),
        "converted": np.array([True]),
        "value": np.array([1.0]),
    }
    Journeys(**ok)  # type: ignore[arg-type]
    for field, bad in [
        ("offsets", np.array([0, 0])),
        ("codes", np.array([3], dtype=np.int32)),
        ("ages", np.array([-1.0])),
        ("value", np.array([np.inf])),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            Journeys(**{**ok, field: bad})  # type: ignore[arg-type]
        assert caught.value.field == field


def test_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="at most 1"):
        AttributionOptions(position_first=0.7, position_last=0.4)
    for bad in ({"half_life_days": 0}, {"half_life_days": 400}, {"markov_order": 4}, {"position_first": -0.1}):
        with pytest.raises(ValidationError):
            AttributionOptions(**bad)
    with pytest.raises(ValidationFailed) as caught:
        attribute(HAND, "u_shaped")  # type: ignore[arg-type]
    assert caught.value.field == "model"


def test_compare_finds_the_widest_spread_and_explains_it() -> None:
    results = [attribute(HAND, m) for m in ("first_touch", "last_touch", "linear")]
    found = compare(results, HAND)
    by_channel = {d.channel: d for d in found}
    # direct: first touch 1/3, last touch 2/3, linear (4/3)/3 = 4/9 -> spread 1/3, the widest.
    direct = by_channel["direct"]
    assert (direct.lowest_model, direct.highest_model) == ("first_touch", "last_touch")
    assert direct.lowest_share == pytest.approx(1 / 3) and direct.highest_share == pytest.approx(2 / 3)
    assert direct.spread == pytest.approx(1 / 3)
    # email: first 0, last 0, linear 1/9.
    assert by_channel["email"].highest_model == "linear" and by_channel["email"].spread == pytest.approx(1 / 9)
    assert [d.spread for d in found] == sorted((d.spread for d in found), reverse=True)
    # social: first 1/3, last 0, linear 1/6 -> 1/3 (ties direct, names break it); search: 1/3, 1/3, 5/18 -> 1/18.
    assert [d.channel for d in found] == ["direct", "social", "email", "search"]
    # direct opens J3 (1 of 3 converting journeys) and closes J1 and J3 (2 of 3); it sits inside none.
    assert direct.explanation.startswith("Last touch credits direct with 67% because it closes 67% of them;")
    assert "first touch 33% because it opens 33% of converting journeys" in direct.explanation
    assert "sits in the middle of 0%" in direct.explanation
    # email sits in the middle of J1 (1 of 3).
    assert "email opens 0%, closes 0% and sits in the middle of 33%" in by_channel["email"].explanation
    assert compare(results[:1], HAND) == ()
