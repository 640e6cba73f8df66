"""support_sync: Zendesk tickets and their conversations into the CRM, resumable and idempotent.

Tickets come from the cursor-based incremental export (changed since the last run's high-water mark, with their
requesters sideloaded), one page at a time, fetched outside any transaction. For each ticket:

* the requester becomes or is found as a CRM contact (``CrmFacade.sync_contact``: by the linked Zendesk user, else
  by email, under the integrations' conflict rule), linked as ``contact`` ↔ the Zendesk user id;
* each public comment with text becomes a CRM interaction (``CrmFacade.log_interaction``, whose analysis reads
  sentiment and intent through the content facade): ``inbound`` when the requester wrote it, ``outbound`` when
  an agent did; the channel is the ticket's (``via.channel``: email, web, chat, voice, sms, whatsapp; anything
  else, such as api, counts as web). The idempotency key is the comment id and each comment is linked
  (``ticket_comment`` ↔ interaction id), so a re-run or a replayed page adds nothing. Internal notes are not
  conversations with the contact and are left out;
* the ticket itself is linked (``ticket``; its local id is ``zendesk-ticket:<id>``, as no local record holds a
  ticket) with its subject, status, priority and the contact's id in the link's fields, which the CRM 360 reads.

A ticket counts as created (first seen), updated (status, subject or priority changed, or new comments) or
skipped; a ticket whose requester cannot become a contact (no email, phone or name) is failed with the reason.
Each page's links, counts and next cursor commit together; a run that fails half-way is ``interrupted`` and the
next ``integrations_sync`` resumes from the last committed cursor. Webhooks apply one ticket the same way.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from promptsales.domain_core.crm.commands import LogInteraction
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import people_sync
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.crm_source import ExternalPerson
from promptsales.domain_core.integrations.dto import SyncFailure, SyncRunView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.errors import AuthExpired, PermissionMissing, PlatformDown, RateLimited
from promptsales.domain_core.integrations.model.person_fields import clip, usable_phone
from promptsales.domain_core.integrations.service import sync_runs
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.sync_engines import Progress
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.integrations.zendesk.client import Comment, Ticket, User, ZendeskClient
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError, ValidationFailed

PLATFORM = "zendesk"
PERSON = people_sync.OBJECT_TYPE
TICKET = "ticket"
COMMENT = "ticket_comment"
OPEN_STATUSES = ("new", "open", "pending", "hold")
EXPORT_PAGE_SIZE = 100
MAX_PAGES = 1000  # a run stops (resumable) rather than hold a worker for ever
SUMMARY_MAX, TRANSCRIPT_MAX = 4000, 100_000  # the CRM's interaction limits
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Failures that are the platform's or the connection's, not the ticket's: the run stops and resumes later.
_RUN_STOPPERS = (AuthExpired, PermissionMissing, PlatformDown, RateLimited)

Channel = Literal["chat", "voice", "email", "sms", "whatsapp", "web"]
# Zendesk ``via.channel`` → the CRM's interaction channel.
CHANNELS: Mapping[str, Channel] = {
    "email": "email",
    "web": "web",
    "web_form": "web",
    "web_widget": "web",
    "help_center": "web",
    "chat": "chat",
    "native_messaging": "chat",
    "messaging": "chat",
    "voice": "voice",
    "phone": "voice",
    "sms": "sms",
    "whatsapp": "whatsapp",
}


def ticket_local_id(ticket_id: int | str) -> str:
    """The local id a ticket's link carries (no local record holds a ticket)."""
    return f"zendesk-ticket:{ticket_id}"


def channel_of(ticket: Ticket) -> Channel:
    """The CRM channel of a ticket's conversation."""
    return CHANNELS.get((ticket.channel or "").lower(), "web")


def _clip(value: str | None, limit: int) -> str | None:
    text = (value or "").strip()
    return text[:limit] or None


def requester_person(user: User) -> ExternalPerson:
    """A Zendesk user as an external person (the name split at its last space)."""
    name = " ".join((user.name or "").split())
    first, _, last = name.rpartition(" ") if " " in name else (name, "", "")
    return ExternalPerson(
        external_id=str(user.id),
        modified_at=user.updated_at or user.created_at or _EPOCH,
        email=clip(user.email, 320),
        first_name=clip(first, 100),
        last_name=clip(last, 100),
        phone=usable_phone(user.phone),
    )


