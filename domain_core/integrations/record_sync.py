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


Fetch = Callable[[str, str | None], Awaitable[tuple[Any, str | None]]]
Commit = Callable[[str, Any, dict[str, Any]], Awaitable[SyncRunView]]
Progress = Callable[[int, str], Awaitable[None]]
# The page budget of one run: a run stops (resumable) rather than hold a worker for ever.
MAX_PAGES = 1000


async def run_phases(
    run: SyncRunView,
    *,
    phases: Sequence[str],
    cursor: Mapping[str, Any],
    fetch: Fetch,
    commit: Commit,
    progress: Progress | None,
    label: str,
) -> SyncRunView:
    """A run in ordered phases (companies before contacts before deals...), each read page by page from the
    run's cursor: ``fetch(phase, after)`` gives a page and the cursor of the next (None: the phase's end), and
    ``commit(phase, page, next_cursor)`` applies and commits it, recording where a resumed run starts."""
    phase = next((p for p in phases if p == cursor.get("phase")), phases[0])
    after = cursor.get("after") if isinstance(cursor.get("after"), str) else None
    pages = 0
    for index in range(phases.index(phase), len(phases)):
        current = phases[index]
        while pages < MAX_PAGES:
            pages += 1
            page, next_after = await fetch(current, after)
            if next_after:
                following: dict[str, Any] = {"phase": current, "after": next_after}
            elif index + 1 < len(phases):
                following = {"phase": phases[index + 1], "after": None}
            else:
                following = {"phase": current, "after": None, "done": True}
            run = await commit(current, page, following)
            if progress is not None:
                done = run.created + run.updated + run.skipped + run.failed
                await progress(done, f"{label} {current}: {done} records, page {pages}")
            if not next_after or next_after == after:
                break
            after = next_after
        after = None
    return run
