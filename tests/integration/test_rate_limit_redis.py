"""The Redis token bucket: replicas share one bucket, tenants are isolated, and a Redis outage fails open."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from structlog.testing import capture_logs

from promptsales.domain_core.infrastructure.rate_limit import (
    InProcessRateLimiter,
    Limit,
    RateLimited,
    RedisRateLimiter,
)
from tests.integration.conftest import new_tenant

pytestmark = pytest.mark.redis

WRITES = "crm:write"
# Refills one token per 100 s: nothing comes back while a test runs, so counts are exact.
FROZEN = Limit(capacity=10, refill_per_second=0.01)


@pytest_asyncio.fixture(loop_scope="session")
async def prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    value = f"promptsales:test:rl:{uuid.uuid4().hex}:"
    yield value
    keys = [key async for key in redis_client.scan_iter(match=f"{value}*")]
    if keys:
        await redis_client.delete(*keys)


@pytest_asyncio.fixture(loop_scope="session")
async def second_client(redis_server: str) -> AsyncIterator[aioredis.Redis]:
    """A separate connection pool, standing in for another replica."""
    client = aioredis.Redis.from_url(redis_server)
    yield client
    await client.aclose()


async def attempt(limiter: RedisRateLimiter, tenant: str, limit: Limit, tool_class: str = WRITES) -> bool:
    try:
        await limiter.acquire(tenant_id=tenant, tool_class=tool_class, limit=limit)
    except RateLimited:
        return False
    return True


async def test_two_replicas_share_one_bucket(
    redis_client: aioredis.Redis, second_client: aioredis.Redis, prefix: str
) -> None:
    replicas = [RedisRateLimiter(redis_client, prefix=prefix), RedisRateLimiter(second_client, prefix=prefix)]
    tenant = new_tenant()
    n = FROZEN.capacity
    results = await asyncio.gather(*(attempt(replicas[i % 2], tenant, FROZEN) for i in range(3 * n)))
    assert sum(results) == n
    # Both replicas were refused afterwards: the bucket is one, not one per process.
    assert not await attempt(replicas[0], tenant, FROZEN)
    assert not await attempt(replicas[1], tenant, FROZEN)


async def test_tenant_a_burst_does_not_block_tenant_b(
    redis_client: aioredis.Redis, second_client: aioredis.Redis, prefix: str
) -> None:
    a_replica, b_replica = RedisRateLimiter(redis_client, prefix=prefix), RedisRateLimiter(second_client, prefix=prefix)
    tenant_a, tenant_b = new_tenant(), new_tenant()
    n = FROZEN.capacity
    a_results, b_results = await asyncio.gather(
        asyncio.gather(*(attempt(a_replica, tenant_a, FROZEN) for _ in range(5 * n))),
        asyncio.gather(*(attempt(b_replica, tenant_b, FROZEN) for _ in range(n))),
    )
    assert sum(a_results) == n
    assert all(b_results)  # every one of B's calls inside its burst got through while A was refused
    assert await attempt(a_replica, tenant_a, FROZEN, tool_class="crm:read")  # A's other class is untouched


async def test_retry_after_is_positive_and_within_one_refill_interval(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, prefix=prefix)
    limit = Limit.per_minute(60, burst=3)  # one token per second
    tenant = new_tenant()
    for _ in range(3):
        await limiter.acquire(tenant_id=tenant, tool_class=WRITES, limit=limit)
    with pytest.raises(RateLimited) as info:
        await limiter.acquire(tenant_id=tenant, tool_class=WRITES, limit=limit)
    assert 0 < info.value.retry_after_seconds <= 1 / limit.refill_per_second
    assert info.value.code == "rate_limited"
    assert "crm writes" in info.value.message
    assert "(60 per minute)" in info.value.message


async def test_refill_and_key_expiry(redis_client: aioredis.Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis_client, prefix=prefix)
    limit = Limit(capacity=2, refill_per_second=20.0)  # a token every 50 ms
    tenant = new_tenant()
    for _ in range(2):
        await limiter.acquire(tenant_id=tenant, tool_class=WRITES, limit=limit)
    with pytest.raises(RateLimited) as info:
        await limiter.acquire(tenant_id=tenant, tool_class=WRITES, limit=limit)
    await asyncio.sleep(info.value.retry_after_seconds + 0.02)
    await limiter.acquire(tenant_id=tenant, tool_class=WRITES, limit=limit)
    # The key vanishes once it would be full again (100 ms here, plus 1 s of slack), so idle tenants cost nothing.
    ttl = await redis_client.pttl(limiter.key(tenant, WRITES))
    assert 0 < ttl <= 1100


async def test_unreachable_redis_falls_back_to_in_process_and_still_limits() -> None:
    with socket.socket() as probe:  # a port nobody listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = aioredis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    fallback = InProcessRateLimiter()
    limiter = RedisRateLimiter(client, prefix="promptsales:test:rl:unused:", fallback=fallback)
    tenant, other = new_tenant(), new_tenant()
    limit = Limit(capacity=3, refill_per_second=0.01)
    try:
        with capture_logs() as logs:
            results = [await attempt(limiter, tenant, limit) for _ in range(5)]
        assert results == [True, True, True, False, False]
        assert await attempt(limiter, other, limit)  # isolation holds in the fallback too
        assert len(fallback) == 2
        assert any(entry["event"] == "rate_limit.redis_unavailable" for entry in logs)
    finally:
        await client.aclose()
