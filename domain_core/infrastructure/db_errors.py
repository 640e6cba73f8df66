"""How database failures reach callers: races and lost connections retried, the rest worded for the agent."""

import psycopg
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from promptsales.domain_core.shared.errors import Conflict, DomainError, Unavailable, ValidationFailed

# Postgres SQLSTATEs of races the database settles by aborting one transaction.
RACE_SQLSTATES = {"40P01": "deadlock", "40001": "serialization_failure", "23505": "unique_violation"}
# Server shutting down or starting up (admin_shutdown, crash_shutdown, cannot_connect_now): a restart or failover.
RESTART_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def race_kind(exc: DBAPIError) -> str | None:
    """Which retryable race aborted the transaction (None: not a race)."""
    code = getattr(exc.orig, "sqlstate", None)
    if code in RACE_SQLSTATES:
        return RACE_SQLSTATES[code]
    if isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc.orig):  # SQLite
        return "unique_violation"
    if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):  # SQLite busy timeout
        return "locked"
    return None


def connection_lost(exc: BaseException) -> bool:
    """Whether Postgres could not be reached or dropped the connection (restart, failover, network).

    Raised through SQLAlchemy (wrapped) or by the driver itself (the transaction is opened on the raw connection).
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = orig.sqlstate or ""
    return not state or state.startswith("08") or state in RESTART_SQLSTATES


def race_error(race: str) -> DomainError:
    """The race kept recurring: nothing was changed."""
    if race == "unique_violation":
        return Conflict(
            "The change collided with a concurrent change to the same record several times; nothing was changed.",
            hint="Retry; if it persists, look the record up first.",
        )
    return Unavailable(
        "The database kept aborting this change because of concurrent changes; nothing was changed.",
        hint="Retry in a few seconds.",
    )


def database_error(exc: BaseException) -> DomainError | None:
    """A database refusal that is not a race: unreachable, or a value it cannot store (None: a bug)."""
    if connection_lost(exc):
        return unavailable()
    code = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    if code.startswith("22"):  # data exception: too long, untranslatable character, out of range
        return ValidationFailed(
            "A value is too long or has characters the database cannot store; nothing was changed.",
            hint="Shorten the text fields and remove control characters, then retry.",
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return unavailable()
    return None


def unavailable() -> Unavailable:
    """The database could not be used before anything was committed."""
    return Unavailable(
        "The database could not complete the request; nothing was changed.",
        hint="Retry in a few seconds; if it persists, check /readyz.",
    )


def outcome_unknown() -> Unavailable:
    """The connection was lost while COMMIT was on its way: the change may or may not have been saved."""
    return Unavailable(
        "The database connection was lost while the change was being committed: it may or may not have been saved.",
        hint="Retry with the same idempotency_key: a saved change is then replayed, not made twice.",
    )


def idempotency_lost() -> Conflict:
    """Our reservation was taken over (its lease ran out) and the new holder has not finished."""
    return Conflict(
        "This call took longer than its idempotency reservation and another call with the same key took over.",
        field="idempotency_key",
        hint="Retry with the same key to get that call's result.",
    )
