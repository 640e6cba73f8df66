"""The one place the current time is read, so services and tests agree on "now"."""

from collections.abc import Callable
from datetime import UTC, datetime

from promptsales.domain_core.shared.errors import ValidationFailed

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime, *, field: str = "datetime") -> datetime:
    """Return ``value`` as aware UTC; naive values are taken to be UTC already.

    A value whose offset pushes it outside the representable range (year 1 or 9999) is a
    ``ValidationFailed`` naming ``field``, not an ``OverflowError``.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValidationFailed(f"{field} is out of range once converted to UTC.", field=field) from exc
