"""Budget allocation across channels (exact cents, bounds, optimality) and the budget a target needs."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptsales.domain_core.campaigns.model.allocation import ChannelBounds, allocate, recommend_budget
from promptsales.domain_core.campaigns.model.response_curves import ResponseCurve
from promptsales.domain_core.shared.errors import ValidationFailed

money = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("50000.00"), places=2)


@st.composite
def channel_sets(draw: st.DrawFn) -> tuple[Decimal, list[ChannelBounds]]:
    count = draw(st.integers(min_value=1, max_value=4))
    channels = []
    for i in range(count):
        curve = ResponseCurve(
            kind=draw(st.sampled_from(["hill", "log"])),
            vmax=draw(st.floats(min_value=10, max_value=5_000)),
            half=draw(st.floats(min_value=100, max_value=200_000)),
        )
        low = draw(st.decimals(min_value=0, max_value=2_000, places=2))
        cap = draw(st.none() | st.decimals(min_value=low, max_value=low + 30_000, places=2))
        channels.append(ChannelBounds(channel=f"c{i}", curve=curve, min_budget=low, max_budget=cap))
    floor = sum((c.min_budget for c in channels), Decimal(0))
    caps = [c.max_budget for c in channels]
    top = sum((c for c in caps if c is not None), Decimal(0)) if None not in caps else floor + 100_000
    total = draw(st.decimals(min_value=floor, max_value=top, places=2))
    return total, channels


@settings(max_examples=60, deadline=None)
@given(case=channel_sets())
def test_allocations_sum_exactly_and_respect_every_bound(case: tuple[Decimal, list[ChannelBounds]]) -> None:
    total, channels = case
    result = allocate(total, channels)
    assert sum(result.budgets.values()) == total
    for channel in channels:
        amount = result.budgets[channel.channel]
        assert amount == amount.quantize(Decimal("0.01"))
        assert amount >= channel.min_budget
        assert channel.max_budget is None or amount <= channel.max_budget


@settings(max_examples=40, deadline=None)
@given(case=channel_sets(), extra=st.decimals(min_value=1, max_value=20_000, places=2))
def test_more_budget_never_lowers_the_optimum(case: tuple[Decimal, list[ChannelBounds]], extra: Decimal) -> None:
    total, channels = case
    if any(c.max_budget is not None for c in channels):
        channels = [c.model_copy(update={"max_budget": None}) for c in channels]
    smaller = allocate(total, channels).expected_conversions
    larger = allocate(total + extra, channels).expected_conversions
    assert larger >= smaller - 1e-6 * max(1.0, smaller)  # solver tolerance only


def _water_filling(total: Decimal, channels: list[ChannelBounds]) -> float:
    """The exact optimum for concave curves: every channel spends until its marginal falls to one level λ."""
    cap = float(total)
    bounds = [(float(c.min_budget), cap if c.max_budget is None else float(c.max_budget)) for c in channels]

    def spend_at(curve: ResponseCurve, level: float, low: float, high: float) -> float:
        if curve.marginal(low) <= level:
            return low
        if curve.marginal(high) >= level:
            return high
        for _ in range(100):
            middle = (low + high) / 2
            low, high = (middle, high) if curve.marginal(middle) > level else (low, middle)
        return (low + high) / 2

    cheap, dear = 1e-15, max(c.curve.marginal(b[0]) for c, b in zip(channels, bounds, strict=True)) * 2 + 1
    for _ in range(200):  # geometric bisection on λ until the spends add up to the total
        level = (cheap * dear) ** 0.5
        spent = sum(spend_at(c.curve, level, *b) for c, b in zip(channels, bounds, strict=True))
        cheap, dear = (level, dear) if spent > cap else (cheap, level)
    spends = [spend_at(c.curve, dear, *b) for c, b in zip(channels, bounds, strict=True)]
    return sum(c.curve.conversions(s) for c, s in zip(channels, spends, strict=True))


@settings(max_examples=40, deadline=None)
@given(case=channel_sets())
def test_allocations_match_the_exact_optimum_of_concave_curves(case: tuple[Decimal, list[ChannelBounds]]) -> None:
    total, channels = case
    result = allocate(total, channels)
    exact = _water_filling(total, channels)
    rounding = 0.02 * len(channels) * max(c.curve.marginal(0.0) for c in channels)  # cents cost a little
    assert result.expected_conversions >= exact * (1 - 1e-5) - rounding


def test_two_channels_meet_at_equal_marginals_as_solved_by_hand() -> None:
    # 100·1000/(1000+x)² = 100·4000/(4000+y)² with x + y = 3000  ⇒  4000 + y = 2(1000 + x)  ⇒  x = 5000/3.
    cheap = ChannelBounds(channel="cheap", curve=ResponseCurve(vmax=100, half=1_000))
    broad = ChannelBounds(channel="broad", curve=ResponseCurve(vmax=100, half=4_000))
    result = allocate(Decimal("3000.00"), [cheap, broad])
    assert result.budgets == {"cheap": Decimal("1666.67"), "broad": Decimal("1333.33")}
    assert result.converged and result.solver == "scipy SLSQP"


def test_the_optimiser_beats_an_even_split_when_slopes_differ() -> None:
    channels = [
        ChannelBounds(channel="search", curve=ResponseCurve(vmax=400, half=40_000)),
        ChannelBounds(channel="social", curve=ResponseCurve(vmax=900, half=20_000)),
        ChannelBounds(channel="pro", curve=ResponseCurve(kind="log", vmax=60, half=9_000)),
    ]
    total = Decimal("30000.00")
    even = sum(c.curve.conversions(10_000.0) for c in channels)
    result = allocate(total, channels)
    assert result.expected_conversions > even * 1.05


def test_a_channel_with_a_higher_floor_keeps_it_even_when_weaker() -> None:
    weak = ChannelBounds(channel="weak", curve=ResponseCurve(vmax=10, half=100_000), min_budget=Decimal("500.00"))
    strong = ChannelBounds(channel="strong", curve=ResponseCurve(vmax=1_000, half=1_000), max_budget=Decimal("4000.00"))
    result = allocate(Decimal("5000.00"), [weak, strong])
    assert result.budgets == {"weak": Decimal("1000.00"), "strong": Decimal("4000.00")}


def test_infeasible_bounds_are_refused_naming_the_budget() -> None:
    floor = ChannelBounds(channel="a", curve=ResponseCurve(vmax=10, half=100), min_budget=Decimal("600.00"))
    capped = ChannelBounds(channel="b", curve=ResponseCurve(vmax=10, half=100), max_budget=Decimal("100.00"))
    sub_cent = (Decimal("500.005"), [ChannelBounds(channel="c", curve=ResponseCurve(vmax=10, half=100))])
    for total, channels in ((Decimal("500.00"), [floor]), (Decimal("500.00"), [capped]), sub_cent):
        with pytest.raises(ValidationFailed) as refused:
            allocate(total, channels)
        assert refused.value.field == "budget"


def test_recommend_budget_finds_the_least_total_reaching_the_target() -> None:
    channels = [
        ChannelBounds(channel="a", curve=ResponseCurve(vmax=100, half=1_000)),
        ChannelBounds(channel="b", curve=ResponseCurve(vmax=100, half=4_000), min_budget=Decimal("100.00")),
    ]
    budget = recommend_budget(70.0, channels, ceiling=Decimal("10000000"))
    assert allocate(budget, channels).expected_conversions >= 70.0
    assert allocate(budget - 1, channels).expected_conversions < 70.0


def test_recommend_budget_says_how_far_an_unreachable_target_gets() -> None:
    channels = [ChannelBounds(channel="a", curve=ResponseCurve(vmax=100, half=1_000))]
    with pytest.raises(ValidationFailed) as refused:
        recommend_budget(150.0, channels, ceiling=Decimal("10000000"))
    assert refused.value.field == "target_value"
    assert "about 100" in refused.value.message


def test_a_minimum_that_nearly_exhausts_the_budget_leaves_the_rest_to_the_best_channel() -> None:
    # Found by CI: SLSQP alone stalled with the few cents above c1's minimum spread evenly over c0 and c2.
    strong = ChannelBounds(channel="c0", curve=ResponseCurve(vmax=2235, half=102))
    pinned = ChannelBounds(channel="c1", curve=ResponseCurve(vmax=10, half=100), min_budget=Decimal("1997.67"))
    weak = ChannelBounds(channel="c2", curve=ResponseCurve(vmax=10, half=100))
    result = allocate(Decimal("2003.39"), [strong, pinned, weak])
    assert result.budgets == {"c0": Decimal("5.72"), "c1": Decimal("1997.67"), "c2": Decimal("0.00")}
    assert result.converged


@pytest.mark.parametrize(
    "curve",
    [
        ResponseCurve(kind="log", vmax=50, half=800),
        ResponseCurve(vmax=80, half=3_000),
        ResponseCurve(vmax=80, half=3_000, shape=0.7),
        ResponseCurve(vmax=300, half=5_000, shape=2.2),
    ],
)
def test_spend_at_marginal_inverts_the_falling_slope(curve: ResponseCurve) -> None:
    for spend in (10.0, 1_000.0, 20_000.0):
        if curve.shape > 1 and spend < curve.half:
            continue  # an S-curve's slope still rises there: the inverse answers on the falling side only
        assert curve.spend_at_marginal(curve.marginal(spend)) == pytest.approx(spend, rel=1e-6)
    assert curve.spend_at_marginal(curve.marginal(0.0) * 2 + 1) == 0.0 or curve.shape < 1
