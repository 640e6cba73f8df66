"""Paid work (model calls, renders) runs once per idempotency key, and database races are retried inside."""

import asyncio
from datetime import timedelta
from typing import Any

import psycopg.errors
import pytest
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError

from promptsales.domain_core.infrastructure import idempotency
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.commands import Command
from promptsales.domain_core.shared.errors import Conflict, IdempotencyConflict, StillRunning, Unavailable
from tests.integration.conftest import (
    Backend,
    CreatedOrganization,
    caller_for,
    create_organization,
    new_tenant,
    organization_work,
    side_effect_counts,
)

ACTION = "content.generate_copy"


class Render(Command):
    brief: str
    variants: int = 3


class Paid:
    """A stand-in for a provider: counts how often the paid step runs, optionally failing or pausing."""

    def __init__(self, *, fail_first: bool = False, pause: float = 0.0) -> None:
        self.calls = 0
        self.started = asyncio.Event()
        self.fail_first = fail_first
        self.pause = pause

    async def __call__(self) -> str:
        self.calls += 1
        self.started.set()
        if self.pause:
            await asyncio.sleep(self.pause)
        if self.fail_first and self.calls == 1:
            raise RuntimeError("provider timed out")
        return f"draft #{self.calls}"


async def generate(
    uow: UnitOfWorkFactory, tenant: str, command: Render, paid: Paid, *, key: str | None
) -> CreatedOrganization:
    async def work(unit: UnitOfWork, drafted: str) -> CreatedOrganization:
        created: CreatedOrganization = await organization_work(f"{command.brief}: {drafted}")(unit)
        return created

    return await uow.mutate_paid(
        caller_for(tenant),
        action=ACTION,
        arguments=command,
        idempotency_key=key,
        prepare=paid,
        work=work,
        result_type=CreatedOrganization,
    )


async def test_a_replay_returns_the_stored_result_without_paying_again(backend: Backend) -> None:
    tenant, paid = new_tenant(), Paid()
    command = Render(brief="spring sale")

    first = await generate(backend.uow, tenant, command, paid, key="gen-1")
    again = await generate(backend.uow, tenant, command, paid, key="gen-1")

    assert again == first
    assert paid.calls == 1
    assert (await side_effect_counts(backend.uow, tenant))["organizations"] == 1


async def test_concurrent_calls_with_one_key_pay_once(backend: Backend) -> None:
    tenant, paid = new_tenant(), Paid(pause=0.2)
    command = Render(brief="launch")

    results = await asyncio.gather(*(generate(backend.uow, tenant, command, paid, key="same") for _ in range(8)))

    assert paid.calls == 1
    assert len({result.id for result in results}) == 1
    assert (await side_effect_counts(backend.uow, tenant))["organizations"] == 1


async def test_failed_paid_work_releases_the_key_for_a_retry(backend: Backend) -> None:
    tenant, paid = new_tenant(), Paid(fail_first=True)
    command = Render(brief="retry me")

    with pytest.raises(RuntimeError):
        await generate(backend.uow, tenant, command, paid, key="k")
    result = await generate(backend.uow, tenant, command, paid, key="k")

    assert paid.calls == 2
    assert result.name == "retry me: draft #2"


async def test_other_arguments_under_a_used_key_conflict_before_paying(backend: Backend) -> None:
    tenant, paid = new_tenant(), Paid()
    await generate(backend.uow, tenant, Render(brief="one"), paid, key="k")

    with pytest.raises(IdempotencyConflict):
        await generate(backend.uow, tenant, Render(brief="one", variants=4), paid, key="k")
    assert paid.calls == 1


async def test_a_reservation_whose_holder_died_is_taken_over(backend: Backend) -> None:
    tenant, paid = new_tenant(), Paid()
    command = Render(brief="orphan")
    async with backend.uow.begin(caller_for(tenant)) as unit:  # a holder that reserved, then vanished
        stale = await idempotency.reserve(
            unit.session,
            tenant_id=tenant,
            scope=ACTION,
            key="k",
            digest=idempotency.request_hash(command.digest_source()),
            holder="dead",
            now=unit.now - idempotency.LEASE - timedelta(seconds=1),
        )
    assert stale.holder == "dead"

    result = await generate(backend.uow, tenant, command, paid, key="k")

    assert paid.calls == 1
    assert result.name == "orphan: draft #1"


async def test_a_plain_mutation_on_a_key_still_being_paid_for_says_so(backend: Backend) -> None:
    tenant, paid = new_tenant(), Paid(pause=0.5)
    command = Render(brief="slow")
    running = asyncio.create_task(generate(backend.uow, tenant, command, paid, key="k"))
    await paid.started.wait()

    with pytest.raises(StillRunning) as caught:
        await backend.uow.mutate(
            caller_for(tenant),
            action=ACTION,
            arguments=command,
            idempotency_key="k",
            work=organization_work("other"),
            result_type=CreatedOrganization,
        )
    assert caught.value.field == "idempotency_key"
    await running


def _race(sqlstate_error: type[Exception]) -> Exception:
    orig = sqlstate_error("simulated")
    if issubclass(sqlstate_error, psycopg.errors.IntegrityError):
        return IntegrityError("INSERT", {}, orig)
    return OperationalError("UPDATE", {}, orig)


@pytest.mark.parametrize(
    "race",
    [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure, psycopg.errors.UniqueViolation],
)
async def test_races_the_database_aborts_are_retried_with_one_effect(backend: Backend, race: Any) -> None:
    tenant, attempts = new_tenant(), []
    inner = organization_work("Acme")

    async def work(unit: UnitOfWork) -> CreatedOrganization:
        created: CreatedOrganization = await inner(unit)
        attempts.append(created.id)
        if len(attempts) < 3:
            raise _race(race)  # after the insert: the retry must start from a clean transaction
        return created

    result = await backend.uow.mutate(
        caller_for(tenant),
        action="crm.organization.create",
        arguments={"name": "Acme"},
        idempotency_key="k",
        work=work,
        result_type=CreatedOrganization,
    )

    assert len(attempts) == 3
    assert result.id == attempts[-1]
    assert await side_effect_counts(backend.uow, tenant) == {
        "organizations": 1,
        "audit": 1,
        "outbox": 1,
        "idempotency": 1,
    }


@pytest.mark.parametrize(
    ("race", "expected"),
    [(psycopg.errors.DeadlockDetected, Unavailable), (psycopg.errors.UniqueViolation, Conflict)],
)
async def test_a_race_that_never_settles_is_a_clear_error(backend: Backend, race: Any, expected: type[Any]) -> None:
    tenant = new_tenant()

    async def work(unit: UnitOfWork) -> BaseModel:
        raise _race(race)

    with pytest.raises(expected) as caught:
        await backend.uow.mutate(
            caller_for(tenant),
            action="x",
            arguments={},
            idempotency_key=None,
            work=work,
            result_type=CreatedOrganization,
        )
    assert "nothing was changed" in caught.value.public_message()
    assert await create_organization(backend.uow, tenant, "after")  # the factory still works
