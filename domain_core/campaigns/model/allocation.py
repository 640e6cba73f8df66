"""Splitting a budget across channels to maximise expected conversions, and finding the budget a target needs."""

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
from scipy.optimize import minimize  # type: ignore[import-untyped]  # no scipy-stubs in the dev deps

from promptsales.domain_core.campaigns.model.response_curves import ResponseCurve
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

CENT = Decimal("0.01")


class ChannelBounds(Dto):
    """A channel's response curve and the least and most it may receive (campaign currency)."""

    channel: str
    curve: ResponseCurve
    min_budget: Decimal = Decimal(0)
    max_budget: Decimal | None = None


class Allocation(Dto):
    """Budgets per channel in cents summing exactly to the total, and the conversions they are expected to buy."""

    budgets: dict[str, Decimal]
    expected_conversions: float
    solver: str
    converged: bool


def _check_feasible(total: Decimal, channels: Sequence[ChannelBounds]) -> None:
    if not channels:
        raise ValidationFailed("At least one channel is needed to allocate a budget.", field="channels")
    floor = sum((c.min_budget for c in channels), Decimal(0))
    if floor > total:
        raise ValidationFailed(
            f"The budget {total} is below the channels' minimums, which add up to {floor}.",
            field="budget",
            hint="Raise the budget or plan fewer channels.",
        )
    if all(c.max_budget is not None for c in channels):
        ceiling = sum((c.max_budget or Decimal(0) for c in channels), Decimal(0))
        if ceiling < total:
            raise ValidationFailed(
                f"The budget {total} is above what the channels may take ({ceiling} in all).",
                field="budget",
                hint="Lower the budget or add a channel.",
            )


def _to_cents(values: np.ndarray, total: Decimal, lows: list[Decimal], highs: list[Decimal]) -> list[Decimal]:
    """Round to cents inside the bounds with the exact total: floor each, then hand out cents by largest remainder."""
    clipped = [min(max(Decimal(repr(float(v))), lo), hi) for v, lo, hi in zip(values, lows, highs, strict=True)]
    cents = [max(lo, v.quantize(CENT, rounding=ROUND_FLOOR)) for v, lo in zip(clipped, lows, strict=True)]
    gap = total - sum(cents, Decimal(0))
    order = sorted(range(len(cents)), key=lambda i: clipped[i] - cents[i], reverse=True)
    while gap != 0:  # the first pass hands out leftover cents; later passes fill channels with headroom
        step = CENT if gap > 0 else -CENT
        moved = False
        for i in order:
            if gap == 0:
                break
            if lows[i] <= cents[i] + step <= highs[i]:
                cents[i] += step
                gap -= step
                moved = True
        if not moved:  # pragma: no cover - feasibility was checked before solving
            raise ValidationFailed("The budget cannot be split within the channels' bounds.", field="budget")
    return cents


def _optimal(loss_gradient: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, tol: float = 1e-4) -> bool:
    """Karush-Kuhn-Tucker check: channels free to move share one marginal; those at a bound could not gain by moving."""
    marginal = -loss_gradient
    at_low, at_high = x <= lo + 1e-9, x >= hi - 1e-9
    free = ~(at_low | at_high)
    # With every channel on a bound, any level between the bounded marginals will do: take the top of the floors.
    level = float(np.median(marginal[free])) if free.any() else float(np.max(marginal[at_low], initial=0.0))
    slack = tol * max(abs(level), 1e-12)
    return bool(
        np.all(np.abs(marginal[free] - level) <= slack)
        and np.all(marginal[at_low] <= level + slack)
        and np.all(marginal[at_high] >= level - slack)
    )


def allocate(total: Decimal, channels: Sequence[ChannelBounds]) -> Allocation:
    """Maximise total expected conversions with budgets summing to ``total`` within each channel's bounds (SLSQP)."""
    _check_feasible(total, channels)
    lows = [c.min_budget for c in channels]
    highs = [total if c.max_budget is None else min(c.max_budget, total) for c in channels]
    scale = float(total) or 1.0  # solve in shares of the total so cents and millions condition alike
    lo = np.array([float(v) / scale for v in lows])
    hi = np.array([float(v) / scale for v in highs])
    curves = [c.curve for c in channels]

    def loss(x: np.ndarray) -> float:
        return -sum(curve.conversions(float(v) * scale) for curve, v in zip(curves, x, strict=True))

    def gradient(x: np.ndarray) -> np.ndarray:
        return -np.array([curve.marginal(float(v) * scale) * scale for curve, v in zip(curves, x, strict=True)])

    # Start from the minimums plus the rest shared in proportion to headroom: a feasible point.
    headroom = hi - lo
    rest = 1.0 - lo.sum()
    start = lo + (headroom / headroom.sum() * rest if headroom.sum() > 0 else 0.0)
    result = minimize(
        loss,
        start,
        jac=gradient,
        method="SLSQP",
        bounds=list(zip(lo, hi, strict=True)),
        constraints=[{"type": "eq", "fun": lambda x: float(x.sum() - 1.0), "jac": lambda x: np.ones_like(x)}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    # SLSQP often stops on a bound with "positive directional derivative" at the optimum: judge the point itself.
    solved = np.clip(result.x, lo, hi)
    best = solved if abs(solved.sum() - 1.0) < 1e-6 and loss(solved) <= loss(start) else start
    converged = bool(result.success) or _optimal(gradient(best), best, lo, hi)
    cents = _to_cents(best * scale, total, lows, highs)
    budgets = {c.channel: amount for c, amount in zip(channels, cents, strict=True)}
    expected = sum(c.curve.conversions(float(budgets[c.channel])) for c in channels)
    return Allocation(budgets=budgets, expected_conversions=expected, solver="scipy SLSQP", converged=converged)


def recommend_budget(target_conversions: float, channels: Sequence[ChannelBounds], *, ceiling: Decimal) -> Decimal:
    """The smallest whole-unit total whose best allocation reaches ``target_conversions`` (bisection, up to ceiling)."""
    floor = sum((c.min_budget for c in channels), Decimal(0)).quantize(Decimal(1), rounding=ROUND_CEILING)
    if all(c.max_budget is not None for c in channels):
        ceiling = min(ceiling, sum((c.max_budget or Decimal(0) for c in channels), Decimal(0)))
    ceiling = ceiling.quantize(Decimal(1), rounding=ROUND_FLOOR)
    if ceiling < floor:
        raise ValidationFailed(f"The channels' minimums ({floor}) exceed the ceiling {ceiling}.", field="budget")
    best = allocate(ceiling, channels).expected_conversions
    if best < target_conversions:
        raise ValidationFailed(
            f"{target_conversions:,.0f} conversions are out of reach: a budget of {ceiling:,} buys about {best:,.0f}.",
            field="target_value",
            hint="Lower the target, lengthen the flight or add channels.",
        )
    if allocate(floor, channels).expected_conversions >= target_conversions:
        return floor
    low, high = floor, ceiling  # allocate(low) misses the target, allocate(high) reaches it
    while high - low > 1:
        middle = (low + high) // 2
        if allocate(middle, channels).expected_conversions >= target_conversions:
            high = middle
        else:
            low = middle
    return high
