"""Structured logging (structlog) with secret redaction; configured once by the entry point.

Redaction runs on everything the process logs, not only on our own events:

* structlog events pass :func:`redact_event` (a processor, after exceptions are formatted): a field whose
  *name* says it is secret (token, secret, password, authorization, api key, cookie, credential, …) is masked
  whole, at any depth of nested dicts/lists; every other string (the event text and formatted exception
  included) goes through :func:`redact_text`;
* standard-library records (fastmcp, mcp, uvicorn, SQLAlchemy…) are redacted when they are created, through a
  log-record factory: the message is formatted and masked, and a traceback is rendered to masked text (the
  live exception is dropped from the record, so no handler can print it unmasked);
* libraries that log SQL parameters, request payloads or response bodies (:data:`CHATTY_LOGGERS`: SQLAlchemy echoes
  every statement with its parameters at INFO, aiosqlite at DEBUG, HTTP clients, the SSE writer…) are held at
  a floor whatever ``PROMPTSALES_LOG_LEVEL`` says: customer data has no place in logs at all.

:func:`redact_text` masks bearer/basic credentials, JWTs, ``key=value`` / ``"key": "value"`` pairs whose key
names a secret, passwords in URLs, well-known API key shapes and card numbers (13-19 digits, optionally
grouped by spaces or dashes, Luhn-valid). Every pattern is linear: bounded repetitions, no nested quantifiers.
"""

import logging
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import structlog

REDACTED = "[REDACTED]"
REDACTED_JWT = "[REDACTED-JWT]"
REDACTED_KEY = "[REDACTED-KEY]"
REDACTED_CARD = "[REDACTED-CARD]"

# Field or parameter names whose values are secret whatever they look like (matched on lower-cased text:
# case-insensitive alternations are many times slower in ``re``).
_SECRET_KEYS = re.compile(
    r"authori[sz]ation|token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|cookie|credential|private[_-]?key"
    r"|signature|session[_-]?id"
)
# key=value, key: value, "key": "value", 'key': 'value'. Only the key and separator are matched; the value is
# read (from the separator on) for secret keys only, and pairs inside a value already masked are skipped, so
# the scan stays linear, and a secret pair inside another pair's value (a URL's query string) is still found.
_KEY_SEPARATOR = re.compile(r"""(?<![\w-])([\w-]{1,64})(["']?[ \t]{0,4}[:=][ \t]{0,4})""")
_VALUE = re.compile(r"""(?:"[^"\n]*"|'[^'\n]*'|(?:(?i:bearer|basic|digest|token)[ \t]+)?[^\s"'&,;)}\]]+)""")
# A credential after an auth scheme, up to a delimiter (so "Bearer password=[REDACTED]" is left as it is).
_AUTH_SCHEME = re.compile(
    r"""\b((?i:bearer|basic|digest))[ \t]+(?!\[REDACTED)[^\s"',;()\[\]{}=]{8,}=*(?=[\s"',;)\]}]|$)"""
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_URL_PASSWORD = re.compile(r"(://[^:/?#@\s]{0,256}:)[^\s/?#]{1,1024}@")
_API_KEY = re.compile(  # no leading \b (slow); _mask_api_keys checks the boundary
    r"(?:"
    r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"  # Stripe
    r"|sk-[A-Za-z0-9_-]{16,}"  # OpenAI-style
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|AIza[0-9A-Za-z_-]{30,}"  # Google
    r"|A21AA[A-Za-z0-9_-]{20,}"  # PayPal access token
    r")"
)
# A run of digits, single spaces or dashes allowed between them; the callback looks for a card inside.
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){12,}")  # greedy from a run's first digit: no lookbehind needed
_GROUP_SEPARATOR = re.compile(r"[ -]")
_CARD_MIN, _CARD_MAX, _RUN_MAX = 13, 19, 64  # longer runs are not card-like (hashes, big integers)
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_MAX_DEPTH = 12


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        total += _LUHN_DOUBLED[value] if position % 2 else value
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """Whether a digit string is card-like: 13-19 digits passing the Luhn check."""
    return _CARD_MIN <= len(digits) <= _CARD_MAX and _luhn_ok(digits)


def contains_card_number(run: str) -> bool:
    """Whether a run of digit groups (``4111 1111 1111 1111 123``) holds a card number made of whole,
    consecutive groups; a plain digit string is checked as a whole."""
    if len(run) > _RUN_MAX * 2:
        return False
    groups = _GROUP_SEPARATOR.split(run)
    for first in range(len(groups)):
        digits = ""
        for group in groups[first:]:
            digits += group
            if len(digits) > _CARD_MAX:
                break
            if is_card_number(digits):
                return True
    return False


