"""A CRM sync run: external people page by page into CRM contacts, resumable and idempotent.

Each page is fetched outside any transaction; each person is written through the CRM facade under an
idempotency key made of the record's id and modification time (a replayed page cannot create twice), and the
page's links, counts and next cursor are committed together. A run killed half-way resumes at the last
committed cursor; records of the interrupted page are written again as replays.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from promptsales.domain_core.crm.commands import SyncContact
from promptsales.domain_core.crm.dto import ContactView
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.crm_source import CrmSource, ExternalPerson, PersonPage
from promptsales.domain_core.integrations.dto import SyncFailure, SyncRunView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.conflicts import fields_to_write
from promptsales.domain_core.integrations.service import sync_runs
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.sync_engines import Progress
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError, NotFound

OBJECT_TYPE = "contact"
# The page budget of one run: a run stops (resumable) rather than hold a worker for ever.
MAX_PAGES = 1000


def _local_fields(contact: ContactView) -> dict[str, str | None]:
    return {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone": contact.phone,
        "title": contact.title,
    }


class PersonOutcome:
    """What applying one person did."""

    def __init__(self, kind: str, local_id: str | None = None, reason: str | None = None) -> None:
        self.kind, self.local_id, self.reason = kind, local_id, reason


async def apply_person(
    crm: CrmFacade,
    caller: Caller,
    *,
    platform: str,
    person: ExternalPerson,
    link: ExternalLinkRecord | None,
) -> PersonOutcome:
    """Write one external person into the CRM under the conflict rule (idempotent per record version)."""
    if person.archived:
        return PersonOutcome("skipped", link.local_id if link else None)
    local: ContactView | None = None
    if link is not None and link.deleted_at is None:
        try:
            local = await crm.get_contact(caller, contact_id=link.local_id)
        except NotFound:
            local = None
    chosen = fields_to_write(
        remote=person.fields(),
        remote_modified_at=person.modified_at,
        last_synced=link.fields if link is not None and local is not None else None,
        local=_local_fields(local) if local is not None else None,
        local_updated_at=local.updated_at if local is not None else None,
    )
    if local is not None and not chosen:
        return PersonOutcome("skipped", local.id)
    command = SyncContact(
        source=platform,
        contact_id=local.id if local is not None else None,
        email=chosen.get("email") or (None if local is not None else person.email),
        first_name=chosen.get("first_name"),
        last_name=chosen.get("last_name"),
        phone=chosen.get("phone"),
        title=chosen.get("title"),
        company=chosen.get("company"),
        company_domain=chosen.get("company_domain"),
    )
    key = f"sync:{platform}:{OBJECT_TYPE}:{person.external_id}:{person.modified_at.isoformat()}"
    synced = await crm.sync_contact(caller, command, idempotency_key=key)
    return PersonOutcome("created" if synced.created else "updated", synced.contact.id)


async def _sync_page(
    uow_factory: UnitOfWorkFactory,
    crm: CrmFacade,
    caller: Caller,
    *,
    platform: str,
    page: PersonPage,
    run_id: str,
    cursor: str | None,
) -> SyncRunView:
    """Apply one page and commit its links, counts and next cursor together."""

    async def current_links(uow: UnitOfWork) -> dict[str, ExternalLinkRecord]:
        return await repo.links(uow, platform, OBJECT_TYPE, [p.external_id for p in page.people])

    known = await uow_factory.read(caller, current_links)
    counts = {"created": 0, "updated": 0, "skipped": 0}
    failures: list[SyncFailure] = []
    applied: list[tuple[ExternalPerson, str]] = []
    high_water: datetime | None = None
    for person in page.people:
        high_water = max(high_water, person.modified_at) if high_water else person.modified_at
        try:
            outcome = await apply_person(
                crm, caller, platform=platform, person=person, link=known.get(person.external_id)
            )
        except DomainError as exc:
            failures.append(SyncFailure(external_id=person.external_id, reason=str(exc)[:300]))
            continue
        counts[outcome.kind] += 1
        if outcome.local_id is not None:
            applied.append((person, outcome.local_id))
    next_cursor: dict[str, Any] = {"after": page.next_cursor} if page.next_cursor else {"after": None, "done": True}

    async def commit_page(uow: UnitOfWork) -> SyncRunView:
        for person, local_id in applied:
            await repo.put_link(
                uow,
                platform=platform,
                object_type=OBJECT_TYPE,
                external_id=person.external_id,
                local_id=local_id,
                remote_modified_at=person.modified_at,
                fields=dict(person.fields()),
            )
        record = await sync_runs.record_page(
            uow, run_id, cursor=next_cursor, failures=failures, high_water=high_water, **counts
        )
        return sync_runs.run_view(record)

    return await uow_factory.mutate(
        caller,
        action="integrations.sync_page",
        arguments={"run": run_id, "cursor": cursor},
        idempotency_key=None,
        work=commit_page,
        result_type=SyncRunView,
    )


async def run_people_sync(
    uow_factory: UnitOfWorkFactory,
    crm: CrmFacade,
    caller: Caller,
    *,
    platform: str,
    source: CrmSource,
    run: SyncRunView,
    cursor: str | None,
    since: datetime | None,
    progress: Progress | None,
) -> SyncRunView:
    """Pages from ``cursor`` to the end; returns the run after its last committed page."""
    for number in range(1, MAX_PAGES + 1):
        page = await source.people_page(since=since, cursor=cursor)
        run = await _sync_page(uow_factory, crm, caller, platform=platform, page=page, run_id=run.id, cursor=cursor)
        if progress is not None:
            done = run.created + run.updated + run.skipped + run.failed
            await progress(done, f"{platform}: {done} records, page {number}")
        if page.next_cursor is None or page.next_cursor == cursor:
            break
        cursor = page.next_cursor
    return run


class PeopleSyncEngine:
    """crm_sync for a CRM platform: its people into CRM contacts (``source_of`` reads them through a session)."""

    def __init__(
        self, uow: UnitOfWorkFactory, crm: CrmFacade, *, platform: str, source_of: Callable[[ConnectorHttp], CrmSource]
    ) -> None:
        self._uow = uow
        self._crm = crm
        self._platform = platform
        self._source_of = source_of

    async def run(
        self,
        caller: Caller,
        *,
        http: ConnectorHttp,
        link: Link,
        run: SyncRunView,
        cursor: Mapping[str, Any],
        progress: Progress | None,
    ) -> SyncRunView:
        """Pages from the run's cursor to the end (a full listing, or changes since the run's watermark)."""
        after = cursor.get("after")
        return await run_people_sync(
            self._uow,
            self._crm,
            caller,
            platform=self._platform,
            source=self._source_of(http),
            run=run,
            cursor=after if isinstance(after, str) else None,
            since=run.incremental_since,
            progress=progress,
        )
