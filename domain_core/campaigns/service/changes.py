"""Steering a live campaign: pause, resume, end, daily budgets, and rolling a change back.

Every change is recorded with the values it replaced (``campaigns_changes``), so ``rollback_change`` can restore
them. Budgets are committed first, under the tenant's caps lock (concurrent raises queue and can never pass a cap
together), then set on the platforms; a platform that refuses puts the committed values back and nothing is left
half-changed. A budget step larger than the tenant's ``max_change_factor`` (either way) needs a confirmation token
from a first call; a budget below a channel's minimum is refused rather than silently starving delivery. A budget
for the whole campaign is split across its ad channels by response curves fitted to each channel's own last four
weeks (benchmark curves where a channel has too little history).
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from promptsales.domain_core.campaigns import repository as repo
from promptsales.domain_core.campaigns.commands import ChangeStatus, RollbackChange, UpdateBudget
from promptsales.domain_core.campaigns.dto import BudgetPreview, ChangeResult
from promptsales.domain_core.campaigns.model import lifecycle
from promptsales.domain_core.campaigns.model.channels import channel_catalogue
from promptsales.domain_core.campaigns.model.currency import convert
from promptsales.domain_core.campaigns.model.lifecycle import Event, Status
from promptsales.domain_core.campaigns.model.plan import ChannelPlan
from promptsales.domain_core.campaigns.model.rebalance import rebalance
from promptsales.domain_core.campaigns.service import caps, views
from promptsales.domain_core.campaigns.service.campaigns import load, move
from promptsales.domain_core.campaigns.service.placement import Placement
from promptsales.domain_core.campaigns.tables import CampaignRecord, ChangeRecord, PlatformObjectRecord
from promptsales.domain_core.infrastructure import confirmations
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.clock import utc_now
from promptsales.domain_core.shared.errors import DomainError, NotFound, UpstreamError, ValidationFailed
from promptsales.domain_core.shared.ids import new_id

CENT = Decimal("0.01")
HISTORY_DAYS = 28  # the days a live campaign's own curve is fitted to
BUDGET_ACTION = "campaigns.update_budget"
# What each status action asks of the platforms' ad campaigns.
_PLATFORM_STATUS = {"pause": "paused", "resume": "active", "end": "paused"}


@dataclass(frozen=True, slots=True)
class _BudgetPlan:
    record: CampaignRecord
    before: dict[str, str]  # channel -> daily budget
    after: dict[str, str]
    rows: list[PlatformObjectRecord]
    change_id: str | None  # None: a confirmation is needed first (see preview)
    preview: BudgetPreview | None


@dataclass(frozen=True, slots=True)
class _Pushed:
    """Budgets committed and set on the platforms (or a confirmation still needed), ready to be recorded."""

    plan: _BudgetPlan
    done: list[PlatformObjectRecord]
    notes: list[str]


def _live_campaign_rows(
    rows: list[PlatformObjectRecord], channels: set[str] | None = None
) -> list[PlatformObjectRecord]:
    """The ad campaigns of a campaign that exist on their platforms (optionally of some channels)."""
    return [
        r
        for r in rows
        if r.kind == "campaign"
        and r.platform_id is not None
        and r.status in ("active", "paused")
        and (channels is None or r.channel in channels)
    ]


def _change(
    uow: UnitOfWork,
    record: CampaignRecord,
    kind: str,
    channel: str | None,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str | None,
) -> ChangeRecord:
    return ChangeRecord(
        id=new_id("chg"),
        tenant_id=uow.tenant_id,
        campaign_id=record.id,
        kind=kind,
        channel=channel,
        before=before,
        after=after,
        state="applied",
        reason=reason,
        actor_id=uow.caller.actor_id,
        at=uow.now,
    )


def scaled(plans: list[ChannelPlan], channel: str | None, daily: Decimal) -> dict[str, Decimal]:
    """New daily budgets: one channel set to ``daily``, or every ads channel scaled so they add up to ``daily``."""
    catalogue = channel_catalogue()
    ads = [p for p in plans if catalogue[p.channel].kind == "ads" and p.daily_budget]
    if channel is not None:
        if channel not in {p.channel for p in ads}:
            raise ValidationFailed(
                f"'{channel}' is not an ads channel of this campaign.",
                field="channel",
                hint=f"Its ads channels: {', '.join(p.channel for p in ads) or 'none'}.",
            )
        return {channel: daily}
    current = sum((p.daily_budget or Decimal(0) for p in ads), start=Decimal(0))
    if current <= 0:
        raise ValidationFailed("The campaign has no ads channel with a daily budget.", field="campaign_id")
    shares = {p.channel: (p.daily_budget or Decimal(0)) * daily / current for p in ads}
    rounded = {k: v.quantize(CENT, rounding=ROUND_HALF_UP) for k, v in shares.items()}
    largest = max(rounded, key=lambda k: rounded[k])
    rounded[largest] += daily - sum(rounded.values(), start=Decimal(0))  # cents add up exactly
    return rounded


class Changes:
    """Status and budget changes on live campaigns, and their rollback."""

    def __init__(self, uow: UnitOfWorkFactory, *, placement: Placement) -> None:
        self._uow = uow
        self._placement = placement

    async def _platform_calls(
        self, caller: Caller, rows: list[PlatformObjectRecord], call: Callable[[PlatformObjectRecord], Awaitable[None]]
    ) -> tuple[list[PlatformObjectRecord], list[str]]:
        done: list[PlatformObjectRecord] = []
        problems: list[str] = []
        for row in rows:
            try:
                await call(row)
                done.append(row)
            except DomainError as error:
                problems.append(f"{row.channel} {row.platform_id}: {error.public_message()}")
        return done, problems

    # ------------------------------------------------------------------------------------------------ status

    async def change_status(
        self, caller: Caller, command: ChangeStatus, *, idempotency_key: str | None
    ) -> ChangeResult:
        """Pause, resume or end on every platform; the campaign moves only when every platform did."""
        action = f"campaigns.{command.action}_campaign"
        stored = await self._uow.replay(
            caller, action=action, arguments=command, idempotency_key=idempotency_key, result_type=ChangeResult
        )
        if stored is not None:
            return stored
        record = await self._uow.read(caller, lambda uow: load(uow, command.campaign_id))
        events = self._events(command, cast(Status, record.status))  # refused here, before any platform call
        if events[0] == "resume":
            await self._uow.write(caller, lambda uow: self._recommit(uow, command.campaign_id))
        rows = await self._uow.read(caller, lambda uow: repo.objects(uow, command.campaign_id))
        target = _PLATFORM_STATUS.get(command.action)
        touched = _live_campaign_rows(rows) if events[0] != "archive" and target else []
        key = idempotency_key or uuid.uuid4().hex
        done, problems = await self._platform_calls(
            caller,
            [r for r in touched if r.status != target],
            lambda row: self._placement.set_status(caller, row, cast(str, target), key=f"{key}:{row.id}:{target}"),
        )

        async def work(uow: UnitOfWork) -> ChangeResult:
            current = await load(uow, command.campaign_id, for_update=True)
            before = {"status": current.status, "objects": {r.id: r.status for r in touched}}
            for row in done:
                found = await repo.object_by_id(uow, row.id)
                if found is not None:
                    found.status, found.updated_at = cast(str, target), uow.now
                    await repo.save(uow, found)
            if not problems:
                for event in events:
                    await move(uow, current, event, command.reason)
                await repo.save(uow, current)
            after = {"status": current.status, "objects": {r.id: target for r in done}}
            change = _change(uow, current, "status", None, before, after, command.reason)
            change.state = "applied" if not problems else "partial"
            await repo.save(uow, change)
            return ChangeResult(
                campaign=views.summary(current),
                change=views.change_view(change),
                objects=[views.object_view(r) for r in await repo.objects(uow, current.id)],
                problems=problems,
            )

        return await self._uow.mutate(
            caller,
            action=action,
            arguments=command,
            idempotency_key=idempotency_key,
            work=work,
            result_type=ChangeResult,
        )

    @staticmethod
    def _events(command: ChangeStatus, status: Status) -> list[Event]:
        """The lifecycle events a status action means from ``status`` (checked in order, before anything is done)."""
        if command.action != "end":
            events: list[Event] = [cast(Event, command.action)]
        elif status in lifecycle.LIVE:
            events = ["end", "archive"] if command.archive else ["end"]
        else:
            events = ["archive"]  # nothing ran (or it already ended): ending it archives it
        current = status
        for event in events:
            current = lifecycle.next_status(current, event)
        return events

    async def _recommit(self, uow: UnitOfWork, campaign_id: str) -> None:
        """Resuming commits the campaign's budget again: checked against the caps under their lock."""
        record = await load(uow, campaign_id)
        await caps.check_commitment(uow, record, daily=record.budget_daily or Decimal(0), total=record.budget_total)

    # ------------------------------------------------------------------------------------------------ budget

    async def update_budget(
        self, caller: Caller, command: UpdateBudget, *, idempotency_key: str | None
    ) -> ChangeResult:
        """Commit the new daily budget within the caps, then set it on the platforms (undone if they refuse). The
        key is claimed before anything happens: a concurrent call with it waits and gets the same answer."""

        async def prepare() -> _Pushed:
            split, notes = await self._split(caller, command)
            plan = await self._uow.write(caller, lambda uow: self._commit_budget(uow, command, split))
            if plan.preview is not None:
                return _Pushed(plan=plan, done=[], notes=notes)
            return await self._push(caller, plan, idempotency_key, notes)

        return await self._uow.mutate_paid(
            caller,
            action=BUDGET_ACTION,
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, pushed: self._record(uow, command.campaign_id, pushed, reason=command.reason),
            result_type=ChangeResult,
        )

    async def _split(self, caller: Caller, command: UpdateBudget) -> tuple[dict[str, Decimal] | None, list[str]]:
        """A whole-campaign daily budget is split across its ad channels by response curves: fitted to each
        channel's own last weeks where they allow it, else the benchmark's (None: one channel was named)."""
        if command.channel is not None:
            return None, []
        record = await self._uow.read(caller, lambda uow: load(uow, command.campaign_id))
        rows = _live_campaign_rows(await self._uow.read(caller, lambda uow: repo.objects(uow, record.id)))
        if len(rows) < 2:
            return None, []
        until = utc_now().date() - timedelta(days=1)
        since = max(views.schedule_of(record).start_date, until - timedelta(days=HISTORY_DAYS - 1))
        history: dict[str, list[tuple[float, float]]] = {}
        for row in rows:
            try:
                history[row.channel] = (
                    await self._placement.history(caller, record, row, since=since, until=until)
                    if since <= until
                    else []
                )
            except DomainError:
                history[row.channel] = []  # no history read: that channel plans from its benchmark
        catalogue = channel_catalogue()
        minimums = {c: convert(catalogue[c].min_daily_budget, "USD", record.currency) for c in history}
        split = rebalance(command.daily_budget, history, minimums, industry=record.industry, currency=record.currency)
        notes = [f"{channel}: {basis}." for channel, basis in sorted(split.basis.items())]
        return split.budgets, notes

    async def _commit_budget(
        self,
        uow: UnitOfWork,
        command: UpdateBudget,
        split: dict[str, Decimal] | None,
        *,
        restore: dict[str, Decimal] | None = None,
    ) -> _BudgetPlan:
        record = await load(uow, command.campaign_id, for_update=True)
        if record.status not in lifecycle.LIVE:
            raise ValidationFailed(
                f"The campaign is {record.status}: it has no live budget to change.",
                field="campaign_id",
                hint="Change a planned campaign's budgets with campaigns_update_campaign.",
            )
        plans = views.channels_of(record)
        new = restore or split or scaled(plans, command.channel, command.daily_budget)
        self._check_minimums(record, new)
        before = {p.channel: str(p.daily_budget) for p in plans if p.channel in new}
        caps_row = await caps.lock(uow, record.currency)
        old_total = sum((Decimal(v) for v in before.values()), start=Decimal(0))
        new_total = sum(new.values(), start=Decimal(0))
        factor = (new_total / old_total) if old_total > 0 else Decimal("Infinity")
        limit = caps_row.max_change_factor
        if restore is None and (factor > limit or factor < 1 / limit):
            document = {"campaign_id": record.id, "before": before, "after": {k: str(v) for k, v in new.items()}}
            if command.confirmation_token is None:
                token = await confirmations.issue(uow, action=BUDGET_ACTION, target_id=record.id, preview=document)
                return _BudgetPlan(
                    record=record,
                    before=before,
                    after={k: str(v) for k, v in new.items()},
                    rows=[],
                    change_id=None,
                    preview=BudgetPreview(
                        before=old_total,
                        after=new_total,
                        factor=factor.quantize(CENT),
                        confirmation_token=token,
                        expires_in_seconds=int(confirmations.CONFIRMATION_TTL.total_seconds()),
                    ),
                )
            await confirmations.consume(
                uow, command.confirmation_token, action=BUDGET_ACTION, target_id=record.id, preview=document
            )
        daily = (record.budget_daily or Decimal(0)) - old_total + new_total
        await caps.check_commitment(uow, record, daily=daily, total=record.budget_total)
        record.channels = [
            (p.model_copy(update={"daily_budget": new[p.channel]}) if p.channel in new else p).model_dump(mode="json")
            for p in plans
        ]
        record.budget_daily = daily
        record.updated_at = uow.now
        await repo.save(uow, record)
        change = _change(
            uow, record, "budget", command.channel, before, {k: str(v) for k, v in new.items()}, command.reason
        )
        await repo.save(uow, change)
        rows = _live_campaign_rows(await repo.objects(uow, record.id), set(new))
        return _BudgetPlan(
            record=record, before=before, after=change.after, rows=rows, change_id=change.id, preview=None
        )

    def _check_minimums(self, record: CampaignRecord, new: dict[str, Decimal]) -> None:
        catalogue = channel_catalogue()
        for channel, amount in new.items():
            minimum = convert(catalogue[channel].min_daily_budget, "USD", record.currency)
            if amount < minimum:
                raise ValidationFailed(
                    f"A daily budget of {amount} {record.currency} on {channel} is below its minimum of about "
                    f"{minimum.quantize(CENT)} {record.currency}; delivery would stall.",
                    field="daily_budget",
                    hint="Pause the campaign instead (campaigns_pause_campaign), or give it at least the minimum.",
                )

    async def _push(self, caller: Caller, plan: _BudgetPlan, idempotency_key: str | None, notes: list[str]) -> _Pushed:
        """Set the committed budgets on the platforms; if any refuses, put everything back and raise."""
        after = {k: Decimal(v) for k, v in plan.after.items()}
        key = idempotency_key or uuid.uuid4().hex
        done, problems = await self._platform_calls(
            caller,
            plan.rows,
            lambda row: self._placement.set_daily_budget(
                caller, plan.record, row, after[row.channel], key=f"{key}:{row.id}:{after[row.channel]}"
            ),
        )
        if problems:
            # Put back what the platforms took and what was committed: nothing stays half-changed.
            await self._platform_calls(
                caller,
                done,
                lambda row: self._placement.set_daily_budget(
                    caller, plan.record, row, Decimal(plan.before[row.channel]), key=f"{key}:{row.id}:undo"
                ),
            )
            await self._uow.write(caller, lambda uow: self._uncommit(uow, plan))
            raise UpstreamError(
                "The budget was not changed: " + "; ".join(problems),
                field="daily_budget",
                hint="Nothing was changed; retry later with the same idempotency_key.",
            )
        return _Pushed(plan=plan, done=done, notes=notes)

    async def _record(
        self, uow: UnitOfWork, campaign_id: str, pushed: _Pushed, *, reason: str, rolled_back: str | None = None
    ) -> ChangeResult:
        """The change as applied (or the confirmation it needs), in the transaction that stores the answer."""
        plan = pushed.plan
        record = await load(uow, campaign_id)
        if plan.preview is not None:
            return ChangeResult(campaign=views.summary(record), needs_confirmation=plan.preview, notes=pushed.notes)
        after = {k: Decimal(v) for k, v in plan.after.items()}
        for row in pushed.done:
            found = await repo.object_by_id(uow, row.id)
            if found is not None:
                found.daily_budget, found.updated_at = after[row.channel], uow.now
                await repo.save(uow, found)
        change = await repo.change(uow, cast(str, plan.change_id), for_update=True)
        assert change is not None
        if rolled_back is not None:
            original = await repo.change(uow, rolled_back, for_update=True)
            if original is not None:
                original.state, original.rolled_back_by = "rolled_back", change.id
                await repo.save(uow, original)
        uow.audit(
            BUDGET_ACTION,
            target_type="campaign",
            target_id=record.id,
            changes={"before": plan.before, "after": plan.after, "reason": reason, "change_id": change.id},
        )
        return ChangeResult(
            campaign=views.summary(record),
            change=views.change_view(change),
            objects=[views.object_view(r) for r in await repo.objects(uow, record.id)],
            notes=pushed.notes,
        )

    async def _uncommit(self, uow: UnitOfWork, plan: _BudgetPlan) -> None:
        record = await load(uow, plan.record.id, for_update=True)
        before = {k: Decimal(v) for k, v in plan.before.items()}
        plans = views.channels_of(record)
        record.channels = [
            (p.model_copy(update={"daily_budget": before[p.channel]}) if p.channel in before else p).model_dump(
                mode="json"
            )
            for p in plans
        ]
        record.budget_daily = sum((p.daily_budget or Decimal(0) for p in views.channels_of(record)), start=Decimal(0))
        await repo.save(uow, record)
        change = await repo.change(uow, cast(str, plan.change_id), for_update=True)
        if change is not None:
            await repo.remove(uow, change)

    # ------------------------------------------------------------------------------------------------ rollback

    async def rollback(self, caller: Caller, command: RollbackChange, *, idempotency_key: str | None) -> ChangeResult:
        """Restore what a change replaced: budgets as they were, or the status before a pause or resume."""
        original = await self._uow.read(caller, lambda uow: self._rollbackable(uow, command))
        if original.kind == "status":
            previous = str(original.before.get("status"))
            action = "resume" if previous in ("active", "scheduled") else "pause"
            reverted = await self.change_status(
                caller,
                ChangeStatus(
                    campaign_id=command.campaign_id,
                    action=action,
                    reason=f"rollback of {original.id}: {command.reason}"[:500],
                ),
                idempotency_key=idempotency_key,
            )
            if reverted.change is not None and reverted.change.state == "applied":
                await self._uow.write(caller, lambda uow: self._mark_rolled_back(uow, original.id, reverted.change))
            return reverted
        restore = {k: Decimal(v) for k, v in original.before.items()}
        budget = UpdateBudget(
            campaign_id=command.campaign_id,
            daily_budget=sum(restore.values(), start=Decimal(0)),
            channel=original.channel,
            reason=f"rollback of {original.id}: {command.reason}"[:500],
        )

        async def prepare() -> _Pushed:
            plan = await self._uow.write(caller, lambda uow: self._commit_budget(uow, budget, None, restore=restore))
            return await self._push(caller, plan, idempotency_key, [])

        return await self._uow.mutate_paid(
            caller,
            action="campaigns.rollback_change",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, pushed: self._record(
                uow, command.campaign_id, pushed, reason=budget.reason, rolled_back=original.id
            ),
            result_type=ChangeResult,
        )

    async def _mark_rolled_back(self, uow: UnitOfWork, change_id: str, by: Any) -> None:
        original = await repo.change(uow, change_id, for_update=True)
        if original is not None and original.state != "rolled_back":
            original.state, original.rolled_back_by = "rolled_back", by.id
            await repo.save(uow, original)

    async def _rollbackable(self, uow: UnitOfWork, command: RollbackChange) -> ChangeRecord:
        change = await repo.change(uow, command.change_id)
        if change is None:
            raise NotFound("Change", command.change_id, field="change_id", lookup="campaigns_get_campaign")
        if change.campaign_id != command.campaign_id:
            raise ValidationFailed(
                f"Change '{command.change_id}' is not a change of campaign {command.campaign_id}.",
                field="change_id",
                hint="campaigns_get_campaign lists the campaign's changes.",
            )
        if change.state == "rolled_back":
            raise ValidationFailed(
                f"Change '{change.id}' was already rolled back by {change.rolled_back_by}.", field="change_id"
            )
        if change.kind == "status" and change.after.get("status") in ("completed", "archived"):
            raise ValidationFailed(
                "Ending a campaign cannot be rolled back: its objects were stopped for good.",
                field="change_id",
                hint="Plan a new campaign with campaigns_plan_campaign.",
            )
        return change
