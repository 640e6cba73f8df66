"""Compile a validated segment rule into one SQL WHERE clause over ``crm_contacts``.

The rule runs in the database (never as a Python-side filter) and only uses constructs that behave the
same on SQLite and PostgreSQL: ``lower()``, ``LIKE ... ESCAPE``, correlated ``EXISTS`` and comparisons
with bound parameters (timestamps as aware UTC; the column type adapts them for SQLite).

Lead, tag and organization conditions are correlated ``EXISTS`` subqueries rather than joins, so a
contact with several leads or tags appears once and counts once. Every condition compiles to an
expression that is never NULL (comparisons are guarded with ``IS NOT NULL``), which makes ``"not": true``
an exact complement and lets ``neq`` include contacts whose value is unknown, as the language promises
(see ``model/segments.py``).
"""

import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, exists, func, literal, not_, or_, select
from sqlalchemy.orm import Mapped
from sqlmodel import col

from promptsales.domain_core.crm.model.segments import (
    SEGMENT_FIELDS,
    FieldSpec,
    Op,
    SegmentCondition,
    SegmentGroup,
    SegmentValue,
)
from promptsales.domain_core.crm.tables import ContactRecord, ContactTagRecord, LeadRecord, OrganizationRecord
from promptsales.domain_core.shared.errors import ValidationFailed

