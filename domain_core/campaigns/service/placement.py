"""Placing a campaign's items on their channels through the other contexts' facades (no database of our own here).

Ads go through the integrations facade's platform-neutral ads surface (created paused, status/budget changes), in
the ad account's currency (the campaign's amounts converted with the planner's rate table when they differ; the
preview says so). Ad copy is the approved copy asset's fields. Email is a Mailchimp campaign from the approved copy
to the campaign's CRM segment (scheduled for the flight's start when it starts later); SMS and WhatsApp batches send
the approved copy's text to each member who consented (the integrations facade checks consent and refuses the rest);
an influencer's brief is logged as an outbound email interaction on their CRM contact.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import structlog

from promptsales.domain_core.campaigns.commands import Influencer
from promptsales.domain_core.campaigns.model.activation_plan import PlannedItem
from promptsales.domain_core.campaigns.model.channels import channel_catalogue
from promptsales.domain_core.campaigns.model.currency import convert
from promptsales.domain_core.campaigns.model.plan import ChannelPlan, Objective, Targeting
from promptsales.domain_core.campaigns.model.tracking import tracked_url
from promptsales.domain_core.campaigns.tables import CampaignRecord, PlatformObjectRecord
from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.crm.commands import LogInteraction
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.integrations.commands import CreateEmailCampaign, SendMessage
from promptsales.domain_core.integrations.dto import AdAccount, AdGroupSpec, CampaignSpec, CreativeSpec
from promptsales.domain_core.integrations.facade import IntegrationsFacade
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError, ValidationFailed

log = structlog.get_logger(__name__)

# The ads port speaks four objectives; installs are bought as traffic to the store page and retention as sales.
_AD_OBJECTIVES: dict[Objective, str] = {
    "awareness": "awareness",
    "traffic": "traffic",
    "leads": "leads",
    "sales": "sales",
    "app_installs": "traffic",
    "retention": "sales",
}
_HEADLINES = ("headlines", "short_headlines", "headline", "long_headline", "long_headlines", "display_name")
_DESCRIPTIONS = ("descriptions", "description", "primary_text", "intro_text", "ad_text", "body", "text")
MAX_BATCH = 1000  # members one activation messages; larger audiences belong on the email channel
LIST_MAX = 10_000  # identifiers one customer list upload takes (the ads port's cap)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an item now lives."""

    platform_id: str
    account_id: str | None
    detail: dict[str, Any]


def _texts(fields: dict[str, Any], names: Sequence[str]) -> tuple[str, ...]:
    found: list[str] = []
    for name in names:
        value = fields.get(name)
        found += [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])
    return tuple(found)


