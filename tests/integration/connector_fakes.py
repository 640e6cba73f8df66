"""Fake time for the connectors' contract tests: the policy's sleep advances one clock that both the policy and
the platform simulator read, so rate windows really pass and no test waits."""

from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 12, 1, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.elapsed

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.elapsed)

    def policy(self) -> dict[str, Any]:
        """ConnectorHttp's time arguments on this clock (no jitter: waits are exact)."""
        return {"sleep": self.sleep, "clock": self.monotonic, "jitter": lambda: 0.0, "now": self.now}

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds
