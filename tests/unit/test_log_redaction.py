"""Log redaction (domain_core/infrastructure/logging.py): tokens, secrets, URL passwords and card numbers never
reach a log line, whether they come as free text, as event fields (at any depth), in exception text or in
standard-library records; ordinary text is left alone.

Canaries are random per run, so a hit can only come from the value under test.
"""

import io
import json
import logging
import secrets
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from promptsales.domain_core.infrastructure.logging import (
    REDACTED_CARD,
    contains_card_number,
    is_card_number,
    redact_event,
    redact_log_record,
    redact_text,
    redact_value,
)

# --------------------------------------------------------------------------------------------- helpers


def _luhn_check_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:  # doubled once the check digit is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def card(prefix: str = "4", length: int = 16) -> str:
    """A random Luhn-valid card number (digits only)."""
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + _luhn_check_digit(body)


def not_luhn(number: str) -> str:
    """The same number with its last digit changed so it fails the Luhn check."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def grouped(number: str, separator: str = " ", size: int = 4) -> str:
    return separator.join(number[i : i + size] for i in range(0, len(number), size))


def canary(label: str = "canary") -> str:
    return f"{label}{secrets.token_hex(8)}"


def fake_jwt() -> str:
    header, claims, signature = secrets.token_urlsafe(6), secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    return f"eyJhbGciOiJSUzI1NiIsImtpZCI6Ik{header}.eyJzdWIiOi{claims}.{signature}"


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# --------------------------------------------------------------------------------------------- free text


def test_the_card_helpers_agree_with_known_test_numbers() -> None:
    for number in ("4111111111111111", "5555555555554444", "378282246310005", "6011111111111117", "4222222222222"):
        assert is_card_number(number), number
        assert not is_card_number(not_luhn(number)), number
    assert not is_card_number("411111111111")  # 12 digits
    assert not is_card_number("4" + "0" * 19)  # 20 digits


@pytest.mark.parametrize("length", [13, 14, 15, 16, 17, 18, 19])
@pytest.mark.parametrize("separator", ["", " ", "-"])
def test_card_numbers_of_every_length_and_grouping_are_masked(length: int, separator: str) -> None:
    number = card(length=length)
    shown = grouped(number, separator) if separator else number
    for text in (shown, f"card {shown} please", f"notes:{shown}.", f"({shown})", f"card{shown}x"):
        masked = redact_text(text)
        assert number not in digits_of(masked), (text, masked)
        assert REDACTED_CARD in masked


def test_a_card_next_to_other_numbers_is_still_found() -> None:
    number = card()
    for text in (
        f"{grouped(number)} 123",  # CVV after the number
        f"{number} 12 27",  # expiry after it
        f"ref 7 {grouped(number, '-')}",
        f"{grouped(number)} exp 12/27 cvv 123",
    ):
        assert number not in digits_of(redact_text(text)), text


def test_numbers_that_are_not_cards_are_kept() -> None:
    kept = [
        not_luhn(card()),  # 16 digits failing Luhn
        grouped(not_luhn(card())),
        "411111111111",  # 12 digits
        "1" * 70,  # a long digit string is not card-like
        "2026-12-01T22:00:22.123456Z",
        "2026-12-01 22:00:22",
        "+1 415-555-2671",
        "ld_01JDZ3Y2M4K8Q9W7X6V5T4S3R2",
        "took 1234567 us",
    ]
    for text in kept:
        assert redact_text(text) == text


def test_bearer_tokens_and_jwts_are_masked() -> None:
    opaque, jwt = canary("tok"), fake_jwt()
    cases = [
        f"Authorization: Bearer {opaque}",
        f"authorization: bearer {jwt}",
        f"sent Bearer {opaque} upstream",
        f"headers={{'authorization': 'Bearer {opaque}'}}",
        f'{{"Authorization": "Bearer {jwt}"}}',
        f"token {jwt} rejected",  # a bare JWT anywhere
        f"Authorization: Basic {opaque}==",
        f"x-api-key: {opaque}",
        f"Cookie: session_id={opaque}",
    ]
    for text in cases:
        masked = redact_text(text)
        assert opaque not in masked and jwt not in masked, (text, masked)
        assert "[REDACTED" in masked


def test_secrets_in_key_value_form_are_masked() -> None:
    value = canary("s3cr3t")
    cases = [
        f"client_secret={value}",
        f"grant_type=client_credentials&client_secret={value}&scope=x",
        f"password={value}",
        f"PASSWORD: {value}",
        f'{{"password": "{value}", "user": "bob"}}',
        f"{{'password': 'two words {value}'}}",
        f"api_key={value}",
        f"apiKey: {value}",
        f"refresh_token={value}",
        f"https://h.example.com/cb?code=1&access_token={value}&state=2",
        f"dsn host=db user=app password={value} dbname=x",
    ]
    for text in cases:
        masked = redact_text(text)
        assert value not in masked, (text, masked)


def test_passwords_in_urls_are_masked_and_the_rest_is_kept() -> None:
    value = canary("pw")
    cases = {
        f"postgresql+psycopg://canaryuser:{value}@127.0.0.1:1/x": "postgresql+psycopg://canaryuser:[REDACTED]@127.0.0.1:1/x",
        f"redis://:{value}@cache:6379/0": "redis://:[REDACTED]@cache:6379/0",
        f"connect to postgresql://u:{value}@db/x failed": "connect to postgresql://u:[REDACTED]@db/x failed",
        f"amqp://u:p@ss{value}@broker/": "amqp://u:[REDACTED]@broker/",  # an unescaped @ in the password
    }
    for text, expected in cases.items():
        assert redact_text(text) == expected
    for kept in ("http://127.0.0.1:8000/mcp", "https://example.com/a@b", "see http://host:8080/path?x=a@b"):
        assert redact_text(kept) == kept


def test_well_known_api_key_shapes_are_masked() -> None:
    tail = secrets.token_hex(12)
    keys = [
        f"sk_live_{tail}",
        f"sk_test_{tail}",
        f"rk_live_{tail}",
        f"sk-{tail}{tail}",
        "AKIA" + secrets.token_hex(8).upper(),
        f"ghp_{tail}{tail}",
        f"github_pat_{tail}_{tail}",
        f"glpat-{tail}",
        f"xoxb-{tail}",
        f"AIza{tail}{tail}",
        f"A21AA{tail}{tail}",  # PayPal access token
    ]
    for key in keys:
        masked = redact_text(f"key {key} used")
        assert key not in masked and "[REDACTED-KEY]" in masked, key
    for kept in ("desk-booking-assistant-long-name", "task-0123456789abcdef0123", "risk_live_reporting"):
        assert redact_text(kept) == kept


def test_ordinary_log_text_is_left_alone() -> None:
    for text in (
        "tool_rejected",
        "Bearer token rejected for client agent-7: audience mismatch (got 'http://x/mcp', expected 'http://y/mcp')",
        "Auth error returned: invalid_token (status=401)",
        "Basic plan selected",
        "runtime_started database=sqlite redis=False",
        "GET /readyz 200",
        "",
    ):
        assert redact_text(text) == text


def test_redaction_is_idempotent() -> None:
    text = (
        f"Authorization: Bearer {canary()} postgresql://u:{canary()}@h/x card {grouped(card())} "
        f"client_secret={canary()} {fake_jwt()} sk_live_{secrets.token_hex(8)} Bearer {canary()}"
    )
    once = redact_text(text)
    assert redact_text(once) == once


@settings(max_examples=200, deadline=None)
@given(
    before=st.text(alphabet=st.characters(categories=("L", "P", "Zs"), exclude_characters="-"), max_size=40),
    after=st.text(alphabet=st.characters(categories=("L", "P", "Zs"), exclude_characters="-"), max_size=40),
    length=st.integers(min_value=13, max_value=19),
    separator=st.sampled_from(["", " ", "-"]),
    size=st.integers(min_value=3, max_value=6),
)
def test_property_no_card_survives_in_any_surrounding_text(
    before: str, after: str, length: int, separator: str, size: int
) -> None:
    number = card(prefix=str(secrets.choice(range(2, 7))), length=length)
    text = before + (grouped(number, separator, size) if separator else number) + after
    assert number not in digits_of(redact_text(text))


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(["password", "client_secret", "api_key", "access_token", "Authorization", "x-auth-token"]),
    separator=st.sampled_from(["=", ": ", '": "', "':'", " = "]),
    value=st.text(alphabet=st.characters(categories=("L", "N"), max_codepoint=0x2FF), min_size=6, max_size=40),
    noise=st.text(alphabet=st.characters(categories=("L", "Zs")), max_size=30),
)
def test_property_secret_pairs_never_survive(key: str, separator: str, value: str, noise: str) -> None:
    value += "7"  # the noise has no digits, so only the value itself can match
    quote = separator[-1] if separator[-1] in "\"'" else ""
    text = f"{noise} {quote}{key}{separator}{value}{quote} {noise}"
    assert value not in redact_text(text)


def test_pathological_inputs_finish() -> None:
    """Every pattern is linear: these would hang with a backtracking-prone expression (no timing asserted)."""
    inputs = [
        "a" * 200_000,
        "1 " * 50_000,
        "1-" * 50_000 + "x",
        "://a:" * 20_000,
        "x=" * 50_000,
        "password=" * 20_000,
        "eyJ" + "a." * 50_000,
        "Bearer " * 30_000,
        '"token": "' * 20_000,
        "sk-" * 50_000,
    ]
    for text in inputs:
        assert isinstance(redact_text(text), str)


# --------------------------------------------------------------------------------------------- event fields


def test_secret_named_fields_are_masked_at_any_depth() -> None:
    value = canary()
    event: dict[str, Any] = {
        "event": "request",
        "authorization": f"Bearer {value}",
        "headers": {"Content-Type": "application/json", "Authorization": value, "X-Api-Key": value},
        "attempts": [{"client_secret": value}, {"nested": [{"refresh_token": value, "ok": 1}]}],
        "settings": ({"database_password": value},),
        "count": 3,
    }
    rendered = json.dumps(redact_event(None, "info", event))
    assert value not in rendered
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["attempts"][1]["nested"][0]["ok"] == 1
    assert event["count"] == 3 and event["event"] == "request"


def test_secret_values_in_innocent_fields_are_masked() -> None:
    token, password, number = fake_jwt(), canary("pw"), card()
    event: dict[str, Any] = {
        "event": f"calling with Bearer {token}",
        "url": f"postgresql://app:{password}@db/x",
        "notes": [f"card {grouped(number)}", {"summary": f"paid with {grouped(number, '-')}"}],
        "amount": int(number),  # an integer field holding a card number
        "raw": f"password={password}".encode(),
        "error": ValueError(f"could not connect to postgresql://app:{password}@db/x"),
        "obj": type("Thing", (), {"__repr__": lambda self: f"Thing(token={password})"})(),
    }
    rendered = json.dumps(redact_event(None, "info", event))
    for leaked in (token, password, number):
        assert leaked not in rendered
    assert "postgresql://app:[REDACTED]@db/x" in rendered


def test_deeply_nested_or_odd_values_do_not_break_redaction() -> None:
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(50):
        cursor["child"] = {}
        cursor = cursor["child"]
    cursor["password"] = canary()
    out = redact_value({"deep": deep, 1: "int key", None: None, "f": 1.5, "b": True, "s": {"x"}})
    assert cursor["password"] not in json.dumps(out, default=str)
    assert out[1] == "int key" and out["f"] == 1.5 and out["b"] is True and out["s"] == ["x"]


def test_exception_text_is_masked_in_a_structlog_pipeline() -> None:
    """The project's processor order (format_exc_info, then redaction) with the JSON renderer."""
    password, token, number = canary("pw"), fake_jwt(), card()
    buffer = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(file=buffer),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            redact_event,
            structlog.processors.JSONRenderer(),
        ],
    )
    try:
        raise RuntimeError(f"connect postgresql://u:{password}@h/x with Bearer {token} for {grouped(number)}")
    except RuntimeError:
        logger.error("tool_failed", tool="t", exc_info=True, authorization=f"Bearer {token}")
    output = buffer.getvalue()
    line = json.loads(output)
    assert "RuntimeError" in line["exception"] and "Traceback" in line["exception"]
    for leaked in (password, token, number):
        assert leaked not in output


