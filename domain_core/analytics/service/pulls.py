"""Incremental pulls of platform results into the performance facts: each campaign from where its last pull ended,
less a few days platforms restate; a re-pulled day replaces the stored one."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from promptsales.domain_core.analytics import repository as repo
from promptsales.domain_core.analytics.commands import PerformanceDay
from promptsales.domain_core.analytics.dto import CampaignPull, RefreshResult
from promptsales.domain_core.analytics.tables import PerformanceRecord, PullRecord
from promptsales.domain_core.campaigns.dto import CampaignTracking, TrackedObject
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations.facade import IntegrationsFacade
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError, NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id

# Platforms revise recent days as late conversions arrive (Google Ads: conversions are attributed to the click
# date, up to the conversion window later), so each pull re-reads the last days it already has.
RESTATE_DAYS = 3
REPORT_DAYS = 93  # the integrations facade's largest report window
REPORT_IDS = 100  # and most ids per report
LIVE = frozenset({"scheduled", "active", "paused"})
AD_PLATFORMS = frozenset({"google_ads", "meta_ads", "tiktok_ads", "linkedin_ads"})


@dataclass(frozen=True, slots=True)
class _Window:
    since: date
    until: date


def _today(tracking: CampaignTracking, now: datetime) -> date:
    return now.astimezone(ZoneInfo(tracking.time_zone)).date()


def _window(
    tracking: CampaignTracking, state: PullRecord | None, now: datetime, since: date | None, until: date | None
) -> _Window | None:
    """The days to read: asked for, else from the last pull less the restated days, within the flight to today."""
    summary = tracking.summary
    last = min(summary.end_date, _today(tracking, now), until or date.max)
    first = since or (
        max(summary.start_date, state.through_day - timedelta(days=RESTATE_DAYS))
        if state is not None and state.through_day is not None
        else summary.start_date
    )
    first = max(first, summary.start_date)
    return _Window(first, last) if first <= last else None


def _chunks(window: _Window) -> list[_Window]:
    found, start = [], window.since
    while start <= window.until:
        end = min(window.until, start + timedelta(days=REPORT_DAYS - 1))
        found.append(_Window(start, end))
        start = end + timedelta(days=1)
    return found


def fact(
    tracking: CampaignTracking, item: TrackedObject, day: date, now: datetime, tenant_id: str, **figures: object
) -> PerformanceRecord:
    """One object-day of the campaign as a fact row (country set when the campaign targets one market)."""
    countries = tracking.countries
    return PerformanceRecord.model_validate(
        {
            "id": new_id("apf"),
            "tenant_id": tenant_id,
            "day": day,
            "campaign_id": tracking.summary.id,
            "channel": item.channel,
            "platform": item.platform or "",
            "object_kind": item.kind,
            "object_id": item.platform_id,
            "object_name": item.name[:200],
            "ad_ref": item.ad_ref,
            "country": countries[0] if len(countries) == 1 else None,
            "currency": tracking.summary.currency,
            "pulled_at": now,
            **figures,
        }
    )


class Puller:
    """Reads campaign results from the platforms through the integrations facade and stores them as facts."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        campaigns: CampaignsFacade,
        integrations: IntegrationsFacade,
        fresh_for: timedelta,
    ) -> None:
        self._uow = uow
        self._campaigns = campaigns
        self._integrations = integrations
        self._fresh_for = fresh_for

    async def measured(self, caller: Caller, campaign_ids: list[str] | None) -> list[CampaignTracking]:
        """The measured campaigns asked for, or all of them (NotFound names one asked for that is not measured)."""
        trackings = await self._campaigns.tracking(caller, campaign_ids=campaign_ids)
        missing = sorted(set(campaign_ids or ()) - {t.summary.id for t in trackings})
        if missing:  # drafts and plans have no results either: only campaigns that ran or will are measured
            raise NotFound("campaign", missing[0], field="campaign_ids", lookup="campaigns_list_campaigns")
        return trackings

    async def refresh(
        self,
        caller: Caller,
        *,
        campaign_ids: list[str] | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> RefreshResult:
        """Pull each measured campaign's days: ``since``-``until``, or incrementally from its last pull."""
        if since is not None and until is not None and until < since:
            raise ValidationFailed("until is before since.", field="until")
        return await self.pull(caller, await self.measured(caller, campaign_ids), since=since, until=until)

    async def pull(
        self,
        caller: Caller,
        trackings: Sequence[CampaignTracking],
        *,
        since: date | None = None,
        until: date | None = None,
        only_stale: bool = False,
    ) -> RefreshResult:
        """Pull ``trackings``' days; ``only_stale`` skips campaigns pulled within the freshness interval and those no
        longer live that were pulled after they ended."""
        states = await self._uow.read(caller, lambda uow: repo.pull_state(uow, [t.summary.id for t in trackings]))
        now = datetime.now(ZoneInfo("UTC"))
        pulls = []
        for tracking in trackings:
            state = states.get(tracking.summary.id)
            if only_stale and not self._stale(tracking, state, now):
                continue
            window = _window(tracking, state, now, since, until)
            if window is None:
                continue
            pulls.append(await self._pull(caller, tracking, window, state, now))
        return RefreshResult(campaigns=pulls)

    def _stale(self, tracking: CampaignTracking, state: PullRecord | None, now: datetime) -> bool:
        if state is None:
            return True
        last_run = state.last_run_at if state.last_run_at.tzinfo else state.last_run_at.replace(tzinfo=ZoneInfo("UTC"))
        if tracking.summary.status not in LIVE:
            return state.through_day is None or state.through_day < tracking.summary.end_date
        return now - last_run >= self._fresh_for

    async def _pull(
        self, caller: Caller, tracking: CampaignTracking, window: _Window, state: PullRecord | None, now: datetime
    ) -> CampaignPull:
        rows: list[PerformanceRecord] = []
        errors: list[str] = []
        by_account: dict[tuple[str, str], list[TrackedObject]] = defaultdict(list)
        for item in tracking.objects:
            if item.kind == "ad" and item.platform in AD_PLATFORMS and item.account_id:
                by_account[(item.platform, item.account_id)].append(item)
            elif item.kind == "email_campaign" and item.platform:
                rows.extend(await self._email(caller, tracking, item, now, errors))
        for (platform, account_id), items in by_account.items():
            rows.extend(await self._ads(caller, tracking, platform, account_id, items, window, now, errors))
        through = window.until if not errors else (state.through_day if state else None)
        record = PullRecord(
            tenant_id=caller.tenant_id,
            campaign_id=tracking.summary.id,
            through_day=through,
            last_run_at=now,
            rows=len(rows),
            errors=errors[:10],
        )

        async def store(uow: UnitOfWork) -> None:
            await repo.store_performance(uow, rows)
            await repo.save_pull(uow, record)

        await self._uow.write(caller, store)
        return CampaignPull(
            campaign_id=tracking.summary.id, since=window.since, until=window.until, rows=len(rows), errors=errors
        )

    async def _ads(
        self,
        caller: Caller,
        tracking: CampaignTracking,
        platform: str,
        account_id: str,
        items: Sequence[TrackedObject],
        window: _Window,
        now: datetime,
        errors: list[str],
    ) -> list[PerformanceRecord]:
        by_id = {item.platform_id: item for item in items}
        ids = list(by_id)
        found: list[PerformanceRecord] = []
        ads = self._integrations.ads(caller, platform)
        for part in _chunks(window):
            for start in range(0, len(ids), REPORT_IDS):
                try:
                    days = await ads.daily_performance(
                        account_id, "ad", ids[start : start + REPORT_IDS], part.since, part.until
                    )
                except DomainError as error:
                    errors.append(f"{platform} {part.since}..{part.until}: {error.message}"[:300])
                    continue
                for day in days:
                    found.append(
                        fact(
                            tracking,
                            by_id[day.object_id],
                            day.day,
                            now,
                            impressions=day.impressions,
                            clicks=day.clicks,
                            spend=day.spend,
                            conversions=day.conversions,
                            conversion_value=day.conversion_value,
                            tenant_id=caller.tenant_id,
                        )
                    )
        return found

    async def _email(
        self,
        caller: Caller,
        tracking: CampaignTracking,
        item: TrackedObject,
        now: datetime,
        errors: list[str],
    ) -> list[PerformanceRecord]:
        try:
            report = await self._integrations.email_campaign_report(caller, campaign_id=item.platform_id)
        except DomainError as error:
            errors.append(f"{item.platform} {item.name}: {error.message}"[:300])
            return []
        if report.send_time is None:
            return []  # not sent yet: nothing to count
        # Every pull re-reads an email's report whatever the window: opens and clicks keep arriving after the send.
        day = report.send_time.astimezone(ZoneInfo(tracking.time_zone)).date()
        # Opens stand in for reach and deliveries for impressions: email has no auction, the send costs nothing here.
        return [
            fact(
                tracking,
                item,
                day,
                now,
                impressions=report.delivered,
                reach=report.unique_opens,
                clicks=report.unique_clicks,
                spend=Decimal(0),
                conversions=0.0,
                conversion_value=Decimal(0),
                tenant_id=caller.tenant_id,
            )
        ]


def imported_rows(
    tracking: CampaignTracking, days: Sequence[PerformanceDay], tenant_id: str, now: datetime
) -> list[PerformanceRecord]:
    """Imported days as facts of the campaign's ads (an id that is not one of its ads is refused, naming it)."""
    ads = {item.platform_id: item for item in tracking.objects if item.kind == "ad"}
    today = _today(tracking, now)
    rows = []
    for index, day in enumerate(days):
        item = ads.get(day.object_id)
        if item is None:
            raise ValidationFailed(
                f"days[{index}].object_id {day.object_id!r} is not an ad of campaign {tracking.summary.id}.",
                field="days",
                hint="Use the platform ids campaigns_get_campaign lists for its ads.",
            )
        if day.day > today:
            raise ValidationFailed(f"days[{index}].day {day.day} is in the future.", field="days")
        rows.append(
            fact(
                tracking,
                item,
                day.day,
                now,
                tenant_id,
                impressions=day.impressions,
                clicks=day.clicks,
                spend=day.spend,
                conversions=day.conversions,
                conversion_value=day.conversion_value,
            )
        )
    return rows


async def store_imported(uow: UnitOfWork, rows: Sequence[PerformanceRecord]) -> None:
    """Keep imported days like pulled ones: a day already stored is replaced."""
    await repo.store_performance(uow, rows)
