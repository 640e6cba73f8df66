"""Email campaigns on the connected email platform (Mailchimp) from approved copy, and their reports.

Creating (:meth:`EmailCampaigns.create`): the words come from an email copy asset the content library approved (the
composition root wires :meth:`EmailCampaigns.use_copy_source` to the content facade; this context never reads the
library itself). They become the campaign's HTML (:mod:`.model.email_html`: escaped, one simple layout, Mailchimp's
required unsubscribe link and address). The campaign goes to the connection's audience (the account's first, the
one the audience sync fills) or to one CRM segment synced to it: the sync tags the segment's members with its name,
Mailchimp keeps a tag as a static segment, and the campaign names that segment (``saved_segment_id``).

Idempotency: Mailchimp takes no idempotency key, so the caller's key is reserved before anything is sent
(``mutate_paid``) and a replay, or a concurrent call with the same key, returns the first result. The campaign is
kept (an ``email_campaign`` link) as soon as Mailchimp created it, under an id derived from the key, so a try that
failed later (content refused, a lost connection) is continued by the next try with the same key, never created
twice; a campaign Mailchimp already sent or scheduled is never sent again. A create, send or schedule Mailchimp did
not answer is recorded ``unconfirmed`` and not repeated: it may have happened, and the report reads the truth.

Reports (:meth:`EmailCampaigns.report`): our id (or Mailchimp's) → the link → ``GET /reports/{id}``.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations.commands import CreateEmailCampaign, SendEmailCampaign
from promptsales.domain_core.integrations.dto import EmailCampaignReport, EmailCampaignView, EmailCopy
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.mailchimp.audience_sync import segment_tag
from promptsales.domain_core.integrations.mailchimp.client import (
    SUBJECT_MAX,
    Campaign,
    CampaignReport,
    MailchimpClient,
    NewCampaign,
)
from promptsales.domain_core.integrations.model.email_html import EmailContent, campaign_html
from promptsales.domain_core.integrations.model.errors import PlatformDown, PlatformValidationError
from promptsales.domain_core.integrations.service import email_campaigns as stored
from promptsales.domain_core.integrations.sessions import Link, Sessions
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import Conflict, NotFound, ValidationFailed

PLATFORM = "mailchimp"
# An approved email copy, by asset id (the content facade's, wired in by the composition root).
CopySource = Callable[[Caller, str], Awaitable[EmailCopy]]
PREVIEW_MAX = 150  # Mailchimp's preview_text [~]
FROM_NAME_MAX = 100
TITLE_MAX = 100
EDITABLE = ("save", "paused")  # Mailchimp states in which a campaign can still be changed and sent (§6)
SENT = ("sending", "sent")
LOOKUP_HINT = "Use the id create_email_campaign returned (ec_…) or the Mailchimp campaign id."


def _text(value: str | list[str] | None, *, join: str = " ") -> str | None:
    """A copy field as text (a list field's items joined); None when empty."""
    if value is None:
        return None
    text = join.join(value) if isinstance(value, list) else value
    return text.strip() or None


def email_content(copy: EmailCopy, from_name: str | None) -> EmailContent:
    """The email the copy makes, or ValidationFailed naming what Mailchimp cannot take (the copy is sent as approved,
    never cut)."""
    subject = _text(copy.fields.get("subject"))
    if subject is None:
        raise ValidationFailed(
            f"Copy asset '{copy.asset_id}' has no subject.",
            field="asset_id",
            hint="Use email copy with a subject (content_generate_copy channel=email format=message).",
        )
    if len(subject) > SUBJECT_MAX:
        raise ValidationFailed(
            f"The subject of copy asset '{copy.asset_id}' is {len(subject)} characters; Mailchimp takes at most "
            f"{SUBJECT_MAX}.",
            field="asset_id",
            hint="Generate a shorter subject and have it approved (about 50 characters read best).",
        )
    preheader = _text(copy.fields.get("preheader"))
    if preheader is not None and len(preheader) > PREVIEW_MAX:
        raise ValidationFailed(
            f"The preheader of copy asset '{copy.asset_id}' is {len(preheader)} characters; Mailchimp's preview text "
            f"takes at most {PREVIEW_MAX}.",
            field="asset_id",
            hint="Generate a shorter preheader and have it approved (about 100 characters show in most inboxes).",
        )
    sender = from_name or _text(copy.fields.get("from_name"))
    if sender is None:
        raise ValidationFailed(
            f"Copy asset '{copy.asset_id}' names no sender.", field="from_name", hint="Pass from_name (the sender)."
        )
    if len(sender) > FROM_NAME_MAX:
        raise ValidationFailed(
            f"The copy's sender name is {len(sender)} characters; Mailchimp takes at most {FROM_NAME_MAX}.",
            field="from_name",
            hint="Pass a shorter from_name.",
        )
    return EmailContent(
        subject=subject,
        preheader=preheader,
        body=_text(copy.fields.get("body"), join="\n\n"),
        from_name=sender,
        language=copy.language,
        accent_color=copy.accent_color,
    )


def check_timing(send: bool, send_at: datetime | None, now: datetime) -> None:
    """``send`` and ``send_at`` exclude each other; ``send_at`` is aware, in the future and on a quarter hour (§6)."""
    if send_at is None:
        return
    if send:
        raise ValidationFailed(
            "Give send=true (send now) or send_at (schedule), not both.",
            field="send_at",
            hint="Leave send_at out to send now, or send out to schedule.",
        )
    if send_at.tzinfo is None:
        raise ValidationFailed("send_at needs a time zone (UTC: a trailing Z).", field="send_at")
    moment = send_at.astimezone(UTC)
    if moment.minute % 15 or moment.second or moment.microsecond:
        raise ValidationFailed(
            "Mailchimp schedules on the quarter hour: send_at must fall on :00, :15, :30 or :45 (whole minutes).",
            field="send_at",
        )
    if moment <= now + timedelta(minutes=1):
        raise ValidationFailed(
            "send_at is not in the future.", field="send_at", hint="Schedule a later quarter hour, or send now."
        )


def _state(campaign: Campaign) -> str:
    """Our status of a campaign in a Mailchimp state (save/paused: draft; schedule: scheduled; sending/sent: sent)."""
    if campaign.status in SENT:
        return "sent"
    return "scheduled" if campaign.status == "schedule" else "draft"


def _title(copy: EmailCopy, title: str | None, ours: str) -> str:
    """The campaign's internal name, ending with our id (so a campaign Mailchimp did not confirm can be found)."""
    suffix = f" · {ours}"
    return (title or copy.title).strip()[: TITLE_MAX - len(suffix)] + suffix


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a try came to: the campaign, and whether this try asked Mailchimp to send or schedule it."""

    campaign: EmailCampaignView
    asked: bool = False


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole > 0 else 0.0


class EmailCampaigns:
    """Creates, sends and reports email campaigns on a tenant's Mailchimp connection."""

    def __init__(self, uow: UnitOfWorkFactory, sessions: Sessions, crm: CrmFacade) -> None:
        self._uow = uow
        self._sessions = sessions
        self._crm = crm
        self._copy_source: CopySource | None = None

    def use_copy_source(self, source: CopySource) -> None:
        """Read approved email copy with ``source`` (the content facade's, wired by the composition root)."""
        self._copy_source = source

    # ------------------------------------------------------------------------------------------ creating

    async def create(
        self, caller: Caller, command: CreateEmailCampaign, *, idempotency_key: str | None
    ) -> EmailCampaignView:
        """A campaign from approved copy: a draft, sent now or scheduled; once per idempotency key."""
        check_timing(command.send, command.send_at, self._sessions.clock())
        ours = stored.local_id(idempotency_key, command.digest_source())

        async def prepare() -> _Outcome:
            copy = await self._approved(caller, command.asset_id)
            content = email_content(copy, command.from_name)
            tag = await self._segment_tag(caller, command.segment_id) if command.segment_id is not None else None
            draft = EmailCampaignView(
                id=ours,
                platform=PLATFORM,
                campaign_id=None,
                status="draft",
                asset_id=copy.asset_id,
                asset_version=copy.version,
                list_id=None,
                segment_id=command.segment_id,
                subject=content.subject,
                preview_text=content.preheader,
                from_name=content.from_name,
                reply_to=command.reply_to,
                send_at=None,
                sent_at=None,
                created_at=self._sessions.clock(),
            )
            html = campaign_html(content)
            title = _title(copy, command.title, ours)

            async def work(http: ConnectorHttp, link: Link) -> _Outcome:
                client = MailchimpClient(http)
                found = await self._existing_or_new(caller, client, draft, title, tag)
                current = found.campaign
                if current.status != "draft" or current.campaign_id is None:
                    return found  # unconfirmed, or sent / scheduled by an earlier try: never again
                await client.set_content(current.campaign_id, html)
                return await self._deliver(client, current, send=command.send, send_at=command.send_at)

            return await self._sessions.run(caller, PLATFORM, work)

        return await self._uow.mutate_paid(
            caller,
            action="integrations.create_email_campaign",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, outcome: stored.record(uow, outcome.campaign, asked=outcome.asked),
            result_type=EmailCampaignView,
        )

    async def _approved(self, caller: Caller, asset_id: str) -> EmailCopy:
        source = self._copy_source
        if source is None:
            raise ValidationFailed(
                "This deployment sends no email campaigns (no content library is wired in).", field="asset_id"
            )
        return await source(caller, asset_id)

    async def _segment_tag(self, caller: Caller, segment_id: str) -> str:
        found = next((s for s in (await self._crm.list_segments(caller)).items if s.id == segment_id), None)
        if found is None:
            raise NotFound("CRM segment", segment_id, field="segment_id", lookup="crm_list_segments")
        return segment_tag(found.name, segment_id)

    async def _existing_or_new(
        self, caller: Caller, client: MailchimpClient, draft: EmailCampaignView, title: str, tag: str | None
    ) -> _Outcome:
        """The campaign an earlier try of this request created (in its state on Mailchimp), else a new one."""
        found = await self._uow.read(caller, lambda uow: stored.find(uow, PLATFORM, draft.id))
        if found is not None:
            current = stored.view(found)
            if current.campaign_id is None or current.status != "draft":
                return _Outcome(current)
            state = _state(await client.campaign(current.campaign_id))
            # Sent or scheduled already: the earlier try of this request asked for it and its record was lost.
            return _Outcome(
                current if state == "draft" else current.model_copy(update={"status": state}), state != "draft"
            )
        list_id = await self._audience(client)
        segment = await self._tag_segment(client, list_id, tag, draft.segment_id) if tag is not None else None
        new = NewCampaign(
            list_id=list_id,
            subject_line=draft.subject,
            from_name=draft.from_name,
            reply_to=draft.reply_to,
            title=title,
            preview_text=draft.preview_text,
            segment_id=segment,
        )
        try:
            made = await client.create_campaign(new)
        except PlatformDown as exc:
            if not exc.may_have_applied:
                raise
            lost = draft.model_copy(
                update={
                    "list_id": list_id,
                    "status": "unconfirmed",
                    "error": f"Mailchimp did not confirm creating the campaign; look for '{title}' in Mailchimp "
                    "before creating it again.",
                }
            )
            return _Outcome(lost)
        created = draft.model_copy(update={"campaign_id": made.id, "list_id": list_id})

        async def keep(uow: UnitOfWork) -> EmailCampaignView:
            return await stored.record(uow, created, asked=False)

        # Kept at once, in its own transaction: a later failure leaves it for the next try to continue.
        kept = await self._uow.mutate(
            caller,
            action="integrations.keep_email_campaign",
            arguments={"campaign": created.id},
            idempotency_key=None,
            work=keep,
            result_type=EmailCampaignView,
        )
        return _Outcome(kept)

    @staticmethod
    async def _audience(client: MailchimpClient) -> str:
        """The connection's audience: the account's first (the audience sync's)."""
        audiences = await client.audiences()
        if not audiences:
            raise ValidationFailed(
                "The Mailchimp account has no audience to send to.",
                field="platform",
                hint="Create an audience in Mailchimp (Audience → Create audience), sync a CRM segment to it, then "
                "create the campaign again.",
            )
        return audiences[0].id

    @staticmethod
    async def _tag_segment(client: MailchimpClient, list_id: str, tag: str, segment_id: str | None) -> int:
        """The id of the static segment Mailchimp keeps for the segment's tag (the audience sync adds the tag)."""
        found = next((s for s in await client.static_segments(list_id) if s.name == tag and s.id > 0), None)
        if found is None:
            raise ValidationFailed(
                f"CRM segment '{segment_id}' has not been synced to the Mailchimp audience (no tag '{tag}').",
                field="segment_id",
                hint=f"Run integrations_sync platform=mailchimp capability=email_marketing segment_id={segment_id} "
                "first, then create the campaign again.",
            )
        return found.id

    async def _deliver(
        self, client: MailchimpClient, current: EmailCampaignView, *, send: bool, send_at: datetime | None
    ) -> _Outcome:
        """Send or schedule a draft (once: an unanswered request is recorded unconfirmed), or leave it a draft."""
        assert current.campaign_id is not None
        if send_at is None and not send:
            return _Outcome(current)
        try:
            if send_at is not None:
                await client.schedule_campaign(current.campaign_id, send_at)
            else:
                await client.send_campaign(current.campaign_id)
        except PlatformValidationError as exc:
            state = _state(await client.campaign(current.campaign_id))
            if (
                state != "draft"
            ):  # a concurrent call sent or scheduled it first: it goes out once, as Mailchimp keeps it
                return _Outcome(current.model_copy(update={"status": state}))
            # Refused (not ready to send): nothing went out, and the draft stays for the next try.
            exc.hint = (
                f"The campaign is kept as draft {current.id} (Mailchimp {current.campaign_id}): once this is fixed, "
                "repeat the call with the same idempotency_key, or send the draft with send_email_campaign."
            )
            raise
        except PlatformDown as exc:
            if not exc.may_have_applied:
                raise
            what = "scheduling" if send_at is not None else "sending"
            unconfirmed = current.model_copy(
                update={
                    "status": "unconfirmed",
                    "send_at": send_at,
                    "sent_at": None if send_at is not None else self._sessions.clock(),
                    "error": f"Mailchimp did not confirm {what} the campaign; it may have gone out. The report says.",
                }
            )
            return _Outcome(unconfirmed, asked=True)
        if send_at is not None:
            return _Outcome(current.model_copy(update={"status": "scheduled", "send_at": send_at}), asked=True)
        return _Outcome(current.model_copy(update={"status": "sent", "sent_at": self._sessions.clock()}), asked=True)

    # ------------------------------------------------------------------------------------------ sending a draft

    async def send(
        self, caller: Caller, command: SendEmailCampaign, *, idempotency_key: str | None
    ) -> EmailCampaignView:
        """Send or schedule a draft; a campaign already sent or scheduled is returned as it is (never sent again)."""
        check_timing(False, command.send_at, self._sessions.clock())

        async def prepare() -> _Outcome:
            current = await self._campaign(caller, command.campaign_id)
            if current.status in ("sent", "scheduled"):
                return _Outcome(current)
            campaign_id = current.campaign_id
            assert campaign_id is not None

            async def work(http: ConnectorHttp, link: Link) -> _Outcome:
                client = MailchimpClient(http)
                state = _state(await client.campaign(campaign_id))
                if state != "draft":  # sent or scheduled already (an unconfirmed request went through)
                    return _Outcome(current.model_copy(update={"status": state, "error": None}))
                return await self._deliver(client, current, send=command.send_at is None, send_at=command.send_at)

            return await self._sessions.run(caller, PLATFORM, work)

        return await self._uow.mutate_paid(
            caller,
            action="integrations.send_email_campaign",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, outcome: stored.record(uow, outcome.campaign, asked=outcome.asked),
            result_type=EmailCampaignView,
        )

    async def _campaign(self, caller: Caller, ref: str) -> EmailCampaignView:
        """A campaign of this tenant by our id or Mailchimp's; one Mailchimp never confirmed creating is refused."""
        found = await self._uow.read(caller, lambda uow: stored.find(uow, PLATFORM, ref))
        if found is None:
            error = NotFound("email campaign", ref, field="campaign_id")
            error.hint = LOOKUP_HINT
            raise error
        current = stored.view(found)
        if current.campaign_id is None:
            raise Conflict(
                f"Mailchimp never confirmed creating email campaign '{current.id}', so there is nothing to send or "
                "report.",
                field="campaign_id",
                hint=f"Look for a campaign whose name ends with '{current.id}' in Mailchimp; if there is none, create "
                "the campaign again with a new idempotency_key.",
            )
        return current

    # ------------------------------------------------------------------------------------------ reports

    async def report(self, caller: Caller, campaign_id: str) -> EmailCampaignReport:
        """A sent campaign's numbers as Mailchimp reports them now."""
        current = await self._campaign(caller, campaign_id)
        platform_id = current.campaign_id
        assert platform_id is not None

        async def work(http: ConnectorHttp, link: Link) -> tuple[Campaign, CampaignReport]:
            client = MailchimpClient(http)
            state = await client.campaign(platform_id)
            if state.status not in SENT:
                scheduled = state.status == "schedule"
                when = f" (scheduled for {current.send_at.isoformat()})" if scheduled and current.send_at else ""
                raise ValidationFailed(
                    f"Email campaign '{current.id}' has not been sent yet{when}; its report starts when it goes out.",
                    field="campaign_id",
                    hint="Ask again after its scheduled time."
                    if scheduled
                    else "Send the draft first (send_email_campaign).",
                )
            return state, await client.report(platform_id)

        state, numbers = await self._sessions.run(caller, PLATFORM, work)
        bounces = numbers.hard_bounces + numbers.soft_bounces
        delivered = max(numbers.emails_sent - bounces, 0)
        return EmailCampaignReport(
            id=current.id,
            platform=PLATFORM,
            campaign_id=platform_id,
            status=state.status,
            emails_sent=numbers.emails_sent,
            delivered=delivered,
            unique_opens=numbers.unique_opens,
            opens_total=numbers.opens_total,
            open_rate=numbers.open_rate,
            unique_clicks=numbers.unique_clicks,
            clicks_total=numbers.clicks_total,
            click_rate=numbers.click_rate,
            hard_bounces=numbers.hard_bounces,
            soft_bounces=numbers.soft_bounces,
            bounce_rate=_rate(bounces, numbers.emails_sent),
            unsubscribed=numbers.unsubscribed,
            unsubscribe_rate=_rate(numbers.unsubscribed, delivered),
            abuse_reports=numbers.abuse_reports,
            send_time=numbers.send_time,
        )
