"""email_marketing for Mailchimp: a CRM segment into the connection's audience, resumable and idempotent.

* Which audience: the account's first audience (a free Mailchimp account has exactly one), kept in the run's
  cursor; the route audience → tenant is added with the first page, and the audience webhook (unsubscribe and
  cleaned events from users and admins, :mod:`.webhook_handler`) is registered once per audience.
* Which people: the members of the CRM segment the command names (``segment_id``), page by page from the CRM's
  own cursor; a run killed half-way resumes at the last committed page.
* What is written: each member is upserted by subscriber hash (``PUT``: repeating it creates nothing) with FNAME /
  LNAME from the CRM, and tagged with the segment's name. Only contacts whose email consent is ``granted`` are
  subscribed; contacts never asked or who revoked are skipped (and a member this sync added before whose consent
  is now revoked is unsubscribed in Mailchimp). An existing member's status is never forced: Mailchimp keeps an
  unsubscribed address unsubscribed.
* Counts: created (first put into the audience by PromptSales), updated, skipped (no consent, no address, or
  nothing changed since the last run: an incremental run sends only changes, ``full`` sends everyone again),
  failed (Mailchimp refused the address: erased, invalid).
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from promptsales.domain_core.crm.dto import ContactView
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.crypto import KeyRing
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import SyncFailure, SyncRunView
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.mailchimp.client import TAG_NAME_MAX, MailchimpClient, MemberUpsert
from promptsales.domain_core.integrations.mailchimp.webhook_handler import (
    MEMBER,
    PLATFORM,
    member_ref,
    url_secret,
    webhook_url,
)
from promptsales.domain_core.integrations.model.errors import PlatformValidationError
from promptsales.domain_core.integrations.service import connections, sync_runs
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.sync_engines import SEGMENT_REQUESTED, Progress
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import ValidationFailed

PAGE_SIZE = 100
MAX_PAGES = 1000  # a run stops (resumable) rather than hold a worker for ever
WEBHOOK_EVENTS = ("unsubscribe", "cleaned")
WEBHOOK_SOURCES = ("user", "admin")  # not "api": this sync's own unsubscribes must not echo back
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class _Applied:
    """One member written (or unsubscribed) on this page, to link and count."""

    def __init__(self, ref: str, contact_id: str, fields: dict[str, Any], at: datetime | None) -> None:
        self.ref, self.contact_id, self.fields, self.at = ref, contact_id, fields, at


def _segment_of(cursor: Mapping[str, Any]) -> str:
    stored, requested = cursor.get("segment_id"), cursor.get(SEGMENT_REQUESTED)
    if isinstance(stored, str) and isinstance(requested, str) and stored != requested:
        raise ValidationFailed(
            f"An interrupted Mailchimp sync of segment {stored} has to finish first.",
            field="segment_id",
            hint=f"Run integrations_sync again with segment_id '{stored}' (or none) to finish it, then this one.",
        )
    chosen = stored if isinstance(stored, str) else requested
    if not isinstance(chosen, str):
        raise ValidationFailed(
            "Mailchimp's email_marketing sync sends one CRM segment to the audience: segment_id is required.",
            field="segment_id",
            hint="crm_list_segments shows the saved segments; crm_create_segment saves one.",
        )
    return chosen


def segment_tag(name: str, segment_id: str) -> str:
    """The Mailchimp tag a CRM segment's members get (its name, within Mailchimp's length); email campaigns for the
    segment are sent to it."""
    return name.strip()[:TAG_NAME_MAX] or segment_id


def _desired(contact: ContactView, tags: list[str]) -> dict[str, Any]:
    return {
        "email": (contact.email or "").lower(),
        "FNAME": contact.first_name or "",
        "LNAME": contact.last_name or "",
        "tags": tags,
    }


class AudienceSyncEngine:
    """Mailchimp's email_marketing sync (one CRM segment into the connection's audience)."""

    def __init__(self, uow: UnitOfWorkFactory, crm: CrmFacade, keys: KeyRing, *, public_url: str) -> None:
        self._uow = uow
        self._crm = crm
        self._keys = keys
        self._public_url = public_url

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
        """Pages of the segment from the run's cursor to the end, each committed with its links and counts."""
        segment_id = _segment_of(cursor)
        tag = await self._segment_tag(caller, segment_id)
        client = MailchimpClient(http)
        list_id = cursor.get("list_id")
        if not isinstance(list_id, str):
            list_id = await self._audience(client)
        notes = await self._register_webhook(client, caller.tenant_id, list_id, live=not link.sandbox)
        after = cursor.get("after") if isinstance(cursor.get("after"), str) else None
        only_changes = run.incremental_since is not None
        for number in range(1, MAX_PAGES + 1):
            page = await self._crm.list_segment_members(caller, segment_id=segment_id, cursor=after, limit=PAGE_SIZE)
            contacts = [await self._crm.get_contact(caller, contact_id=item.id) for item in page.items]
            run = await self._sync_page(
                caller,
                client,
                run_id=run.id,
                scope={"segment_id": segment_id, "list_id": list_id},
                contacts=contacts,
                tag=tag,
                next_after=page.next_cursor,
                only_changes=only_changes,
                notes=notes,
            )
            notes = []
            if progress is not None:
                done = run.created + run.updated + run.skipped + run.failed
                await progress(done, f"mailchimp: {done} contacts, page {number}")
            if page.next_cursor is None or page.next_cursor == after:
                break
            after = page.next_cursor
        return run

    async def _segment_tag(self, caller: Caller, segment_id: str) -> str:
        segments = await self._crm.list_segments(caller)
        found = next((s for s in segments.items if s.id == segment_id), None)
        if found is None:
            raise ValidationFailed(
                f"There is no CRM segment '{segment_id}'.",
                field="segment_id",
                hint="crm_list_segments shows the saved segments.",
            )
        return segment_tag(found.name, segment_id)

    @staticmethod
    async def _audience(client: MailchimpClient) -> str:
        audiences = await client.audiences()
        if not audiences:
            raise ValidationFailed(
                "The Mailchimp account has no audience to add the segment to.",
                field="platform",
                hint="Create an audience in Mailchimp (Audience → Create audience), then sync again.",
            )
        return audiences[0].id

    async def _register_webhook(
        self, client: MailchimpClient, tenant_id: str, list_id: str, *, live: bool
    ) -> list[SyncFailure]:
        """Register the audience webhook unless it is there; a refusal is reported, not fatal (members still sync)."""
        host = urlsplit(self._public_url).hostname or ""
        if live and host in _LOOPBACK:
            reason = (
                "unsubscribes will not flow back: PROMPTSALES_PUBLIC_URL is a loopback address Mailchimp cannot "
                "reach; set it to the server's public https URL and sync again"
            )
            return [SyncFailure(external_id="webhook", reason=reason)]
        url = webhook_url(self._public_url, url_secret(self._keys, tenant_id=tenant_id, list_id=list_id))
        try:
            if any(hook.url == url for hook in await client.webhooks(list_id)):
                return []
            await client.add_webhook(list_id, url, events=WEBHOOK_EVENTS, sources=WEBHOOK_SOURCES)
        except PlatformValidationError as exc:
            reason = f"unsubscribes will not flow back: Mailchimp refused the webhook ({exc.detail or exc.status})"
            return [SyncFailure(external_id="webhook", reason=reason[:300])]
        return []

    async def _sync_page(
        self,
        caller: Caller,
        client: MailchimpClient,
        *,
        run_id: str,
        scope: dict[str, str],
        contacts: list[ContactView],
        tag: str,
        next_after: str | None,
        only_changes: bool,
        notes: list[SyncFailure],
    ) -> SyncRunView:
        list_id = scope["list_id"]
        refs = {c.id: member_ref(list_id, c.email) for c in contacts if c.email}

        async def current(u: UnitOfWork) -> dict[str, ExternalLinkRecord]:
            return await repo.links(u, PLATFORM, MEMBER, list(refs.values()))

        known = await self._uow.read(caller, current)
        counts = {"created": 0, "updated": 0, "skipped": 0}
        failures = list(notes)
        applied: list[_Applied] = []
        for contact in contacts:
            ref = refs.get(contact.id)
            if ref is None or contact.email is None:
                counts["skipped"] += 1
                continue
            link = known.get(ref)
            try:
                outcome = await self._apply(client, list_id, contact, ref, link, tag=tag, only_changes=only_changes)
            except (PlatformValidationError, ValidationFailed) as exc:
                failures.append(SyncFailure(external_id=contact.id, reason=str(exc)[:300]))
                continue
            if outcome is None:
                counts["skipped"] += 1
                continue
            counts["updated" if link is not None else "created"] += 1
            applied.append(outcome)
        next_cursor: dict[str, Any] = {**scope, "after": next_after}
        if next_after is None:
            next_cursor["done"] = True
        read_at = datetime.now(UTC)

        async def commit_page(u: UnitOfWork) -> SyncRunView:
            await repo.add_route(u, kind=connections.ROUTE_ACCOUNT, key=connections.account_route(PLATFORM, list_id))
            for item in applied:
                await repo.put_link(
                    u,
                    platform=PLATFORM,
                    object_type=MEMBER,
                    external_id=item.ref,
                    local_id=item.contact_id,
                    remote_modified_at=item.at,
                    fields=item.fields,
                )
            record = await sync_runs.record_page(
                u, run_id, cursor=next_cursor, failures=failures, high_water=read_at, **counts
            )
            return sync_runs.run_view(record)

        return await self._uow.mutate(
            caller,
            action="integrations.sync_page",
            arguments={"run": run_id, "cursor": next_after},
            idempotency_key=None,
            work=commit_page,
            result_type=SyncRunView,
        )

    @staticmethod
    async def _apply(
        client: MailchimpClient,
        list_id: str,
        contact: ContactView,
        ref: str,
        link: ExternalLinkRecord | None,
        *,
        tag: str,
        only_changes: bool,
    ) -> _Applied | None:
        """Write one contact to the audience; None when there is nothing to write (skipped)."""
        assert contact.email is not None
        before = dict(link.fields) if link is not None else {}
        if contact.consent.email.status != "granted":
            if contact.consent.email.status == "revoked" and before.get("status") == "subscribed":
                member = await client.unsubscribe(list_id, contact.email)
                return _Applied(ref, contact.id, {**before, "status": member.status}, member.last_changed)
            return None
        tags = sorted({*before.get("tags", []), tag})
        wanted = _desired(contact, tags)
        if only_changes and before.get("status") and all(before.get(k) == v for k, v in wanted.items()):
            return None
        merge = {name: wanted[name] for name in ("FNAME", "LNAME") if wanted[name]}
        member = await client.upsert_member(
            list_id, MemberUpsert(email_address=contact.email, status_if_new="subscribed", merge_fields=merge)
        )
        await client.set_tags(list_id, contact.email, active=[tag])
        return _Applied(ref, contact.id, {**wanted, "status": member.status}, member.last_changed)