# --------------------------------------------------------------------------------------------- stdlib records


def _record(msg: str, args: Any = (), exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord("lib", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_stdlib_records_are_masked_with_their_arguments_and_traceback() -> None:
    password, token = canary("pw"), fake_jwt()
    try:
        raise ConnectionError(f"postgresql://u:{password}@h/x refused")
    except ConnectionError:
        exc_info = sys.exc_info()
    record = redact_log_record(_record("rejected %s (auth %r)", (f"Bearer {token}", {"password": password}), exc_info))
    formatted = logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert password not in formatted and token not in formatted
    assert "ConnectionError" in formatted and "rejected" in formatted
    assert record.exc_info is None  # no handler can render the live exception


def test_a_record_whose_arguments_do_not_fit_is_still_masked() -> None:
    token = fake_jwt()
    record = redact_log_record(_record("%s %s", (token,)))
    assert token not in record.getMessage()


def test_stack_info_is_masked() -> None:
    password = canary("pw")
    record = _record("x")
    record.stack_info = f"Stack (most recent call last):\n  url = 'postgresql://u:{password}@h/x'"
    assert password not in (redact_log_record(record).stack_info or "")


def test_card_detection_on_runs_is_bounded() -> None:
    assert contains_card_number(grouped(card()))
    assert not contains_card_number("1 " * 200)


# --------------------------------------------------------------------------------------------- configure_logging


def test_configure_logging_masks_every_logger_of_the_process() -> None:
    """In a fresh interpreter (logging config is process-wide): structlog events, stdlib records through the
    root handler, a library logger with its own handler that does not propagate (as fastmcp's), exceptions,
    and debug output of a library that prints SQL parameters (kept at INFO even at debug)."""
    password, token, number, key = canary("pw"), fake_jwt(), card(), f"sk_live_{secrets.token_hex(10)}"
    script = textwrap.dedent(
        f"""
        import logging, sys
        import structlog
        from promptsales.domain_core.infrastructure.logging import configure_logging

        lib = logging.getLogger("fastmcp.fake")  # set up before configure_logging, like fastmcp at import
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("LIB %(message)s"))
        lib.addHandler(handler)
        lib.propagate = False
        lib.setLevel(logging.DEBUG)

        configure_logging("debug", "json")
        log = structlog.get_logger("t")
        log.info("start", url="postgresql://u:{password}@h/x", headers={{"Authorization": "Bearer {token}"}})
        log.debug("args", company="Acme {key}", notes="card {grouped(number)}")
        try:
            raise RuntimeError("boom postgresql://u:{password}@h/x")
        except RuntimeError:
            log.error("failed", exc_info=True)
            logging.getLogger("uvicorn.error").exception("stdlib failed with Bearer {token}")
            lib.exception("lib failed %s", "{key}")
        logging.getLogger("mcp.server").debug("debug from %s", "card {number}")
        lib.warning("rejected client %s: got %r", "x", "{token}")
        logging.getLogger("aiosqlite").debug("executing INSERT ... ('{key}', '{number}')")
        logging.getLogger("sqlalchemy.engine.Engine").info("INSERT %s", ("{key}",))
        print("done", file=sys.stderr)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False, env=None
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "done" in output
    for leaked in (password, token, number, grouped(number), key):
        assert leaked not in output, output
    for expected in ("start", "args", "failed", "stdlib failed", "lib failed", "debug from", "rejected client"):
        assert expected in output, output
    assert "RuntimeError" in output  # tracebacks are kept, masked
    assert "executing INSERT" not in output  # aiosqlite's parameter dump stays off at debug
