"""Unit of work: one transaction carrying business rows, audit entries, outbox events and idempotency."""

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeAlias, TypeVar

import psycopg
import structlog
from psycopg import sql
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.infrastructure import audit, db_errors, idempotency, side_records
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.clock import Clock, utc_now
from promptsales.domain_core.shared.commands import Command
from promptsales.domain_core.shared.errors import (
    StillRunning,
)
from promptsales.domain_core.shared.events import DomainEvent

log = structlog.get_logger(__name__)
R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")
P = TypeVar("P")
EventsCommitted = Callable[[str], None]
# What a mutating use case's idempotency digest is computed from: its command (preferred) or a plain dict.
Arguments: TypeAlias = Command | dict[str, Any]
MAX_ATTEMPTS = 5
# How long a unit is run again while Postgres is unreachable (a restart or failover takes a few seconds);
# PROMPTSALES_DATABASE_RECONNECT_SECONDS sets it per deployment.
RECONNECT_WINDOW_S = 8.0
RESERVATION_WAIT_S = 60.0
RESERVATION_POLL_S = 0.2


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
        audited = await audit.chain_entries(
            self.session, self.caller, self._audit, now=self.now, idempotency_key=self.idempotency_key
        )
        await side_records.write(self.session, self._events, audited)


class UnitOfWorkFactory:
    """Opens tenant-scoped transactions on one engine."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock = utc_now,
        on_events: EventsCommitted | None = None,
        reconnect_window_s: float = RECONNECT_WINDOW_S,
    ) -> None:
        self.engine = engine
        self.reconnect_window_s = reconnect_window_s
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
            try:
                await session.commit()
            except (DBAPIError, psycopg.Error) as exc:
                if db_errors.connection_lost(exc):  # COMMIT may have reached the server: never run again blindly
                    raise db_errors.outcome_unknown() from exc
                raise
        for callback in uow._after_commit:
            callback()
        if uow.has_events and self.on_events is not None:
            self.on_events(caller.tenant_id)

    async def read(self, caller: Caller, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run a read-only use case (again on a fresh connection while Postgres is briefly unreachable)."""

        async def attempt() -> T:
            async with self.begin(caller, read_only=True) as uow:
                return await work(uow)

        return await self._retrying(attempt)

    async def write(self, caller: Caller, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run one step of a longer use case in its own transaction (retried on races like every unit; no
        idempotency key: the use case's own records make the step safe to repeat)."""

        async def attempt() -> T:
            async with self.begin(caller) as uow:
                return await work(uow)

        return await self._retrying(attempt)

    async def mutate(
        self,
        caller: Caller,
        *,
        action: str,
        arguments: Arguments,
        idempotency_key: str | None,
        work: Callable[[UnitOfWork], Awaitable[R]],
        result_type: type[R],
    ) -> R:
        """Run a mutating use case once per idempotency key (``arguments``: its command, hashed whole)."""
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
        arguments: Arguments,
        idempotency_key: str | None,
        work: Callable[[UnitOfWork], Awaitable[R]],
        result_type: type[R],
        retention: timedelta = idempotency.RETENTION,
    ) -> tuple[R, bool]:
        """Like ``mutate``, also telling whether the result was replayed from an earlier call."""
        digest = idempotency.request_hash(_digest_source(arguments)) if idempotency_key else ""

        async def attempt() -> tuple[R, bool]:
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

        return await self._retrying(attempt)

    async def replay(
        self,
        caller: Caller,
        *,
        action: str,
        arguments: Arguments,
        idempotency_key: str | None,
        result_type: type[R],
    ) -> R | None:
        """The stored result of a finished call with this key and these arguments, or None (nothing is claimed)."""
        if not idempotency_key:
            return None
        digest = idempotency.request_hash(_digest_source(arguments))

        async def work(uow: UnitOfWork) -> R | None:
            stored = await idempotency.stored(
                uow.session, tenant_id=caller.tenant_id, scope=action, key=idempotency_key, digest=digest, now=uow.now
            )
            return None if stored is None else result_type.model_validate(stored)

        return await self.read(caller, work)

    async def mutate_paid(
        self,
        caller: Caller,
        *,
        action: str,
        arguments: Arguments,
        idempotency_key: str | None,
        prepare: Callable[[], Awaitable[P]],
        work: Callable[[UnitOfWork, P], Awaitable[R]],
        result_type: type[R],
    ) -> R:
        """Paid work (a model call, a render) outside any transaction, then its effects in one.

        With a key, the key is reserved first: a finished call is replayed without paying again, a concurrent
        call with the same key waits for the first, and a failed ``prepare`` releases the key for a retry.
        """
        if not idempotency_key:
            prepared = await prepare()
            return await self.mutate(
                caller,
                action=action,
                arguments=arguments,
                idempotency_key=None,
                work=lambda uow: work(uow, prepared),
                result_type=result_type,
            )
        digest = idempotency.request_hash(_digest_source(arguments))
        holder = uuid.uuid4().hex
        stored = await self._reserve(caller, action, idempotency_key, digest, holder)
        if stored is not None:
            return result_type.model_validate(stored)
        try:
            prepared = await prepare()
        except BaseException:
            await self._release(caller, action, idempotency_key, holder)
            raise

        async def attempt() -> R:
            async with self.begin(caller) as uow:
                uow.idempotency_key = idempotency_key
                ours, response = await idempotency.held_response(
                    uow.session, tenant_id=caller.tenant_id, scope=action, key=idempotency_key, holder=holder
                )
                if not ours:
                    if response is not None:  # our lease ran out and another caller finished the same request
                        return result_type.model_validate(response)
                    raise db_errors.idempotency_lost()
                result = await work(uow, prepared)
                await idempotency.complete(
                    uow.session,
                    tenant_id=caller.tenant_id,
                    scope=action,
                    key=idempotency_key,
                    response=result.model_dump(mode="json"),
                )
                return result

        try:
            return await self._retrying(attempt)
        except BaseException:
            await self._release(caller, action, idempotency_key, holder)
            raise

    async def _reserve(self, caller: Caller, action: str, key: str, digest: str, holder: str) -> dict[str, Any] | None:
        """Reserve ``key`` for ``holder`` (None) or return a finished call's response; waits while one runs."""
        waited = 0.0
        while True:

            async def attempt() -> idempotency.Reservation:
                async with self.begin(caller) as uow:
                    return await idempotency.reserve(
                        uow.session,
                        tenant_id=caller.tenant_id,
                        scope=action,
                        key=key,
                        digest=digest,
                        holder=holder,
                        now=uow.now,
                    )

            reservation = await self._retrying(attempt)
            if reservation.holder is not None:
                return None
            if reservation.response is not None:
                return reservation.response
            if waited >= RESERVATION_WAIT_S:
                raise StillRunning()
            await asyncio.sleep(RESERVATION_POLL_S)
            waited += RESERVATION_POLL_S

    async def _release(self, caller: Caller, action: str, key: str, holder: str) -> None:
        """Give the key back after failed paid work; a failure here only delays a retry until the lease ends."""
        try:
            async with self.begin(caller) as uow:
                await idempotency.release(uow.session, tenant_id=caller.tenant_id, scope=action, key=key, holder=holder)
        except (OperationalError, InterfaceError, DBAPIError):
            log.warning("idempotency_release_failed", action=action)

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (one whole transaction), again on failures that left nothing committed.

        Deadlocks, serialization failures and unique violations (a concurrent get-or-create won) are retried with
        jittered backoff inside the server instead of being handed to the agent; so is a connection that was lost
        or refused before COMMIT was sent (a dead pooled connection after a restart, a failover), for up to
        ``reconnect_window_s``. A connection lost during COMMIT is reported, never retried (``outcome_unknown``).
        """
        races = 0
        deadline = time.monotonic() + self.reconnect_window_s
        while True:
            try:
                return await attempt()
            except (DBAPIError, psycopg.Error) as exc:
                if db_errors.connection_lost(exc) and time.monotonic() < deadline:
                    log.info("transaction_retried", race="connection_lost")
                    await asyncio.sleep(random.uniform(0.05, 0.2))
                    continue
                race = db_errors.race_kind(exc) if isinstance(exc, DBAPIError) else None
                if race is None:
                    mapped = db_errors.database_error(exc)
                    if mapped is None:
                        raise
                    raise mapped from exc
                races += 1
                if races == MAX_ATTEMPTS:
                    raise db_errors.race_error(race) from exc
                log.info("transaction_retried", race=race, attempt=races)
                await asyncio.sleep(random.uniform(0.005, 0.02) * 2**races)


def _digest_source(arguments: Arguments) -> dict[str, Any]:
    return arguments.digest_source() if isinstance(arguments, Command) else arguments


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
