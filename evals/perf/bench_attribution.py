"""Timing of every attribution model on synthetic journeys built directly as arrays.

Generates ``--journeys`` journeys holding ``--touches`` touches over ``--channels`` channels (seeded), times
``attribute`` for each model (best of ``--repeat``, time.perf_counter) and prints seconds, journeys per second and the
ratio to a baseline measured in the same run: one np.bincount over the touch codes, the least any model must do.
It prints figures; it asserts nothing.

    .venv/bin/python evals/perf/bench_attribution.py [--journeys 100000] [--touches 1000000] [--channels 12]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from promptsales.domain_core.analytics.model.attribution import AttributionOptions, ModelName, attribute
from promptsales.domain_core.analytics.model.journeys import Journeys

NAMES = (
    "search", "social", "email", "display", "direct", "affiliate",
    "video", "referral", "sms", "push", "podcast", "print",
)  # fmt: skip
RULES: tuple[ModelName, ...] = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
)


def synthetic(n_journeys: int, n_touches: int, n_channels: int, seed: int = 7) -> Journeys:
    """Journeys whose conversion odds depend on the channels they hold; lengths average touches / journeys."""
    rng = np.random.default_rng(seed)
    if n_touches < n_journeys:
        raise SystemExit("--touches must be at least --journeys (every journey has a touch)")
    channels = tuple(NAMES[i] if i < len(NAMES) else f"channel_{i + 1}" for i in range(n_channels))
    lengths = 1 + rng.multinomial(n_touches - n_journeys, np.full(n_journeys, 1 / n_journeys))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    popularity = rng.dirichlet(np.full(n_channels, 2.0))
    codes = rng.choice(n_channels, size=n_touches, p=popularity).astype(np.int32)
    journey = np.repeat(np.arange(n_journeys), lengths)
    # Touch times: uniform within a journey lasting ~Exp(20 days), sorted so ages shrink along the journey.
    span = rng.exponential(20.0, n_journeys)
    fraction = rng.random(n_touches)
    order = np.lexsort((-fraction, journey))
    ages = span[journey] * fraction[order]
    # Each channel present shifts the log-odds of converting (roughly 15 % of journeys convert).
    lift = rng.normal(0.3, 0.4, n_channels)
    present = np.zeros((n_journeys, n_channels), dtype=bool)
    present[journey, codes] = True
    odds = -4.2 + present @ lift
    converted = rng.random(n_journeys) < 1 / (1 + np.exp(-odds))
    value = np.where(converted, rng.lognormal(4.0, 0.8, n_journeys), 0.0)
    return Journeys(channels, offsets, codes, ages, converted, value)


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The shortest of ``repeat`` wall-clock timings."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Build the journeys, time each model and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=100_000)
    parser.add_argument("--touches", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    start = time.perf_counter()
    journeys = synthetic(args.journeys, args.touches, args.channels, args.seed)
    built = time.perf_counter() - start
    print(
        f"{journeys.n_journeys:,} journeys, {journeys.n_touches:,} touches, {len(journeys.channels)} channels, "
        f"{journeys.n_conversions:,} conversions (generated in {built:.2f} s); "
        f"Python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs"
    )
    size = len(journeys.channels)
    baseline = best_of(args.repeat, lambda: np.bincount(journeys.codes, minlength=size))
    cases: list[tuple[str, Callable[[], object]]] = [(name, partial(attribute, journeys, name)) for name in RULES]
    for order in (1, 2, 3):
        options = AttributionOptions(markov_order=order)
        cases.append((f"markov order {order}", partial(attribute, journeys, "markov", options)))
    cases.append(("shapley", partial(attribute, journeys, "shapley")))

    print(f"\n{'model':<18}{'seconds':>10}{'journeys/s':>14}{'x bincount':>12}")
    print(f"{'bincount baseline':<18}{baseline:>10.4f}{journeys.n_journeys / baseline:>14,.0f}{1.0:>12.1f}")
    for label, work in cases:
        seconds = best_of(args.repeat, work)
        print(f"{label:<18}{seconds:>10.4f}{journeys.n_journeys / seconds:>14,.0f}{seconds / baseline:>12.1f}")
    shapley = attribute(journeys, "shapley")
    print(f"\nshapley: {shapley.method}")
    print(f"markov order 1: {attribute(journeys, 'markov').method}")


if __name__ == "__main__":
    main()