def _mask_card(match: re.Match[str]) -> str:
    run = match.group(0)
    return REDACTED_CARD if contains_card_number(run) else run


def _mask_key_values(text: str) -> str:
    pieces: list[str] = []
    done = 0
    for match in _KEY_SEPARATOR.finditer(text):
        if match.start() < done or not is_secret_key(match.group(1)):
            continue
        value = _VALUE.match(text, match.end())
        if value is None or value.group(0).startswith("[REDACTED"):
            continue
        pieces += (text[done : value.start()], REDACTED)
        done = value.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _mask_api_keys(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() else " "
        return match.group(0) if before.isalnum() or before in "_-" else REDACTED_KEY

    return _API_KEY.sub(mask, text)


def redact_text(text: str) -> str:
    """Mask credentials, secrets in ``key=value`` form, URL passwords, API keys and card numbers in free text."""
    lowered = text.lower()
    if _SECRET_KEYS.search(lowered):
        text = _mask_key_values(text)
    if "bearer" in lowered or "basic" in lowered or "digest" in lowered:
        text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED_JWT, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _mask_api_keys(text)
    return _DIGIT_RUN.sub(_mask_card, text)


def is_secret_key(name: str) -> bool:
    """Whether a field name says its value is a secret."""
    return _SECRET_KEYS.search(name.lower()) is not None


def redact_value(value: Any, _depth: int = 0) -> Any:
    """``value`` with secrets masked: strings redacted, secret-named keys masked whole, containers walked."""
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return REDACTED_CARD if is_card_number(str(abs(value))) else value
    if _depth >= _MAX_DEPTH:
        return "[TRUNCATED]"
    if isinstance(value, Mapping):
        return {
            (redact_text(key) if isinstance(key, str) else key): (
                REDACTED if is_secret_key(str(key)) else redact_value(item, _depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, _depth + 1) for item in value]
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}")
    # What a renderer would print (JSONRenderer falls back to repr), masked.
    return redact_text(repr(value))


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every field (run it after ``format_exc_info``)."""
    for key, value in list(event.items()):
        event[key] = REDACTED if is_secret_key(key) else redact_value(value)
    return event


def redact_log_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a standard-library record in place: its formatted message, traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format string
        message = f"{record.msg!r} {record.args!r}"
    record.msg, record.args = redact_text(message), ()
    if record.exc_info:
        if record.exc_info[0] is not None:
            rendered = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = redact_text(rendered)
        record.exc_info = None  # handlers (rich tracebacks) would render the live exception unmasked
    elif record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    return record


class _RedactingRecordFactory:
    """Wraps the log-record factory so every record is masked as it is made (whatever handler prints it)."""

    def __init__(self, base: Callable[..., logging.LogRecord]) -> None:
        self.base = base

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_log_record(self.base(*args, **kwargs))


def install_record_redaction() -> None:
    """Make every standard-library log record pass :func:`redact_log_record` (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingRecordFactory):
        logging.setLogRecordFactory(_RedactingRecordFactory(current))


# Loggers that print SQL parameters, HTTP headers or response bodies, and the least level they may log at
# whatever PROMPTSALES_LOG_LEVEL says (SQLAlchemy echoes every statement with its parameters at INFO).
CHATTY_LOGGERS: dict[str, int] = {
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.INFO,
    "psycopg": logging.INFO,
    "httpcore": logging.INFO,
    "httpx": logging.INFO,
    "httpx2": logging.INFO,
    "hpack": logging.INFO,
    "h2": logging.INFO,
    "h11": logging.INFO,
    "sse_starlette": logging.INFO,
    "fastmcp.server.mixins.mcp_operations": logging.INFO,  # "call_tool X with {arguments}" at DEBUG
    "mcp.server.sse": logging.INFO,
    "multipart": logging.INFO,
    "python_multipart": logging.INFO,
}


def configure_logging(level: str = "info", fmt: str = "console") -> None:
    """Send structured logs to stderr (stdout belongs to the stdio transport), redacted (see the module doc)."""
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
            redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    install_record_redaction()
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for name, floor in CHATTY_LOGGERS.items():
        logging.getLogger(name).setLevel(max(numeric, floor))
    # Our middleware logs every failed call with its request id; fastmcp's own traceback logging would
    # print domain errors (expected outcomes) as crashes.
    logging.getLogger("fastmcp.server.server").setLevel(logging.CRITICAL)
