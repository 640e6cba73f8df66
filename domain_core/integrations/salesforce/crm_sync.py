"""Salesforce's crm_sync: Accounts → CRM organizations, Contacts → CRM contacts, Opportunities → the stage of their
contacts' leads, in that order (contacts find the organizations of their Accounts, and Opportunities their
contacts), resumable across phases: the cursor names the phase and the query's ``nextRecordsUrl`` locator.

Every phase reads its object the way the Contacts-only sync did: a full listing first, then ``SystemModstamp >=``
the last run's high-water mark ``ORDER BY SystemModstamp, Id`` (the client's change query; records at the boundary
come again and change nothing), 200 rows a page, one committed page at a time. An expired locator re-issues the
phase's query.

Accounts follow the field-level rule of people without a local side (OrganizationView carries no modification
time): a field changed in Salesforce since the last sync is written. Contacts go through
``people_sync.apply_person``; their company is their Account's name and website (``Account.Name`` /
``Account.Website``), which find the organization the Accounts phase wrote (the CRM keys organizations by domain,
else name).

Opportunities: Salesforce links an Opportunity to its contacts by OpportunityContactRole rows (``Opportunity.
ContactId`` is only the primary one, derived from them), read for each page of Opportunities with one ``OpportunityId
IN (…)`` query. An open Opportunity (``IsClosed`` false, whatever the org calls its stages) makes those contacts'
newest lead an opportunity, a won one (``IsWon``) a customer; a lost one changes nothing. An Opportunity whose
outcome is unchanged since the last sync is applied only to contacts newly named on it. Adding a contact role does
not move the Opportunity's stamp, so incremental runs add a fourth phase: the roles changed since the mark, whose
Opportunities are read again (an Opportunity's version here is its own stamp or its newest role's, whichever is
later).
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import pycountry

from promptsales.domain_core.crm.commands import SyncDealStage, SyncOrganization
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import people_sync
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import SyncRunView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.conflicts import fields_to_write
from promptsales.domain_core.integrations.model.errors import PlatformValidationError
from promptsales.domain_core.integrations.model.person_fields import clip, website_domain
from promptsales.domain_core.integrations.record_sync import Applied, ExternalRecord, run_phases, sync_page
from promptsales.domain_core.integrations.salesforce.client import (
    QueryPage,
    SalesforceClient,
    SObject,
    SObjectType,
)
from promptsales.domain_core.integrations.salesforce.driver import BATCH_SIZE, CONTACT_FIELDS, person
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.sync_engines import Progress
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.clock import utc_now

PLATFORM = "salesforce"
Phase = Literal["accounts", "contacts", "opportunities", "roles", "deleted"]
FULL_PHASES: tuple[Phase, ...] = ("accounts", "contacts", "opportunities")
# Incremental runs also read the contact roles changed since (a new role leaves its Opportunity unchanged) and the
# Contacts deleted since (their links are marked deleted; the CRM keeps the people).
INCREMENTAL_PHASES: tuple[Phase, ...] = (*FULL_PHASES, "roles", "deleted")
SOBJECT: Mapping[Phase, SObjectType] = {
    "accounts": "Account",
    "contacts": "Contact",
    "opportunities": "Opportunity",
    "roles": "OpportunityContactRole",
    "deleted": "Contact",
}
LOCAL_KIND: Mapping[Phase, str] = {
    "accounts": "organization",
    "contacts": people_sync.OBJECT_TYPE,
    "opportunities": "deal",
    "roles": "deal",
    "deleted": people_sync.OBJECT_TYPE,
}
ACCOUNT_FIELDS = ("Industry", "NumberOfEmployees", "BillingCountry")
OPPORTUNITY_FIELDS = ("IsClosed", "IsWon")
QUERY_FIELDS: Mapping[Phase, tuple[str, ...]] = {
    "accounts": ACCOUNT_FIELDS,
    "contacts": CONTACT_FIELDS,
    "opportunities": OPPORTUNITY_FIELDS,
    "roles": (),
    "deleted": (),
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Outcome = Literal["open", "won", "lost"]


def _employees(raw: object) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        return None
    return str(min(int(raw), 10_000_000))


def _country(raw: object) -> str | None:
    """An ISO 3166-1 alpha-2 code for a country name or code (BillingCountry is free text); None when unknown."""
    text = clip(raw, 60)
    if text is None:
        return None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def account_fields(record: SObject) -> dict[str, str | None]:
    """The compared fields of an Account."""
    fields = record.fields
    return {
        "name": clip(fields.get("Name"), 200),
        "domain": website_domain(fields.get("Website")),
        "industry": clip(fields.get("Industry"), 80),
        "employees": _employees(fields.get("NumberOfEmployees")),
        "country": _country(fields.get("BillingCountry")),
    }


def outcome(record: SObject) -> Outcome:
    """Where an Opportunity stands: open, won or lost (its IsClosed / IsWon, whatever the org calls its stages)."""
    if record.fields.get("IsWon") is True:
        return "won"
    return "lost" if record.fields.get("IsClosed") is True else "open"


def opportunity_record(record: SObject, roles: Sequence[SObject]) -> ExternalRecord:
    """An Opportunity with the contacts its roles name; its version is its stamp or its newest role's."""
    stamps = [_stamp(record), *(r.system_modstamp for r in roles if r.system_modstamp is not None)]
    contacts = sorted({str(r.fields["ContactId"]) for r in roles if r.fields.get("ContactId")})
    fields = {"stage": record.fields.get("StageName"), "outcome": outcome(record), "contacts": contacts}
    return ExternalRecord(record.id, max(stamps), fields)


