"""The process runtime: engine, unit of work, outbox relay and facades, started once per process."""

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import structlog
from fastmcp import Context
from fastmcp.server.dependencies import get_access_token
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from promptsales.domain_core.analytics.bootstrap import build_analytics
from promptsales.domain_core.analytics.facade import AnalyticsFacade
from promptsales.domain_core.business.bootstrap import Business, build_business
from promptsales.domain_core.business.facade import BusinessFacade, ToolInfo
from promptsales.domain_core.business.paypal.simulator import PayPalSimulator
from promptsales.domain_core.campaigns.bootstrap import build_campaigns
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.content.bootstrap import build_content
from promptsales.domain_core.content.dto import ImportedDesign
from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.crm.bootstrap import build_crm
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure import outbox
from promptsales.domain_core.infrastructure.db import create_engine
from promptsales.domain_core.infrastructure.outbox import EventHandler, EventPublisher, InProcessBus, OutboxRelay
from promptsales.domain_core.infrastructure.rate_limit import (
    InProcessRateLimiter,
    Limit,
    RateLimiter,
    RedisRateLimiter,
    classify_tool,
)
from promptsales.domain_core.infrastructure.schema import upgrade_to_head
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.integrations.bootstrap import build_integrations
from promptsales.domain_core.integrations.dto import EmailCopy
from promptsales.domain_core.integrations.facade import IntegrationsFacade
from promptsales.domain_core.shared.caller import ActorKind, Caller
from promptsales.domain_core.shared.errors import NotEntitled
from promptsales.servers.metrics import HttpMetrics, ToolMetrics
from promptsales.servers.ops_metrics import DbPoolCollector, OutboxMetrics, WebhookMetrics
from promptsales.servers.request_ids import current_request_id

log = structlog.get_logger(__name__)
T = TypeVar("T")

TENANT_MAX_LENGTH = 64
ACTOR_MAX_LENGTH = 128


