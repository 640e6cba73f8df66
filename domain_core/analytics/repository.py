"""Analytics queries and writes; every one scoped to the unit of work's tenant. Writes reach the database at once."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from promptsales.domain_core.analytics.tables import (
    AssignmentRecord,
    ConversionRecord,
    ExperimentRecord,
    PerformanceRecord,
    PullRecord,
    TouchpointRecord,
)
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.infrastructure.upsert import insert_ignore

METRIC_COLUMNS = ("impressions", "reach", "clicks", "spend", "conversions", "conversion_value")


async def save(uow: UnitOfWork, record: Any) -> None:
    """Write a new or changed record now."""
    uow.session.add(record)
    await uow.session.flush()


# ---------------------------------------------------------------------------------------------- journeys


async def add_touchpoint(uow: UnitOfWork, record: TouchpointRecord) -> None:
    """Keep a journey step once per outbox event (a redelivered event changes nothing)."""
    values = record.model_dump()
    await uow.session.execute(insert_ignore(uow.session, TouchpointRecord).values(**values))


async def reach_stage(uow: UnitOfWork, record: ConversionRecord) -> None:
    """Keep the first time a lead reached a stage; a won deal's value fills in if the stage was reached without one."""
    values = record.model_dump()
    await uow.session.execute(insert_ignore(uow.session, ConversionRecord).values(**values))
    if record.value is not None:
        await uow.session.execute(
            update(ConversionRecord)
            .where(
                col(ConversionRecord.tenant_id) == uow.tenant_id,
                col(ConversionRecord.lead_id) == record.lead_id,
                col(ConversionRecord.stage) == record.stage,
                col(ConversionRecord.value).is_(None),
            )
            .values(value=record.value, currency=record.currency)
        )


async def journey_touches(
    uow: UnitOfWork, contact_ids: Sequence[str], *, since: datetime, until: datetime
) -> list[tuple[Any, ...]]:
    """(contact, channel, campaign, time) of the contacts' steps in the window, oldest first per contact."""
    query = (
        select(
            col(TouchpointRecord.contact_id),
            col(TouchpointRecord.channel),
            col(TouchpointRecord.campaign_id),
            col(TouchpointRecord.occurred_at),
        )
        .where(
            col(TouchpointRecord.tenant_id) == uow.tenant_id,
            col(TouchpointRecord.contact_id).in_(tuple(contact_ids)),
            col(TouchpointRecord.occurred_at) >= since,
            col(TouchpointRecord.occurred_at) <= until,
        )
        .order_by(col(TouchpointRecord.contact_id), col(TouchpointRecord.occurred_at), col(TouchpointRecord.id))
    )
    return [tuple(row) for row in (await uow.session.execute(query)).all()]


async def journey_contacts(uow: UnitOfWork, *, since: datetime, until: datetime, limit: int) -> list[str]:
    """Contacts with a step in the window (at most ``limit``, most recent first)."""
    latest = func.max(col(TouchpointRecord.occurred_at))
    query = (
        select(col(TouchpointRecord.contact_id))
        .where(
            col(TouchpointRecord.tenant_id) == uow.tenant_id,
            col(TouchpointRecord.occurred_at) >= since,
            col(TouchpointRecord.occurred_at) <= until,
        )
        .group_by(col(TouchpointRecord.contact_id))
        .order_by(latest.desc())
        .limit(limit)
    )
    return [str(row[0]) for row in (await uow.session.execute(query)).all()]


async def first_conversions(uow: UnitOfWork, stage: str, *, since: datetime, until: datetime) -> list[tuple[Any, ...]]:
    """(contact, time, value) of each contact's first conversion at ``stage`` in the window."""
    query = (
        select(
            col(ConversionRecord.contact_id),
            func.min(col(ConversionRecord.occurred_at)),
            func.sum(col(ConversionRecord.value)),
        )
        .where(
            col(ConversionRecord.tenant_id) == uow.tenant_id,
            col(ConversionRecord.stage) == stage,
            col(ConversionRecord.occurred_at) >= since,
            col(ConversionRecord.occurred_at) <= until,
        )
        .group_by(col(ConversionRecord.contact_id))
    )
    return [tuple(row) for row in (await uow.session.execute(query)).all()]


# ---------------------------------------------------------------------------------------------- performance


async def store_performance(uow: UnitOfWork, rows: Sequence[PerformanceRecord]) -> None:
    """Insert each object-day, or replace its figures when the platform restated the day (never double counts)."""
    if not rows:
        return
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(PerformanceRecord)
    replace = {name: statement.excluded[name] for name in (*METRIC_COLUMNS, "pulled_at", "object_name", "ad_ref")}
    upsert = statement.on_conflict_do_update(index_elements=["tenant_id", "platform", "object_id", "day"], set_=replace)
    for start in range(0, len(rows), 500):
        await uow.session.execute(upsert, [row.model_dump() for row in rows[start : start + 500]])