class SalesforceCrmSync:
    """The crm_sync engine for Salesforce."""

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
        """Every phase from the cursor's, page by page (a full listing, or changes since the run's mark)."""
        client = SalesforceClient(http)
        since = run.incremental_since

        async def fetch(phase: str, after: str | None) -> tuple[QueryPage, str | None]:
            page = await self._page(client, phase, since, after)  # type: ignore[arg-type]
            return page, page.next_records_url

        async def commit(phase: str, page: QueryPage, following: dict[str, Any]) -> SyncRunView:
            return await self._commit(caller, client, phase, page, run.id, following)  # type: ignore[arg-type]

        return await run_phases(
            run,
            phases=FULL_PHASES if since is None else INCREMENTAL_PHASES,
            cursor=cursor,
            fetch=fetch,
            commit=commit,
            progress=progress,
            label="Salesforce",
        )

    @staticmethod
    async def _page(client: SalesforceClient, phase: Phase, since: datetime | None, after: str | None) -> QueryPage:
        object_type, fields = SOBJECT[phase], QUERY_FIELDS[phase]
        if phase == "deleted" and since is not None:
            gone = await client.deleted(object_type, start=since, end=utc_now())
            records = tuple(SObject(type=object_type, id=record_id, system_modstamp=at) for record_id, at in gone)
            return QueryPage(records=records, total_size=len(records), done=True)
        if since is None:
            soql = SalesforceClient.select(object_type, fields=fields, ordered=True)
        else:
            soql = SalesforceClient.modified_since_soql(object_type, since, fields=fields)
        try:
            return await client.query_page(soql, next_records_url=after, batch_size=BATCH_SIZE)
        except PlatformValidationError as exc:
            if after is None or exc.platform_code != "INVALID_QUERY_LOCATOR":
                raise
            # The locator expired while the run was interrupted: read the phase's query again from its start.
            return await client.query_page(soql, batch_size=BATCH_SIZE)

    async def _opportunities(self, client: SalesforceClient, phase: Phase, page: QueryPage) -> list[ExternalRecord]:
        """The page's Opportunities (for ``roles``: those of the page's contact roles) with all their roles."""
        if phase == "opportunities":
            found = list(page.records)
        else:
            ids = sorted({str(r.fields["OpportunityId"]) for r in page.records if r.fields.get("OpportunityId")})
            found = await client.where_in("Opportunity", "Id", ids, fields=OPPORTUNITY_FIELDS) if ids else []
        if not found:
            return []
        roles: dict[str, list[SObject]] = {}
        for role in await client.where_in("OpportunityContactRole", "OpportunityId", [r.id for r in found]):
            roles.setdefault(str(role.fields.get("OpportunityId")), []).append(role)
        return [opportunity_record(r, roles.get(r.id, ())) for r in found]

    async def _commit(
        self,
        caller: Caller,
        client: SalesforceClient,
        phase: Phase,
        page: QueryPage,
        run_id: str,
        following: dict[str, Any],
    ) -> SyncRunView:
        if phase == "accounts":
            records = [ExternalRecord(r.id, _stamp(r), account_fields(r)) for r in page.records]

            async def apply(record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
                return await self._account(caller, record, link)

        elif phase == "contacts":
            people = {r.id: person(r) for r in page.records}
            records = [ExternalRecord(p.external_id, p.modified_at, p.fields()) for p in people.values()]

            async def apply(record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
                return await people_sync.apply_person(
                    self._crm, caller, platform=PLATFORM, person=people[record.external_id], link=link
                )

        elif phase == "deleted":
            records = [ExternalRecord(r.id, _stamp(r), {}, deleted=True) for r in page.records]

            async def apply(record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
                if link is None or link.deleted_at is not None:
                    return Applied("skipped")
                return Applied("updated", link.local_id)  # the link is marked deleted; the CRM keeps the person

        else:
            records = await self._opportunities(client, phase, page)

            async def apply(record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
                return await self._opportunity(caller, record, link)

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

    async def _account(self, caller: Caller, record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
        remote: dict[str, str | None] = dict(record.fields)
        if not remote["name"]:
            return Applied("skipped", link.local_id if link else None)
        last = link.fields if link is not None and link.deleted_at is None else None
        chosen = fields_to_write(
            remote=remote, remote_modified_at=record.modified_at, last_synced=last, local=last, local_updated_at=None
        )
        if last is not None and link is not None and not chosen:
            return Applied("skipped", link.local_id)
        employees = chosen.get("employees")
        command = SyncOrganization(
            source=PLATFORM,
            organization_id=link.local_id if last is not None and link is not None else None,
            name=str(remote["name"]),
            domain=chosen.get("domain") or None,
            industry=chosen.get("industry") or None,
            employee_count=int(employees) if employees else None,
            country=chosen.get("country") or None,
        )
        key = f"sync:{PLATFORM}:organization:{record.external_id}:{record.modified_at.isoformat()}"
        synced = await self._crm.sync_organization(caller, command, idempotency_key=key)
        return Applied("created" if synced.created else "updated", synced.organization.id)

    async def _opportunity(self, caller: Caller, record: ExternalRecord, link: ExternalLinkRecord | None) -> Applied:
        result = record.fields["outcome"]
        previous = link.fields if link is not None and link.deleted_at is None else None
        if result == "lost":
            return Applied("skipped", link.local_id if link is not None else None)
        named = list(record.fields["contacts"])
        if previous is not None and previous.get("outcome") == result:
            named = [c for c in named if c not in set(previous.get("contacts") or ())]
            if not named:
                return Applied("skipped", link.local_id if link is not None else None)
        stage: Literal["opportunity", "customer"] = "customer" if result == "won" else "opportunity"

        async def contacts(uow: UnitOfWork) -> list[str]:
            found = await repo.links(uow, PLATFORM, people_sync.OBJECT_TYPE, named)
            return sorted({item.local_id for item in found.values() if item.deleted_at is None})

        lead_id: str | None = None
        changed = False
        for contact_id in await self._uow.read(caller, contacts):
            key = f"sync:{PLATFORM}:deal:{record.external_id}:{contact_id}:{record.modified_at.isoformat()}"
            moved = await self._crm.sync_deal_stage(
                caller, SyncDealStage(source=PLATFORM, contact_id=contact_id, stage=stage), idempotency_key=key
            )
            lead_id = lead_id or moved.lead_id
            changed = changed or moved.changed
        if lead_id is None:
            return Applied("skipped")  # no contact of it is in the CRM yet: not linked, so tried again next run
        # An Opportunity has no local record of its own (it moves leads); its link keeps what was last applied.
        return Applied("updated" if changed else "skipped", f"deal_{record.external_id}"[:40])


def _stamp(record: SObject) -> datetime:
    # Every query asks for SystemModstamp; a record without one counts as never changed.
    return record.system_modstamp or EPOCH
