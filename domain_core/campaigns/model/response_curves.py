"""Diminishing-returns curves: conversions a channel buys for a spend (campaign currency), and their slope.

``hill``: conversions(s) = vmax · sᵏ / (halfᵏ + sᵏ) with k = ``shape``;
``log``: conversions(s) = vmax · ln(1 + s / half).
With k = 1 both start at slope vmax / half and flatten as spend grows, so every extra unit buys less.
"""

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field
from scipy.optimize import curve_fit  # type: ignore[import-untyped]  # no scipy-stubs in the dev deps

from promptsales.domain_core.campaigns.model.benchmarks import ChannelBenchmark, cost_per_conversion
from promptsales.domain_core.campaigns.model.channels import get_channel
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

# Product assumptions behind a benchmark curve's ceiling (no platform publishes these for a plan):
DEFAULT_REACHABLE_AUDIENCE = 1_000_000  # people a paid channel can reach when no audience size is known
WEEKLY_FREQUENCY = {"ads": 3.0, "email": 2.0, "message": 1.0, "influencer": 1.0}  # most deliveries per person a week
MIN_HISTORY_DAYS = 5


class ResponseCurve(Dto):
    """Conversions bought by a spend; ``basis`` says where the parameters came from."""

    kind: Literal["hill", "log"] = "hill"
    vmax: float = Field(gt=0)  # hill: the ceiling; log: the scale
    half: float = Field(gt=0)  # hill: spend reaching half the ceiling; log: the knee
    shape: float = Field(default=1.0, gt=0)
    basis: str = ""

    def conversions(self, spend: float) -> float:
        """Expected conversions for ``spend`` (negative spend counts as none)."""
        s = max(spend, 0.0)
        if self.kind == "log":
            return self.vmax * math.log1p(s / self.half)
        if s == 0:
            return 0.0
        ratio = float((self.half / s) ** self.shape)
        return self.vmax / (1.0 + ratio)

    def marginal(self, spend: float) -> float:
        """Extra conversions per extra unit of spend at ``spend``."""
        s = max(spend, 0.0)
        if self.kind == "log":
            return self.vmax / (self.half + s)
        k, h = self.shape, self.half
        if s == 0:
            return self.vmax / h if k == 1 else (math.inf if k < 1 else 0.0)
        # vmax·k·s^(k-1)/h^k / (1 + (s/h)^k)², written with s/h so tiny and huge spends neither underflow nor overflow.
        ratio = s / h
        return float(self.vmax * k * ratio ** (k - 1) / (h * (1.0 + ratio**k) ** 2))

    def spend_at_marginal(self, level: float) -> float:
        """The spend past which an extra unit buys fewer than ``level`` conversions (0 when even the best unit does).

        Closed forms for log and k = 1; otherwise bisection on the falling side of the slope (an S-curve's slope
        rises to a peak first, and spending short of the peak is never worth it).
        """
        v, h, k = self.vmax, self.half, self.shape
        if level <= 0:
            return math.inf
        if self.kind == "log":
            return max(0.0, v / level - h)
        if k == 1:
            return max(0.0, math.sqrt(v * h / level) - h)
        low = h * ((k - 1) / (k + 1)) ** (1 / k) if k > 1 else 0.0  # where the slope peaks
        if k > 1 and self.marginal(low) <= level:
            return 0.0
        high = max(h, low) * 2
        while self.marginal(high) > level and high < 1e18:
            high *= 2
        for _ in range(100):
            middle = (low + high) / 2
            low, high = (middle, high) if self.marginal(middle) > level else (low, middle)
        return high


def curve_from_benchmark(
    bench: ChannelBenchmark, *, flight_days: int, audience_cap: float | None, currency_rate: float
) -> ResponseCurve:
    """A Hill curve whose first unit of spend buys at the benchmark's cost per conversion (cpc / cvr).

    The ceiling is every delivery the audience can take over the flight (people * weekly frequency * weeks) turned
    into conversions at the benchmark CTR and CVR. ``half`` is the spend that would buy all those deliveries at the
    benchmark price: spending it yields half the ceiling, because the cheapest deliveries are bought first and the
    rest get dearer. ``currency_rate`` is campaign-currency units per USD.
    """
    if flight_days < 1:
        raise ValidationFailed("A flight lasts at least one day.", field="flight_days")
    kind = get_channel(bench.channel).kind
    audience = audience_cap if audience_cap and audience_cap > 0 else DEFAULT_REACHABLE_AUDIENCE
    deliveries = audience * WEEKLY_FREQUENCY[kind] * flight_days / 7.0
    click_rate = (bench.click_rate_per_message or bench.ctr).expected
    vmax = deliveries * click_rate * bench.cvr.expected
    cpa = cost_per_conversion(bench) * currency_rate
    audience_words = f"{audience:,.0f} people" + ("" if audience_cap else " (default reach, an assumption)")
    basis = (
        f"{bench.channel}: Hill curve, first conversions at the benchmark cost of {cpa:,.2f} each, "
        f"ceiling {vmax:,.0f} conversions from {audience_words} at {WEEKLY_FREQUENCY[kind]:g} deliveries a week "
        f"over {flight_days} days"
    )
    return ResponseCurve(kind="hill", vmax=vmax, half=vmax * cpa, shape=1.0, basis=basis)


def _hill(spend: np.ndarray, vmax: float, half: float, shape: float) -> np.ndarray:
    result: np.ndarray = vmax / (1.0 + (half / np.maximum(spend, 1e-12)) ** shape)
    return result


def fit_curve(history: Sequence[tuple[float, float]]) -> ResponseCurve:
    """A Hill curve fitted (scipy curve_fit, bounded) to a campaign's own (spend, conversions) days."""
    points = [(float(s), float(c)) for s, c in history if s >= 0 and c >= 0]
    spends = np.array([s for s, _ in points])
    conversions = np.array([c for _, c in points])
    distinct = len({s for s in spends if s > 0})
    if len(points) < MIN_HISTORY_DAYS or distinct < 3 or conversions.max(initial=0.0) <= 0:
        raise ValidationFailed(
            f"Fitting a response curve needs at least {MIN_HISTORY_DAYS} days with 3 different spends and some "
            f"conversions; got {len(points)} days, {distinct} different spends.",
            field="history",
            hint="Plan from benchmarks until the campaign has run longer.",
        )
    top_spend, top_conv = float(spends.max()), float(conversions.max())
    lower = (top_conv * 0.5, top_spend * 1e-3, 0.5)
    upper = (top_conv * 1e3, top_spend * 1e3, 3.0)
    start = (top_conv * 2.0, float(np.median(spends[spends > 0])), 1.0)
    try:
        params, _ = curve_fit(_hill, spends, conversions, p0=start, bounds=(lower, upper), maxfev=5000)
    except RuntimeError as error:  # least squares gave up: the days carry no usable shape
        raise ValidationFailed(f"The history does not fit a response curve ({error}).", field="history") from None
    vmax, half, shape = (float(p) for p in params)
    return ResponseCurve(
        kind="hill", vmax=vmax, half=half, shape=shape, basis=f"Hill curve fitted to {len(points)} days"
    )
