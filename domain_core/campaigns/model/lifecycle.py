"""The campaign lifecycle as a pure state machine: which event moves which status where.

draft → planned → in_review → approved → scheduled/active ⇄ paused → completed → archived. Spending states
(scheduled, active, paused) are left only by pausing, resuming or ending; a change to the plan of an approved
campaign sends it back to planned, so what runs is always what was approved.
"""

from datetime import date
from typing import Literal, get_args

from promptsales.domain_core.shared.errors import ValidationFailed

Status = Literal["draft", "planned", "in_review", "approved", "scheduled", "active", "paused", "completed", "archived"]
Event = Literal[
    "plan", "edit", "submit", "approve", "reject", "schedule", "activate", "start", "pause", "resume", "end", "archive"
]
STATUSES: tuple[Status, ...] = get_args(Status)
LIVE: frozenset[Status] = frozenset({"scheduled", "active", "paused"})  # platform objects exist and may spend
EDITABLE: frozenset[Status] = frozenset({"draft", "planned", "in_review", "approved"})

# (event, from) -> to
_MOVES: dict[tuple[Event, Status], Status] = {
    ("plan", "draft"): "planned",
    ("edit", "draft"): "draft",
    ("edit", "planned"): "planned",
    ("edit", "in_review"): "planned",
    ("edit", "approved"): "planned",
    ("submit", "planned"): "in_review",
    ("approve", "in_review"): "approved",
    ("reject", "in_review"): "planned",
    ("schedule", "approved"): "scheduled",
    ("activate", "approved"): "active",
    ("start", "scheduled"): "active",
    ("pause", "scheduled"): "paused",
    ("pause", "active"): "paused",
    ("resume", "paused"): "active",
    ("end", "scheduled"): "completed",
    ("end", "active"): "completed",
    ("end", "paused"): "completed",
    ("archive", "draft"): "archived",
    ("archive", "planned"): "archived",
    ("archive", "in_review"): "archived",
    ("archive", "approved"): "archived",
    ("archive", "completed"): "archived",
}

# What to call to cause each event, for errors that tell the agent the way forward.
_TOOLS: dict[Event, str] = {
    "plan": "campaigns_plan_campaign",
    "edit": "campaigns_update_campaign",
    "submit": "campaigns_submit_for_review",
    "approve": "campaigns_approve_campaign",
    "reject": "campaigns_approve_campaign (decision=reject)",
    "schedule": "campaigns_activate_campaign",
    "activate": "campaigns_activate_campaign",
    "start": "campaigns_activate_campaign",
    "pause": "campaigns_pause_campaign",
    "resume": "campaigns_resume_campaign",
    "end": "campaigns_end_campaign",
    "archive": "campaigns_end_campaign",
}


def allowed_events(status: Status) -> list[Event]:
    """The events a campaign in ``status`` accepts, in lifecycle order."""
    return [event for (event, source) in _MOVES if source == status]


def next_status(status: Status, event: Event) -> Status:
    """Where ``event`` takes a campaign in ``status``; refused with the ways forward when it cannot happen."""
    target = _MOVES.get((event, status))
    if target is None:
        ways = ", ".join(sorted({_TOOLS[e] for e in allowed_events(status)})) or "nothing: it is final"
        raise ValidationFailed(
            f"The campaign is {status.replace('_', ' ')}, so it cannot {event}.",
            field="campaign_id",
            hint=f"From {status} you can use: {ways}.",
        )
    return target


def due_event(status: Status, *, started: bool, ended: bool) -> Event | None:
    """The event the calendar causes: a scheduled campaign starts on its start date, a live one ends after its end."""
    if status in LIVE and ended:
        return "end"
    if status == "scheduled" and started:
        return "start"
    return None


def calendar_event(status: Status, *, start: date, end: date, today: date) -> Event | None:
    """What the calendar does to a campaign on ``today`` (its own time zone's date): start a scheduled flight on its
    first day, complete a live one after its last."""
    return due_event(status, started=today >= start, ended=today > end)
