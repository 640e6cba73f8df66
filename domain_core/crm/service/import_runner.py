"""Runs a CSV import: each valid row is captured in its own transaction, keyed by its content."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from promptsales.domain_core.crm.commands import CaptureLead
from promptsales.domain_core.crm.dto import CaptureResult, ImportReport, ImportRowError
from promptsales.domain_core.crm.service import capture, imports
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError

ProgressCallback = Callable[[int, int], Awaitable[None]]
# Row keys outlive ordinary idempotency keys so re-importing an old file still changes nothing.
IMPORT_KEY_RETENTION = timedelta(days=3650)
PROGRESS_EVERY = 25


def _capture(command: CaptureLead) -> Callable[[UnitOfWork], Awaitable[CaptureResult]]:
    return lambda uow: capture.capture_lead(uow, command)


async def run_import(
    uow_factory: UnitOfWorkFactory, caller: Caller, *, csv_text: str, progress: ProgressCallback | None
) -> ImportReport:
    """Import every row; invalid rows are reported by number and field, valid ones are kept."""
    _, unknown = imports.read_header(csv_text)
    parsed = list(imports.parse_rows(csv_text))
    created = updated = unchanged = 0
    errors = [ImportRowError(row=0, field=name, message=f"Unknown column '{name}' was ignored.") for name in unknown]
    for index, item in enumerate(parsed, start=1):
        if isinstance(item, imports.RowProblem):
            errors.append(ImportRowError(row=item.number, field=item.field, message=item.message))
        else:
            try:
                result, replayed = await uow_factory.mutate_tracked(
                    caller,
                    action="crm.import_row",
                    # The key is the digest of the row's content; rows imported before keep replaying.
                    arguments={"key": item.key},
                    idempotency_key=item.key,
                    work=_capture(item.command),
                    result_type=CaptureResult,
                    retention=IMPORT_KEY_RETENTION,
                )
            except DomainError as exc:
                errors.append(ImportRowError(row=item.number, field=exc.field, message=exc.public_message()))
            else:
                if replayed:
                    unchanged += 1
                elif result.created:
                    created += 1
                else:
                    updated += 1
        if progress is not None and (index % PROGRESS_EVERY == 0 or index == len(parsed)):
            await progress(index, len(parsed))
    return ImportReport(
        total_rows=len(parsed),
        created=created,
        updated=updated,
        unchanged=unchanged,
        rejected=sum(1 for e in errors if e.row > 0),
        errors=errors,
    )
