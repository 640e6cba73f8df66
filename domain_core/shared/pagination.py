"""Keyset pagination: opaque, tamper-evident cursors bound to one listing and a hard page-size cap."""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from promptsales.domain_core.shared.errors import ValidationFailed

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the cursor for the next one (None at the end)."""

    items: list[T]
    next_cursor: str | None


def clamp_page_size(limit: int | None) -> int:
    """Apply the default and the hard cap."""
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if limit < 1:
        raise ValidationFailed("limit must be at least 1.", field="limit")
    return min(limit, MAX_PAGE_SIZE)


def _scope_digest(scope: str, filters: dict[str, Any]) -> str:
    raw = json.dumps([scope, filters], sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def encode_cursor(scope: str, filters: dict[str, Any], position: list[Any]) -> str:
    """Encode the last row's sort key; the cursor only works again for the same listing and filters."""
    body = {"s": _scope_digest(scope, filters), "p": position}
    return base64.urlsafe_b64encode(json.dumps(body, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, scope: str, filters: dict[str, Any]) -> list[Any] | None:
    """Return the sort key stored in ``cursor``, or raise a clear error if it is foreign or corrupt."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position = body["p"]
        digest = body["s"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed(
            "cursor is not valid.", field="cursor", hint="Pass next_cursor exactly as returned."
        ) from exc
    # A sort key is a list of scalars (ids, ISO timestamps, numbers); nested values are not ours.
    if (
        digest != _scope_digest(scope, filters)
        or not isinstance(position, list)
        or not all(isinstance(part, str | int | float) and not isinstance(part, bool) for part in position)
    ):
        raise ValidationFailed(
            "cursor belongs to a different listing or filters.",
            field="cursor",
            hint="Repeat the same filters with the cursor, or omit the cursor to start over.",
        )
    return position
