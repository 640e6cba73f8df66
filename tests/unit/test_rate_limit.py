"""Token buckets on a fake clock: bursts, refill, costs, tenant isolation, eviction, classes, Redis fail-open."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from promptsales.domain_core.infrastructure.rate_limit import (
    DEFAULT_LIMITS,
    InProcessRateLimiter,
    Limit,
    RateLimited,
    RedisRateLimiter,
    classify_tool,
    limit_for,
)
from promptsales.domain_core.shared.errors import DomainError

WRITES = "crm:write"
READS = "crm:read"


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> InProcessRateLimiter:
    return InProcessRateLimiter(clock)


async def spend(
    limiter: InProcessRateLimiter,
    times: int,
    *,
    tenant: str = "A",
    tool_class: str = WRITES,
    limit: Limit,
    cost: float = 1.0,
) -> None:
    for _ in range(times):
        await limiter.acquire(tenant_id=tenant, tool_class=tool_class, limit=limit, cost=cost)


async def refused(
    limiter: InProcessRateLimiter, *, tenant: str = "A", tool_class: str = WRITES, limit: Limit, cost: float = 1.0
) -> RateLimited:
    with pytest.raises(RateLimited) as info:
        await limiter.acquire(tenant_id=tenant, tool_class=tool_class, limit=limit, cost=cost)
    return info.value


def test_per_minute_helper() -> None:
    assert Limit.per_minute(60) == Limit(capacity=60, refill_per_second=1.0)
    assert Limit.per_minute(120, burst=30) == Limit(capacity=30, refill_per_second=2.0)
    with pytest.raises(ValueError):
        Limit(capacity=0, refill_per_second=1.0)
    with pytest.raises(ValueError):
        Limit(capacity=1, refill_per_second=0.0)


async def test_burst_up_to_capacity_then_refused_with_retry_after(limiter: InProcessRateLimiter) -> None:
    limit = Limit.per_minute(60, burst=5)  # one token per second
    await spend(limiter, 5, limit=limit)
    error = await refused(limiter, limit=limit)
    assert error.retry_after_seconds == pytest.approx(1.0)
    assert error.code == "rate_limited"
    assert isinstance(error, DomainError)


async def test_refused_call_spends_nothing(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    limit = Limit.per_minute(60, burst=2)
    await spend(limiter, 2, limit=limit)
    for _ in range(5):
        await refused(limiter, limit=limit)
    clock.advance(1.0)  # exactly the advertised wait is enough, despite the refusals in between
    await spend(limiter, 1, limit=limit)


async def test_refill_over_time(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    limit = Limit(capacity=4, refill_per_second=2.0)
    await spend(limiter, 4, limit=limit)
    clock.advance(0.25)  # half a token
    assert (await refused(limiter, limit=limit)).retry_after_seconds == pytest.approx(0.25)
    clock.advance(0.25)
    await spend(limiter, 1, limit=limit)
    clock.advance(1.5)  # three tokens back
    await spend(limiter, 3, limit=limit)
    await refused(limiter, limit=limit)
    clock.advance(3600)  # never more than the capacity, however long the idle time
    await spend(limiter, 4, limit=limit)
    await refused(limiter, limit=limit)


async def test_costs_above_one(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    limit = Limit(capacity=10, refill_per_second=1.0)
    await spend(limiter, 1, limit=limit, cost=4)
    await spend(limiter, 1, limit=limit, cost=4)
    error = await refused(limiter, limit=limit, cost=4)  # 2 tokens left, 2 missing at 1 per second
    assert error.retry_after_seconds == pytest.approx(2.0)
    await spend(limiter, 2, limit=limit)  # the refused big call left the 2 tokens for small ones
    clock.advance(4)
    await spend(limiter, 1, limit=limit, cost=4)


async def test_impossible_costs_are_programming_errors(limiter: InProcessRateLimiter) -> None:
    limit = Limit(capacity=3, refill_per_second=1.0)
    for cost in (4, 0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            await limiter.acquire(tenant_id="A", tool_class=WRITES, limit=limit, cost=cost)


async def test_tenant_a_exhausting_does_not_affect_b_or_its_other_class(limiter: InProcessRateLimiter) -> None:
    limit = Limit.per_minute(60, burst=10)
    await spend(limiter, 10, tenant="A", limit=limit)
    for _ in range(20):
        await refused(limiter, tenant="A", limit=limit)
    await spend(limiter, 10, tenant="B", limit=limit)  # B has its whole burst, same tool class
    await spend(limiter, 10, tenant="A", tool_class=READS, limit=limit)  # A can still read
    await refused(limiter, tenant="B", limit=limit)


async def test_message_names_tool_class_limit_and_wait(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    limit = Limit.per_minute(60)
    await spend(limiter, 60, limit=limit)
    clock.advance(0.5)
    error = await refused(limiter, limit=limit, cost=3)
    assert error.retry_after_seconds == pytest.approx(2.5)
    assert error.message == "Rate limit for crm writes reached for this tenant (60 per minute); retry in 2.5 s."
    assert error.tool_class == WRITES
    assert error.limit == limit
    assert "Wait" in error.public_message()


def test_message_rounds_the_wait_up_and_describes_slow_limits() -> None:
    error = RateLimited(
        tool_class="reports", limit=Limit(capacity=1, refill_per_second=1 / 3600), retry_after_seconds=0.01
    )
    assert "Rate limit for reports reached" in error.message
    assert "(1 per hour)" in error.message
    assert "retry in 0.1 s." in error.message


async def test_idle_full_buckets_are_evicted(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(clock, sweep_interval_seconds=60)
    limit = Limit(capacity=10, refill_per_second=1.0)  # an emptied bucket is full again after 10 s
    for i in range(1000):
        await spend(limiter, 10, tenant=f"t{i}", limit=limit)
    assert len(limiter) == 1000
    clock.advance(61)
    await spend(limiter, 1, tenant="fresh", limit=limit)  # the next call sweeps
    assert len(limiter) == 1


async def test_sweep_keeps_buckets_that_are_not_full_yet(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(clock, sweep_interval_seconds=60)
    slow = Limit(capacity=10, refill_per_second=0.1)  # 100 s from empty to full
    await spend(limiter, 10, tenant="A", limit=slow)
    clock.advance(61)
    await spend(limiter, 1, tenant="B", limit=slow)
    assert len(limiter) == 2
    error = await refused(limiter, tenant="A", limit=slow, cost=7)  # 6.1 tokens back, not a fresh bucket
    assert error.retry_after_seconds == pytest.approx(9.0)


async def test_lru_cap_bounds_memory(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(clock, max_keys=100)
    limit = Limit(capacity=5, refill_per_second=0.001)
    await spend(limiter, 5, tenant="hot", limit=limit)
    for i in range(500):
        await spend(limiter, 1, tenant=f"t{i}", limit=limit)
        if i % 10 == 0:  # recently used keys survive
            await refused(limiter, tenant="hot", limit=limit)
    assert len(limiter) == 100
    await refused(limiter, tenant="hot", limit=limit)


async def test_clock_stepping_back_neither_mints_nor_burns(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    limit = Limit(capacity=2, refill_per_second=1.0)
    await spend(limiter, 2, limit=limit)
    clock.advance(-100)
    await refused(limiter, limit=limit)
    clock.advance(101)
    await spend(limiter, 1, limit=limit)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("crm_get_lead", "crm:read"),
        ("crm_list_leads", "crm:read"),
        ("crm_search_contacts", "crm:read"),
        ("crm_preview_import", "crm:read"),
        ("crm_capture_lead", "crm:write"),
        ("crm_delete_contact", "crm:write"),
        ("campaigns_list_campaigns", "campaigns:read"),
        ("campaigns_launch", "campaigns:write"),
        ("content_get_asset", "content:read"),
        ("business_search_offers", "business:read"),
        ("integrations_sync_now", "integrations:write"),
        ("get_lead", "default:read"),
        ("list_tools", "default:read"),
        ("import_rows", "default:write"),
        ("billing_get_invoice", "default:write"),  # unknown namespace: the whole name is the verb
        ("crm", "default:write"),
        ("crm_", "crm:write"),
        ("crm_getter", "crm:write"),  # "get" must be a whole verb
        ("", "default:write"),
    ],
)
def test_classify_tool(name: str, expected: str) -> None:
    assert classify_tool(name) == expected


def test_a_tools_read_only_hint_decides_over_its_verb() -> None:
    assert classify_tool("business_check_entitlement", read_only=True) == "business:read"
    assert classify_tool("content_classify_text", read_only=True) == "content:read"
    assert classify_tool("crm_get_lead", read_only=False) == "crm:write"


def test_default_limits_cover_every_class_and_writes_are_stricter() -> None:
    for context in ("crm", "campaigns", "content", "business", "integrations", "default"):
        read, write = DEFAULT_LIMITS[f"{context}:read"], DEFAULT_LIMITS[f"{context}:write"]
        assert read == Limit.per_minute(600, burst=100)
        assert write == Limit.per_minute(120, burst=30)
    assert limit_for(classify_tool("crm_get_lead")) == DEFAULT_LIMITS["crm:read"]
    assert limit_for("newctx:read") == Limit.per_minute(600, burst=100)
    assert limit_for("whatever") == Limit.per_minute(120, burst=30)
    custom = {"crm:write": Limit.per_minute(10)}
    assert limit_for("crm:write", custom) == Limit.per_minute(10)


class FlakyScript:
    """Stands in for a registered Lua script: fails while ``down``, otherwise answers ``reply``."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0
        self.reply = [1, 0]

    async def __call__(self, keys: list[str], args: list[object]) -> list[int]:
        self.calls += 1
        if self.down:
            raise RedisConnectionError("connection refused")
        return self.reply


