"""Unit of work: one transaction carrying business rows, audit entries, outbox events and idempotency."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from psycopg import sql
from pydantic import BaseModel
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.infrastructure import audit, idempotency
from promptsales.domain_core.infrastructure.tables import OutboxEventRecord
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.clock import Clock, utc_now
from promptsales.domain_core.shared.errors import Unavailable
from promptsales.domain_core.shared.events import DomainEvent

R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")
EventsCommitted = Callable[[str], None]


class UsageMeter(Protocol):
    """Settles a unit's metered usage against the tenant's plan inside its transaction (business context)."""

    async def settle(self, uow: "UnitOfWork") -> None:
        """Count the unit's usage; raise QuotaExceeded (rolling everything back) when a limit is reached."""
        ...


class UnitOfWork:
    """What a service sees of the current transaction: the session, the caller, and ways to record."""

    def __init__(self, session: AsyncSession, caller: Caller, now: datetime) -> None:
        self.session = session
        self.caller = caller
        self.now = now
        self.idempotency_key: str | None = None
        self.usage: dict[str, int] = {}
        self._audit: list[audit.PendingAuditEntry] = []
        self._events: list[DomainEvent] = []
        self._after_commit: list[Callable[[], None]] = []

    @property
    def tenant_id(self) -> str:
        """The tenant every query of this unit must be scoped to."""
        return self.caller.tenant_id

    def audit(
        self,
        action: str,
        *,
        target_type: str,
        target_id: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        """Record an audit entry, written with the rest of the transaction."""
        summary = changes if changes is not None else audit.summarize_changes(before, after)
        self._audit.append(audit.PendingAuditEntry(action, target_type, target_id, summary))

    def emit(self, event_type: str, payload: dict[str, Any]) -> DomainEvent:
        """Record a domain event in the outbox, published after commit."""
        event = DomainEvent(type=event_type, tenant_id=self.tenant_id, payload=payload, occurred_at=self.now)
        self._events.append(event)
        return event

    def meter(self, quota: str, amount: int = 1) -> None:
        """Record usage of a plan quota (e.g. a contact created: ``meter("contacts")``; removed: ``-1``).

        It is checked against the plan and counted in this same transaction, so a call that fails consumes
        nothing and concurrent calls cannot overshoot a limit.
        """
        self.usage[quota] = self.usage.get(quota, 0) + amount

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this unit has committed (never after a rollback)."""
        self._after_commit.append(callback)

    @property
    def has_events(self) -> bool:
        """Whether this unit wrote outbox events (the relay is nudged after commit)."""
        return bool(self._events)

    async def _flush_side_records(self) -> None:
        if self._events:
            await self.session.execute(
                insert(OutboxEventRecord),
                [
                    {
                        "id": event.id,
                        "tenant_id": event.tenant_id,
                        "type": event.type,
                        "payload": event.payload,
                        "occurred_at": event.occurred_at,
                        "published_at": None,
                        "attempts": 0,
                    }
                    for event in self._events
                ],
            )
        await audit.append_entries(
            self.session, self.caller, self._audit, now=self.now, idempotency_key=self.idempotency_key
        )


class UnitOfWorkFactory:
    """Opens tenant-scoped transactions on one engine."""

    def __init__(
        self, engine: AsyncEngine, *, clock: Clock = utc_now, on_events: EventsCommitted | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.on_events = on_events
        self.dialect = engine.dialect.name
        # Set by the composition root once the business context exists; without it nothing is metered.
        self.usage_meter: UsageMeter | None = None

    @asynccontextmanager
    async def begin(self, caller: Caller, *, read_only: bool = False) -> AsyncIterator[UnitOfWork]:
        """A transaction scoped to ``caller.tenant_id``; commits on success, rolls back on any error."""
        async with AsyncSession(self.engine, expire_on_commit=False, autoflush=False) as session:
            connection = await session.connection(execution_options={"promptsales_read_only": read_only})
            if self.dialect == "postgresql":
                await _begin_for_tenant(connection, caller.tenant_id, read_only=read_only)
            uow = UnitOfWork(session, caller, self.clock())
            yield uow
            if not read_only:
                if self.usage_meter is not None:
                    await self.usage_meter.settle(uow)
                await uow._flush_side_records()
            await session.commit()
        for callback in uow._after_commit:
            callback()
        if uow.has_events and self.on_events is not None:
            self.on_events(caller.tenant_id)

    async def read(self, caller: Caller, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run a read-only use case."""
        try:
            async with self.begin(caller, read_only=True) as uow:
                return await work(uow)
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    async def mutate(
        self,
        caller: Caller,
        *,
        action: str,
        arguments: dict[str, Any],
        idempotency_key: str | None,
        work: Callable[[UnitOfWork], Awaitable[R]],
        result_type: type[R],
    ) -> R:
        """Run a mutating use case once per idempotency key; retried once when a concurrent insert races."""
        result, _ = await self.mutate_tracked(
            caller,
            action=action,
            arguments=arguments,
            idempotency_key=idempotency_key,
            work=work,
            result_type=result_type,
        )
        return result

    async def mutate_tracked(
        self,
        caller: Caller,
        *,
        action: str,
        arguments: dict[str, Any],
        idempotency_key: str | None,
        work: Callable[[UnitOfWork], Awaitable[R]],
        result_type: type[R],
        retention: timedelta = idempotency.RETENTION,
    ) -> tuple[R, bool]:
        """Like ``mutate``, also telling whether the result was replayed from an earlier call."""
        digest = idempotency.request_hash(arguments) if idempotency_key else ""
        for attempt in (1, 2):
            try:
                async with self.begin(caller) as uow:
                    uow.idempotency_key = idempotency_key
                    if idempotency_key:
                        stored = await idempotency.claim(
                            uow.session,
                            tenant_id=caller.tenant_id,
                            scope=action,
                            key=idempotency_key,
                            digest=digest,
                            now=uow.now,
                            retention=retention,
                        )
                        if stored is not None:
                            return result_type.model_validate(stored), True
                    result = await work(uow)
                    if idempotency_key:
                        await idempotency.complete(
                            uow.session,
                            tenant_id=caller.tenant_id,
                            scope=action,
                            key=idempotency_key,
                            response=result.model_dump(mode="json"),
                        )
                    return result, False
            except IntegrityError:
                # A concurrent writer inserted the same natural key first; the retry sees its row.
                if attempt == 2:
                    raise
            except (OperationalError, InterfaceError) as exc:
                raise _unavailable(exc) from exc
        raise AssertionError("unreachable")


async def _begin_for_tenant(connection: AsyncConnection, tenant_id: str, *, read_only: bool) -> None:
    """Open the transaction and set the tenant RLS reads, in one round trip (simple query protocol).

    The engine runs the driver in autocommit mode, so nothing else opens the transaction; COMMIT/ROLLBACK
    still come from the session (psycopg sends them whenever a transaction is open).
    """
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    tenant = sql.Literal(tenant_id).as_string(driver)
    mode = "BEGIN READ ONLY" if read_only else "BEGIN"
    # is_local=true scopes the setting to this transaction: a pooled connection never carries it over.
    await driver.execute(f"{mode}; SELECT set_config('app.tenant_id', {tenant}, true)")  # type: ignore[union-attr]


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable(
        "The database could not complete the request; nothing was changed.",
        hint="Retry in a few seconds; if it persists, check /readyz.",
    )
