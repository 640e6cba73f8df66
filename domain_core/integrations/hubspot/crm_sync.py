"""HubSpot's crm_sync: companies → CRM organizations, contacts → CRM contacts, deals → the stage of their contacts'
leads, in that order (so contacts find their companies, and deals their contacts), resumable across phases.

Deals: an open deal (any stage but ``closedwon``/``closedlost`` of the default pipeline, §9 [~]) makes the
associated contacts' newest lead an opportunity, a won deal a customer; a lost deal changes nothing. Companies
follow the same field-level rule as people, without a local side (OrganizationView carries no modification time):
a field changed in HubSpot since the last sync is written.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from promptsales.domain_core.crm.commands import SyncDealStage, SyncOrganization
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import people_sync
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import SyncRunView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.hubspot.client import HubSpotClient, HubSpotObject, HubSpotPage, ObjectType
from promptsales.domain_core.integrations.hubspot.driver import CONTACT_PROPERTIES, person
from promptsales.domain_core.integrations.model.conflicts import fields_to_write
from promptsales.domain_core.integrations.record_sync import Applied, ExternalRecord, run_phases, sync_page
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.sync_engines import Progress
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.shared.caller import Caller

PLATFORM = "hubspot"
PHASES: tuple[ObjectType, ...] = ("companies", "contacts", "deals")
LOCAL_KIND: Mapping[str, str] = {"companies": "organization", "contacts": people_sync.OBJECT_TYPE, "deals": "deal"}
COMPANY_PROPERTIES = ("name", "domain", "industry", "numberofemployees", "country")
DEAL_PROPERTIES = ("dealname", "dealstage", "amount", "closedate", "pipeline")
WON, LOST = "closedwon", "closedlost"


def _company_fields(record: HubSpotObject) -> dict[str, str | None]:
    props = record.properties
    return {name: (props.get(name) or None) for name in COMPANY_PROPERTIES}


def _deal_fields(record: HubSpotObject) -> dict[str, Any]:
    fields: dict[str, Any] = {name: record.properties.get(name) for name in DEAL_PROPERTIES}
    fields["contacts"] = sorted(record.associations.get("contacts", ()))
    return fields


def _employees(raw: str | None) -> int | None:
    if raw is None or not raw.strip().isdigit():
        return None
    return min(int(raw.strip()), 10_000_000)


class HubSpotCrmSync:
    """The crm_sync engine for HubSpot."""

    def __init__(self, uow: UnitOfWorkFactory, crm: CrmFacade) -> None:
        self._uow = uow
        self._crm = crm

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
        """Every phase from the cursor's (companies, contacts, deals), page by page."""
        client = HubSpotClient(http)

        async def fetch(phase: str, after: str | None) -> tuple[HubSpotPage, str | None]:
            page = await self._page(client, phase, run.incremental_since, after)  # type: ignore[arg-type]
            return page, page.next_after

        async def commit(phase: str, page: HubSpotPage, following: dict[str, Any]) -> SyncRunView:
            return await self._commit(caller, phase, page, run.id, following)  # type: ignore[arg-type]

        return await run_phases(
            run, phases=PHASES, cursor=cursor, fetch=fetch, commit=commit, progress=progress, label="HubSpot"
        )

    async def _page(
        self, client: HubSpotClient, phase: ObjectType, since: datetime | None, after: str | None
    ) -> HubSpotPage:
        properties = {"companies": COMPANY_PROPERTIES, "contacts": CONTACT_PROPERTIES, "deals": DEAL_PROPERTIES}[phase]
        associations = ("contacts",) if phase == "deals" else ()
        if since is None:
            return await client.list_page(phase, after=after, properties=properties, associations=associations)
        page = await client.search_modified_since(phase, since, after=after, properties=properties)
        if not associations:
            return page
        # Search answers carry no associations: read each changed deal with them.
        full = [await client.get(phase, r.id, properties=properties, associations=associations) for r in page.results]
        return HubSpotPage(results=tuple(full), next_after=page.next_after, total=page.total)

    async def _commit(
        self, caller: Caller, phase: ObjectType, page: HubSpotPage, run_id: str, following: dict[str, Any]
    ) -> SyncRunView:
        if phase == "companies":
            records = [ExternalRecord(r.id, r.updated_at, _company_fields(r)) for r in page.results]
            by_id = {r.id: r for r in page.results}

            async def apply(record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
                return await self._company(caller, by_id[record.external_id], link)

        elif phase == "contacts":
            people = {r.id: person(r) for r in page.results}
            records = [ExternalRecord(p.external_id, p.modified_at, p.fields()) for p in people.values()]

            async def apply(record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
                return await people_sync.apply_person(
                    self._crm, caller, platform=PLATFORM, person=people[record.external_id], link=link
                )

        else:
            records = [ExternalRecord(r.id, r.updated_at, _deal_fields(r)) for r in page.results]

            async def apply(record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
                return await self._deal(caller, record, link)

        return await sync_page(
            self._uow,
            caller,
            platform=PLATFORM,
            object_type=LOCAL_KIND[phase],
            run_id=run_id,
            records=records,
            apply=apply,
            next_cursor=following,
        )

    async def _company(self, caller: Caller, record: HubSpotObject, link: ExternalLinkRecord | None) -> Applied:
        remote = _company_fields(record)
        if record.archived or not remote["name"]:
            return Applied("skipped", link.local_id if link else None)
        last = link.fields if link is not None else None
        chosen = fields_to_write(
            remote=remote, remote_modified_at=record.updated_at, last_synced=last, local=last, local_updated_at=None
        )
        if link is not None and not chosen:
            return Applied("skipped", link.local_id)
        command = SyncOrganization(
            source=PLATFORM,
            organization_id=link.local_id if link is not None else None,
            name=str(remote["name"])[:200],
            domain=(chosen.get("domain") or None),
            industry=(chosen.get("industry") or None),
            employee_count=_employees(chosen.get("numberofemployees")),
            country=(chosen.get("country") or None),
        )
        key = f"sync:{PLATFORM}:organization:{record.id}:{record.updated_at.isoformat()}"
        synced = await self._crm.sync_organization(caller, command, idempotency_key=key)
        return Applied("created" if synced.created else "updated", synced.organization.id)

    async def _deal(self, caller: Caller, record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
        stage_name = str(record.fields.get("dealstage") or "")
        if stage_name == LOST or (link is not None and link.fields.get("dealstage") == stage_name):
            return Applied("skipped", link.local_id if link else None)
        stage = "customer" if stage_name == WON else "opportunity"

        async def contacts(uow: UnitOfWork) -> list[str]:
            found = await repo.links(uow, PLATFORM, people_sync.OBJECT_TYPE, list(record.fields.get("contacts") or []))
            return sorted(item.local_id for item in found.values() if item.deleted_at is None)

        local_contacts = await self._uow.read(caller, contacts)
        lead_id: str | None = None
        changed = False
        for contact_id in local_contacts:
            key = f"sync:{PLATFORM}:deal:{record.external_id}:{contact_id}:{record.modified_at.isoformat()}"
            outcome = await self._crm.sync_deal_stage(
                caller, SyncDealStage(source=PLATFORM, contact_id=contact_id, stage=stage), idempotency_key=key
            )
            lead_id = lead_id or outcome.lead_id
            changed = changed or outcome.changed
        if lead_id is None:
            return Applied("skipped")
        # A deal has no local record of its own (it moves leads); its link keeps the stage last applied.
        return Applied("updated" if changed else "skipped", f"deal_{record.external_id}"[:40])
