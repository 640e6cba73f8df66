"""Rule-based attribution: each converting journey shares one conversion and its value among its touches by a rule.

Every function returns ``(conversions, value)``: two float arrays indexed by channel code. Only converting journeys
earn credit, and each hands out exactly 1 conversion and its whole value, so the totals equal the conversions and
the converted value of the journeys (up to float rounding).

The rules follow Google Analytics' attribution models (Universal Analytics "Attribution modeling overview",
https://support.google.com/analytics/answer/1662518): first/last interaction, last non-direct click, linear,
time decay (a touch ``half_life`` days before the conversion weighs half of one on the day; GA's default half-life
is 7 days) and position based (40 % first, 40 % last, 20 % spread evenly over the middle by default).
"""

import numpy as np

from promptsales.domain_core.analytics.model.journeys import DIRECT_CHANNELS, Journeys

Credits = tuple[np.ndarray, np.ndarray]


def _per_journey(journeys: Journeys, touch_index: np.ndarray) -> Credits:
    """Credit the whole of each converting journey to the channel of one chosen touch per journey."""
    conv = journeys.converted
    codes = journeys.codes[touch_index[conv]]
    size = len(journeys.channels)
    return (
        np.bincount(codes, minlength=size).astype(np.float64),
        np.bincount(codes, weights=journeys.value[conv], minlength=size),
    )


def _per_touch(journeys: Journeys, weights: np.ndarray) -> Credits:
    """Credit every touch of a converting journey its weight (weights sum to 1 within each journey)."""
    in_converting = np.repeat(journeys.converted, journeys.lengths())
    codes = journeys.codes[in_converting]
    share = weights[in_converting]
    touch_value = np.repeat(journeys.value, journeys.lengths())[in_converting]
    size = len(journeys.channels)
    return (
        np.bincount(codes, weights=share, minlength=size),
        np.bincount(codes, weights=share * touch_value, minlength=size),
    )


def first_touch(journeys: Journeys) -> Credits:
    """All credit to the journey's first touch."""
    return _per_journey(journeys, journeys.offsets[:-1])


def last_touch(journeys: Journeys) -> Credits:
    """All credit to the journey's last touch."""
    return _per_journey(journeys, journeys.offsets[1:] - 1)


def last_non_direct(journeys: Journeys) -> Credits:
    """All credit to the last touch outside DIRECT_CHANNELS; a journey of direct touches only credits its last one."""
    direct_codes = [code for code, name in enumerate(journeys.channels) if name in DIRECT_CHANNELS]
    is_direct = np.isin(journeys.codes, np.asarray(direct_codes, dtype=journeys.codes.dtype))
    # -1 marks direct touches, so a journey's maximum is its last non-direct touch, or -1 when it has none.
    candidate = np.where(is_direct, -1, np.arange(journeys.n_touches, dtype=np.int64))
    last_kept = np.maximum.reduceat(candidate, journeys.offsets[:-1]) if journeys.n_journeys else candidate[:0]
    return _per_journey(journeys, np.where(last_kept >= 0, last_kept, journeys.offsets[1:] - 1))


def linear(journeys: Journeys) -> Credits:
    """Equal credit to every touch of the journey (a channel touched twice earns twice)."""
    lengths = journeys.lengths()
    return _per_touch(journeys, np.repeat(1.0 / np.maximum(lengths, 1), lengths))


def time_decay(journeys: Journeys, half_life_days: float) -> Credits:
    """Credit proportional to 2^(-age / half_life): a touch one half-life older than another weighs half as much."""
    if journeys.n_journeys == 0:
        return _per_touch(journeys, journeys.ages)
    starts, lengths = journeys.offsets[:-1], journeys.lengths()
    # Measuring ages from each journey's newest touch leaves the ratios alone and keeps the largest weight at 1,
    # so a journey that ended years ago does not underflow to all-zero weights.
    newest = np.repeat(np.minimum.reduceat(journeys.ages, starts), lengths)
    weights = np.exp2(-(journeys.ages - newest) / half_life_days)
    return _per_touch(journeys, weights / np.repeat(np.add.reduceat(weights, starts), lengths))


def position_based(journeys: Journeys, first: float, last: float) -> Credits:
    """``first`` to the first touch, ``last`` to the last, the rest split equally among the touches between.

    Short journeys (our convention; GA documents only the 3+ touch case): a one-touch journey gives its touch 100 %,
    and a two-touch journey splits the conversion first:last in the ratio ``first:last`` (50/50 when both are 0).
    """
    lengths = journeys.lengths()
    n = np.repeat(lengths, lengths)
    position = np.arange(journeys.n_touches, dtype=np.int64) - np.repeat(journeys.offsets[:-1], lengths)
    is_first, is_last = position == 0, position == n - 1
    ends = first + last
    pair_first, pair_last = (first / ends, last / ends) if ends > 0 else (0.5, 0.5)
    middle = (1.0 - ends) / np.maximum(n - 2, 1)
    weights = np.select(
        [n == 1, (n == 2) & is_first, n == 2, is_first, is_last],
        [1.0, pair_first, pair_last, first, last],
        default=middle,
    )
    return _per_touch(journeys, weights)