class FakeRedis:
    def __init__(self) -> None:
        self.script = FlakyScript()

    def register_script(self, source: str) -> FlakyScript:
        assert "redis.call('TIME')" in source
        return self.script


async def test_redis_outage_fails_open_skips_redis_for_a_while_then_recovers(clock: FakeClock) -> None:
    fake = FakeRedis()
    fallback = InProcessRateLimiter(clock)
    limiter = RedisRateLimiter(fake, fallback=fallback, retry_redis_after_seconds=5, clock=clock)  # type: ignore[arg-type]
    limit = Limit(capacity=2, refill_per_second=0.01)
    await limiter.acquire(tenant_id="A", tool_class=WRITES, limit=limit)
    await limiter.acquire(tenant_id="A", tool_class=WRITES, limit=limit)
    with pytest.raises(RateLimited):  # the fallback still limits
        await limiter.acquire(tenant_id="A", tool_class=WRITES, limit=limit)
    assert fake.script.calls == 1  # after one failure Redis is left alone instead of timing out on every call
    fake.script.down = False
    clock.advance(5)
    await limiter.acquire(tenant_id="A", tool_class=WRITES, limit=limit)  # Redis answers again: allowed
    fake.script.reply = [0, 2500]
    with pytest.raises(RateLimited) as info:
        await limiter.acquire(tenant_id="A", tool_class=WRITES, limit=limit)
    assert info.value.retry_after_seconds == pytest.approx(2.5)
    assert fake.script.calls == 3


def test_redis_keys_do_not_collide_across_tenant_and_class() -> None:
    limiter = RedisRateLimiter(FakeRedis(), prefix="p:")  # type: ignore[arg-type]
    assert limiter.key("a:b", "c") != limiter.key("a", "b:c")
    assert limiter.key("t-1", "crm:write") == "p:3:t-1:crm:write"
