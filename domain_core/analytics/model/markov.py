"""Markov-chain attribution by removal effects, with states made of the last 1 to 3 channels.

Source: Anderl, Becker, von Wangenheim, Schumann (2016), "Mapping the customer journey: lessons learned from
graph-based online attribution modeling", International Journal of Research in Marketing 33(3), 457-474. Every
journey is a walk start -> s1 -> ... -> sm -> (conversion | null); transition probabilities are the observed
transition counts normalised per state. The removal effect of channel c is RE_c = 1 - P_without_c / P, where P is the
probability of reaching conversion from start, and removing c sends every transition into a state holding c to null.

States of order k follow the ChannelAttribution package (Altomare & Loris): a state is a window of k consecutive
channels sliding one touch at a time, so a journey A B C D of order 2 walks (A,B) (B,C) (C,D), and a journey shorter
than k is one state holding all its touches (A) or (A,B). Walking the growing prefixes (A) (A,B) first instead gives
the same probabilities and removal effects: the prefixes only split start's step into the first window.

Consecutive repeats of a channel are kept as recorded (A A B walks A -> A -> B at order 1). At order 1 a self-loop
cancels out of every absorption probability, so the credits equal those with repeats collapsed; at higher orders
(A,A) is a state of its own. (ChannelAttribution 2.x's C++ core drops a window equal to the one before it, so its
higher-order chains differ from ours on journeys with repeats.)
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]  # no scipy-stubs in the dev deps
from scipy.sparse.linalg import gmres, spsolve  # type: ignore[import-untyped]

from promptsales.domain_core.analytics.model.journeys import Journeys
from promptsales.domain_core.shared.errors import ValidationFailed

MAX_ORDER = 3
# Up to this many states a sparse LU (spsolve) is exact and quick. Order-3 chains over many channels are nearly
# fully connected, so the LU fills in: 8,102 states (20 channels) took 28-130 s per fit against 0.2 s for GMRES.
DIRECT_MAX_STATES = 1000
_GMRES_RTOL = 1e-12
# Above this many (from, to) pairs a dense bincount would allocate more than it saves; np.unique takes over.
_DENSE_PAIRS = 1 << 22


@dataclass(frozen=True, slots=True)
class MarkovFit:
    """Removal effects and the credits they give, per channel code."""

    order: int
    n_states: int
    removal_effects: np.ndarray
    conversions: np.ndarray
    value: np.ndarray
    p_conversion: float


def _window_states(journeys: Journeys, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Each walk's transient states in order: a code per state (0-based) and the window's raw channel digits."""
    lengths = journeys.lengths()
    n = np.repeat(lengths, lengths)
    position = np.arange(journeys.n_touches, dtype=np.int64) - np.repeat(journeys.offsets[:-1], lengths)
    base = len(journeys.channels) + 1
    # The window ending at each touch, most recent channel in the lowest digit; 0 pads windows cut by the start.
    raw = journeys.codes.astype(np.int64) + 1
    for lag in range(1, order):
        earlier = np.concatenate((np.zeros(lag, dtype=np.int64), journeys.codes[:-lag].astype(np.int64) + 1))
        raw = raw + np.where(position >= lag, earlier, 0) * base**lag
    keep = (position >= order - 1) | ((position == n - 1) & (n < order))
    windows, state = np.unique(raw[keep], return_inverse=True)
    return state.reshape(-1).astype(np.int64), windows