class Runtime:
    """Shared by every server of the process; reference-counted so mounted servers start it once."""

    def __init__(self, settings: Settings, *, integrations_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        # Live-mode platform requests go through this transport when given (tests point it at loopback simulators).
        self._integrations_transport = integrations_transport
        self.registry = CollectorRegistry()
        self.metrics = ToolMetrics(self.registry)
        self.outbox_metrics = OutboxMetrics(self.registry)
        self.webhook_metrics = WebhookMetrics(self.registry)
        self.http_metrics = HttpMetrics(self.registry)
        self.registry.register(DbPoolCollector(lambda: self._engine))
        self._users = 0
        self._lock = asyncio.Lock()
        self._engine: AsyncEngine | None = None
        self._uow: UnitOfWorkFactory | None = None
        self._relay: OutboxRelay | None = None
        self._crm: CrmFacade | None = None
        self._business: Business | None = None
        self._content: ContentFacade | None = None
        self._integrations: IntegrationsFacade | None = None
        self._campaigns: CampaignsFacade | None = None
        self._analytics: AnalyticsFacade | None = None
        self._redis: Any = None
        self._consumers: list[Any] = []
        self._limiter: RateLimiter | None = None
        # Tool name -> OAuth scopes it needs, and what entitlement checks need of it; filled from the served
        # tools when a server starts.
        self.tool_scopes: dict[str, tuple[str, ...]] = {}
        self.tool_infos: dict[str, ToolInfo] = {}
        self.bus: InProcessBus | None = None

    @property
    def crm(self) -> CrmFacade:
        """The CRM facade (available once started)."""
        return _started(self._crm)

    @property
    def business(self) -> BusinessFacade:
        """The business facade (available once started)."""
        return _started(self._business).facade

    @property
    def content(self) -> ContentFacade:
        """The content facade (available once started)."""
        return _started(self._content)

    @property
    def integrations(self) -> IntegrationsFacade:
        """The integrations facade (available once started)."""
        return _started(self._integrations)

    @property
    def campaigns(self) -> CampaignsFacade:
        """The campaigns facade (available once started)."""
        return _started(self._campaigns)

    @property
    def analytics(self) -> AnalyticsFacade:
        """The analytics facade (available once started)."""
        return _started(self._analytics)

    @property
    def paypal_simulator(self) -> PayPalSimulator | None:
        """The in-process PayPal simulator in sandbox mode (None in live mode or before start)."""
        return self._business.simulator if self._business is not None else None

    def tool_info(self, name: str) -> ToolInfo | None:
        """A served tool by its gateway name (``crm_import_leads``)."""
        return next((info for info in self.tool_infos.values() if info.name == name), None)

    @property
    def uow(self) -> UnitOfWorkFactory:
        """The unit-of-work factory (available once started)."""
        if self._uow is None:
            raise RuntimeError("runtime not started")
        return self._uow

    def caller(self, ctx: Context | None) -> Caller:
        """Who calls: the verified token's tenant and actor claims; without a token (stdio, auth none) the settings'."""
        # The middleware's id: the audit entry, log lines and error references of one call all carry it.
        request_id = current_request_id()
        token = get_access_token()
        if token is None:
            return Caller(
                tenant_id=self.settings.tenant,
                actor_id=self.settings.actor,
                actor_kind="agent",
                source="mcp",
                request_id=request_id,
            )
        tenant_claim, actor_claim = self.settings.auth_tenant_claim, self.settings.auth_actor_claim
        tenant = token.claims.get(tenant_claim)
        if not isinstance(tenant, str) or not tenant.strip() or len(tenant) > TENANT_MAX_LENGTH:
            raise NotEntitled(
                f"The access token has no usable '{tenant_claim}' claim, so the tenant is unknown.",
                hint=f"Ask your identity provider to put the tenant id (1-{TENANT_MAX_LENGTH} characters) in the "
                f"'{tenant_claim}' claim (PROMPTSALES_AUTH_TENANT_CLAIM names it).",
            )
        actor = token.claims.get(actor_claim)
        if not isinstance(actor, str) or not actor.strip() or len(actor) > ACTOR_MAX_LENGTH:
            raise NotEntitled(
                f"The access token has no usable '{actor_claim}' claim, so the acting agent is unknown.",
                hint=f"Issue tokens with the '{actor_claim}' claim (PROMPTSALES_AUTH_ACTOR_CLAIM names it).",
            )
        # Audit entries and campaign approvals say whether a person or an agent acted; identity providers say so
        # in a claim (a token without it acts as an agent).
        kind: ActorKind = "human" if token.claims.get(self.settings.auth_actor_kind_claim) == "human" else "agent"
        return Caller(tenant_id=tenant, actor_id=actor, actor_kind=kind, source="mcp", request_id=request_id)

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
            self._uow = UnitOfWorkFactory(
                self._engine,
                on_events=lambda t: relay_holder[0].nudge(t),
                reconnect_window_s=settings.database_reconnect_seconds,
            )
            self.bus = InProcessBus(self._uow)
            publisher: EventPublisher = self.bus
            if settings.redis_url:
                publisher = await self._redis_publisher(settings.redis_url)
            self._relay = OutboxRelay(
                self._uow, publisher, poll_seconds=settings.outbox_poll_seconds, observer=self.outbox_metrics
            )
            relay_holder.append(self._relay)
            self._crm = build_crm(self._uow)
            self._business = build_business(self._uow, settings)
            # Plans limit what every context writes (CRM contacts, content generations, seats), so every unit of
            # work settles its usage with the business meter in its own transaction. Wired here, in the
            # composition root, so no context reaches into the shared factory to install it.
            self._uow.usage_meter = self._business.meter
            self._content = build_content(self._uow, settings)
            self._crm.use_interaction_analysis(self._content.analyze_interaction)
            content = self._content
            self._crm.use_answer_extraction(
                lambda caller, text, schema: content.extract_fields(caller, text=text, schema=schema)
            )
            self._limiter = self._build_limiter()
            business = self._business.facade

            async def live_connectors(caller: Caller) -> bool:
                return (await business.standing(caller)).plan.live_connectors

            # Syncs write CRM records through the CRM facade; live connections need a plan that includes them.
            self._integrations = build_integrations(
                self._uow,
                settings,
                crm=self._crm,
                live_allowed=live_connectors,
                limiter=self._limiter,
                live_transport=self._integrations_transport,
            )
            # The outbox's first consumer: CRM contact changes pushed to the connected CRM platforms.
            integrations = self._integrations

            async def export_design(caller: Caller, platform: str, design_id: str) -> ImportedDesign:
                found = await integrations.export_design(caller, platform=platform, design_id=design_id, format="png")
                return ImportedDesign(
                    data=found.bytes,
                    mime_type=found.content_type,
                    title=found.title or design_id,
                    width=found.width,
                    height=found.height,
                )

            # The content library imports designs from the design platforms the tenant connected, and brand kits
            # send their logo there.
            self._content.use_design_source(export_design)
            self._content.use_brand_push(
                lambda caller, platform, png, name: integrations.push_brand_logo(
                    caller, platform=platform, png=png, name=name
                )
            )

            async def approved_email_copy(caller: Caller, asset_id: str) -> EmailCopy:
                found = await content.approved_copy(caller, asset_id, channel="email")
                return EmailCopy(
                    asset_id=found.asset_id,
                    version=found.version,
                    title=found.title,
                    language=found.language,
                    fields=dict(found.fields),
                    accent_color=found.accent_color,
                )

            # Email campaigns send only copy the content library approved.
            integrations.use_copy_source(approved_email_copy)
            await self._subscribe(
                integrations.CRM_PUSH_CONSUMER, set(integrations.CRM_PUSH_EVENTS), integrations.on_crm_event
            )
            self._crm.add_360_section("support_tickets", self._integrations.tickets_section)
            # Campaigns plan with CRM segments and approved content, check plan entitlements and spend with
            # business, and run on the platforms through integrations; leads captured through their tracking
            # links come back as CRM events.
            campaigns = build_campaigns(
                self._uow, crm=self._crm, content=self._content, business=business, integrations=integrations
            )
            self._campaigns = campaigns
            await self._subscribe(
                campaigns.TOUCH_CONSUMER,
                set(campaigns.TOUCH_EVENTS),
                campaigns.on_crm_event,
                wants=campaigns.wants_crm_event,
            )
            # Analytics joins the platforms' results (through integrations) with CRM journeys and outcomes (outbox
            # events as they happen), measured against the campaigns' plans; the plan says which models it gets.
            analytics = build_analytics(
                self._uow,
                campaigns=campaigns,
                crm=self._crm,
                integrations=integrations,
                business=business,
                fresh_for=timedelta(minutes=settings.analytics_refresh_minutes),
            )
            self._analytics = analytics
            await self._subscribe(analytics.JOURNEY_CONSUMER, set(analytics.JOURNEY_EVENTS), analytics.on_crm_event)
            await self._relay.start()
            log.info("runtime_started", database=self._engine.dialect.name, redis=bool(settings.redis_url))

    def _build_limiter(self) -> RateLimiter | None:
        if not self.settings.rate_limits_enabled:
            return None
        if self._redis is not None:
            # Shared buckets across replicas; falls back to this process's buckets if Redis is unreachable.
            return RedisRateLimiter(self._redis, fallback=InProcessRateLimiter())
        return InProcessRateLimiter()

    def _limit(self, tool_class: str) -> Limit:
        per_minute = (
            self.settings.rate_limit_reads_per_minute
            if tool_class.endswith(":read")
            else self.settings.rate_limit_writes_per_minute
        )
        return Limit.per_minute(per_minute)

    async def admit(self, ctx: Context | None, tool: str) -> None:
        """Let a tool call through only within the tenant's plan (NotEntitled; fails closed with Unavailable
        when the plan cannot be read) and its rate (RateLimited: one token of the tenant's bucket for the class)."""
        info = self.tool_infos.get(tool)
        if info is None:
            return  # not a tool of ours: fastmcp answers "Unknown tool"
        caller = self.caller(ctx)
        standing = await self.business.authorize_tool(caller, info)
        if self._limiter is None:
            return
        tool_class = classify_tool(info.name, read_only=info.read_only)
        limit = self._limit(tool_class)
        plan_rate = self.business.calls_per_minute(standing)
        if plan_rate is not None and plan_rate < limit.refill_per_second * 60:
            limit = Limit.per_minute(plan_rate)
        await self._limiter.acquire(tenant_id=caller.tenant_id, tool_class=tool_class, limit=limit)

    async def visible_tools(self, ctx: Context | None, names: list[str]) -> set[str]:
        """The names among ``names`` the caller's plan includes (unknown names stay visible)."""
        known = {name: self.tool_infos[name] for name in names if name in self.tool_infos}
        allowed = await self.business.allowed_tools(self.caller(ctx), known)
        return {name for name in names if name not in known or name in allowed}

    async def _subscribe(
        self, consumer: str, event_types: set[str], handler: EventHandler, *, wants: outbox.EventFilter | None = None
    ) -> None:
        """Deliver ``event_types`` to ``handler`` once per event: a Redis Streams group when Redis is configured
        (shared by all replicas), else this process's bus."""
        assert self._uow is not None and self.bus is not None
        if self._redis is None:
            self.bus.subscribe(consumer, event_types, handler, wants=wants)
            return
        from promptsales.domain_core.infrastructure.redis_streams import RedisStreamConsumer

        worker = RedisStreamConsumer(
            self._redis,
            self._uow,
            consumer=consumer,
            event_types=event_types,
            handler=handler,
            wants=wants,
            stream=self.settings.event_stream,
        )
        await worker.ensure_group()
        await worker.start()
        self._consumers.append(worker)

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
            if self._business is not None:
                await self._business.aclose()
            if self._content is not None:
                await self._content.aclose()
            if self._integrations is not None:
                await self._integrations.drain()
            if self._engine is not None:
                await self._engine.dispose()
            self._engine = self._uow = self._relay = self._crm = self._business = self._content = None
            self._integrations = self._campaigns = self._analytics = None

    async def drain_events(self) -> int:
        """Publish every pending outbox event now and wait for its in-process consumers (tests, shutdown)."""
        if self._relay is None:
            return 0
        published = await self._relay.drain()
        if self._integrations is not None:
            await self._integrations.drain()
        return published

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


def _started(facade: T | None) -> T:
    """A facade the runtime built at start; before that, a clear error instead of an attribute error on None."""
    if facade is None:
        raise RuntimeError("runtime not started")
    return facade
