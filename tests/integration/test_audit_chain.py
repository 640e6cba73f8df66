"""The per-tenant audit hash chain: intact after mutations, broken by any edit or deletion behind its back."""

import asyncio
import itertools
import json

from sqlalchemy import select
from sqlmodel import col

from promptsales.domain_core.infrastructure.audit import ChainVerification, entry_hash, verify_chain
from promptsales.domain_core.infrastructure.tables import AuditEntryRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from tests.integration.conftest import Backend, caller_for, create_organization, new_tenant


async def verify(uow_factory: UnitOfWorkFactory, tenant: str) -> ChainVerification:
    async with uow_factory.begin(caller_for(tenant), read_only=True) as uow:
        return await verify_chain(uow.session, tenant)


async def entries(uow_factory: UnitOfWorkFactory, tenant: str) -> list[AuditEntryRecord]:
    async with uow_factory.begin(caller_for(tenant), read_only=True) as uow:
        rows = await uow.session.execute(
            select(AuditEntryRecord)
            .where(col(AuditEntryRecord.tenant_id) == tenant)
            .order_by(col(AuditEntryRecord.seq))
        )
        return list(rows.scalars().all())


async def audited_tenant(backend: Backend, mutations: int) -> tuple[str, list[AuditEntryRecord]]:
    tenant = new_tenant()
    for i in range(mutations):
        await create_organization(backend.uow, tenant, f"Org {i}", key=f"k-{i}")
    return tenant, await entries(backend.uow, tenant)


async def test_mutations_build_an_intact_gap_free_chain(backend: Backend) -> None:
    tenant, chain = await audited_tenant(backend, 5)

    assert [entry.seq for entry in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(chain))
    assert {entry.idempotency_key for entry in chain} == {f"k-{i}" for i in range(5)}
    assert {(entry.actor_id, entry.actor_kind, entry.source) for entry in chain} == {("test-agent", "agent", "mcp")}
    assert all(entry.request_id for entry in chain)
    assert chain[0].changes == {"before": {}, "after": {"name": "Org 0"}}
    assert await verify(backend.uow, tenant) == ChainVerification(ok=True, entries_checked=5)


async def test_altered_entry_is_named(backend: Backend) -> None:
    tenant, chain = await audited_tenant(backend, 4)
    other_tenant, _ = await audited_tenant(backend, 2)
    target = chain[2]

    backend.owner_execute(
        "UPDATE audit_log SET changes = ? WHERE id = ?",
        (json.dumps({"before": {}, "after": {"name": "Forged Inc"}}), target.id),
    )

    result = await verify(backend.uow, tenant)
    assert not result.ok
    assert (result.broken_entry_id, result.broken_seq) == (target.id, 3)
    assert result.reason is not None and "altered" in result.reason
    assert await verify(backend.uow, other_tenant) == ChainVerification(ok=True, entries_checked=2)


async def test_rehashed_forgery_breaks_the_next_link(backend: Backend) -> None:
    tenant, chain = await audited_tenant(backend, 4)
    forged = chain[1]
    forged.changes = {"before": {}, "after": {"name": "Forged Inc"}}
    forged_hash = entry_hash(forged)  # a forger who recomputes the altered entry's own hash

    backend.owner_execute(
        "UPDATE audit_log SET changes = ?, hash = ? WHERE id = ?",
        (json.dumps(forged.changes), forged_hash, forged.id),
    )

    result = await verify(backend.uow, tenant)
    assert not result.ok
    assert (result.broken_entry_id, result.broken_seq) == (chain[2].id, 3)
    assert result.reason is not None and "prev_hash" in result.reason


async def test_deleted_entry_is_a_gap(backend: Backend) -> None:
    tenant, chain = await audited_tenant(backend, 4)

    backend.owner_execute("DELETE FROM audit_log WHERE id = ?", (chain[1].id,))

    result = await verify(backend.uow, tenant)
    assert not result.ok
    assert (result.broken_entry_id, result.broken_seq) == (chain[2].id, 3)
    assert result.reason is not None and "gap" in result.reason


async def test_deleted_newest_entry_is_detected(backend: Backend) -> None:
    tenant, chain = await audited_tenant(backend, 3)

    backend.owner_execute("DELETE FROM audit_log WHERE id = ?", (chain[-1].id,))

    result = await verify(backend.uow, tenant)
    assert not result.ok
    assert result.broken_seq == 3
    assert result.reason is not None and "missing" in result.reason


async def test_rehashed_newest_entry_no_longer_matches_the_chain_head(backend: Backend) -> None:
    tenant, chain = await audited_tenant(backend, 3)
    newest = chain[-1]
    newest.changes = {"before": {}, "after": {"name": "Forged Inc"}}

    backend.owner_execute(
        "UPDATE audit_log SET changes = ?, hash = ? WHERE id = ?",
        (json.dumps(newest.changes), entry_hash(newest), newest.id),
    )

    result = await verify(backend.uow, tenant)
    assert not result.ok
    assert (result.broken_entry_id, result.broken_seq) == (newest.id, 3)
    assert result.reason is not None and "head" in result.reason


async def test_chains_are_per_tenant(backend: Backend) -> None:
    tenant_a, chain_a = await audited_tenant(backend, 3)
    tenant_b, chain_b = await audited_tenant(backend, 2)

    assert [entry.seq for entry in chain_b] == [1, 2]
    assert chain_b[0].prev_hash == "0" * 64
    backend.owner_execute("DELETE FROM audit_log WHERE id = ?", (chain_a[0].id,))

    assert not (await verify(backend.uow, tenant_a)).ok
    assert await verify(backend.uow, tenant_b) == ChainVerification(ok=True, entries_checked=2)


async def test_concurrent_mutations_keep_the_chain_gap_free(backend: Backend) -> None:
    tenant = new_tenant()

    await asyncio.gather(*(create_organization(backend.uow, tenant, f"Org {i}", key=f"k-{i}") for i in range(10)))

    chain = await entries(backend.uow, tenant)
    assert [entry.seq for entry in chain] == list(range(1, 11))
    assert await verify(backend.uow, tenant) == ChainVerification(ok=True, entries_checked=10)