def _performance_scope(uow: UnitOfWork, since: date, until: date, campaign_ids: Sequence[str] | None) -> Any:
    conditions: list[ColumnElement[bool]] = [
        col(PerformanceRecord.tenant_id) == uow.tenant_id,
        col(PerformanceRecord.day) >= since,
        col(PerformanceRecord.day) <= until,
    ]
    if campaign_ids is not None:
        conditions.append(col(PerformanceRecord.campaign_id).in_(tuple(campaign_ids)))
    return and_(*conditions)


async def performance_by(
    uow: UnitOfWork, keys: Sequence[str], *, since: date, until: date, campaign_ids: Sequence[str] | None
) -> list[tuple[Any, ...]]:
    """Platform figures summed per ``keys`` (columns of the performance table) over the window."""
    groups = [getattr(PerformanceRecord, key) for key in keys]
    query = (
        select(
            *groups,
            func.sum(col(PerformanceRecord.impressions)),
            func.sum(col(PerformanceRecord.reach)),
            func.count(col(PerformanceRecord.reach)),
            func.count(),
            func.sum(col(PerformanceRecord.clicks)),
            func.sum(col(PerformanceRecord.spend)),
            func.sum(col(PerformanceRecord.conversions)),
            func.sum(col(PerformanceRecord.conversion_value)),
        )
        .where(_performance_scope(uow, since, until, campaign_ids))
        .group_by(*groups)
    )
    return [tuple(row) for row in (await uow.session.execute(query)).all()]


async def lead_outcomes_by(
    uow: UnitOfWork, keys: Sequence[str], *, since: datetime, until: datetime, campaign_ids: Sequence[str] | None
) -> list[tuple[Any, ...]]:
    """Per ``keys`` (touchpoint columns, or ``day`` of capture): leads captured through campaign links in the
    window, how many of them reached mql or beyond, became customers, and the revenue they brought."""
    first = (
        select(
            col(TouchpointRecord.lead_id),
            col(TouchpointRecord.campaign_id),
            col(TouchpointRecord.channel),
            col(TouchpointRecord.ad_ref),
            col(TouchpointRecord.country),
            func.min(col(TouchpointRecord.occurred_at)).label("captured_at"),
        )
        .where(
            col(TouchpointRecord.tenant_id) == uow.tenant_id,
            col(TouchpointRecord.campaign_id).is_not(None),
            col(TouchpointRecord.occurred_at) >= since,
            col(TouchpointRecord.occurred_at) <= until,
        )
        .group_by(
            col(TouchpointRecord.lead_id),
            col(TouchpointRecord.campaign_id),
            col(TouchpointRecord.channel),
            col(TouchpointRecord.ad_ref),
            col(TouchpointRecord.country),
        )
    )
    if campaign_ids is not None:
        first = first.where(col(TouchpointRecord.campaign_id).in_(tuple(campaign_ids)))
    captured = first.subquery()
    qualified = _reached(uow, ("mql", "sql", "opportunity", "customer")).subquery()
    won = _reached(uow, ("customer",), with_value=True).subquery()
    groups = [func.date(captured.c.captured_at) if key == "day" else captured.c[key] for key in keys]
    query = (
        select(
            *groups,
            func.count(),
            func.count(qualified.c.lead_id),
            func.count(won.c.lead_id),
            func.coalesce(func.sum(won.c.value), 0),
        )
        .select_from(captured)
        .outerjoin(qualified, qualified.c.lead_id == captured.c.lead_id)
        .outerjoin(won, won.c.lead_id == captured.c.lead_id)
        .group_by(*groups)
    )
    return [tuple(row) for row in (await uow.session.execute(query)).all()]


def _reached(uow: UnitOfWork, stages: Sequence[str], *, with_value: bool = False) -> Any:
    columns: list[Any] = [col(ConversionRecord.lead_id)]
    if with_value:
        columns.append(func.sum(col(ConversionRecord.value)).label("value"))
    return (
        select(*columns)
        .where(col(ConversionRecord.tenant_id) == uow.tenant_id, col(ConversionRecord.stage).in_(tuple(stages)))
        .group_by(col(ConversionRecord.lead_id))
    )


async def pull_state(uow: UnitOfWork, campaign_ids: Sequence[str]) -> dict[str, PullRecord]:
    """The last pull of each campaign that was ever pulled."""
    result = await uow.session.execute(
        select(PullRecord).where(
            col(PullRecord.tenant_id) == uow.tenant_id, col(PullRecord.campaign_id).in_(tuple(campaign_ids))
        )
    )
    return {record.campaign_id: record for record in result.scalars()}


async def save_pull(uow: UnitOfWork, record: PullRecord) -> None:
    """Record a campaign's pull (one row per campaign, replaced each time)."""
    await uow.session.merge(record)
    await uow.session.flush()


# ---------------------------------------------------------------------------------------------- experiments


