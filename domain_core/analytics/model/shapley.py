"""Shapley-value attribution over channel sets: exact for up to 12 channels, sampled permutations beyond.

Source: Zhao, Mahboobi, Bagheri (2018), "Shapley Value Methods for Attribution Modeling in Online Advertising",
arXiv:1804.05327. The characteristic function v(S) is the conversions (or value) of the converting journeys whose
set of channels is a subset of S; a channel's credit is its Shapley value in that game. Order and repeats inside a
journey do not matter, only which channels it touched.
"""

import math
from dataclasses import dataclass

import numpy as np

from promptsales.domain_core.analytics.model.journeys import Journeys

EXACT_MAX_CHANNELS = 12
# The two-sided 95 % quantile of the normal distribution, for the Monte Carlo error.
_Z95 = 1.959963984540054
# Cells of one (permutations x channel sets x channels) block while sampling: bounds memory to a few tens of MB.
_BLOCK_CELLS = 1 << 22


@dataclass(frozen=True, slots=True)
class ShapleyFit:
    """Shapley credits per channel code and, when sampled, the 95 % half-width of the conversion credits."""

    conversions: np.ndarray
    value: np.ndarray
    samples: int | None
    error: float | None


def _converting_sets(journeys: Journeys) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct channel sets of converting journeys (bool rows) with their conversions and value."""
    n_channels = len(journeys.channels)
    lengths = journeys.lengths()
    in_converting = np.repeat(journeys.converted, lengths)
    journey = np.repeat(np.cumsum(journeys.converted) - 1, lengths)[in_converting]
    member = np.zeros((journeys.n_conversions, n_channels), dtype=bool)
    member[journey, journeys.codes[in_converting]] = True
    sets, which = np.unique(member, axis=0, return_inverse=True)
    which = which.reshape(-1)
    count = np.bincount(which, minlength=sets.shape[0]).astype(np.float64)
    value = np.bincount(which, weights=journeys.value[journeys.converted], minlength=sets.shape[0])
    return sets, count, value


def _exact(sets: np.ndarray, payoffs: np.ndarray) -> np.ndarray:
    """Exact Shapley values of v(S) = sum of payoffs of sets inside S, enumerating all 2^n coalitions.

    payoffs has one column per game (conversions, value); the result has one row per channel.
    """
    n = sets.shape[1]
    masks = (sets.astype(np.int64) << np.arange(n, dtype=np.int64)).sum(axis=1)
    v = np.zeros((1 << n, payoffs.shape[1]))
    v[masks] = payoffs  # the sets are distinct, so are their masks
    # Zeta transform: after pass i, v[S] sums the payoffs of every T that differs from S only in bits <= i and
    # is inside S on those bits; after n passes v[S] = sum over T subset of S.
    for bit in range(n):
        view = v.reshape(-1, 2, 1 << bit, payoffs.shape[1])
        view[:, 1] += view[:, 0]
    everyone = np.arange(1 << n, dtype=np.int64)
    size = np.zeros(1 << n, dtype=np.int64)
    for bit in range(n):
        size += (everyone >> bit) & 1
    # Weight of a coalition S of size s that c joins: s! (n - s - 1)! / n!
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    phi = np.zeros((n, payoffs.shape[1]))
    for c in range(n):
        without = everyone[(everyone >> c) & 1 == 0]
        phi[c] = weight[size[without]] @ (v[without | (1 << c)] - v[without])
    return phi


def _sampled(sets: np.ndarray, payoffs: np.ndarray, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values estimated from random channel orders, with each estimate's standard error.

    In one order, a set's payoff is the marginal contribution of whichever of its channels comes last, so each
    permutation gives every channel the payoffs of the sets it completes; the estimate is the mean over orders.
    """
    n = sets.shape[1]
    rng = np.random.default_rng(seed)
    total = np.zeros((n, payoffs.shape[1]))
    squares = np.zeros((n, payoffs.shape[1]))
    block = max(1, _BLOCK_CELLS // max(1, sets.shape[0] * n))
    done = 0
    while done < samples:
        m = min(block, samples - done)
        rank = np.argsort(rng.random((m, n)), axis=1).argsort(axis=1)  # rank[p, c]: c's place in order p
        # The member of each set that comes last in each order completes it.
        completes = np.where(sets[None, :, :], rank[:, None, :], -1).argmax(axis=2)
        cells = (np.arange(m)[:, None] * n + completes).reshape(-1)
        gains = np.stack(
            [np.bincount(cells, weights=np.tile(column, m), minlength=m * n) for column in payoffs.T], axis=1
        ).reshape(m, n, payoffs.shape[1])
        total += gains.sum(axis=0)
        squares += (gains**2).sum(axis=0)
        done += m
    mean = total / samples
    variance = np.maximum(squares / samples - mean**2, 0.0) * samples / max(samples - 1, 1)
    return mean, np.sqrt(variance / samples)


def fit(journeys: Journeys, samples: int = 2000, seed: int = 0) -> ShapleyFit:
    """Shapley credits of conversions and value: exact up to EXACT_MAX_CHANNELS channels, sampled beyond."""
    n_channels = len(journeys.channels)
    if journeys.n_conversions == 0:
        return ShapleyFit(np.zeros(n_channels), np.zeros(n_channels), None, None)
    sets, count, value = _converting_sets(journeys)
    payoffs = np.column_stack((count, value))
    if n_channels <= EXACT_MAX_CHANNELS:
        phi = _exact(sets, payoffs)
        return ShapleyFit(phi[:, 0], phi[:, 1], None, None)
    mean, stderr = _sampled(sets, payoffs, samples, seed)
    return ShapleyFit(mean[:, 0], mean[:, 1], samples, float(_Z95 * stderr[:, 0].max()))
