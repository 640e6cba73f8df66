"""Two-phase activation: a preview bound to a confirmation token, then everything created paused and enabled only
when all of it succeeded.

Spend is real money, so the preview lists every object, budget, bid, targeting, creative and tracked link and the
most the campaign can spend, and its token is bound to exactly that (a changed plan voids it). Activation checks the
token, compliance and the spend caps (under the tenant's caps lock), then creates the items in order. Each item is a
row keyed by (activation, item), and each platform write carries an idempotency key derived from it, so a retried or
concurrent activation with the same token finds what was made instead of making it twice. When an item fails,
everything already made is removed on its platform (left paused where removing fails) and the answer says, object
by object, what happened. Only when every ad object exists are they enabled; then the email, message batches and
influencer briefs go out (irreversible, so last); the token is spent, the campaign moves to active (or scheduled
when its flight starts later) and one ``activations`` unit of the plan is used, in one transaction.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

import structlog

from promptsales.domain_core.campaigns import repository as repo
from promptsales.domain_core.campaigns.commands import ActivateCampaign, PreviewActivation
from promptsales.domain_core.campaigns.dto import ActivationPreview, ActivationResult, PlannedObject
from promptsales.domain_core.campaigns.model import activation_plan, lifecycle
from promptsales.domain_core.campaigns.model.activation_plan import PlannedItem
from promptsales.domain_core.campaigns.model.channels import channel_catalogue
from promptsales.domain_core.campaigns.model.tracking import tracked_url
from promptsales.domain_core.campaigns.service import caps, views
from promptsales.domain_core.campaigns.service.campaigns import load, move
from promptsales.domain_core.campaigns.service.facts import Evaluated, FactsReader
from promptsales.domain_core.campaigns.service.placement import Placed, Placement, reply_to
from promptsales.domain_core.campaigns.service.review import blocked
from promptsales.domain_core.campaigns.tables import CampaignRecord, PlatformObjectRecord
from promptsales.domain_core.infrastructure import confirmations
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.clock import utc_now
from promptsales.domain_core.shared.errors import DomainError, QuotaExceeded
from promptsales.domain_core.shared.ids import new_id

log = structlog.get_logger(__name__)

ACTION = "campaigns.activate_campaign"
RENEW = "Run campaigns_preview_activation again for a fresh token (it shows what the plan is now)."
TOKEN_SECONDS = int(confirmations.CONFIRMATION_TTL.total_seconds())
AD_KINDS = ("campaign", "audience", "ad_group", "ad")
SEND_HOUR = time(9, 0)  # scheduled emails go out at 09:00 of the start date in the campaign's time zone


@dataclass(frozen=True, slots=True)
class _Begun:
    record: CampaignRecord
    items: list[PlannedItem]
    document: dict[str, Any]
    rows: dict[str, PlatformObjectRecord]  # by item key


def activation_id(token: str) -> str:
    """The activation a confirmation token starts (the same for every retry with that token)."""
    return "act_" + hashlib.sha256(token.encode()).hexdigest()[:24]


def _document(record: CampaignRecord, items: Sequence[PlannedItem]) -> dict[str, Any]:
    """What a token is bound to: the campaign's version and every planned item."""
    return {"campaign_id": record.id, "version": record.version, "items": [i.model_dump(mode="json") for i in items]}


def _planned_object(item: PlannedItem, record: CampaignRecord, reach: str | None) -> PlannedObject:
    targeting = item.targeting.model_dump(mode="json", exclude_defaults=True) if item.targeting else {}
    if item.kind == "email_campaign":
        targeting = {"segment_id": record.segment_id, "reply_to": reply_to(record)}
    elif item.kind == "message_batch":
        targeting = {"segment_id": record.segment_id}
    return PlannedObject(
        channel=item.channel,
        platform=item.platform,
        kind=item.kind,
        name=item.name,
        parent=item.parent_key,
        daily_budget=item.daily_budget,
        bid=item.bid,
        targeting=targeting,
        creative_id=item.creative_id,
        tracking_url=tracked_url(record.landing_url, item.utm),
        recipients=item.recipients,
        reach=reach,
    )


