"""Preview-then-confirm: one-time tokens a destructive or spending action must present (kept in the database,
so any replica can confirm what another previewed)."""

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from promptsales.domain_core.infrastructure.tables import ConfirmationRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import ValidationFailed

CONFIRMATION_TTL = timedelta(minutes=15)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def digest_of(preview: dict[str, Any]) -> str:
    """A digest of what the preview showed; confirming after the target changed is refused."""
    return hashlib.sha256(json.dumps(preview, sort_keys=True, default=str).encode()).hexdigest()


async def issue(uow: UnitOfWork, *, action: str, target_id: str, preview: dict[str, Any]) -> str:
    """A new confirmation token for ``action`` on ``target_id`` (only its hash is stored)."""
    token = "cf_" + secrets.token_urlsafe(24)
    uow.session.add(
        ConfirmationRecord(
            token_hash=_hash(token),
            tenant_id=uow.tenant_id,
            action=action,
            target_id=target_id,
            digest=digest_of(preview),
            created_at=uow.now,
            expires_at=uow.now + CONFIRMATION_TTL,
        )
    )
    await uow.session.flush()
    return token


def _valid(uow: UnitOfWork, token: str, action: str, target_id: str, preview: dict[str, Any]) -> tuple[Any, ...]:
    return (
        col(ConfirmationRecord.token_hash) == _hash(token),
        col(ConfirmationRecord.tenant_id) == uow.tenant_id,
        col(ConfirmationRecord.action) == action,
        col(ConfirmationRecord.target_id) == target_id,
        col(ConfirmationRecord.digest) == digest_of(preview),
        col(ConfirmationRecord.used_at).is_(None),
        col(ConfirmationRecord.expires_at) > uow.now,
    )


async def check(
    uow: UnitOfWork, token: str, *, action: str, target_id: str, preview: dict[str, Any], renew: str | None = None
) -> None:
    """Raise unless ``token`` would be accepted now (before doing irreversible work outside the database);
    ``renew`` says how to get a new token where it is not by calling again without one."""
    found = await uow.session.execute(
        select(col(ConfirmationRecord.token_hash)).where(*_valid(uow, token, action, target_id, preview))
    )
    if found.first() is None:
        raise _invalid(renew)


async def consume(
    uow: UnitOfWork, token: str, *, action: str, target_id: str, preview: dict[str, Any], renew: str | None = None
) -> None:
    """Spend ``token`` in this transaction, or raise naming ``confirmation_token`` (unknown, used, expired, stale)."""
    result = await uow.session.execute(
        update(ConfirmationRecord).where(*_valid(uow, token, action, target_id, preview)).values(used_at=uow.now)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise _invalid(renew)


def _invalid(renew: str | None) -> ValidationFailed:
    return ValidationFailed(
        "confirmation_token is not valid for this action: it is unknown, already used, expired "
        f"(tokens last {int(CONFIRMATION_TTL.total_seconds() // 60)} minutes), or what it previewed has changed.",
        field="confirmation_token",
        hint=renew or "Call again without confirmation_token to get a fresh preview and token.",
    )
