"""One id per request, shared by the audit entry, every log line and any error reference the client sees."""

import uuid
from contextvars import ContextVar

import structlog

_current: ContextVar[str | None] = ContextVar("promptsales_request_id", default=None)


def begin_request() -> str:
    """Start a request: a fresh id, bound to this task's log lines and readable by ``current_request_id``."""
    request_id = uuid.uuid4().hex[:16]
    _current.set(request_id)
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def current_request_id() -> str | None:
    """The id of the request being served by this task (None outside one)."""
    return _current.get()
