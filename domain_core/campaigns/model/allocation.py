"""Splitting a budget across channels to maximise expected conversions, and finding the budget a target needs."""

import math
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Annotated

import numpy as np
from pydantic import Field
from scipy.optimize import brentq, minimize  # type: ignore[import-untyped]  # no scipy-stubs in the dev deps

from promptsales.domain_core.campaigns.model.response_curves import ResponseCurve
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

CENT = Decimal("0.01")


class ChannelBounds(Dto):
    """A channel's response curve and the least and most it may receive (campaign currency)."""

    channel: str
    curve: ResponseCurve
    min_budget: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal(0)
    max_budget: Annotated[Decimal, Field(ge=0, decimal_places=2)] | None = None


class Allocation(Dto):
    """Budgets per channel in cents summing exactly to the total, and the conversions they are expected to buy."""

    budgets: dict[str, Decimal]
    expected_conversions: float
    solver: str
    converged: bool


def _check_feasible(total: Decimal, channels: Sequence[ChannelBounds]) -> None:
    if not channels:
        raise ValidationFailed("At least one channel is needed to allocate a budget.", field="channels")
    if total < 0 or total != total.quantize(CENT):
        raise ValidationFailed(f"The budget {total} must be a non-negative amount in whole cents.", field="budget")
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
    cents = [max(lo, v).quantize(CENT, rounding=ROUND_FLOOR) for v, lo in zip(clipped, lows, strict=True)]
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


def _feasible(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: float) -> np.ndarray:
    """``x`` clipped into its bounds with the shortfall or excess against ``target`` spread over each one's room."""
    point: np.ndarray = np.clip(x, lo, hi)
    gap = target - float(point.sum())
    room = (hi - point) if gap > 0 else (point - lo)
    if room.sum() > 0:
        point = np.clip(point + gap * room / room.sum(), lo, hi)
    return point


def _optimal(
    marginal: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, near: float, tol: float = 1e-4
) -> bool:
    """Karush-Kuhn-Tucker check: channels free to move share one marginal; those at a bound could not gain by moving.

    A channel within ``near`` of a bound counts as on it (half a cent: rounding puts it there anyway).
    """
    at_low, at_high = x <= lo + near, x >= hi - near
    free = ~(at_low | at_high)
    # With every channel on a bound, any level between the bounded marginals will do: take the top of the floors.
    level = float(np.median(marginal[free])) if free.any() else float(np.max(marginal[at_low], initial=0.0))
    slack = tol * max(abs(level), 1e-12)
    return bool(
        np.all(np.abs(marginal[free] - level) <= slack)
        and np.all(marginal[at_low] <= level + slack)
        and np.all(marginal[at_high] >= level - slack)
    )


def _water_level(
    curves: list[ResponseCurve], lo: np.ndarray, hi: np.ndarray, target: float, scale: float
) -> np.ndarray:
    """Room filled when every channel spends until its marginal falls to one shared level (the dual of the problem).

    Exact for concave curves and a sound start for S-curves; the level is found by scipy brentq on
    its logarithm, since the spend it buys falls steadily as the level rises.
    """

    def filled(log_level: float) -> np.ndarray:
        level = math.exp(log_level)
        wanted = np.array([curve.spend_at_marginal(level) / scale for curve in curves])
        room: np.ndarray = np.clip(wanted, lo, hi) - lo
        return room

    def excess(log_level: float) -> float:
        return float(filled(log_level).sum()) - target

    cheap, dear = -700.0, 700.0  # levels of e^∓700: every channel at its top, every channel at its floor
    low_gap, high_gap = excess(cheap), excess(dear)
    if low_gap <= 0 or high_gap >= 0:  # a bound is already the answer (or the curves are degenerate)
        level = cheap if abs(low_gap) <= abs(high_gap) else dear
    else:
        level = brentq(excess, cheap, dear, xtol=1e-12)
    return _feasible(filled(level), np.zeros_like(lo), hi - lo, target)


def _solve(
    curves: list[ResponseCurve], lo: np.ndarray, hi: np.ndarray, target: float, scale: float
) -> tuple[np.ndarray, bool]:
    """Shares of the total within lo..hi that put ``target`` above the minimums, maximise conversions, and whether
    they are optimal.

    SLSQP works on each channel's fill level y in [0, 1] of its room above the minimum, so a channel allowed a few
    cents and one allowed millions are equally well conditioned. It starts from the shared-marginal point and, if
    that is not confirmed optimal, from every channel equally full; the best point wins.
    """
    room = hi - lo

    def spend(y: np.ndarray) -> list[float]:
        return [float(a + r * v) * scale for a, r, v in zip(lo, room, y, strict=True)]

    def loss(y: np.ndarray) -> float:
        return -sum(curve.conversions(s) for curve, s in zip(curves, spend(y), strict=True))

    def gradient(y: np.ndarray) -> np.ndarray:
        marginals = np.array([curve.marginal(s) for curve, s in zip(curves, spend(y), strict=True)])
        result: np.ndarray = -marginals * room * scale
        return result

    def optimal(y: np.ndarray) -> bool:
        marginals = -gradient(y) / room
        return _optimal(marginals, y * room, np.zeros_like(room), room, near=0.005 / scale)

    starts = [_water_level(curves, lo, hi, target, scale) / room, np.full_like(room, target / float(room.sum()))]
    best = starts[0]
    for start in starts:
        result = minimize(
            loss,
            start,
            jac=gradient,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * len(room),
            constraints=[{"type": "eq", "fun": lambda y: float(room @ y - target), "jac": lambda y: room.copy()}],
            options={"ftol": 1e-12, "maxiter": 500},
        )
        # SLSQP may stop next to the optimum slightly off the sum: put its point back on the feasible set and
        # judge the point itself by the optimality conditions, not by the solver's exit flag.
        for candidate in (start, _feasible(room * result.x, np.zeros_like(room), room, target) / room):
            if loss(candidate) < loss(best):
                best = candidate
        if optimal(best):
            return lo + best * room, True
    return lo + best * room, False


def allocate(total: Decimal, channels: Sequence[ChannelBounds]) -> Allocation:
    """Maximise total expected conversions with budgets summing to ``total`` within each channel's bounds (SLSQP)."""
    _check_feasible(total, channels)
    lows = [c.min_budget for c in channels]
    highs = [total if c.max_budget is None else min(c.max_budget, total) for c in channels]
    scale = float(total) or 1.0  # solve in shares of the total so cents and millions condition alike
    lo = np.array([float(v) / scale for v in lows])
    hi = np.array([float(v) / scale for v in highs])
    shares = lo.copy()
    moving = hi > lo  # channels pinned by equal bounds stay out of the solver (SLSQP stalls on them)
    converged = True
    if moving.any():
        curves = [c.curve for c, free in zip(channels, moving, strict=True) if free]
        above_minimums = 1.0 - float(lo.sum())
        shares[moving], converged = _solve(curves, lo[moving], hi[moving], above_minimums, scale)
    cents = _to_cents(shares * scale, total, lows, highs)
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
