"""Idempotent mutations: one effect per key, replayed results, conflicts on new arguments, clean rollback."""

import asyncio

import pytest

from promptsales.domain_core.shared.errors import Conflict, IdempotencyConflict
from tests.integration.conftest import Backend, create_organization, new_tenant, side_effect_counts

ONE_OF_EACH = {"organizations": 1, "audit": 1, "outbox": 1, "idempotency": 1}
NOTHING = {"organizations": 0, "audit": 0, "outbox": 0, "idempotency": 0}


async def test_same_key_and_arguments_replay_the_stored_result(backend: Backend) -> None:
    tenant, calls = new_tenant(), list[str]()

    first = await create_organization(backend.uow, tenant, "Acme", key="k-1", calls=calls)
    second = await create_organization(backend.uow, tenant, "Acme", key="k-1", calls=calls)
    third = await create_organization(backend.uow, tenant, "Acme", key="k-1", calls=calls)

    assert first == second == third
    assert calls == ["Acme"]  # the work ran once
    assert await side_effect_counts(backend.uow, tenant) == ONE_OF_EACH


async def test_same_key_with_different_arguments_is_a_conflict(backend: Backend) -> None:
    tenant, calls = new_tenant(), list[str]()
    await create_organization(backend.uow, tenant, "Acme", key="k-1", calls=calls)

    with pytest.raises(IdempotencyConflict) as caught:
        await create_organization(backend.uow, tenant, "Globex", key="k-1", calls=calls)

    assert isinstance(caught.value, Conflict)
    assert caught.value.field == "idempotency_key"
    assert "idempotency_key" in caught.value.public_message()
    assert "k-1" in str(caught.value)
    assert calls == ["Acme"]
    assert await side_effect_counts(backend.uow, tenant) == ONE_OF_EACH


async def test_keys_are_scoped_per_tenant_and_absent_keys_never_dedupe(backend: Backend) -> None:
    tenant_a, tenant_b = new_tenant(), new_tenant()

    a = await create_organization(backend.uow, tenant_a, "Acme", key="shared")
    b = await create_organization(backend.uow, tenant_b, "Acme", key="shared")
    assert a.id != b.id
    assert (await side_effect_counts(backend.uow, tenant_b))["organizations"] == 1

    tenant_c = new_tenant()
    c1 = await create_organization(backend.uow, tenant_c, "Acme", key=None)
    c2 = await create_organization(backend.uow, tenant_c, "Acme", key=None)
    assert c1.id != c2.id
    assert await side_effect_counts(backend.uow, tenant_c) == {
        "organizations": 2,
        "audit": 2,
        "outbox": 2,
        "idempotency": 0,
    }


async def test_failed_work_leaves_nothing_behind_and_the_key_can_be_retried(backend: Backend) -> None:
    tenant, calls = new_tenant(), list[str]()

    with pytest.raises(RuntimeError, match="boom after insert"):
        await create_organization(backend.uow, tenant, "Acme", key="k-fail", calls=calls, fail=True)

    assert await side_effect_counts(backend.uow, tenant) == NOTHING

    retried = await create_organization(backend.uow, tenant, "Acme", key="k-fail", calls=calls)
    assert retried.name == "Acme"
    assert calls == ["Acme", "Acme"]
    assert await side_effect_counts(backend.uow, tenant) == ONE_OF_EACH


async def test_concurrent_calls_with_one_key_have_one_effect(backend: Backend) -> None:
    tenant, calls = new_tenant(), list[str]()

    results = await asyncio.gather(
        *(create_organization(backend.uow, tenant, "Acme", key="k-race", calls=calls) for _ in range(20))
    )

    assert len({result.id for result in results}) == 1
    assert calls == ["Acme"]
    assert await side_effect_counts(backend.uow, tenant) == ONE_OF_EACH


async def test_concurrent_conflicting_calls_have_one_effect_and_the_rest_conflict(backend: Backend) -> None:
    tenant = new_tenant()
    names = [f"Org {i}" for i in range(10)]

    outcomes = await asyncio.gather(
        *(create_organization(backend.uow, tenant, name, key="k-contested") for name in names),
        return_exceptions=True,
    )

    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 9
    assert all(isinstance(o, IdempotencyConflict) for o in losers)
    assert await side_effect_counts(backend.uow, tenant) == ONE_OF_EACH
