"""The calendar's effect on live campaigns: a scheduled flight becomes active on its first day and a live one
completed after its last, each in the campaign's own time zone. Platforms already deliver by those dates; this keeps
our statuses true. It runs whenever the tenant's campaigns are read or changed (a cheap indexed read first; a write
only when something is due), recorded as the system's step with the reason."""

from dataclasses import dataclass
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from promptsales.domain_core.campaigns import repository as repo
from promptsales.domain_core.campaigns.model import lifecycle
from promptsales.domain_core.campaigns.model.lifecycle import Event, Status
from promptsales.domain_core.campaigns.service import views
from promptsales.domain_core.campaigns.service.campaigns import move
from promptsales.domain_core.campaigns.tables import CampaignRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork

ACTOR = "calendar"
_REASONS: dict[Event, str] = {"start": "The flight's first day has come.", "end": "The flight's last day has passed."}


@dataclass(frozen=True, slots=True)
class Due:
    """A campaign the calendar moves, and how."""

    campaign_id: str
    event: Event


def event_for(record: CampaignRecord, now: datetime) -> Event | None:
    """The calendar's event for one campaign now."""
    schedule = views.schedule_of(record)
    today = now.astimezone(ZoneInfo(schedule.time_zone)).date()
    return lifecycle.calendar_event(
        cast(Status, record.status), start=schedule.start_date, end=schedule.end_date, today=today
    )


async def due(uow: UnitOfWork) -> list[Due]:
    """The tenant's live campaigns the calendar would move now."""
    found = []
    for record in await repo.live_campaigns(uow):
        event = event_for(record, uow.now)
        if event is not None:
            found.append(Due(campaign_id=record.id, event=event))
    return found


async def apply(uow: UnitOfWork, pending: list[Due]) -> None:
    """Move each due campaign (locked, checked again: another caller may have moved it meanwhile)."""
    for item in pending:
        record = await repo.campaign(uow, item.campaign_id, for_update=True)
        if record is None:
            continue
        event = event_for(record, uow.now)
        if event is not None:
            await move(uow, record, event, _REASONS[event])
            await repo.save(uow, record)