async def experiment(uow: UnitOfWork, experiment_id: str, *, for_update: bool = False) -> ExperimentRecord | None:
    """The tenant's experiment (locked for the transaction with ``for_update``)."""
    query = select(ExperimentRecord).where(
        col(ExperimentRecord.tenant_id) == uow.tenant_id, col(ExperimentRecord.id) == experiment_id
    )
    if for_update:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def experiments_page(
    uow: UnitOfWork, *, status: str | None, before_id: str | None, limit: int
) -> list[ExperimentRecord]:
    """Experiments newest first after a cursor position."""
    query = select(ExperimentRecord).where(col(ExperimentRecord.tenant_id) == uow.tenant_id)
    if status is not None:
        query = query.where(col(ExperimentRecord.status) == status)
    if before_id is not None:
        query = query.where(col(ExperimentRecord.id) < before_id)
    result = await uow.session.execute(query.order_by(col(ExperimentRecord.id).desc()).limit(limit))
    return list(result.scalars())


async def assign(uow: UnitOfWork, record: AssignmentRecord) -> str:
    """Keep a unit's first assignment and return the variant it holds (a concurrent first exposure agrees)."""
    await uow.session.execute(insert_ignore(uow.session, AssignmentRecord).values(**record.model_dump()))
    found = await uow.session.execute(
        select(col(AssignmentRecord.variant)).where(
            col(AssignmentRecord.tenant_id) == uow.tenant_id,
            col(AssignmentRecord.experiment_id) == record.experiment_id,
            col(AssignmentRecord.unit_id) == record.unit_id,
        )
    )
    return str(found.scalar_one())


async def units_per_variant(uow: UnitOfWork, experiment_id: str) -> dict[str, int]:
    """How many units each variant was shown to."""
    result = await uow.session.execute(
        select(col(AssignmentRecord.variant), func.count())
        .where(col(AssignmentRecord.tenant_id) == uow.tenant_id, col(AssignmentRecord.experiment_id) == experiment_id)
        .group_by(col(AssignmentRecord.variant))
    )
    return {str(variant): int(count) for variant, count in result.all()}


async def unit_outcomes(uow: UnitOfWork, experiment_id: str, stage: str) -> list[tuple[Any, ...]]:
    """Per variant: units that reached ``stage`` after their assignment, and the sum and sum of squares of the value
    won per unit (units without a won deal count as 0)."""
    per_unit = (
        select(
            col(AssignmentRecord.variant).label("variant"),
            col(AssignmentRecord.unit_id).label("unit_id"),
            func.count(col(ConversionRecord.id)).label("reached"),
            func.coalesce(func.sum(col(ConversionRecord.value)), 0).label("value"),
        )
        .select_from(AssignmentRecord)
        .outerjoin(
            ConversionRecord,
            and_(
                col(ConversionRecord.tenant_id) == col(AssignmentRecord.tenant_id),
                col(ConversionRecord.contact_id) == col(AssignmentRecord.unit_id),
                col(ConversionRecord.stage) == stage,
                col(ConversionRecord.occurred_at) >= col(AssignmentRecord.assigned_at),
            ),
        )
        .where(col(AssignmentRecord.tenant_id) == uow.tenant_id, col(AssignmentRecord.experiment_id) == experiment_id)
        .group_by(col(AssignmentRecord.variant), col(AssignmentRecord.unit_id))
        .subquery()
    )
    query = select(
        per_unit.c.variant,
        func.count(),
        func.sum(case((per_unit.c.reached > 0, 1), else_=0)),
        func.sum(per_unit.c.value),
        func.sum(per_unit.c.value * per_unit.c.value),
    ).group_by(per_unit.c.variant)
    return [tuple(row) for row in (await uow.session.execute(query)).all()]


async def ad_figures(
    uow: UnitOfWork, object_ids: Sequence[str], *, since: date
) -> dict[str, tuple[int, int, float, int]]:
    """Per platform ad since a day: impressions, clicks, platform conversions, and CRM leads its links brought."""
    totals = await uow.session.execute(
        select(
            col(PerformanceRecord.object_id),
            func.sum(col(PerformanceRecord.impressions)),
            func.sum(col(PerformanceRecord.clicks)),
            func.sum(col(PerformanceRecord.conversions)),
            func.max(col(PerformanceRecord.ad_ref)),
            func.max(col(PerformanceRecord.campaign_id)),
        )
        .where(
            col(PerformanceRecord.tenant_id) == uow.tenant_id,
            col(PerformanceRecord.object_id).in_(tuple(object_ids)),
            col(PerformanceRecord.day) >= since,
        )
        .group_by(col(PerformanceRecord.object_id))
    )
    found: dict[str, tuple[int, int, float, int]] = {}
    for object_id, impressions, clicks, conversions, ad_ref, campaign_id in totals.all():
        leads = 0
        if ad_ref is not None:
            counted = await uow.session.execute(
                select(func.count(func.distinct(col(TouchpointRecord.lead_id)))).where(
                    col(TouchpointRecord.tenant_id) == uow.tenant_id,
                    col(TouchpointRecord.campaign_id) == campaign_id,
                    col(TouchpointRecord.ad_ref) == ad_ref,
                    func.date(col(TouchpointRecord.occurred_at)) >= since,
                )
            )
            leads = int(counted.scalar_one())
        found[str(object_id)] = (int(impressions or 0), int(clicks or 0), float(conversions or 0), leads)
    return found


def as_decimal(value: object) -> Decimal:
    """A database sum as a Decimal (SQLite may hand back a float or an int)."""
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))
