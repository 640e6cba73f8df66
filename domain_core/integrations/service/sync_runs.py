"""Sync runs in the database: start or resume, one committed page at a time, finish with a watermark."""

from datetime import datetime, timedelta
from typing import Any

from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import SyncFailure, SyncRunPage, SyncRunView
from promptsales.domain_core.integrations.tables import ConnectionRecord, SyncRunRecord
from promptsales.domain_core.shared.errors import Conflict, NotFound
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import decode_cursor, encode_cursor

# A run that has not written a page for this long is taken to have died with its process (it is resumed).
STALE_AFTER = timedelta(minutes=2)
MAX_FAILURES_KEPT = 50


def run_view(record: SyncRunRecord) -> SyncRunView:
    """A run as tools show it."""
    return SyncRunView(
        id=record.id,
        platform=record.platform,
        capability=record.capability,
        status=record.status,
        incremental_since=record.since,
        created=record.created,
        updated=record.updated,
        skipped=record.skipped,
        failed=record.failed,
        failures=[SyncFailure.model_validate(f) for f in record.failures],
        error=record.error,
        attempts=record.attempts,
        started_at=record.started_at,
        finished_at=record.finished_at,
    )


async def usable_connection(uow: UnitOfWork, platform: str) -> ConnectionRecord:
    """The tenant's connected connection to ``platform``, or an error saying what to do."""
    record = await repo.connection(uow, platform)
    if record is None or record.status in ("disconnected", "pending"):
        error = NotFound("connection", platform, field="platform")
        error.hint = f"Connect {platform} first with integrations_connect."
        raise error
    if record.status == "needs_reauth":
        raise Conflict(
            f"The {platform} connection needs to be authorised again: {record.last_error or 'credentials refused'}.",
            field="platform",
            hint="Run integrations_connect again for this platform.",
        )
    return record


async def begin(uow: UnitOfWork, *, platform: str, capability: str, full: bool) -> tuple[SyncRunRecord, bool]:
    """A new run, or the interrupted one resumed from its last committed page (True when resumed)."""
    connection = await usable_connection(uow, platform)
    # Lock the connection row: two concurrent starts would each find no running run and both begin one.
    await repo.connection(uow, platform, for_update=True)
    unfinished = await repo.unfinished_run(uow, connection.id, capability)
    if unfinished is not None:
        if unfinished.status == "running" and uow.now - unfinished.heartbeat_at < STALE_AFTER:
            raise Conflict(
                f"A {platform} {capability} sync is already running (run {unfinished.id}).",
                field="platform",
                hint="Follow it with integrations_get_sync_run, or start another when it has finished.",
            )
        unfinished.status, unfinished.attempts, unfinished.heartbeat_at = "running", unfinished.attempts + 1, uow.now
        unfinished.error = None
        await repo.save(uow, unfinished)
        uow.audit(
            "integrations.resume_sync",
            target_type="sync_run",
            target_id=unfinished.id,
            changes={"attempts": unfinished.attempts},
        )
        return unfinished, True
    since_text = None if full else connection.watermarks.get(capability)
    run = SyncRunRecord(
        id=new_id("sr"),
        tenant_id=uow.tenant_id,
        connection_id=connection.id,
        platform=platform,
        capability=capability,
        status="running",
        since=datetime.fromisoformat(since_text) if isinstance(since_text, str) else None,
        cursor={},
        failures=[],
        started_at=uow.now,
        heartbeat_at=uow.now,
    )
    await repo.save(uow, run)
    uow.audit(
        "integrations.start_sync",
        target_type="sync_run",
        target_id=run.id,
        changes={"platform": platform, "capability": capability, "full": full},
    )
    return run, False


async def record_page(
    uow: UnitOfWork,
    run_id: str,
    *,
    cursor: dict[str, Any],
    created: int,
    updated: int,
    skipped: int,
    failures: list[SyncFailure],
    high_water: datetime | None,
) -> SyncRunRecord:
    """Commit one page's counts and the cursor after it (a crash later resumes from here)."""
    run = await repo.sync_run(uow, run_id, for_update=True)
    if run is None:
        raise NotFound("sync run", run_id, field="run_id")
    previous = run.cursor.get("high_water")
    if previous and (high_water is None or datetime.fromisoformat(previous) > high_water):
        high_water = datetime.fromisoformat(previous)
    run.cursor = cursor | ({"high_water": high_water.isoformat()} if high_water else {})
    run.created += created
    run.updated += updated
    run.skipped += skipped
    run.failed += len(failures)
    kept = list(run.failures) + [f.model_dump() for f in failures]
    run.failures = kept[-MAX_FAILURES_KEPT:]
    run.heartbeat_at = uow.now
    await repo.save(uow, run)
    return run


async def finish(uow: UnitOfWork, run_id: str, *, error: str | None) -> SyncRunView:
    """End a run: succeeded / partial (some records failed) / interrupted (resumable); move the watermark."""
    found = await repo.sync_run(uow, run_id)
    if found is None:
        raise NotFound("sync run", run_id, field="run_id")
    # The connection before the run, in the order begin takes them (no deadlock with a run starting).
    connection = await repo.connection(uow, found.platform, for_update=True)
    run = await repo.sync_run(uow, run_id, for_update=True)
    assert run is not None
    if error is not None:
        run.status, run.error = "interrupted", error[:500]
    else:
        run.status = "partial" if run.failed else "succeeded"
        run.finished_at = uow.now
        high_water = run.cursor.get("high_water")
        if connection is not None and high_water:
            connection.watermarks = {**connection.watermarks, run.capability: high_water}
            await repo.save(uow, connection)
    run.heartbeat_at = uow.now
    await repo.save(uow, run)
    uow.audit(
        "integrations.finish_sync",
        target_type="sync_run",
        target_id=run.id,
        changes={"status": run.status, "created": run.created, "updated": run.updated, "failed": run.failed},
    )
    uow.emit("integrations.sync_finished", {"run_id": run.id, "platform": run.platform, "status": run.status})
    return run_view(run)


async def get(uow: UnitOfWork, run_id: str) -> SyncRunView:
    """One run."""
    run = await repo.sync_run(uow, run_id)
    if run is None:
        raise NotFound("sync run", run_id, field="run_id")
    return run_view(run)


async def page(uow: UnitOfWork, *, platform: str | None, cursor: str | None, limit: int) -> SyncRunPage:
    """Runs newest first."""
    filters = {"platform": platform}
    position = decode_cursor(cursor, "integrations.sync_runs", filters)
    after = (datetime.fromisoformat(position[0]), str(position[1])) if position else None
    rows = await repo.sync_runs(uow, platform=platform, after=after, limit=limit + 1)
    items = [run_view(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor("integrations.sync_runs", filters, [last.started_at.isoformat(), last.id])
    return SyncRunPage(items=items, next_cursor=next_cursor)