def _holds(windows: np.ndarray, order: int, n_channels: int) -> np.ndarray:
    """A (states x channels) table: does the window hold the channel?"""
    base = n_channels + 1
    holds = np.zeros((windows.shape[0], n_channels), dtype=bool)
    rows = np.arange(windows.shape[0])
    for lag in range(order):
        digit = (windows // base**lag) % base
        present = digit > 0
        holds[rows[present], digit[present] - 1] = True
    return holds


def _p_from_start(matrix: sparse.csr_matrix, to_conversion: np.ndarray) -> float:
    """Solve (I - Q) x = r for the absorption probabilities and return start's: a linear solve, never powers of Q."""
    if matrix.shape[0] > DIRECT_MAX_STATES:
        # Krylov iterations need only products with the sparse matrix; the spectral radius of Q is below 1 because
        # every state has a path to conversion or null, so I - Q is invertible. Fall back to the LU if GMRES stalls.
        x, info = gmres(matrix.tocsr(), to_conversion, rtol=_GMRES_RTOL, atol=0.0)
        if info == 0:
            return float(x[0])
    return float(spsolve(matrix.tocsc(), to_conversion)[0])


def fit(journeys: Journeys, order: int = 1) -> MarkovFit:
    """Fit the chain of the given order and credit conversions and value by normalised removal effects."""
    if not 1 <= order <= MAX_ORDER:
        raise ValidationFailed(f"markov_order must be 1 to {MAX_ORDER}, not {order}.", field="markov_order")
    n_channels = len(journeys.channels)
    zeros = np.zeros(n_channels)
    if journeys.n_conversions == 0:
        return MarkovFit(order, 0, zeros, zeros.copy(), zeros.copy(), 0.0)
    state, windows = _window_states(journeys, order)
    size = windows.shape[0] + 1  # index 0 is start, window states follow
    state = state + 1
    # A journey of n touches walks max(1, n - order + 1) window states; mark where each walk begins and ends.
    walk_ends = np.cumsum(np.maximum(journeys.lengths() - order + 1, 1))
    opens = np.zeros(state.shape[0], dtype=bool)
    opens[walk_ends[:-1]] = True
    opens[0] = True
    closes = np.zeros(state.shape[0], dtype=bool)
    closes[walk_ends - 1] = True
    source = np.where(opens, 0, np.roll(state, 1))
    pairs = source * size + state
    if size * size <= _DENSE_PAIRS:
        flat = np.bincount(pairs, minlength=size * size)
        cell = np.flatnonzero(flat)
        counts = flat[cell].astype(np.float64)
    else:
        cell, tally = np.unique(pairs, return_counts=True)
        counts = tally.astype(np.float64)
    rows, cols = np.divmod(cell, size)
    last_state = state[closes]
    exits = np.bincount(last_state, minlength=size).astype(np.float64)
    to_conversion = np.bincount(last_state, weights=journeys.converted.astype(np.float64), minlength=size)
    leaving = np.bincount(rows, weights=counts, minlength=size) + exits  # every state is left at least once
    q = sparse.csr_matrix((counts / leaving[rows], (rows, cols)), shape=(size, size))
    r = to_conversion / leaving
    identity = sparse.identity(size, format="csr")
    # Absorbing chain: x = Q x + r, so P(conversion | start) = ((I - Q)^-1 r)[start].
    p_all = _p_from_start(identity - q, r)
    holds = np.vstack((np.zeros((1, n_channels), dtype=bool), _holds(windows, order, n_channels)))
    effects = np.zeros(n_channels)
    for code in range(n_channels):
        gone = holds[:, code]
        if not gone.any():
            continue
        # Zeroing the rows and columns of the removed states sends every step into them to null; their own
        # rows become x = 0, which keeps I - DQD invertible without rebuilding the matrix.
        kept = sparse.diags((~gone).astype(np.float64))
        p_without = _p_from_start(identity - kept @ q @ kept, r * ~gone)
        effects[code] = max(0.0, 1.0 - p_without / p_all)
    total_effect = float(effects.sum())
    share = effects / total_effect if total_effect > 0 else zeros
    conversions = share * journeys.n_conversions
    value = share * float(journeys.value[journeys.converted].sum())
    return MarkovFit(order, size - 1, effects, conversions, value, p_all)


def removal_effects(journeys: Journeys, order: int = 1) -> dict[str, float]:
    """Removal effect per channel name: the share of conversions lost if the channel vanished."""
    effects = fit(journeys, order).removal_effects
    return {name: float(effects[code]) for code, name in enumerate(journeys.channels)}
