"""Fault-window accounting: which calls fell in which window, their error rates, p99 and recovery times.

Times are seconds since the load started (``time.monotonic()`` minus the start). A call belongs to the
first fault window its *first* attempt overlaps (started in it, or was in flight when the fault hit): a fault
window runs from the fault's start to its end plus
``RECOVERY_ALLOWANCE_S`` (the goal's 10 s recovery), so errors the fault causes just after it ends (a pool's
dead connections, a load balancer still marking a replica down) count against the fault, not against quiet
time. Everything outside every fault window is the ``quiet`` window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

RECOVERY_ALLOWANCE_S = 10.0
STABLE_S = 1.0  # "calls succeed again": the first moment after which STABLE_S seconds of attempts all succeed
QUIET = "quiet"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a call: when it started and ended (load-relative seconds) and whether it succeeded."""

    start: float
    end: float
    ok: bool
    error: str | None = None


@dataclass(slots=True)
class CallRecord:
    """One logical call (one idempotency key) and every attempt made for it."""

    kind: str
    tenant: str
    key: str
    subject: str  # what the call writes: the new contact's e-mail, or the id of the lead/contact it updates
    attempts: list[Attempt] = field(default_factory=list)
    result_id: str | None = None  # the lead or contact id the acknowledged answer named

    @property
    def acked(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].ok

    @property
    def first_failed(self) -> bool:
        return bool(self.attempts) and not self.attempts[0].ok

    @property
    def started(self) -> float:
        return self.attempts[0].start

    @property
    def latency_s(self) -> float:
        """From the first attempt's start to the answer that acknowledged it (retries included)."""
        return self.attempts[-1].end - self.attempts[0].start


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """A fault as it happened: ``start`` when it was injected, ``end`` when it was lifted (or healed)."""

    name: str
    start: float
    end: float

    @property
    def counted_until(self) -> float:
        return self.end + RECOVERY_ALLOWANCE_S

    def covers(self, start: float, end: float | None = None) -> bool:
        """Whether an attempt from ``start`` to ``end`` (an instant without ``end``) overlaps this window."""
        return start < self.counted_until and (end if end is not None else start) >= self.start


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """What the calls of one window saw."""

    name: str
    seconds: float
    calls: int
    first_attempt_errors: int
    final_failures: int
    p99_ms: float
    recovery_s: float | None  # None for the quiet window
    error_samples: dict[str, int] = field(default_factory=dict)  # first-attempt errors, most frequent first

    @property
    def first_attempt_error_rate(self) -> float:
        return self.first_attempt_errors / self.calls if self.calls else 0.0


def window_of(start: float, faults: Sequence[FaultWindow], end: float | None = None) -> str:
    """The first fault window the attempt from ``start`` to ``end`` overlaps, else ``quiet``."""
    for fault in faults:
        if fault.covers(start, end):
            return fault.name
    return QUIET


def p99_ms(latencies_s: Iterable[float]) -> float:
    """Nearest-rank 99th percentile in ms (NaN without data)."""
    ordered = sorted(latencies_s)
    if not ordered:
        return math.nan
    rank = min(len(ordered), max(1, math.ceil(0.99 * len(ordered))))
    return ordered[rank - 1] * 1000.0


def recovery_s(fault: FaultWindow, attempts: Sequence[Attempt], horizon_s: float) -> float:
    """Seconds from the fault's end until attempts succeed again.

    That moment is the earliest ``t >= fault.end`` after which no attempt started within ``STABLE_S`` failed;
    ``attempts`` must be sorted by start. Failures are only looked for up to ``fault.end + horizon_s`` (the
    next fault's start, say), so a later fault is never charged to this one.
    """
    limit = fault.end + horizon_s
    recovered = fault.end
    for attempt in attempts:
        if attempt.start < fault.end:
            continue
        if attempt.start >= limit or attempt.start >= recovered + STABLE_S:
            break
        if not attempt.ok:
            recovered = attempt.end
    return max(0.0, recovered - fault.end)


def window_figures(calls: Sequence[CallRecord], faults: Sequence[FaultWindow], load_s: float) -> list[WindowFigures]:
    """Figures per fault window (in the order the faults happened), then the quiet window."""
    grouped: dict[str, list[CallRecord]] = {fault.name: [] for fault in faults}
    grouped[QUIET] = []
    for call in calls:
        if call.attempts:
            first = call.attempts[0]
            grouped[window_of(first.start, faults, first.end)].append(call)
    attempts = sorted((a for call in calls for a in call.attempts), key=lambda a: a.start)
    figures: list[WindowFigures] = []
    ordered = sorted(faults, key=lambda f: f.start)
    covered = 0.0
    for index, fault in enumerate(ordered):
        next_start = ordered[index + 1].start if index + 1 < len(ordered) else math.inf
        seconds = min(fault.counted_until, load_s) - fault.start
        covered += max(0.0, seconds)
        figures.append(
            _figures(fault.name, seconds, grouped[fault.name], recovery_s(fault, attempts, next_start - fault.end))
        )
    figures.append(_figures(QUIET, load_s - covered, grouped[QUIET], None))
    return figures


def _figures(name: str, seconds: float, calls: Sequence[CallRecord], recovery: float | None) -> WindowFigures:
    return WindowFigures(
        name=name,
        seconds=round(seconds, 2),
        calls=len(calls),
        first_attempt_errors=sum(call.first_failed for call in calls),
        final_failures=sum(not call.acked for call in calls),
        p99_ms=p99_ms(call.latency_s for call in calls if call.acked),
        recovery_s=recovery,
        error_samples=_samples(call.attempts[0].error for call in calls if call.first_failed),
    )


def _samples(errors: Iterable[str | None], keep: int = 4, width: int = 100) -> dict[str, int]:
    counts: dict[str, int] = {}
    for error in errors:
        text = (error or "?")[:width]
        counts[text] = counts.get(text, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1])[:keep])