def ticket_fields(ticket: Ticket, contact_id: str) -> dict[str, Any]:
    """What a ticket's link keeps (the 360 reads it; a change here makes the ticket "updated")."""
    return {
        "contact_id": contact_id,
        "subject": _clip(ticket.subject, 300),
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "updated_at": ticket.updated_at.isoformat() if ticket.updated_at else None,
    }


@dataclass
class Known:
    """Links already committed for the tickets at hand, by external id."""

    people: dict[str, ExternalLinkRecord] = field(default_factory=dict)
    tickets: dict[str, ExternalLinkRecord] = field(default_factory=dict)
    comments: dict[str, ExternalLinkRecord] = field(default_factory=dict)


@dataclass
class AppliedTickets:
    """What applying tickets did, to be committed with their page (or their webhook event)."""

    people: dict[str, tuple[ExternalPerson, str]] = field(default_factory=dict)  # user id -> (person, contact id)
    tickets: list[tuple[Ticket, str]] = field(default_factory=list)  # (ticket, contact id)
    comments: list[tuple[Comment, int, str]] = field(default_factory=list)  # (comment, ticket id, interaction id)
    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "skipped": 0})
    failures: list[SyncFailure] = field(default_factory=list)
    high_water: datetime | None = None


class SupportSync:
    """Applies Zendesk tickets to the CRM; used by the sync engine page by page and by webhooks ticket by ticket."""

    def __init__(self, uow: UnitOfWorkFactory, crm: CrmFacade) -> None:
        self._uow = uow
        self._crm = crm

    async def known(self, caller: Caller, tickets: Sequence[Ticket], users: Sequence[str]) -> Known:
        """The committed links of these tickets and users."""

        async def work(uow: UnitOfWork) -> Known:
            return Known(
                people=await repo.links(uow, PLATFORM, PERSON, list(users)),
                tickets=await repo.links(uow, PLATFORM, TICKET, [str(t.id) for t in tickets]),
            )

        return await self._uow.read(caller, work)

    async def _known_comments(self, caller: Caller, comments: Sequence[Comment]) -> dict[str, ExternalLinkRecord]:
        ids = [str(c.id) for c in comments]
        return await self._uow.read(caller, lambda uow: repo.links(uow, PLATFORM, COMMENT, ids))

    async def apply(
        self, caller: Caller, client: ZendeskClient, tickets: Sequence[Ticket], users: Sequence[User]
    ) -> AppliedTickets:
        """Write the tickets' requesters and new comments into the CRM (idempotent); links are committed later."""
        by_id = {u.id: u for u in users}
        requester_ids = sorted({t.requester_id for t in tickets if t.requester_id is not None})
        known = await self.known(caller, tickets, [str(i) for i in requester_ids])
        applied = AppliedTickets()
        for ticket in tickets:
            if ticket.updated_at is not None:
                applied.high_water = max(applied.high_water or ticket.updated_at, ticket.updated_at)
            try:
                kind = await self._apply_ticket(caller, client, ticket, by_id, known, applied)
            except _RUN_STOPPERS:
                raise
            except DomainError as exc:
                applied.failures.append(SyncFailure(external_id=str(ticket.id), reason=str(exc)[:300]))
                continue
            applied.counts[kind] += 1
        return applied

    async def _requester(
        self,
        caller: Caller,
        client: ZendeskClient,
        ticket: Ticket,
        users: dict[int, User],
        known: Known,
        applied: AppliedTickets,
    ) -> str:
        """The CRM contact of the ticket's requester (created or found; once per user per batch)."""
        if ticket.requester_id is None:
            raise ValidationFailed("The ticket has no requester.", field="requester_id")
        key = str(ticket.requester_id)
        if key in applied.people:
            return applied.people[key][1]
        user = users.get(ticket.requester_id) or await client.user(ticket.requester_id)
        person = requester_person(user)
        outcome = await people_sync.apply_person(
            self._crm, caller, platform=PLATFORM, person=person, link=known.people.get(key)
        )
        if outcome.local_id is None:
            raise ValidationFailed("The requester could not become a CRM contact.", field="requester_id")
        applied.people[key] = (person, outcome.local_id)
        return outcome.local_id

    async def _apply_ticket(
        self,
        caller: Caller,
        client: ZendeskClient,
        ticket: Ticket,
        users: dict[int, User],
        known: Known,
        applied: AppliedTickets,
    ) -> str:
        contact_id = await self._requester(caller, client, ticket, users, known, applied)
        comments = await client.comments(ticket.id)
        linked = await self._known_comments(caller, comments)
        channel = channel_of(ticket)
        summary = _clip(f"Zendesk ticket #{ticket.id}: {ticket.subject or '(no subject)'}", SUMMARY_MAX)
        new = 0
        for comment in comments:
            body = _clip(comment.body, TRANSCRIPT_MAX)
            if not comment.public or body is None or str(comment.id) in linked:
                continue
            command = LogInteraction(
                contact_id=contact_id,
                channel=channel,
                direction="inbound" if comment.author_id == ticket.requester_id else "outbound",
                summary=summary,
                transcript=body,
                occurred_at=comment.created_at,
            )
            view = await self._crm.log_interaction(
                caller, command, idempotency_key=f"sync:zendesk:comment:{comment.id}"
            )
            applied.comments.append((comment, ticket.id, view.id))
            new += 1
        applied.tickets.append((ticket, contact_id))
        before = known.tickets.get(str(ticket.id))
        if before is None:
            return "created"
        after = ticket_fields(ticket, contact_id)
        changed = any(before.fields.get(k) != after[k] for k in ("contact_id", "subject", "status", "priority"))
        return "updated" if changed or new else "skipped"

    @staticmethod
    async def store(uow: UnitOfWork, applied: AppliedTickets) -> None:
        """Commit the links of what was applied (in the page's or the event's transaction)."""
        for user_id, (person, contact_id) in applied.people.items():
            await repo.put_link(
                uow,
                platform=PLATFORM,
                object_type=PERSON,
                external_id=user_id,
                local_id=contact_id,
                remote_modified_at=person.modified_at,
                fields=dict(person.fields()),
            )
        for ticket, contact_id in applied.tickets:
            await repo.put_link(
                uow,
                platform=PLATFORM,
                object_type=TICKET,
                external_id=str(ticket.id),
                local_id=ticket_local_id(ticket.id),
                remote_modified_at=ticket.updated_at,
                fields=ticket_fields(ticket, contact_id),
            )
        for comment, ticket_id, interaction_id in applied.comments:
            await repo.put_link(
                uow,
                platform=PLATFORM,
                object_type=COMMENT,
                external_id=str(comment.id),
                local_id=interaction_id,
                remote_modified_at=comment.created_at,
                fields={"ticket_id": str(ticket_id)},
            )


