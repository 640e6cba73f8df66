"""The campaign lifecycle state machine and tracking links (pure)."""

from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptsales.domain_core.campaigns.model import lifecycle
from promptsales.domain_core.campaigns.model.lifecycle import Event, Status
from promptsales.domain_core.campaigns.model.tracking import parameters, read_back, template, tracked_url
from promptsales.domain_core.shared.errors import ValidationFailed

EVENTS: tuple[Event, ...] = get_args(Event)


def test_the_happy_path_runs_from_draft_to_archived() -> None:
    status: Status = "draft"
    for event in ("plan", "submit", "approve", "activate", "pause", "resume", "end", "archive"):
        status = lifecycle.next_status(status, event)  # type: ignore[arg-type]
    assert status == "archived"


def test_scheduled_campaigns_start_and_can_be_paused_before_they_start() -> None:
    assert lifecycle.next_status("approved", "schedule") == "scheduled"
    assert lifecycle.next_status("scheduled", "start") == "active"
    assert lifecycle.next_status("scheduled", "pause") == "paused"


def test_editing_an_approved_or_reviewed_campaign_sends_it_back_to_planned() -> None:
    assert lifecycle.next_status("approved", "edit") == "planned"
    assert lifecycle.next_status("in_review", "edit") == "planned"
    assert lifecycle.next_status("in_review", "reject") == "planned"


def test_a_refused_event_names_the_tools_that_move_the_campaign_on() -> None:
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.next_status("planned", "activate")
    assert refused.value.field == "campaign_id"
    assert "campaigns_submit_for_review" in (refused.value.hint or "")
    with pytest.raises(ValidationFailed) as final:
        lifecycle.next_status("archived", "resume")
    assert "nothing: it is final" in (final.value.hint or "")


@given(st.lists(st.sampled_from(EVENTS), max_size=30))
def test_no_sequence_of_events_reaches_a_live_status_without_approval(events: list[Event]) -> None:
    status: Status = "draft"
    approved = False
    for event in events:
        try:
            status = lifecycle.next_status(status, event)
        except ValidationFailed:
            continue
        approved = approved or status == "approved"
        if status == "planned":
            approved = False  # an edit or a rejection voids the approval
        if status in lifecycle.LIVE:
            assert approved or event in ("pause", "resume", "start")
        assert status in lifecycle.STATUSES


def test_allowed_events_match_the_moves() -> None:
    for status in lifecycle.STATUSES:
        for event in lifecycle.allowed_events(status):
            lifecycle.next_status(status, event)
    assert lifecycle.allowed_events("archived") == []


def test_the_calendar_starts_scheduled_and_ends_live_campaigns() -> None:
    assert lifecycle.due_event("scheduled", started=True, ended=False) == "start"
    assert lifecycle.due_event("active", started=True, ended=True) == "end"
    assert lifecycle.due_event("planned", started=True, ended=True) is None


def test_tracked_links_keep_other_parameters_and_replace_old_utm_values() -> None:
    utm = parameters(campaign_id="cp_01ARZ3NDEKTSV4RRFFQ69G5FAV", source="google", medium="cpc", content="as_1")
    url = tracked_url("https://acme.com/offer?ref=x&utm_source=old#form", utm)
    assert url == (
        "https://acme.com/offer?ref=x&utm_source=google&utm_medium=cpc"
        "&utm_campaign=cp_01ARZ3NDEKTSV4RRFFQ69G5FAV&utm_content=as_1#form"
    )


def test_read_back_names_only_campaign_ids() -> None:
    ref = read_back({"campaign": "cp_01ARZ3NDEKTSV4RRFFQ69G5FAV", "source": "google", "medium": "cpc"})
    assert ref is not None and ref.campaign_id == "cp_01ARZ3NDEKTSV4RRFFQ69G5FAV" and ref.source == "google"
    assert read_back({"campaign": "spring-sale"}) is None
    assert read_back({}) is None


def test_the_template_shows_placeholders() -> None:
    assert template("https://acme.com/a") == (
        "https://acme.com/a?utm_source={source}&utm_medium={medium}&utm_campaign={campaign_id}&utm_content={ad}"
    )


def test_the_calendar_starts_a_flight_on_its_first_day_and_completes_it_after_its_last() -> None:
    from datetime import date

    start, end = date(2027, 3, 1), date(2027, 3, 31)
    assert lifecycle.calendar_event("scheduled", start=start, end=end, today=date(2027, 2, 28)) is None
    assert lifecycle.calendar_event("scheduled", start=start, end=end, today=start) == "start"
    assert lifecycle.calendar_event("active", start=start, end=end, today=end) is None
    assert lifecycle.calendar_event("paused", start=start, end=end, today=date(2027, 4, 1)) == "end"
    assert lifecycle.calendar_event("approved", start=start, end=end, today=date(2027, 4, 1)) is None
