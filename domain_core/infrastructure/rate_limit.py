"""Per-tenant, per-tool-class rate limiting with token buckets.

Every bucket is keyed by ``(tenant_id, tool_class)``, so one tenant bursting never spends another tenant's
tokens, and a tenant hammering CRM writes can still read. A bucket holds up to ``capacity`` tokens (the
burst) and refills at ``refill_per_second`` (the sustained rate); a call spends ``cost`` tokens or is
refused with :class:`RateLimited`, which says how many seconds to wait.

Two implementations share that maths:

* :class:`InProcessRateLimiter` keeps buckets in a dict; right for a single process and for tests.
* :class:`RedisRateLimiter` runs the bucket as one atomic Lua script on Redis server time, so every replica
  shares one bucket per key and agrees on "now" even when their clocks drift.

Redis failures fail OPEN to an in-process limiter. Entitlements fail closed because they guard what a tenant
paid for; a rate limiter only smooths load and Redis is never its system of record, so a Redis outage must
not take the product down. During an outage each replica limits on its own (the effective limit is the
per-replica limit times the number of replicas), which still stops a runaway client.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from promptsales.domain_core.shared.errors import DomainError

log = structlog.get_logger(__name__)

KNOWN_CONTEXTS: frozenset[str] = frozenset({"crm", "campaigns", "content", "business", "integrations"})
READ_PREFIXES: tuple[str, ...] = ("get_", "list_", "search_", "preview_")
DEFAULT_CONTEXT = "default"


@dataclass(frozen=True)
class Limit:
    """A token bucket: ``capacity`` tokens of burst, refilled at ``refill_per_second``."""

    capacity: int
    refill_per_second: float

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {self.capacity}")
        if not (self.refill_per_second > 0 and math.isfinite(self.refill_per_second)):
            raise ValueError(f"refill_per_second must be a positive finite number, got {self.refill_per_second}")

    @classmethod
    def per_minute(cls, n: int, burst: int | None = None) -> "Limit":
        """``n`` calls per minute sustained, with a burst of ``burst`` (default: ``n``)."""
        return cls(capacity=n if burst is None else burst, refill_per_second=n / 60.0)

    def describe(self) -> str:
        """The sustained rate in words, e.g. ``"60 per minute"``."""
        per_minute = self.refill_per_second * 60.0
        if per_minute >= 1:
            return f"{per_minute:g} per minute"
        return f"{per_minute * 60.0:g} per hour"


class RateLimited(DomainError):
    """The tenant used up its budget for this tool class; retry after ``retry_after_seconds``."""

    code: ClassVar[str] = "rate_limited"

    def __init__(self, *, tool_class: str, limit: Limit, retry_after_seconds: float) -> None:
        # Round up to a tenth of a second: a client that waits exactly the advertised time must succeed.
        shown = math.ceil(retry_after_seconds * 10) / 10
        super().__init__(
            f"Rate limit for {_tool_class_words(tool_class)} reached for this tenant ({limit.describe()}); "
            f"retry in {shown:g} s.",
            hint="Wait before retrying, and spread bulk work over time instead of sending it all at once.",
        )
        self.tool_class = tool_class
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds


def _tool_class_words(tool_class: str) -> str:
    context, _, kind = tool_class.partition(":")
    return f"{context} {kind}s" if kind in ("read", "write") else tool_class


class RateLimiter(Protocol):
    """Spends ``cost`` tokens of the tenant's bucket for ``tool_class`` or raises :class:`RateLimited`."""

    async def acquire(self, *, tenant_id: str, tool_class: str, limit: Limit, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens now, or raise :class:`RateLimited` without spending any."""
        ...


def _check_cost(limit: Limit, cost: float) -> None:
    # Costs come from code, not from callers: a cost the bucket can never hold is a programming error,
    # and answering it with "retry later" would make a client retry forever.
    if not (cost > 0 and math.isfinite(cost)):
        raise ValueError(f"cost must be a positive finite number, got {cost}")
    if cost > limit.capacity:
        raise ValueError(f"cost {cost} exceeds the bucket capacity {limit.capacity}")


# ------------------------------------------------------------------------------------------- in-process


class _Bucket:
    """Tokens left at ``updated``, plus the limit last applied (needed to know when it is full again)."""

    __slots__ = ("capacity", "refill_per_second", "tokens", "updated")

    def __init__(self, tokens: float, updated: float, limit: Limit) -> None:
        self.tokens = tokens
        self.updated = updated
        self.capacity = limit.capacity
        self.refill_per_second = limit.refill_per_second

    def full_at(self) -> float:
        """The clock time at which this bucket has refilled completely."""
        return self.updated + (self.capacity - self.tokens) / self.refill_per_second


class InProcessRateLimiter:
    """Token buckets in a dict, for one process; memory is bounded by idle eviction and an LRU cap."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 100_000,
        sweep_interval_seconds: float = 60.0,
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._clock = clock
        self._max_keys = max_keys
        self._sweep_interval = sweep_interval_seconds
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()
        self._last_sweep = clock()

    def __len__(self) -> int:
        """How many buckets are held right now."""
        return len(self._buckets)

    async def acquire(self, *, tenant_id: str, tool_class: str, limit: Limit, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens now, or raise :class:`RateLimited` without spending any."""
        # No await in here: on one event loop the read-modify-write below cannot interleave with another call.
        self.take(tenant_id=tenant_id, tool_class=tool_class, limit=limit, cost=cost)

    def take(self, *, tenant_id: str, tool_class: str, limit: Limit, cost: float = 1.0) -> None:
        """Synchronous :meth:`acquire`, for callers outside an event loop."""
        _check_cost(limit, cost)
        now = self._clock()
        self._maybe_sweep(now)
        key = (tenant_id, tool_class)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(limit.capacity), now, limit)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                # Dropping the least recently used bucket at worst hands that key a fresh burst: lenient,
                # never wrongly strict, and the only way to cap memory against unbounded tenant ids.
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            # max(): a clock that steps back must not mint or burn tokens.
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(limit.capacity), bucket.tokens + elapsed * limit.refill_per_second)
            bucket.updated = max(now, bucket.updated)
            bucket.capacity = limit.capacity
            bucket.refill_per_second = limit.refill_per_second
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return
        raise RateLimited(
            tool_class=tool_class,
            limit=limit,
            retry_after_seconds=(cost - bucket.tokens) / limit.refill_per_second,
        )

    def _maybe_sweep(self, now: float) -> None:
        # A bucket that has refilled completely behaves exactly like a missing one, so dropping it is free.
        # Sweeping at most once per interval keeps the O(n) scan amortised over many calls.
        if now - self._last_sweep < self._sweep_interval:
            return
        self._last_sweep = now
        for key in [key for key, bucket in self._buckets.items() if bucket.full_at() <= now]:
            del self._buckets[key]


# ------------------------------------------------------------------------------------------------ Redis

# KEYS[1]: the bucket hash {tokens, ts}. ARGV: capacity, refill per second, cost.
# Time comes from the Redis server (TIME, microseconds) so replicas with skewed clocks share one timeline;
# since Redis 5 scripts replicate their effects, so a non-deterministic TIME before writes is allowed.
# Values are stored with %.17g because Lua's tostring keeps only 14 digits, too few for microsecond stamps.
_BUCKET_SCRIPT_LUA = """
local capacity = tonumber(ARGV[1])
local refill_per_us = tonumber(ARGV[2]) / 1000000
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = tokens + (now - ts) * refill_per_us
  ts = now
end
if tokens > capacity then
  tokens = capacity
end
local allowed = 0
local retry_ms = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry_ms = math.ceil((cost - tokens) / refill_per_us / 1000)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
-- Expire once the bucket would be full again (plus a second of slack): an absent key means a full bucket.
local full_ms = math.ceil((capacity - tokens) / refill_per_us / 1000)
redis.call('PEXPIRE', KEYS[1], full_ms + 1000)
return {allowed, retry_ms}
"""


class RedisRateLimiter:
    """Token buckets shared by every replica through Redis; falls back to in-process when Redis fails."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "promptsales:rl:",
        fallback: RateLimiter | None = None,
        retry_redis_after_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_BUCKET_SCRIPT_LUA)
        self.fallback: RateLimiter = fallback if fallback is not None else InProcessRateLimiter()
        self._retry_redis_after = retry_redis_after_seconds
        self._clock = clock
        # While Redis is known to be down, skip it for a while: otherwise every call pays a connect timeout.
        self._redis_down_until: float | None = None

    def key(self, tenant_id: str, tool_class: str) -> str:
        """The Redis key of one bucket; the tenant id is length-prefixed so no two pairs collide."""
        return f"{self._prefix}{len(tenant_id)}:{tenant_id}:{tool_class}"

    async def acquire(self, *, tenant_id: str, tool_class: str, limit: Limit, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens now, or raise :class:`RateLimited` without spending any."""
        _check_cost(limit, cost)
        now = self._clock()
        if self._redis_down_until is not None and now < self._redis_down_until:
            await self.fallback.acquire(tenant_id=tenant_id, tool_class=tool_class, limit=limit, cost=cost)
            return
        try:
            result: Any = await self._script(
                keys=[self.key(tenant_id, tool_class)],
                args=[limit.capacity, repr(limit.refill_per_second), repr(float(cost))],
            )
        except (RedisError, OSError) as exc:
            self._redis_down_until = now + self._retry_redis_after
            log.warning(
                "rate_limit.redis_unavailable",
                error=f"{type(exc).__name__}: {exc}",
                fallback=type(self.fallback).__name__,
                retry_redis_after_seconds=self._retry_redis_after,
            )
            await self.fallback.acquire(tenant_id=tenant_id, tool_class=tool_class, limit=limit, cost=cost)
            return
        if self._redis_down_until is not None:
            self._redis_down_until = None
            log.info("rate_limit.redis_recovered")
        allowed, retry_ms = int(result[0]), int(result[1])
        if not allowed:
            raise RateLimited(tool_class=tool_class, limit=limit, retry_after_seconds=retry_ms / 1000.0)


# ---------------------------------------------------------------------------------------- tool classes


def classify_tool(name: str, *, read_only: bool | None = None) -> str:
    """The tool class of ``name``: ``"<context>:read"`` or ``"<context>:write"`` (e.g. ``crm_get_lead``).

    ``read_only`` is the tool's own readOnlyHint where known (``business_check_entitlement`` reads); the verb
    prefix only decides for tools that do not say.
    """
    head, sep, rest = name.partition("_")
    if sep and head in KNOWN_CONTEXTS:
        context, action = head, rest
    else:
        context, action = DEFAULT_CONTEXT, name
    if read_only is not None:
        kind = "read" if read_only else "write"
    else:
        # Unknown verbs count as writes: the stricter limit is the safe default for anything new.
        kind = "read" if action.startswith(READ_PREFIXES) else "write"
    return f"{context}:{kind}"


# Defaults until deployments or plans override them: reads are cheap and bursty (an agent paging through
# results), writes touch the database and the outbox, so they get a lower sustained rate and a smaller burst.
DEFAULT_READ_LIMIT = Limit.per_minute(600, burst=100)
DEFAULT_WRITE_LIMIT = Limit.per_minute(120, burst=30)
DEFAULT_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        f"{context}:{kind}": DEFAULT_READ_LIMIT if kind == "read" else DEFAULT_WRITE_LIMIT
        for context in sorted({*KNOWN_CONTEXTS, DEFAULT_CONTEXT})
        for kind in ("read", "write")
    }
)


def limit_for(tool_class: str, limits: Mapping[str, Limit] = DEFAULT_LIMITS) -> Limit:
    """The limit of ``tool_class`` in ``limits``; unlisted classes get the read or write default."""
    found = limits.get(tool_class)
    if found is not None:
        return found
    return DEFAULT_READ_LIMIT if tool_class.endswith(":read") else DEFAULT_WRITE_LIMIT
