"""Splitting a live campaign's daily budget across its ad channels by their response curves: fitted to the
campaign's own days where it has run long enough, from the benchmarks (one day's flight) where it has not."""

from collections.abc import Mapping, Sequence
from decimal import Decimal

from promptsales.domain_core.campaigns.model.allocation import ChannelBounds, allocate
from promptsales.domain_core.campaigns.model.benchmarks import benchmark
from promptsales.domain_core.campaigns.model.fx import usd_rate
from promptsales.domain_core.campaigns.model.response_curves import ResponseCurve, curve_from_benchmark, fit_curve
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed


class Rebalanced(Dto):
    """New daily budgets per channel, and what each channel's curve was built from."""

    budgets: dict[str, Decimal]
    basis: dict[str, str]


def daily_curve(
    channel: str, history: Sequence[tuple[float, float]], *, industry: str | None, currency: str
) -> ResponseCurve:
    """The channel's daily response curve: fitted to its own (spend, conversions) days when they allow it."""
    try:
        return fit_curve(history)
    except ValidationFailed:
        return curve_from_benchmark(
            benchmark(channel, industry), flight_days=1, audience_cap=None, currency_rate=usd_rate(currency).per_usd
        )


def rebalance(
    daily_total: Decimal,
    history: Mapping[str, Sequence[tuple[float, float]]],
    minimums: Mapping[str, Decimal],
    *,
    industry: str | None,
    currency: str,
) -> Rebalanced:
    """``daily_total`` split to maximise expected daily conversions, each channel at least its minimum."""
    curves = {
        channel: daily_curve(channel, days, industry=industry, currency=currency) for channel, days in history.items()
    }
    allocation = allocate(
        daily_total,
        [ChannelBounds(channel=c, curve=curves[c], min_budget=minimums[c]) for c in sorted(history)],
    )
    return Rebalanced(budgets=allocation.budgets, basis={c: curve.basis for c, curve in curves.items()})
