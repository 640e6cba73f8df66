"""Typed domain errors. Each carries an actionable, client-safe message (never SQL, secrets or traces)."""

from typing import ClassVar


class DomainError(Exception):
    """Base of every error a caller can act on; ``code`` is stable, ``message`` is for people and models."""

    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint

    def public_message(self) -> str:
        """The full text shown to the caller: message, offending field and what to do next."""
        parts = [self.message]
        if self.field and self.field not in self.message:
            parts.append(f"(field: {self.field})")
        if self.hint:
            parts.append(self.hint)
        return " ".join(parts)


class NotFound(DomainError):
    """The referenced record does not exist for this tenant."""

    code = "not_found"

    def __init__(self, kind: str, identifier: str, *, field: str | None = None, lookup: str | None = None) -> None:
        # ``lookup`` names the tool that finds valid ids, exactly as clients see it (e.g. "crm_search_contacts").
        hint = f"Check the id; {lookup} lists valid ones." if lookup else "Check the id."
        super().__init__(f"{kind} '{identifier}' was not found.", field=field, hint=hint)
        self.kind = kind
        self.identifier = identifier


class ValidationFailed(DomainError):
    """Input is well-typed but breaks a business rule."""

    code = "validation_failed"


class Conflict(DomainError):
    """The request collides with the current state (duplicates, stale versions, finished runs)."""

    code = "conflict"


class IdempotencyConflict(Conflict):
    """An idempotency key was reused with different arguments."""

    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"idempotency_key '{key}' was already used with different arguments.",
            field="idempotency_key",
            hint="Use a new key for a new request, or resend the original arguments to get the stored result.",
        )


class QuotaExceeded(DomainError):
    """A plan quota is used up for the current period."""

    code = "quota_exceeded"


class NotEntitled(DomainError):
    """The tenant's plan does not include the feature."""

    code = "not_entitled"


class ComplianceBlocked(DomainError):
    """A compliance policy forbids the action."""

    code = "compliance_blocked"


class UpstreamError(DomainError):
    """An external platform failed or refused the request."""

    code = "upstream_error"


class Unavailable(DomainError):
    """A dependency (database, cache) cannot be reached; the call changed nothing and may be retried."""

    code = "unavailable"


class StillRunning(Conflict):
    """An earlier call with the same idempotency key has not finished yet."""

    code = "still_running"

    def __init__(self) -> None:
        super().__init__(
            "A call with this idempotency_key is still running.",
            field="idempotency_key",
            hint="Retry with the same key in a minute to get its result.",
        )
