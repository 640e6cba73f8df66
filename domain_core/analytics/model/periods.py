"""Reporting windows: validation, the period before, day/week buckets and the change between two values."""

from datetime import date, timedelta
from typing import Literal

from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def validate_window(since: date, until: date, *, max_days: int = 366) -> None:
    """Reject a window that runs backwards or spans more than ``max_days`` days (both ends included)."""
    if since > until:
        raise ValidationFailed(
            f"since ({since.isoformat()}) is after until ({until.isoformat()}).",
            field="since",
            hint="Give since <= until; both days are included.",
        )
    days = (until - since).days + 1
    if days > max_days:
        raise ValidationFailed(
            f"The window from since ({since.isoformat()}) to until ({until.isoformat()}) spans {days} days; "
            f"at most {max_days} are allowed.",
            field="until",
            hint="Narrow the window, or compare several shorter windows.",
        )


def previous_period(since: date, until: date) -> tuple[date, date]:
    """The window of the same length that ends the day before ``since`` (both ends included)."""
    if since > until:
        validate_window(since, until)  # raises, naming since
    length = until - since
    prev_until = since - timedelta(days=1)
    return prev_until - length, prev_until


def bucket(day: date, grain: Literal["day", "week"]) -> date:
    """The first day of the bucket ``day`` falls in: itself, or the Monday of its ISO week."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day


def day_label(day: date) -> str:
    """A day as people write it ("12 March 2024"), the same whatever the server's locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


class Change(Dto):
    """A value now against the same value in the comparison period."""

    current: float | None
    previous: float | None
    absolute: float | None  # current - previous, 4 places; None when either is unknown
    relative: float | None  # absolute / previous, 4 places (0.25 = +25 %); None when previous is 0 or unknown


def change(current: float | None, previous: float | None) -> Change:
    """How much ``current`` moved from ``previous``, absolutely and relatively."""
    if current is None or previous is None:
        return Change(current=current, previous=previous, absolute=None, relative=None)
    absolute = current - previous
    relative = None if previous == 0 else round(absolute / abs(previous), 4)
    return Change(current=current, previous=previous, absolute=round(absolute, 4), relative=relative)
