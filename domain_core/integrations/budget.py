"""A per-tenant, per-platform request budget, shared by every replica when Redis is configured.

It is the project's one token-bucket limiter (:mod:`promptsales.domain_core.infrastructure.rate_limit`): the
bucket key is ``(tenant_id, "integrations:platform:<id>")``, so with :class:`RedisRateLimiter` all replicas
spend one bucket per tenant and platform (failing open to in-process buckets when Redis is down), and one
tenant's sync can never spend another tenant's allowance. The HTTP policy spends one token per attempt,
retries included, so a retry storm is bounded by the budget too.

Default limits stay under what the platforms publish (shared/reference/platform_apis.md); where a platform
publishes nothing usable the default is our own conservative choice, marked as such.
"""

from collections.abc import Mapping
from types import MappingProxyType

from promptsales.domain_core.infrastructure.rate_limit import Limit, RateLimiter

TOOL_CLASS_PREFIX = "integrations:platform:"

# Our own choice where the reference gives no per-tenant number: 2 requests per second sustained, burst 20.
DEFAULT_PLATFORM_LIMIT = Limit.per_minute(120, burst=20)

DEFAULT_PLATFORM_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        # §9: burst 100 requests / 10 s on Free/Starter (190 on Pro/Enterprise), shared by all apps of a portal:
        # stay at 80 % of the smallest tier.
        "hubspot": Limit(capacity=80, refill_per_second=8.0),
        # §11: 200 requests/min on the Team plan [~] (the smallest listed): 80 % of it.
        "zendesk": Limit.per_minute(160, burst=40),
        # §6: Mailchimp limits concurrency (10 connections per key), not rate; a rate budget still smooths bursts.
        "mailchimp": Limit.per_minute(300, burst=10),
        # §12: Canva exports 75 per 5 min per user; the budget is per tenant, so keep well under it.
        "canva": Limit.per_minute(12, burst=5),
    }
)


def tool_class(platform: str) -> str:
    """The limiter's bucket name for ``platform``."""
    return f"{TOOL_CLASS_PREFIX}{platform}"


class PlatformBudget:
    """Spends a tenant's request budget for one platform before each HTTP attempt."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        limits: Mapping[str, Limit] = DEFAULT_PLATFORM_LIMITS,
        default: Limit = DEFAULT_PLATFORM_LIMIT,
    ) -> None:
        self._limiter = limiter
        self._limits = limits
        self._default = default

    def limit_for(self, platform: str) -> Limit:
        """The bucket limit applied to ``platform``."""
        return self._limits.get(platform, self._default)

    async def acquire(self, *, tenant_id: str, platform: str, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens, or raise the limiter's ``RateLimited`` (with ``retry_after_seconds``)."""
        await self._limiter.acquire(
            tenant_id=tenant_id, tool_class=tool_class(platform), limit=self.limit_for(platform), cost=cost
        )
