"""Salesforce Outbound Messages as webhooks: acknowledged at once, each notification applied once after.

A message names an org and record ids, unsigned (salesforce/outbound.py): the org routes it to the tenant whose
connection it is, and the records are read back from Salesforce with that tenant's credentials, so a forged
message can do no more than make us re-read true data. Contacts are applied like a sync record; Accounts and
Opportunities are recorded and left to the next incremental sync (their effects span several CRM records).
"""

from typing import Any

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import people_sync
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import InboundRequest, WebhookOutcome
from promptsales.domain_core.integrations.salesforce.client import SalesforceClient
from promptsales.domain_core.integrations.salesforce.driver import CONTACT_FIELDS, person
from promptsales.domain_core.integrations.salesforce.outbound import Notice, ack, parse
from promptsales.domain_core.integrations.sessions import Sessions
from promptsales.domain_core.integrations.webhooks import Reception, apply_once, system_caller, tenant_of_account
from promptsales.domain_core.shared.caller import Caller

PLATFORM = "salesforce"
XML = "text/xml; charset=utf-8"


class SalesforceWebhooks:
    """Outbound Messages for the org of a tenant's Salesforce connection."""

    def __init__(self, uow: UnitOfWorkFactory, sessions: Sessions, crm: CrmFacade) -> None:
        self._uow = uow
        self._sessions = sessions
        self._crm = crm

    async def receive(self, request: InboundRequest) -> Reception:
        """Acknowledge a message for a connected org; its Contacts are applied after the answer."""
        if request.method != "POST":
            return Reception(WebhookOutcome(status_code=405, outcome="rejected: Salesforce posts outbound messages"))
        try:
            message = parse(request.body)
        except ValueError as exc:
            return Reception(WebhookOutcome(status_code=400, outcome=f"rejected: {exc}"))
        tenant = await tenant_of_account(self._uow, PLATFORM, message.organization_id)
        if tenant is None:
            return Reception(WebhookOutcome(status_code=404, outcome="rejected: unknown org"))
        caller = system_caller(PLATFORM, tenant)

        async def connected(u: UnitOfWork) -> bool:
            record = await repo.connection(u, PLATFORM)
            return record is not None and record.status == "connected"

        if not await self._uow.read(caller, connected):
            return Reception(WebhookOutcome(status_code=404, outcome="rejected: the org is not connected"))

        async def apply_all() -> None:
            contacts = [n for n in message.notices if n.object_type == "Contact"]
            for notice in message.notices:
                if notice.object_type != "Contact":
                    await apply_once(
                        self._uow, caller, platform=PLATFORM, event_id=notice.id, event_type=notice.object_type
                    )
            if contacts:
                await self._apply_contacts(caller, contacts)

        answer = WebhookOutcome(
            status_code=200, outcome=f"acknowledged {len(message.notices)} notification(s)", body=ack(), media_type=XML
        )
        return Reception(answer, apply_all)

    async def _apply_contacts(self, caller: Caller, notices: list[Notice]) -> None:
        async def read(http: Any, link: Any) -> dict[str, Any]:
            found = await SalesforceClient(http).where_in(
                "Contact", "Id", [n.record_id for n in notices], fields=CONTACT_FIELDS
            )
            return {record.id: record for record in found}

        records = await self._sessions.run(caller, PLATFORM, read)
        for notice in notices:
            record = records.get(notice.record_id)
            if record is None:  # deleted (or not visible to the connected user): nothing to apply
                await apply_once(self._uow, caller, platform=PLATFORM, event_id=notice.id, event_type="Contact")
                continue
            found = person(record)

            async def current(u: UnitOfWork, external_id: str = found.external_id) -> Any:
                return (await repo.links(u, PLATFORM, people_sync.OBJECT_TYPE, [external_id])).get(external_id)

            link = await self._uow.read(caller, current)
            outcome = await people_sync.apply_person(self._crm, caller, platform=PLATFORM, person=found, link=link)

            async def keep(u: UnitOfWork, local_id: str | None = outcome.local_id, who: Any = found) -> str:
                if local_id is None:
                    return "nothing to link"
                await repo.put_link(
                    u,
                    platform=PLATFORM,
                    object_type=people_sync.OBJECT_TYPE,
                    external_id=who.external_id,
                    local_id=local_id,
                    remote_modified_at=who.modified_at,
                    fields=dict(who.fields()),
                )
                return "applied"

            await apply_once(self._uow, caller, platform=PLATFORM, event_id=notice.id, event_type="Contact", work=keep)
