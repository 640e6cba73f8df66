"""Tenant credentials for external platforms, sealed with the key ring; plaintext only lives in memory."""

import json
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from promptsales.domain_core.infrastructure.crypto import CryptoError, KeyRing, associated_data
from promptsales.domain_core.infrastructure.tables import TenantCredentialRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Unavailable


class CredentialStore:
    """Seals, stores and opens per-tenant credentials (one JSON object per tenant and provider)."""

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys

    def __repr__(self) -> str:
        return "CredentialStore(<sealed>)"

    async def put(self, uow: UnitOfWork, provider: str, secret: dict[str, Any], *, label: str) -> None:
        """Store (or replace) the tenant's credentials for ``provider``."""
        sealed = self._keys.seal(
            json.dumps(secret, sort_keys=True).encode(), associated_data=associated_data(uow.tenant_id, provider)
        )
        record = await self._record(uow, provider)
        if record is None:
            record = TenantCredentialRecord(
                tenant_id=uow.tenant_id,
                provider=provider,
                key_id=self._keys.active,
                sealed=sealed,
                label=label,
                created_at=uow.now,
                updated_at=uow.now,
            )
        else:
            record.sealed, record.key_id, record.label, record.updated_at = sealed, self._keys.active, label, uow.now
        uow.session.add(record)
        await uow.session.flush()

    async def get(self, uow: UnitOfWork, provider: str) -> dict[str, Any] | None:
        """The tenant's credentials for ``provider`` (None when none are stored); re-sealed if the key rotated."""
        record = await self._record(uow, provider)
        if record is None:
            return None
        binding = associated_data(uow.tenant_id, provider)
        try:
            plaintext = self._keys.open(record.sealed, associated_data=binding)
        except CryptoError as exc:
            raise Unavailable(
                f"The stored {provider} credentials cannot be opened with the configured encryption keys.",
                hint="Check PROMPTSALES_ENCRYPTION_KEYS still holds the key they were sealed with, or store them anew.",
            ) from exc
        value: dict[str, Any] = json.loads(plaintext)
        return value

    async def delete(self, uow: UnitOfWork, provider: str) -> bool:
        """Forget the tenant's credentials for ``provider``; False when there were none."""
        record = await self._record(uow, provider)
        if record is None:
            return False
        await uow.session.delete(record)
        await uow.session.flush()
        return True

    async def label(self, uow: UnitOfWork, provider: str) -> str | None:
        """The non-secret label of stored credentials, if any."""
        record = await self._record(uow, provider)
        return record.label if record is not None else None

    async def rotate_all(self, uow: UnitOfWork) -> int:
        """Re-seal this tenant's credentials that use an older key; returns how many changed."""
        rows = await uow.session.execute(
            select(TenantCredentialRecord).where(col(TenantCredentialRecord.tenant_id) == uow.tenant_id)
        )
        changed = 0
        for record in rows.scalars():
            if self._keys.needs_rotation(record.sealed):
                binding = associated_data(uow.tenant_id, record.provider)
                record.sealed = self._keys.rotate(record.sealed, associated_data=binding)
                record.key_id, record.updated_at = self._keys.active, uow.now
                uow.session.add(record)
                changed += 1
        await uow.session.flush()
        return changed

    @staticmethod
    async def _record(uow: UnitOfWork, provider: str) -> TenantCredentialRecord | None:
        result = await uow.session.execute(
            select(TenantCredentialRecord).where(
                col(TenantCredentialRecord.tenant_id) == uow.tenant_id, col(TenantCredentialRecord.provider) == provider
            )
        )
        return result.scalar_one_or_none()