def _row(uow: UnitOfWork, record: CampaignRecord, item: PlannedItem, act: str) -> PlatformObjectRecord:
    return PlatformObjectRecord(
        id=new_id("ao"),
        tenant_id=uow.tenant_id,
        campaign_id=record.id,
        local_key=f"{act}:{item.local_key}",
        channel=item.channel,
        platform=item.platform,
        kind=item.kind,
        name=item.name,
        parent_key=f"{act}:{item.parent_key}" if item.parent_key else None,
        status="planned",
        daily_budget=item.daily_budget,
        bid=item.bid,
        creative_id=item.creative_id,
        tracking=item.utm,
        detail={"landing_url": record.landing_url, "activation": act},
        created_at=uow.now,
        updated_at=uow.now,
    )


def send_at(record: CampaignRecord, now: datetime) -> datetime | None:
    """When a scheduled flight's email goes out (None: now, the flight has started)."""
    schedule = views.schedule_of(record)
    if not activation_plan.starts_later(schedule, now.date()):
        return None
    return datetime.combine(schedule.start_date, SEND_HOUR, tzinfo=ZoneInfo(schedule.time_zone))


class Activation:
    """Previews and activations of campaigns."""

    def __init__(self, uow: UnitOfWorkFactory, *, facts: FactsReader, placement: Placement) -> None:
        self._uow = uow
        self._facts = facts
        self._placement = placement

    def _items(self, record: CampaignRecord, evaluated: Evaluated) -> list[PlannedItem]:
        return activation_plan.items(
            campaign_id=record.id,
            name=record.name,
            channels=views.channels_of(record),
            catalogue=channel_catalogue(),
            recipients=evaluated.recipients,
            influencers=[(i.handle, i.promo_code) for i in views.influencers_of(record)],
            list_members=evaluated.list_members,
        )

    async def _evaluated(self, caller: Caller, campaign_id: str) -> Evaluated:
        evaluated = await self._facts.evaluate(caller, campaign_id)
        lifecycle.next_status(evaluated.status, "activate")  # only approved campaigns go live
        if evaluated.report.blocking:
            raise blocked(evaluated.report, "activate the campaign")
        return evaluated

    # ------------------------------------------------------------------------------------------------ preview

    async def preview(self, caller: Caller, campaign_id: str, *, idempotency_key: str | None) -> ActivationPreview:
        """Everything activation would create and spend, and a token bound to exactly that."""
        evaluated = await self._evaluated(caller, campaign_id)
        current = await self._uow.read(caller, lambda uow: load(uow, campaign_id))
        notes = await self._placement.currency_notes(caller, current, views.channels_of(current))
        reach = {
            item.local_key: await self._placement.estimate(caller, item)
            for item in self._items(current, evaluated)
            if item.kind == "ad_group"
        }

        async def work(uow: UnitOfWork) -> ActivationPreview:
            record = await load(uow, campaign_id)
            items = self._items(record, evaluated)
            token = await confirmations.issue(uow, action=ACTION, target_id=record.id, preview=_document(record, items))
            uow.audit(
                "campaigns.preview_activation",
                target_type="campaign",
                target_id=record.id,
                changes={"items": len(items), "version": record.version},
            )
            schedule, plans = views.schedule_of(record), views.channels_of(record)
            fees = sum((i.fee or Decimal(0) for i in views.influencers_of(record)), start=Decimal(0))
            warnings = [f"[{f.rule_id}] {f.message}" for f in evaluated.report.findings if f.severity == "warn"]
            if activation_plan.starts_later(schedule, uow.now.date()):
                warnings.append(
                    f"The flight starts {schedule.start_date}: ads are enabled now and deliver from that date and the "
                    "email is scheduled for it; SMS/WhatsApp batches and influencer briefs go out now."
                )
            return ActivationPreview(
                campaign_id=record.id,
                objects=[_planned_object(i, record, reach.get(i.local_key)) for i in items],
                max_daily_spend=sum((p.daily_budget or Decimal(0) for p in plans), start=Decimal(0)),
                max_total_spend=activation_plan.max_spend(plans, schedule, total=record.budget_total, fees=fees),
                currency=record.currency,
                starts=schedule.start_date,
                warnings=warnings + notes,
                confirmation_token=token,
                expires_in_seconds=TOKEN_SECONDS,
            )

        return await self._uow.mutate(
            caller,
            action="campaigns.preview_activation",
            arguments=PreviewActivation(campaign_id=campaign_id),
            idempotency_key=idempotency_key,
            work=work,
            result_type=ActivationPreview,
        )

    # ------------------------------------------------------------------------------------------------ activate

    async def activate(
        self, caller: Caller, command: ActivateCampaign, *, idempotency_key: str | None
    ) -> ActivationResult:
        """Create, enable and record; a failure removes what was made and says what happened to each object."""
        stored = await self._uow.replay(
            caller, action=ACTION, arguments=command, idempotency_key=idempotency_key, result_type=ActivationResult
        )
        if stored is not None:
            return stored
        evaluated = await self._evaluated(caller, command.campaign_id)
        act = activation_id(command.confirmation_token)
        begun = await self._uow.write(caller, lambda uow: self._begin(uow, command, evaluated, act))
        problem = await self._create_ads(caller, begun, act)
        if problem is not None:
            problems = [problem, *await self._remove_made(caller, begun, act)]
            return await self._close(caller, command, begun, act, idempotency_key, problems=problems)
        problems = await self._enable_ads(caller, begun, act)
        if problems:
            problems += await self._remove_made(caller, begun, act)
            return await self._close(caller, command, begun, act, idempotency_key, problems=problems)
        problems = await self._send_owned(caller, begun, act)
        try:
            return await self._close(caller, command, begun, act, idempotency_key, problems=problems, live=True)
        except QuotaExceeded as error:  # the last activation of the plan was used by a concurrent call
            undone = await self._remove_made(caller, begun, act)
            problems = [f"The activation could not be recorded: {error.public_message()}", *problems, *undone]
            return await self._close(caller, command, begun, act, idempotency_key, problems=problems)

    async def _begin(self, uow: UnitOfWork, command: ActivateCampaign, evaluated: Evaluated, act: str) -> _Begun:
        """Check the token against the plan, the budget against the caps (caps row locked), and claim the rows."""
        record = await load(uow, command.campaign_id, for_update=True)
        lifecycle.next_status(cast(lifecycle.Status, record.status), "activate")
        items = self._items(record, evaluated)
        document = _document(record, items)
        await confirmations.check(
            uow, command.confirmation_token, action=ACTION, target_id=record.id, preview=document, renew=RENEW
        )
        await caps.check_commitment(uow, record, daily=record.budget_daily or Decimal(0), total=record.budget_total)
        rows = {item.local_key: await repo.claim_object(uow, _row(uow, record, item, act)) for item in items}
        return _Begun(record=record, items=items, document=document, rows=rows)

    async def _update_row(self, caller: Caller, row: PlatformObjectRecord, **values: Any) -> PlatformObjectRecord:
        async def work(uow: UnitOfWork) -> PlatformObjectRecord:
            found = await repo.object_by_id(uow, row.id)
            assert found is not None
            for name, value in values.items():
                setattr(found, name, value)
            found.updated_at = uow.now
            await repo.save(uow, found)
            return found

        return await self._uow.write(caller, work)

    async def _create_ads(self, caller: Caller, begun: _Begun, act: str) -> str | None:
        """Create every ad item not made yet, paused, parents first; the first failure stops it (its message)."""
        for item in begun.items:
            row = begun.rows[item.local_key]
            if item.kind not in AD_KINDS or row.platform_id is not None:
                continue
            parent = begun.rows[item.parent_key] if item.parent_key else None
            audience = begun.rows[item.audience_key] if item.audience_key else None
            try:
                placed = await self._placement.create(
                    caller, begun.record, item, parent, audience, key=f"{act}:{item.local_key}", attempt=act[-6:]
                )
            except DomainError as error:
                message = error.public_message()[:500]
                begun.rows[item.local_key] = await self._update_row(caller, row, status="failed", error=message)
                return f"{item.channel} {item.kind} '{item.name}' failed: {message}"
            begun.rows[item.local_key] = await self._update_row(
                caller, row, platform_id=placed.platform_id, account_id=placed.account_id, status="paused"
            )
        return None

    async def _enable_ads(self, caller: Caller, begun: _Begun, act: str) -> list[str]:
        """Enable every ad object (children first, so nothing half-configured delivers)."""
        for item in reversed(begun.items):
            row = begun.rows[item.local_key]
            if item.kind not in AD_KINDS or item.kind == "audience" or row.status == "active":
                continue
            try:
                await self._placement.set_status(caller, row, "active", key=f"{act}:{item.local_key}:enable")
            except DomainError as error:
                return [f"{item.channel} {item.kind} {row.platform_id} could not be enabled: {error.public_message()}"]
            begun.rows[item.local_key] = await self._update_row(caller, row, status="active")
        return []

    async def _remove_made(self, caller: Caller, begun: _Begun, act: str) -> list[str]:
        """Remove each campaign made on a platform (its ad groups and ads go with it); what cannot be removed is
        paused. Returns what could not be undone."""
        problems: list[str] = []
        for item in begun.items:
            row = begun.rows[item.local_key]
            if item.kind not in AD_KINDS or row.platform_id is None:
                continue
            if item.kind == "audience":
                continue  # a customer list spends nothing; a new activation makes its own
            if item.kind != "campaign":
                begun.rows[item.local_key] = await self._update_row(caller, row, status="removed")
                continue
            try:
                await self._placement.set_status(caller, row, "removed", key=f"{act}:{item.local_key}:remove")
                begun.rows[item.local_key] = await self._update_row(caller, row, status="removed")
            except DomainError as error:
                problems.append(
                    f"{item.channel} campaign {row.platform_id} could not be removed and may still exist paused: "
                    f"{error.public_message()}"
                )
        return problems

    async def _send_owned(self, caller: Caller, begun: _Begun, act: str) -> list[str]:
        """The email, message batches and influencer briefs (sent once each: keyed by the activation)."""
        record = begun.record
        influencers = {f"influencer/{i.handle.lstrip('@').lower()}": i for i in views.influencers_of(record)}
        problems: list[str] = []
        for item in begun.items:
            row = begun.rows[item.local_key]
            if item.kind in AD_KINDS or row.status == "sent":
                continue
            key = f"{act}:{item.local_key}"
            try:
                placed: Placed
                if item.kind == "email_campaign":
                    moment = send_at(record, utc_now())
                    placed = await self._placement.send_email(caller, record, item, key=key, send_at=moment)
                elif item.kind == "message_batch":
                    placed = await self._placement.send_batch(caller, record, item, key=key)
                else:
                    influencer = influencers[item.local_key]
                    placed = await self._placement.send_brief(caller, influencer, item, record.landing_url, key=key)
            except DomainError as error:
                message = error.public_message()[:500]
                begun.rows[item.local_key] = await self._update_row(caller, row, status="failed", error=message)
                problems.append(f"{item.channel} {item.kind} '{item.name}' was not sent: {message}")
                continue
            begun.rows[item.local_key] = await self._update_row(
                caller,
                row,
                status="sent",
                platform_id=placed.platform_id[:200],
                account_id=placed.account_id,
                detail={**row.detail, **placed.detail},
            )
        return problems

    async def _close(
        self,
        caller: Caller,
        command: ActivateCampaign,
        begun: _Begun,
        act: str,
        idempotency_key: str | None,
        *,
        problems: list[str],
        live: bool = False,
    ) -> ActivationResult:
        """Spend the token and record the outcome; when live, move the campaign and use one activation."""

        async def work(uow: UnitOfWork) -> ActivationResult:
            record = await load(uow, command.campaign_id, for_update=True)
            await confirmations.consume(
                uow, command.confirmation_token, action=ACTION, target_id=record.id, preview=begun.document, renew=RENEW
            )
            outcome = "failed"
            if live:
                later = activation_plan.starts_later(views.schedule_of(record), uow.now.date())
                outcome = await move(
                    uow, record, "schedule" if later else "activate", "activated with a confirmed preview"
                )
                record.activated_at = uow.now
                await repo.save(uow, record)
                uow.meter("activations")
            else:
                problems.append(
                    "Nothing is delivering. Fix the failure and preview again for a new confirmation token."
                )
            uow.audit(
                ACTION,
                target_type="campaign",
                target_id=record.id,
                changes={"outcome": outcome, "activation": act, "problems": problems[:5]},
            )
            rows = [r for r in await repo.objects(uow, record.id) if r.local_key.startswith(f"{act}:")]
            return ActivationResult.model_validate(
                {
                    "campaign": views.summary(record),
                    "outcome": outcome,
                    "objects": [views.object_view(r) for r in rows],
                    "problems": problems,
                }
            )

        return await self._uow.mutate(
            caller,
            action=ACTION,
            arguments=command,
            idempotency_key=idempotency_key,
            work=work,
            result_type=ActivationResult,
        )
