"""Sealed tenant credentials (rotation, tenant binding) and one-time confirmation tokens, on both backends."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from promptsales.domain_core.infrastructure import confirmations
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.crypto import KeyRing, generate_key
from promptsales.domain_core.infrastructure.tables import TenantCredentialRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.errors import Unavailable, ValidationFailed
from tests.integration.conftest import Backend, caller_for, new_tenant

SECRET = {"client_id": "app-1", "client_secret": "canary-Zq81-never-in-clear"}


async def test_credentials_are_sealed_bound_to_their_tenant_and_survive_rotation(backend: Backend) -> None:
    old = KeyRing.parse(f"k1:{generate_key()}")
    store = CredentialStore(old)
    tenant, other = new_tenant(), new_tenant()
    async with backend.uow.begin(caller_for(tenant)) as uow:
        await store.put(uow, "paypal", SECRET, label="client …p-1")

    async def raw(uow: UnitOfWork) -> TenantCredentialRecord:
        query = select(TenantCredentialRecord).where(TenantCredentialRecord.tenant_id == uow.tenant_id)
        return (await uow.session.execute(query)).scalars().one()

    record = await backend.uow.read(caller_for(tenant), raw)
    assert record.key_id == "k1" and SECRET["client_secret"] not in record.sealed and "app-1" not in record.sealed
    assert "canary" not in repr(store)
    assert await backend.uow.read(caller_for(tenant), lambda uow: store.get(uow, "paypal")) == SECRET
    assert await backend.uow.read(caller_for(other), lambda uow: store.get(uow, "paypal")) is None

    # A sealed value copied to another tenant does not open there (associated data binds it).
    backend.owner_execute(
        "INSERT INTO tenant_credentials (tenant_id, provider, key_id, sealed, label, created_at, updated_at) "
        "VALUES (?, 'paypal', ?, ?, 'copy', ?, ?)",
        (other, record.key_id, record.sealed, record.created_at, record.updated_at),
    )
    with pytest.raises(Unavailable) as caught:
        await backend.uow.read(caller_for(other), lambda uow: store.get(uow, "paypal"))
    assert "cannot be opened" in caught.value.public_message()

    # Rotation: a new active key re-seals; the old key is still needed only until then.
    rotated = CredentialStore(
        KeyRing(keys={**old.keys, "k2": KeyRing.parse(f"k2:{generate_key()}").keys["k2"]}, active="k2")
    )
    async with backend.uow.begin(caller_for(tenant)) as uow:
        assert await rotated.rotate_all(uow) == 1
    record = await backend.uow.read(caller_for(tenant), raw)
    assert record.key_id == "k2" and record.sealed.startswith("v1.k2.")
    only_new = CredentialStore(KeyRing(keys={"k2": rotated._keys.keys["k2"]}, active="k2"))
    assert await backend.uow.read(caller_for(tenant), lambda uow: only_new.get(uow, "paypal")) == SECRET


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_confirmation_token_works_once_for_what_it_previewed_and_expires(backend: Backend) -> None:
    clock = Clock()
    factory = UnitOfWorkFactory(backend.uow.engine, clock=clock)
    caller = caller_for(new_tenant())
    preview = {"plan": "pro", "ends": "2026-12-31"}

    async def issue() -> str:
        async with factory.begin(caller) as uow:
            return await confirmations.issue(uow, action="x.cancel", target_id="sub_1", preview=preview)

    async def consume(token: str, **changes: object) -> None:
        async with factory.begin(caller) as uow:
            await confirmations.consume(
                uow,
                token,
                action=str(changes.get("action", "x.cancel")),
                target_id=str(changes.get("target_id", "sub_1")),
                preview=dict(changes.get("preview", preview)),  # type: ignore[call-overload]
            )

    token = await issue()
    for changes in ({"action": "x.delete"}, {"target_id": "sub_2"}, {"preview": {**preview, "plan": "starter"}}):
        with pytest.raises(ValidationFailed) as caught:
            await consume(token, **changes)
        assert caught.value.field == "confirmation_token"
    await consume(token)
    with pytest.raises(ValidationFailed):
        await consume(token)  # used
    late = await issue()
    clock.now += confirmations.CONFIRMATION_TTL + timedelta(seconds=1)
    with pytest.raises(ValidationFailed) as caught:
        await consume(late)
    assert "expired" in caught.value.public_message()
    with pytest.raises(ValidationFailed):
        await consume("cf_" + "x" * 32, **{"preview": preview})  # never issued
