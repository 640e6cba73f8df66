"""Days whose value breaks sharply from the days before it, found with a robust z-score and told in plain words.

Each day is scored against the trailing ``window`` observations before it (never itself or later days), with the
modified z-score of Iglewicz & Hoaglin, "How to Detect and Handle Outliers" (ASQC Quality Press, 1993):
``z = 0.6745 * (x - median) / MAD``, flagged when ``|z| > 3.5`` (their recommended cut-off). The median and the
median absolute deviation barely move when the history itself holds an earlier spike, unlike the mean and standard
deviation. When more than half the history is identical MAD is 0; the score then uses the mean absolute deviation
instead, ``z = (x - median) / (1.253314 * MeanAD)`` (IBM Cognos Analytics, "Modified z score",
https://www.ibm.com/docs/en/cognos-analytics/11.1.0?topic=terms-modified-z-score). A perfectly flat history (both
0, e.g. a capped budget spent to the cent every day) gives no scale to judge by, so those days are skipped: a step
away from a flat line is a change of plan, which pacing and period comparison report better.

A day must also differ from the median by at least ``min_change`` (25 % by default) of the median: on a very
steady history (spend held by a daily cap) a few percent already scores high, yet is not worth anyone's attention.

Small windows make the score heavy-tailed (MAD from 14 points is a noisy scale): on Gaussian noise with a 30 %
coefficient of variation the defaults flag about 2 % of days, window=28 about 0.7 %, threshold=5 about 0.4 %; at a
6 % coefficient none (min_change). A 3x spike is caught > 99 % of the time with the defaults, 90 % with threshold=5
(measured over 300 simulated 90-day series each).

The series should have one point per day (fill days without delivery with 0 for counts and spend, leave rate days
out or NaN): the window counts observations, and NaN values are ignored in history and never flagged.
"""

import math
from collections.abc import Sequence
from datetime import date
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from promptsales.domain_core.analytics.model.metrics import display_name, format_value
from promptsales.domain_core.analytics.model.periods import day_label
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

MAD_SCALE = 0.6745  # the 0.75 quantile of the standard normal: makes MAD comparable to a standard deviation
MEAN_AD_SCALE = 1.253314  # sqrt(pi / 2): mean absolute deviation to standard deviation, for normal data


class Anomaly(Dto):
    """One day far outside its recent range."""

    day: date
    metric: str
    label: str
    value: float
    expected: float  # median of the trailing window
    low: float  # smallest value in the trailing window
    high: float  # largest value in the trailing window
    direction: Literal["spike", "drop"]
    score: float  # the modified z-score, 2 places; its size says how unusual the day is
    explanation: str


def _validate(window: int, min_history: int, threshold: float) -> None:
    """Reject window, history and threshold settings that cannot give a meaningful score."""
    if window < 3:
        raise ValidationFailed("window must be at least 3 days.", field="window")
    if not 3 <= min_history <= window:
        raise ValidationFailed(f"min_history must be between 3 and window ({window}).", field="min_history")
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValidationFailed("threshold must be a positive number.", field="threshold")


def _explain(metric: str, label: str, day: date, value: float, median: float, low: float, high: float, n: int) -> str:
    """The anomaly in one sentence, with the value, the day and the range it broke from."""

    def fmt(v: float) -> str:
        """A value of this metric written for people."""
        return format_value(metric, v)

    subject = f"{display_name(metric)} on {label} on {day_label(day)} ({fmt(value)})"
    spread = f"{fmt(low)}\u2013{fmt(high)} over the previous {n} days"
    if value > high:
        return f"{subject} was far above its recent range ({spread})."
    if value < low:
        return f"{subject} was far below its recent range ({spread})."
    # Inside the range only when the window held an earlier outlier: compare with the typical level instead.
    side = "above" if value > median else "below"
    return f"{subject} was far {side} its usual level of {fmt(median)} (range {spread})."


def find_anomalies(
    series: Sequence[tuple[date, float]],
    *,
    metric: str,
    label: str,
    window: int = 14,
    min_history: int = 7,
    threshold: float = 3.5,
    min_change: float = 0.25,
) -> list[Anomaly]:
    """Days scoring above ``threshold`` against the trailing ``window`` days and moving ``min_change``, oldest first."""
    _validate(window, min_history, threshold)
    if not (math.isfinite(min_change) and min_change >= 0):
        raise ValidationFailed("min_change must be a number >= 0 (0.25 = 25 % of the median).", field="min_change")
    points = sorted(series, key=lambda point: point[0])
    if len(points) <= min_history:
        return []
    days = [day for day, _ in points]
    values: np.ndarray = np.array([value for _, value in points], dtype=float)
    values[~np.isfinite(values)] = np.nan
    # Row i of the view is the `window` values before day i; NaN padding marks history that does not exist yet.
    padded = np.concatenate([np.full(window, np.nan), values[:-1]])
    history: np.ndarray = sliding_window_view(padded, window)
    counts = np.count_nonzero(~np.isnan(history), axis=1)
    rows = np.flatnonzero((counts >= min_history) & ~np.isnan(values))
    if rows.size == 0:
        return []
    hist = history[rows]
    current = values[rows]
    median = np.nanmedian(hist, axis=1)
    deviation = np.abs(hist - median[:, None])
    mad = np.nanmedian(deviation, axis=1)
    mean_ad = np.nanmean(deviation, axis=1)
    diff = current - median
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(
            mad > 0, MAD_SCALE * diff / mad, np.where(mean_ad > 0, diff / (MEAN_AD_SCALE * mean_ad), np.nan)
        )
    low = np.nanmin(hist, axis=1)
    high = np.nanmax(hist, axis=1)
    found: list[Anomaly] = []
    # A median of 0 has no relative scale: any move away from it counts as big enough.
    big_enough = np.abs(diff) >= min_change * np.abs(median)
    for k in np.flatnonzero((np.abs(np.nan_to_num(score)) > threshold) & big_enough):
        i = int(rows[k])
        value, med, lo, hi = float(current[k]), float(median[k]), float(low[k]), float(high[k])
        found.append(
            Anomaly(
                day=days[i],
                metric=metric,
                label=label,
                value=value,
                expected=med,
                low=lo,
                high=hi,
                direction="spike" if score[k] > 0 else "drop",
                score=round(float(score[k]), 2),
                explanation=_explain(metric, label, days[i], value, med, lo, hi, int(counts[i])),
            )
        )
    return found
