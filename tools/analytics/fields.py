"""Parameter types shared by the analytics tools, described once for the model."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import Field

from promptsales.domain_core.analytics.commands import CampaignId as CampaignIdValue
from promptsales.domain_core.analytics.commands import ExperimentId as ExperimentIdValue

CampaignIds = Annotated[
    list[CampaignIdValue] | None,
    Field(default=None, max_length=20, description="cp_… ids; omit for all."),
]
Since = Annotated[date | None, Field(default=None, description="Default 28 days before until.")]
Until = Annotated[date | None, Field(default=None, description="Default today (UTC).")]
ExperimentId = Annotated[ExperimentIdValue, Field()]


def window(since: date | None, until: date | None, *, default_days: int = 28) -> tuple[date, date]:
    """The asked window, or the ``default_days`` up to today (UTC)."""
    last = until or datetime.now(UTC).date()
    return since or last - timedelta(days=default_days - 1), last