class SupportSyncEngine:
    """support_sync for Zendesk: the incremental ticket export, page by page, into CRM contacts and interactions."""

    def __init__(self, uow: UnitOfWorkFactory, crm: CrmFacade, *, page_size: int = EXPORT_PAGE_SIZE) -> None:
        self._uow = uow
        self.tickets = SupportSync(uow, crm)
        self._page_size = page_size

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
        """Pages from the run's cursor to the end of the stream (all tickets, or those changed since the watermark)."""
        client = ZendeskClient(http)
        after = cursor.get("after") if isinstance(cursor.get("after"), str) else None
        start = run.incremental_since or _EPOCH
        for number in range(1, MAX_PAGES + 1):
            if after is None:
                page = await client.export_page(start_time=start, per_page=self._page_size, include_users=True)
            else:
                page = await client.export_page(cursor=after, per_page=self._page_size, include_users=True)
            applied = await self.tickets.apply(caller, client, page.tickets, page.users)
            done = page.end_of_stream or page.after_cursor is None or page.after_cursor == after
            run = await self._commit(caller, run.id, after, page.after_cursor, done, applied)
            if progress is not None:
                total = run.created + run.updated + run.skipped + run.failed
                await progress(total, f"zendesk: {total} tickets, page {number}")
            if done:
                break
            after = page.after_cursor
        return run

    async def _commit(
        self, caller: Caller, run_id: str, cursor: str | None, after: str | None, done: bool, applied: AppliedTickets
    ) -> SyncRunView:
        next_cursor: dict[str, Any] = {"after": None, "done": True} if done else {"after": after}

        async def commit_page(uow: UnitOfWork) -> SyncRunView:
            await SupportSync.store(uow, applied)
            record = await sync_runs.record_page(
                uow,
                run_id,
                cursor=next_cursor,
                failures=applied.failures,
                high_water=applied.high_water,
                **applied.counts,
            )
            return sync_runs.run_view(record)

        return await self._uow.mutate(
            caller,
            action="integrations.sync_page",
            arguments={"run": run_id, "cursor": cursor},
            idempotency_key=None,
            work=commit_page,
            result_type=SyncRunView,
        )
