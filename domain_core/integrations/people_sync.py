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
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.integrations.crm_source import CrmSource, ExternalPerson, PersonPage
from promptsales.domain_core.integrations.dto import SyncRunView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.conflicts import fields_to_write
from promptsales.domain_core.integrations.record_sync import MAX_PAGES, Applied, ExternalRecord, sync_page
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.sync_engines import Progress
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotFound

OBJECT_TYPE = "contact"


def _local_fields(contact: ContactView) -> dict[str, str | None]:
    return {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone": contact.phone,
        "title": contact.title,
    }


async def apply_person(
    crm: CrmFacade,
    caller: Caller,
    *,
    platform: str,
    person: ExternalPerson,
    link: ExternalLinkRecord | None,
) -> Applied:
    """Write one external person into the CRM under the conflict rule (idempotent per record version)."""
    if person.archived:
        return Applied("skipped", link.local_id if link else None)
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
        return Applied("skipped", local.id)
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
    return Applied("created" if synced.created else "updated", synced.contact.id)


async def _sync_page(
    uow_factory: UnitOfWorkFactory,
    crm: CrmFacade,
    caller: Caller,
    *,
    platform: str,
    page: PersonPage,
    run_id: str,
    next_cursor: dict[str, Any],
) -> SyncRunView:
    """Apply one page of people and commit it (record_sync.sync_page)."""
    people = {person.external_id: person for person in page.people}

    async def apply(record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
        return await apply_person(crm, caller, platform=platform, person=people[record.external_id], link=link)

    records = [ExternalRecord(p.external_id, p.modified_at, p.fields()) for p in page.people]
    return await sync_page(
        uow_factory,
        caller,
        platform=platform,
        object_type=OBJECT_TYPE,
        run_id=run_id,
        records=records,
        apply=apply,
        next_cursor=next_cursor,
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
        following: dict[str, Any] = {"after": page.next_cursor} if page.next_cursor else {"after": None, "done": True}
        run = await _sync_page(
            uow_factory, crm, caller, platform=platform, page=page, run_id=run.id, next_cursor=following
        )
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
