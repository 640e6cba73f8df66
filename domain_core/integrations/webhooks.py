"""Platform webhooks: one handler per platform verifies a delivery; the work is done after the answer, once per event.

A handler answers from the request alone (signature, handshake, which tenant) and may hand back work to run in
the background; :func:`apply_once` records the event id in the same transaction as the event's effect, so a
redelivered or concurrently repeated event is applied once.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import structlog

from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import InboundRequest, WebhookOutcome
from promptsales.domain_core.integrations.service import connections
from promptsales.domain_core.shared.caller import Caller

log = structlog.get_logger(__name__)

Deferred = Callable[[], Awaitable[None]]
MAX_EVENT_ID = 160


@dataclass(frozen=True, slots=True)
class Reception:
    """The answer to give at once, and the work to do after it (None: nothing)."""

    outcome: WebhookOutcome
    deferred: Deferred | None = None


class WebhookHandler(Protocol):
    """One platform's webhooks."""

    async def receive(self, request: InboundRequest) -> Reception: ...


def system_caller(platform: str, tenant_id: str = "-") -> Caller:
    """Who applies a platform's events (audit: a system actor from a webhook)."""
    return Caller(tenant_id=tenant_id, actor_id=platform, actor_kind="system", source="webhook")


async def tenant_of_account(uow: UnitOfWorkFactory, platform: str, account_id: str) -> str | None:
    """The tenant whose connection to ``platform`` is this account, whatever tenant asks."""
    key = connections.account_route(platform, account_id)
    return await uow.read(
        system_caller(platform), lambda u: repo.route_tenant(u, kind=connections.ROUTE_ACCOUNT, key=key)
    )


async def connection_mode(uow: UnitOfWorkFactory, caller: Caller, platform: str, account_id: str) -> str | None:
    """The mode of the tenant's connection to this account (None: not connected to it now)."""

    async def work(u: UnitOfWork) -> str | None:
        record = await repo.connection(u, platform)
        if record is None or record.account_id != account_id or record.status == "disconnected":
            return None
        return record.mode

    return await uow.read(caller, work)


async def apply_once(
    uow: UnitOfWorkFactory,
    caller: Caller,
    *,
    platform: str,
    event_id: str,
    event_type: str,
    work: Callable[[UnitOfWork], Awaitable[str]] | None = None,
) -> str:
    """Record the event and apply ``work`` in one transaction; "duplicate" when it was recorded before."""

    async def apply(u: UnitOfWork) -> WebhookOutcome:
        first = await repo.first_receipt(
            u, platform=platform, event_id=event_id[:MAX_EVENT_ID], event_type=event_type[:80], outcome="applied"
        )
        if not first:
            return WebhookOutcome(status_code=200, outcome="duplicate")
        outcome = await work(u) if work is not None else "recorded"
        u.audit(
            "integrations.webhook",
            target_type=f"{platform}_event",
            target_id=event_id[:40],
            changes={"type": event_type[:80], "outcome": outcome[:120]},
        )
        return WebhookOutcome(status_code=200, outcome=outcome)

    result = await uow.mutate(
        caller,
        action=f"integrations.webhook.{platform}",
        arguments={"event": event_id[:MAX_EVENT_ID]},
        idempotency_key=None,
        work=apply,
        result_type=WebhookOutcome,
    )
    return result.outcome


class Webhooks:
    """Dispatches deliveries to the platform handlers and runs their deferred work in the background."""

    def __init__(self, handlers: Mapping[str, WebhookHandler]) -> None:
        self._handlers = dict(handlers)
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, platform: str, handler: WebhookHandler) -> None:
        """Serve ``platform``'s webhooks with ``handler``."""
        self._handlers[platform] = handler

    async def receive(self, platform: str, request: InboundRequest) -> WebhookOutcome:
        """Answer a delivery; its work continues after the answer."""
        handler = self._handlers.get(platform)
        if handler is None:
            return WebhookOutcome(status_code=404, outcome=f"rejected: no webhooks for '{platform[:40]}'")
        reception = await handler.receive(request)
        if reception.deferred is not None:
            task = asyncio.create_task(self._guarded(platform, reception.deferred))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return reception.outcome

    @staticmethod
    async def _guarded(platform: str, deferred: Deferred) -> None:
        try:
            await deferred()
        except Exception:  # logged; the platform redelivers events it sees unacknowledged, we answered 200
            log.exception("integrations.webhook_apply_failed", platform=platform)

    async def drain(self) -> None:
        """Wait for the deferred work already accepted (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
