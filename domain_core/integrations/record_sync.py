"""One page of any sync: apply each external record, then commit its links, counts and the next cursor together.

Records are applied one by one outside the page's transaction (each through another context's facade, under an
idempotency key of the record's id and version, so an interrupted page replays without a second effect); a
record that fails is counted with its reason and the page goes on. A crash before the commit leaves the cursor
where it was, and the resumed run applies the page again.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import SyncFailure, SyncRunView
from promptsales.domain_core.integrations.service import sync_runs
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class ExternalRecord:
    """A platform record as a sync sees it: its id, version (modification time) and compared fields."""

    external_id: str
    modified_at: datetime
    fields: Mapping[str, Any] = field(default_factory=dict)
    deleted: bool = False  # deleted on the platform: its link is marked deleted (the local record stays)


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one record did; ``local_id`` is linked to the record (None: nothing to link)."""

    kind: Literal["created", "updated", "skipped"]
    local_id: str | None = None


Apply = Callable[[ExternalRecord, ExternalLinkRecord | None], Awaitable[Applied]]


async def sync_page(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    platform: str,
    object_type: str,
    run_id: str,
    records: Sequence[ExternalRecord],
    apply: Apply,
    next_cursor: dict[str, Any],
) -> SyncRunView:
    """Apply ``records`` and commit the page with ``next_cursor`` (where a resumed run starts)."""

    async def current_links(uow: UnitOfWork) -> dict[str, ExternalLinkRecord]:
        return await repo.links(uow, platform, object_type, [r.external_id for r in records])

    known = await uow_factory.read(caller, current_links)
    counts = {"created": 0, "updated": 0, "skipped": 0}
    failures: list[SyncFailure] = []
    linked: list[tuple[ExternalRecord, str]] = []
    high_water: datetime | None = None
    for record in records:
        high_water = max(high_water, record.modified_at) if high_water else record.modified_at
        try:
            outcome = await apply(record, known.get(record.external_id))
        except DomainError as exc:
            failures.append(SyncFailure(external_id=record.external_id, reason=str(exc)[:300]))
            continue
        counts[outcome.kind] += 1
        if outcome.local_id is not None:
            linked.append((record, outcome.local_id))

    async def commit(uow: UnitOfWork) -> SyncRunView:
        for record, local_id in linked:
            await repo.put_link(
                uow,
                platform=platform,
                object_type=object_type,
                external_id=record.external_id,
                local_id=local_id,
                remote_modified_at=record.modified_at,
                fields=dict(record.fields),
                deleted=record.deleted,
            )
        run = await sync_runs.record_page(
            uow, run_id, cursor=next_cursor, failures=failures, high_water=high_water, **counts
        )
        return sync_runs.run_view(run)

    return await uow_factory.mutate(
        caller,
        action="integrations.sync_page",
        arguments={"run": run_id, "cursor": next_cursor},
        idempotency_key=None,
        work=commit,
        result_type=SyncRunView,
    )
