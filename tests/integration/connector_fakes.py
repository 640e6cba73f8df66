"""Fake time for the connectors' contract tests: the policy's sleep advances one clock that both the policy and
the platform simulator read, so rate windows really pass and no test waits."""

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 12, 1, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.elapsed

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.elapsed)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds
