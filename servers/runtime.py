"""The process runtime: engine, unit of work, outbox relay and facades, started once per process."""

import asyncio
from typing import Any

import structlog
from fastmcp import Context
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from promptsales.domain_core.crm.bootstrap import build_crm
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.db import create_engine
from promptsales.domain_core.infrastructure.outbox import EventPublisher, InProcessBus, OutboxRelay
from promptsales.domain_core.infrastructure.schema import upgrade_to_head
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.metrics import ToolMetrics

log = structlog.get_logger(__name__)


class Runtime:
    """Shared by every server of the process; reference-counted so mounted servers start it once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()
        self.metrics = ToolMetrics(self.registry)
        self._users = 0
        self._lock = asyncio.Lock()
        self._engine: AsyncEngine | None = None
        self._uow: UnitOfWorkFactory | None = None
        self._relay: OutboxRelay | None = None
        self._crm: CrmFacade | None = None
        self._redis: Any = None
        self._consumers: list[Any] = []
        self.bus: InProcessBus | None = None

    @property
    def crm(self) -> CrmFacade:
        """The CRM facade (available once started)."""
        if self._crm is None:
            raise RuntimeError("runtime not started")
        return self._crm

    @property
    def uow(self) -> UnitOfWorkFactory:
        """The unit-of-work factory (available once started)."""
        if self._uow is None:
            raise RuntimeError("runtime not started")
        return self._uow

    def caller(self, ctx: Context) -> Caller:
        """Local mode: the configured tenant and actor (HTTP auth replaces this with token claims)."""
        return Caller(
            tenant_id=self.settings.tenant,
            actor_id=self.settings.actor,
            actor_kind="agent",
            source="mcp",
            request_id=str(ctx.request_id) if ctx.request_context is not None else None,
        )

    async def start(self) -> None:
        """Open pools and start background work (first user only)."""
        async with self._lock:
            self._users += 1
            if self._users > 1:
                return
            settings = self.settings
            if settings.migrate_on_start:
                await asyncio.to_thread(
                    upgrade_to_head, settings.resolved_migration_url, app_role=settings.database_app_role
                )
            self._engine = create_engine(settings)
            relay_holder: list[OutboxRelay] = []
            self._uow = UnitOfWorkFactory(self._engine, on_events=lambda t: relay_holder[0].nudge(t))
            self.bus = InProcessBus(self._uow)
            publisher: EventPublisher = self.bus
            if settings.redis_url:
                publisher = await self._redis_publisher(settings.redis_url)
            self._relay = OutboxRelay(self._uow, publisher, poll_seconds=settings.outbox_poll_seconds)
            relay_holder.append(self._relay)
            self._crm = build_crm(self._uow)
            await self._relay.start()
            log.info("runtime_started", database=self._engine.dialect.name, redis=bool(settings.redis_url))

    async def _redis_publisher(self, url: str) -> EventPublisher:
        import redis.asyncio as redis_asyncio

        from promptsales.domain_core.infrastructure.redis_streams import RedisStreamPublisher

        self._redis = redis_asyncio.from_url(url)
        return RedisStreamPublisher(self._redis, stream=self.settings.event_stream)

    async def stop(self) -> None:
        """Stop background work and dispose pools (last user only)."""
        async with self._lock:
            self._users -= 1
            if self._users > 0:
                return
            if self._relay is not None:
                await self._relay.stop()
            for consumer in self._consumers:
                await consumer.stop()
            if self._redis is not None:
                await self._redis.aclose()
            if self._engine is not None:
                await self._engine.dispose()
            self._engine = self._uow = self._relay = self._crm = None

    async def ready(self) -> bool:
        """Whether the database answers (for /readyz)."""
        if self._engine is None:
            return False
        try:
            async with self._engine.connect() as connection:
                await asyncio.wait_for(connection.execute(text("SELECT 1")), timeout=2)
        except Exception:
            return False
        return True
