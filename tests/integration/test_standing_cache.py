"""The per-process subscription cache shared by the entitlement check and the usage meter (issue 13)."""

from datetime import timedelta

import pytest

from promptsales.domain_core.business.model.plans import load_catalogue
from promptsales.domain_core.business.service.standing import Policy, StandingCache
from promptsales.domain_core.business.tables import SubscriptionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.ids import new_id
from tests.integration.conftest import caller_for, new_tenant

POLICY = Policy(catalogue=load_catalogue(), default_plan="free")


class Abort(Exception):
    """Rolls a unit back on purpose."""


def subscribe(uow: UnitOfWork, plan_id: str) -> None:
    now = uow.now
    uow.session.add(
        SubscriptionRecord(
            id=new_id("sub"),
            tenant_id=uow.tenant_id,
            plan_id=plan_id,
            status="active",
            provider="manual",
            current_period_start=now - timedelta(days=1),
            current_period_end=now + timedelta(days=29),
            created_at=now,
            updated_at=now,
        )
    )


async def plan_read(uow_factory: UnitOfWorkFactory, cache: StandingCache, tenant: str) -> str:
    async def work(uow: UnitOfWork) -> str:
        return (await cache.standing(uow)).plan.id

    return await uow_factory.read(caller_for(tenant), work)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_committed_read_is_remembered_until_forgotten(sqlite_uow: UnitOfWorkFactory) -> None:
    cache, tenant = StandingCache(POLICY, ttl_s=60), new_tenant()
    assert await plan_read(sqlite_uow, cache, tenant) == "free"

    async def upgrade(uow: UnitOfWork) -> None:
        subscribe(uow, "pro")

    await sqlite_uow.write(caller_for(tenant), upgrade)
    assert await plan_read(sqlite_uow, cache, tenant) == "free"  # remembered: no second read within the TTL
    cache.forget(tenant)
    assert await plan_read(sqlite_uow, cache, tenant) == "pro"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_read_in_a_unit_that_rolls_back_is_not_remembered(sqlite_uow: UnitOfWorkFactory) -> None:
    cache, tenant = StandingCache(POLICY, ttl_s=60), new_tenant()

    async def upgrade_then_fail(uow: UnitOfWork) -> None:
        subscribe(uow, "pro")
        await uow.session.flush()
        assert (await cache.standing(uow)).plan.id == "pro"  # the unit sees its own change
        raise Abort

    with pytest.raises(Abort):
        await sqlite_uow.write(caller_for(tenant), upgrade_then_fail)
    assert cache.known(tenant, sqlite_uow.clock()) is None
    assert await plan_read(sqlite_uow, cache, tenant) == "free"


@pytest.mark.asyncio(loop_scope="session")
async def test_no_ttl_remembers_nothing(sqlite_uow: UnitOfWorkFactory) -> None:
    cache, tenant = StandingCache(POLICY, ttl_s=0), new_tenant()
    assert await plan_read(sqlite_uow, cache, tenant) == "free"
    assert cache.known(tenant, sqlite_uow.clock()) is None


@pytest.mark.asyncio(loop_scope="session")
async def test_the_standing_is_derived_at_each_use(sqlite_uow: UnitOfWorkFactory) -> None:
    """A remembered subscription still yields the period of the moment asked about (quotas count per period)."""
    cache, tenant = StandingCache(POLICY, ttl_s=60), new_tenant()

    async def subscribe_pro(uow: UnitOfWork) -> None:
        subscribe(uow, "pro")

    await sqlite_uow.write(caller_for(tenant), subscribe_pro)
    assert await plan_read(sqlite_uow, cache, tenant) == "pro"
    now = sqlite_uow.clock()
    current = cache.known(tenant, now)
    later = cache.known(tenant, now + timedelta(days=40))
    assert current is not None and later is not None
    assert later.period_start > current.period_start
