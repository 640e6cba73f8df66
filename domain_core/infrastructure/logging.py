"""Structured logging (structlog) with secret redaction; configured once by the entry point."""

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"(authorization|token|secret|password|api[_-]?key|cookie)", re.IGNORECASE)
_BEARER = re.compile(r"(?i)bearer\s+[a-z0-9._~+/=-]+")
_URL_PASSWORD = re.compile(r"(://[^:/\s]+:)[^@\s]+@")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")


def redact_text(text: str) -> str:
    """Mask bearer tokens, URL passwords and card-like numbers in free text."""
    text = _BEARER.sub("Bearer [REDACTED]", text)
    text = _URL_PASSWORD.sub(r"\1[REDACTED]@", text)
    return _CARD.sub("[REDACTED-NUMBER]", text)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if _SECRET_KEYS.search(key):
            event[key] = "[REDACTED]"
        elif isinstance(value, str):
            event[key] = redact_text(value)
    return event


def configure_logging(level: str = "info", fmt: str = "console") -> None:
    """Send structured logs to stderr (stdout belongs to the stdio transport)."""
    numeric = logging.getLevelNamesMapping()[level.upper()]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty() and "NO_COLOR" not in os.environ)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    # Our middleware logs every failed call with its request id; fastmcp's own traceback logging would
    # print domain errors (expected outcomes) as crashes.
    logging.getLogger("fastmcp.server.server").setLevel(logging.CRITICAL)