_CONTACT_COLUMNS: Mapping[str, Mapped[Any]] = {
    "country": col(ContactRecord.country),
    "region": col(ContactRecord.region),
    "title": col(ContactRecord.title),
    "consent.email": col(ContactRecord.consent_email),
    "consent.sms": col(ContactRecord.consent_sms),
    "consent.whatsapp": col(ContactRecord.consent_whatsapp),
    "last_activity": col(ContactRecord.last_activity_at),
}
_LEAD_COLUMNS: Mapping[str, Mapped[Any]] = {
    "customer_type": col(LeadRecord.customer_type),
    "purchase_potential": col(LeadRecord.purchase_potential),
    "stage": col(LeadRecord.stage),
    "score": col(LeadRecord.score),
    "source": col(LeadRecord.source_channel),
    "owner": col(LeadRecord.owner),
    "created": col(LeadRecord.created_at),
}
_ORGANIZATION_COLUMNS: Mapping[str, Mapped[Any]] = {
    "industry": col(OrganizationRecord.industry),
    "company_size": col(OrganizationRecord.employee_count),
}
_ORDERING: Mapping[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
# "/" rather than a backslash: how Postgres reads a backslash in the ESCAPE literal depends on
# standard_conforming_strings, while "/" means the same on every backend.
_ESCAPE = "/"


def segment_predicate(rule: SegmentGroup, *, tenant_id: str, now: datetime) -> ColumnElement[bool]:
    """The WHERE clause selecting the tenant's live (unmerged) contacts that match ``rule`` at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return and_(
        col(ContactRecord.tenant_id) == tenant_id,
        col(ContactRecord.merged_into_id).is_(None),
        _group(rule, now.astimezone(UTC)),
    )


def segment_members_query(
    rule: SegmentGroup, *, tenant_id: str, now: datetime, after_id: str | None = None, limit: int
) -> Select[ContactRecord]:
    """One keyset page of matching contacts, ordered by id and starting after ``after_id``."""
    if limit < 1:
        raise ValidationFailed("limit must be at least 1.", field="limit")
    query = select(ContactRecord).where(segment_predicate(rule, tenant_id=tenant_id, now=now))
    if after_id is not None:
        query = query.where(col(ContactRecord.id) > after_id)
    return query.order_by(col(ContactRecord.id)).limit(limit)


def segment_count_query(rule: SegmentGroup, *, tenant_id: str, now: datetime) -> Select[int]:
    """The number of matching contacts (each counted once: no joins, only EXISTS)."""
    predicate = segment_predicate(rule, tenant_id=tenant_id, now=now)
    return select(func.count()).select_from(ContactRecord).where(predicate)


def _group(group: SegmentGroup, now: datetime) -> ColumnElement[bool]:
    """AND/OR the children; each child is two-valued, so NOT of the result is exact."""
    parts = [
        _group(child, now) if isinstance(child, SegmentGroup) else _condition(child, now) for child in group.children
    ]
    combined = and_(*parts) if group.mode == "all" else or_(*parts)
    return not_(combined) if group.negate else combined


def _condition(cond: SegmentCondition, now: datetime) -> ColumnElement[bool]:
    """Compile one condition according to where its field lives."""
    spec = SEGMENT_FIELDS[cond.field]
    if spec.source == "tags":
        expr = _tags(cond.op, cond.value)
    elif spec.source == "lead":
        expr = _lead_exists(_compare(_LEAD_COLUMNS[cond.field], spec, cond.op, cond.value, now))
    elif spec.source == "organization":
        expr = _organization(_ORGANIZATION_COLUMNS[cond.field], spec, cond.op, cond.value, now)
    elif cond.field == "email_domain":
        expr = _email_domain(cond.op, cond.value)
    else:
        expr = _compare(_CONTACT_COLUMNS[cond.field], spec, cond.op, cond.value, now)
    return not_(expr) if cond.negate else expr


def _compare(column: Mapped[Any], spec: FieldSpec, op: Op, value: Any, now: datetime) -> ColumnElement[bool]:
    """Compare one column; NULL never matches except for ``neq``, where it counts as "not X"."""
    if op == "exists":
        return column.is_not(None)
    target: Any = func.lower(column) if spec.case_insensitive else column
    if spec.kind == "number":
        value = _bind_number(value)
    if op == "neq":
        return or_(column.is_(None), target != value)
    test: ColumnElement[bool]
    if op == "eq":
        test = target == value
    elif op == "in":
        test = target.in_(_values(value))
    elif op == "contains":
        test = func.lower(column).like(f"%{_escape_like(str(value))}%", escape=_ESCAPE)
    elif op == "within_days":
        test = column >= now - timedelta(days=_days(value))
    else:
        test = _ORDERING[op](target, value)
    # The IS NOT NULL guard keeps the result TRUE/FALSE rather than NULL, so negation stays exact.
    return and_(column.is_not(None), test)


def _lead_exists(test: ColumnElement[bool]) -> ColumnElement[bool]:
    """The contact has at least one lead satisfying ``test``.

    Correlated explicitly (contacts only) so the predicate still works nested in a query that itself reads
    crm_leads, e.g. a lead listing filtered by ``contact_id IN (members)``.
    """
    return (
        exists()
        .where(
            col(LeadRecord.tenant_id) == col(ContactRecord.tenant_id),
            col(LeadRecord.contact_id) == col(ContactRecord.id),
            test,
        )
        .correlate(ContactRecord)
    )


def _organization(
    column: Mapped[Any], spec: FieldSpec, op: Op, value: SegmentValue, now: datetime
) -> ColumnElement[bool]:
    """Test the contact's organization; with no organization the value is unknown."""
    if op == "neq":
        # A contact has at most one organization: "not X, including unknown" is "no organization that is X".
        return not_(_organization(column, spec, "eq", value, now))
    return (
        exists()
        .where(
            col(OrganizationRecord.tenant_id) == col(ContactRecord.tenant_id),
            col(OrganizationRecord.id) == col(ContactRecord.organization_id),
            _compare(column, spec, op, value, now),
        )
        .correlate(ContactRecord)
    )


def _tags(op: Op, value: SegmentValue) -> ColumnElement[bool]:
    """``contains``: has the tag; ``in``: has any of them; ``exists``: has any tag (case-insensitive)."""
    tag = func.lower(col(ContactTagRecord.tag))
    tests: list[ColumnElement[bool]] = []
    if op == "contains":
        tests.append(tag == value)
    elif op == "in":
        tests.append(tag.in_(_values(value)))
    return (
        exists()
        .where(
            col(ContactTagRecord.tenant_id) == col(ContactRecord.tenant_id),
            col(ContactTagRecord.contact_id) == col(ContactRecord.id),
            *tests,
        )
        .correlate(ContactRecord)
    )


def _email_domain(op: Op, value: SegmentValue) -> ColumnElement[bool]:
    """Match the part after "@" with LIKE patterns, since splitting strings is not portable SQL."""
    email = col(ContactRecord.email)
    lowered = func.lower(email)

    def ends_with(domain: str) -> ColumnElement[bool]:
        return lowered.like(f"%@{_escape_like(domain)}", escape=_ESCAPE)

    if op == "neq":
        return or_(email.is_(None), not_(ends_with(str(value))))
    test: ColumnElement[bool]
    if op == "eq":
        test = ends_with(str(value))
    elif op == "in":
        test = or_(*(ends_with(domain) for domain in _values(value)))
    elif op == "contains":
        test = lowered.like(f"%@%{_escape_like(str(value))}%", escape=_ESCAPE)
    else:  # exists: an address with a non-empty domain
        test = email.like("%@_%")
    return and_(email.is_not(None), test)


def _escape_like(text: str) -> str:
    """Escape LIKE wildcards so user text matches literally ("100%" must not mean "100 and anything")."""
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", f"{_ESCAPE}%").replace("_", f"{_ESCAPE}_")


def _bind_number(value: SegmentValue) -> Any:
    """Bind fractions as floats: typed like the INTEGER column, Postgres would round 59.5 to 60."""
    if isinstance(value, tuple):
        return tuple(_bind_number(item) for item in value)
    return literal(value, Float()) if isinstance(value, float) else value


def _values(value: Any) -> tuple[Any, ...]:
    """The list of an ``in`` condition (the model guarantees a tuple)."""
    if not isinstance(value, tuple):
        raise TypeError(f"'in' needs a tuple of values, got {value!r}")
    return value


def _days(value: SegmentValue) -> int:
    """The day count of a ``within_days`` condition (the model guarantees an int)."""
    if not isinstance(value, int):
        raise TypeError(f"'within_days' needs an int, got {value!r}")
    return value