class Placement:
    """Makes and changes a campaign's objects on their channels."""

    def __init__(self, *, integrations: IntegrationsFacade, content: ContentFacade, crm: CrmFacade) -> None:
        self._integrations = integrations
        self._content = content
        self._crm = crm

    async def account(self, caller: Caller, platform: str) -> AdAccount:
        """The ad account campaigns run in: the connection's first (integrations_list_ad_accounts shows them)."""
        accounts = await self._integrations.ads(caller, platform).list_accounts()
        if not accounts:
            raise ValidationFailed(
                f"The {platform} connection has no ad account to run campaigns in.",
                field="channels",
                hint="Check the connection with integrations_list_ad_accounts.",
            )
        return accounts[0]

    def in_account(self, amount: Decimal, record: CampaignRecord, account: AdAccount) -> Decimal:
        """A campaign amount in the ad account's currency."""
        return convert(amount, record.currency, account.currency)

    async def currency_notes(self, caller: Caller, record: CampaignRecord, plans: Sequence[ChannelPlan]) -> list[str]:
        """For the preview: channels whose ad account spends another currency than the campaign."""
        notes: list[str] = []
        catalogue = channel_catalogue()
        for plan in plans:
            spec = catalogue[plan.channel]
            if spec.kind != "ads" or spec.platform is None:
                continue
            try:
                account = await self.account(caller, spec.platform)
            except DomainError as error:
                notes.append(f"{spec.display_name}: {error.public_message()}")
                continue
            if account.currency != record.currency and plan.daily_budget is not None:
                converted = self.in_account(plan.daily_budget, record, account)
                notes.append(
                    f"{spec.display_name}: the ad account spends {account.currency}; the daily budget of "
                    f"{plan.daily_budget} {record.currency} is set as {converted} {account.currency} (the planner rate "
                    "table, an assumption)."
                )
        return notes

    async def create(
        self,
        caller: Caller,
        record: CampaignRecord,
        item: PlannedItem,
        parent: PlatformObjectRecord | None,
        audience: PlatformObjectRecord | None,
        *,
        key: str,
        attempt: str,
    ) -> Placed:
        """Create one ad item, paused, under its parent's platform id (an ad group targets its customer list).
        ``attempt`` ends the campaign's and list's platform names: names are unique in an ad account, and a campaign
        removed by a failed activation keeps its name."""
        assert item.platform is not None
        ads = self._integrations.ads(caller, item.platform)
        account = await self.account(caller, item.platform)
        schedule = record.schedule
        if item.kind == "audience":
            assert record.segment_id is not None
            emails, phones = await self._list_members(caller, record.segment_id)
            spec = ads.customer_list_spec(f"{item.name[:110]} {attempt}", emails=emails, phones=phones)
            if not spec.hashed_emails and not spec.hashed_phones:
                raise ValidationFailed(
                    "The campaign's segment has no member who granted email consent to build a customer list from.",
                    field="channels",
                    hint="Remove customer_list_segment_id from the channel's targeting, or grow the segment.",
                )
            listed = await ads.create_customer_list(account.id, spec, idempotency_key=key)
            return Placed(platform_id=listed.id, account_id=account.id, detail={"size": listed.size})
        if item.kind == "campaign":
            made = await ads.create_campaign(
                account.id,
                CampaignSpec(
                    name=f"{item.name[:190]} {attempt}",
                    objective=cast(Any, _AD_OBJECTIVES[cast(Objective, record.objective)]),
                    daily_budget=self.in_account(item.daily_budget or Decimal(0), record, account),
                    start_date=schedule["start_date"],
                    end_date=schedule["end_date"],
                ),
                idempotency_key=key,
            )
        elif item.kind == "ad_group":
            assert parent is not None and parent.platform_id is not None
            targeting = item.targeting or Targeting()
            made = await ads.create_ad_group(
                account.id,
                parent.platform_id,
                AdGroupSpec(
                    name=item.name,
                    bid=self.in_account(item.bid, record, account) if item.bid is not None else None,
                    countries=targeting.countries,
                    age_min=targeting.age_min,
                    age_max=targeting.age_max,
                    interests=targeting.interests,
                    audience_ids=(audience.platform_id,) if audience and audience.platform_id else (),
                ),
                idempotency_key=key,
            )
        else:
            assert parent is not None and parent.platform_id is not None and item.creative_id is not None
            copy = await self._content.approved_copy(caller, item.creative_id)
            fields = dict(copy.fields)
            made = await ads.create_ad(
                account.id,
                parent.platform_id,
                CreativeSpec(
                    name=item.name,
                    headlines=_texts(fields, _HEADLINES) or (copy.title,),
                    descriptions=_texts(fields, _DESCRIPTIONS) or (copy.title,),
                    final_url=tracked_url(record.landing_url, item.utm),
                ),
                idempotency_key=key,
            )
        return Placed(platform_id=made.id, account_id=account.id, detail={"landing_url": record.landing_url})

    async def _list_members(self, caller: Caller, segment_id: str) -> tuple[list[str], list[str]]:
        """Emails and phones of the segment's members who granted email consent (the list's legal basis)."""
        emails: list[str] = []
        phones: list[str] = []
        cursor: str | None = None
        while len(emails) + len(phones) < LIST_MAX:
            page = await self._crm.list_segment_members(
                caller, segment_id=segment_id, cursor=cursor, limit=100, consented="email"
            )
            emails += [m.email for m in page.items if m.email]
            phones += [m.phone for m in page.items if m.phone]
            cursor = page.next_cursor
            if cursor is None:
                break
        return emails, phones

    async def estimate(self, caller: Caller, item: PlannedItem) -> str | None:
        """The platform's audience estimate for an ad group's targeting, in words (None where it gives none)."""
        if item.platform is None or item.targeting is None:
            return None
        targeting = item.targeting
        try:
            account = await self.account(caller, item.platform)
            found = await self._integrations.ads(caller, item.platform).estimate_audience(
                account.id,
                AdGroupSpec(
                    name=item.name,
                    countries=targeting.countries,
                    age_min=targeting.age_min,
                    age_max=targeting.age_max,
                    interests=targeting.interests,
                ),
            )
        except DomainError as error:
            return f"no estimate: {error.message}"
        return f"{found.lower:,}-{found.upper:,} people ({found.basis})"

    async def history(
        self, caller: Caller, record: CampaignRecord, row: PlatformObjectRecord, *, since: date, until: date
    ) -> list[tuple[float, float]]:
        """An ad campaign's (spend, conversions) per day as its platform reports them, spend in the campaign's
        currency."""
        assert row.platform is not None and row.platform_id is not None and row.account_id is not None
        account = await self.account(caller, row.platform)
        days = await self._integrations.ads(caller, row.platform).daily_performance(
            row.account_id, "campaign", [row.platform_id], since, until
        )
        return [(float(convert(d.spend, account.currency, record.currency)), float(d.conversions)) for d in days]

    async def set_status(self, caller: Caller, row: PlatformObjectRecord, status: str, *, key: str) -> None:
        """Pause, enable or remove an ad object on its platform."""
        assert row.platform is not None and row.platform_id is not None and row.account_id is not None
        await self._integrations.ads(caller, row.platform).set_status(
            row.account_id, cast(Any, row.kind), row.platform_id, cast(Any, status), idempotency_key=key
        )

    async def set_daily_budget(
        self, caller: Caller, record: CampaignRecord, row: PlatformObjectRecord, amount: Decimal, *, key: str
    ) -> None:
        """Set an ad campaign's daily budget (``amount`` in the campaign's currency)."""
        assert row.platform is not None and row.platform_id is not None and row.account_id is not None
        account = await self.account(caller, row.platform)
        await self._integrations.ads(caller, row.platform).set_daily_budget(
            row.account_id, row.platform_id, self.in_account(amount, record, account), idempotency_key=key
        )

    async def send_email(
        self, caller: Caller, record: CampaignRecord, item: PlannedItem, *, key: str, send_at: datetime | None
    ) -> Placed:
        """A Mailchimp campaign from the approved email copy to the campaign's segment: sent now, or at ``send_at``."""
        assert item.creative_id is not None
        made = await self._integrations.create_email_campaign(
            caller,
            CreateEmailCampaign(
                asset_id=item.creative_id,
                reply_to=reply_to(record),
                title=item.name[:100],
                segment_id=record.segment_id,
                send=send_at is None,
                send_at=send_at,
            ),
            idempotency_key=key,
        )
        return Placed(platform_id=made.id, account_id=made.list_id, detail={"status": made.status})

    async def send_batch(self, caller: Caller, record: CampaignRecord, item: PlannedItem, *, key: str) -> Placed:
        """The approved copy's text to each consenting segment member with a phone (SMS or WhatsApp)."""
        assert item.creative_id is not None and record.segment_id is not None
        copy = await self._content.approved_copy(caller, item.creative_id)
        text = "\n".join(_texts(dict(copy.fields), ("header", "text", "body", "footer")))
        channel: Literal["sms", "whatsapp"] = "sms" if item.channel == "sms" else "whatsapp"
        sent, skipped, cursor = 0, 0, None
        reasons: dict[str, int] = {}
        while sent + skipped < MAX_BATCH:
            page = await self._crm.list_segment_members(
                caller, segment_id=record.segment_id, cursor=cursor, limit=100, consented=channel
            )
            for member in page.items:
                if not member.phone:
                    skipped += 1
                    reasons["no phone"] = reasons.get("no phone", 0) + 1
                    continue
                try:
                    await self._integrations.send_message(
                        caller,
                        SendMessage(channel=channel, contact_id=member.id, text=text[:1600]),
                        idempotency_key=f"{key}:{member.id}",
                    )
                    sent += 1
                except DomainError as error:
                    skipped += 1
                    reason = type(error).__name__
                    reasons[reason] = reasons.get(reason, 0) + 1
            cursor = page.next_cursor
            if cursor is None:
                break
        return Placed(
            platform_id=f"batch:{key[-24:]}", account_id=None, detail={"sent": sent, "skipped": skipped, **reasons}
        )

    async def send_brief(
        self, caller: Caller, influencer: Influencer, item: PlannedItem, landing_url: str, *, key: str
    ) -> Placed:
        """Log the brief, the promo code and the tracked link as an outbound email to the influencer's CRM contact."""
        link = tracked_url(landing_url, item.utm)
        detail = {"promo_code": influencer.promo_code, "tracking_link": link, "handle": influencer.handle}
        if influencer.contact_id is None:
            return Placed(platform_id=f"brief:{influencer.handle}", account_id=None, detail=detail)
        summary = f"Campaign brief for {influencer.handle}: {influencer.brief}\nLink: {link}"
        if influencer.promo_code:
            summary += f"\nPromo code: {influencer.promo_code}"
        if influencer.disclosure:
            summary += f"\nDisclosure to include: {influencer.disclosure}"
        logged = await self._crm.log_interaction(
            caller,
            LogInteraction(
                contact_id=influencer.contact_id, channel="email", direction="outbound", summary=summary[:4000]
            ),
            idempotency_key=key,
        )
        return Placed(platform_id=logged.id, account_id=None, detail=detail)


def reply_to(record: CampaignRecord) -> str:
    """Where replies to the campaign's email go: its owner when that is an address, else marketing@ the landing
    page's domain (the preview shows it before anything is sent)."""
    owner = record.owner or ""
    if EMAIL.match(owner):
        return owner
    return f"marketing@{urlsplit(record.landing_url).hostname or 'localhost'}"
