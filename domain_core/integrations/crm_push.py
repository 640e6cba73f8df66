"""CRM changes pushed to the connected CRM platforms: the outbox's ``crm.contact_*`` events, consumed once each.

The consumer runs where the outbox delivers (in-process bus, or a Redis Streams group); it only notes which
platforms to push to, and the pushes start once its unit has committed (a platform call inside the consumer's
transaction would hold the database, and SQLite's single writer, for the whole request). A change whose event
names a platform as its source (a sync or webhook wrote it) is not sent back to that platform. For the others,
the contact's current fields are compared with what was last synced (the external link's ``fields``): equal
means an echo and nothing is sent; otherwise the person is written (with the id of its linked record, where
there is one: a platform that can updates that record) and the link records the pushed values. A platform
failure is logged and does not block the outbox (other consumers' events wait behind a raised error); a push
lost to a crash or an outage is made good by the next change of the contact, and the next sync compares every
field anyway.
"""

import asyncio
from collections.abc import Callable, Mapping

import structlog

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.crm_source import LINKED_ID, CrmSource
from promptsales.domain_core.integrations.dto import AuthorizationOutcome
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.errors import ConnectorError
from promptsales.domain_core.integrations.people_sync import OBJECT_TYPE
from promptsales.domain_core.integrations.sessions import Sessions
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotFound
from promptsales.domain_core.shared.events import DomainEvent

log = structlog.get_logger(__name__)

CONSUMER = "integrations.crm_push"
EVENT_TYPES = frozenset({"crm.contact_created", "crm.contact_updated"})
PUSHED_FIELDS = ("email", "first_name", "last_name", "phone", "title")


class CrmPush:
    """Pushes a changed CRM contact to every connected CRM platform that takes pushes."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sessions: Sessions,
        crm: CrmFacade,
        sources: Mapping[str, Callable[[ConnectorHttp], CrmSource]],
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._crm = crm
        self._sources = sources
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._users: dict[tuple[str, str, str], int] = {}  # pushes holding or waiting for each lock

    async def on_event(self, uow: UnitOfWork, event: DomainEvent) -> None:
        """The outbox handler: which platforms are connected (in the event's unit), then push outside it."""
        contact_id = event.payload.get("contact_id")
        if event.type not in EVENT_TYPES or not isinstance(contact_id, str):
            return
        came_from = event.payload.get("source")  # a change a platform made is not sent back to it
        platforms = [
            record.platform
            for record in await repo.connections(uow)
            if record.status == "connected" and record.platform in self._sources and record.platform != came_from
        ]
        if not platforms:
            return
        caller = Caller(tenant_id=event.tenant_id, actor_id=CONSUMER, actor_kind="system", source="system")
        uow.after_commit(lambda: self._start(caller, platforms, contact_id))

    def _start(self, caller: Caller, platforms: list[str], contact_id: str) -> None:
        task = asyncio.create_task(self._push_all(caller, platforms, contact_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push_all(self, caller: Caller, platforms: list[str], contact_id: str) -> None:
        for platform in platforms:
            try:
                await self.push(caller, platform, contact_id)
            except Exception:  # one platform's failure must not stop the others; logged for the operator
                log.exception("integrations.push_crashed", platform=platform, contact_id=contact_id)

    async def drain(self) -> None:
        """Wait for the pushes already started (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def push(self, caller: Caller, platform: str, contact_id: str) -> str:
        """Push one contact to one platform; what happened, in a word (for logs and tests). Pushes of one contact
        to one platform take turns in this process: a platform whose create is sent once (Salesforce) must not get
        two creates for a contact created and changed at once; the second push then sees the first's link."""
        key = (caller.tenant_id, platform, contact_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                return await self._push(caller, platform, contact_id)
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # the last one out forgets the lock
                del self._users[key], self._locks[key]

    async def _push(self, caller: Caller, platform: str, contact_id: str) -> str:
        try:
            contact = await self._crm.get_contact(caller, contact_id=contact_id)
        except NotFound:
            return "gone"
        if contact.merged_into_id is not None or not contact.email:
            return "not pushable"
        fields = {name: getattr(contact, name) for name in PUSHED_FIELDS}

        async def linked(u: UnitOfWork) -> dict[str, object] | None:
            link = await repo.link_of_local(u, platform, OBJECT_TYPE, contact_id)
            if link is None:
                return None
            return {
                "fields": dict(link.fields),
                "modified": link.remote_modified_at,
                "id": link.external_id,
                "deleted": link.deleted_at is not None,
            }

        link = await self._uow.read(caller, linked)
        if link is not None and link["deleted"]:
            return "deleted there"  # deleted on the platform: a CRM change must not bring it back
        synced = link["fields"] if link is not None else None
        if isinstance(synced, dict) and all(synced.get(k) == v for k, v in fields.items() if v is not None):
            return "echo"
        source_of = self._sources[platform]
        person = {k: v for k, v in fields.items() if v is not None}
        outgoing = {**person, LINKED_ID: str(link["id"])} if link is not None else person
        try:
            ids = await self._sessions.run(caller, platform, lambda http, _: source_of(http).push_people([outgoing]))
        except ConnectorError as exc:
            log.warning("integrations.push_failed", platform=platform, contact_id=contact_id, error=exc.code)
            return "failed"
        external_id = ids.get(str(contact.email).lower())
        if external_id is None:
            return "refused"

        async def record(u: UnitOfWork) -> AuthorizationOutcome:
            previous = await repo.link_of_local(u, platform, OBJECT_TYPE, contact_id)
            await repo.put_link(
                u,
                platform=platform,
                object_type=OBJECT_TYPE,
                external_id=external_id,
                local_id=contact_id,
                remote_modified_at=previous.remote_modified_at if previous is not None else None,
                fields={**(dict(previous.fields) if previous is not None else {}), **person},
            )
            return AuthorizationOutcome(ok=True, platform=platform, message="pushed")

        await self._uow.mutate(
            caller,
            action="integrations.push",
            arguments={"platform": platform, "contact": contact_id},
            idempotency_key=None,
            work=record,
            result_type=AuthorizationOutcome,
        )
        return "pushed"
