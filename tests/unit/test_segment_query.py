"""Segment rules compiled to SQL and run on SQLite (and, when available, PostgreSQL) against fixtures."""

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import pytest
from sqlalchemy import Engine, create_engine, make_url, select
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, col

import promptsales.domain_core.crm.tables  # noqa: F401  # registers the tables before create_all
from promptsales.domain_core.crm.model.segments import parse_segment_rule
from promptsales.domain_core.crm.segment_query import (
    segment_count_query,
    segment_members_query,
    segment_predicate,
)
from promptsales.domain_core.crm.tables import ContactRecord, ContactTagRecord, LeadRecord, OrganizationRecord
from promptsales.domain_core.shared.errors import ValidationFailed

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
# The same server and variable the integration tests use (tests/integration/conftest.py).
PG_ADMIN_URL = os.environ.get("PROMPTSALES_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
T1, T2 = "tenant-1", "tenant-2"


def ago(days: float) -> datetime:
    """A moment ``days`` before NOW."""
    return NOW - timedelta(days=days)


def org(id: str, tenant: str, industry: str | None, size: int | None) -> OrganizationRecord:
    """An organization row."""
    return OrganizationRecord(
        id=id,
        tenant_id=tenant,
        name=id,
        industry=industry,
        employee_count=size,
        created_at=NOW,
        updated_at=NOW,
    )


def contact(id: str, tenant: str = T1, **fields: Any) -> ContactRecord:
    """A contact row."""
    return ContactRecord(id=id, tenant_id=tenant, created_at=NOW, updated_at=NOW, **fields)


def lead(id: str, contact_id: str, stage: str, score: int, tenant: str = T1, **fields: Any) -> LeadRecord:
    """A lead row (defaults for everything the segment language does not read)."""
    values: dict[str, Any] = {
        "source_channel": "web_form",
        "purchase_potential": "low",
        "customer_type": "smb",
        "created_at": NOW,
        **fields,
    }
    return LeadRecord(
        id=id,
        tenant_id=tenant,
        contact_id=contact_id,
        stage=stage,
        score=score,
        first_touch_at=NOW,
        last_touch_at=NOW,
        classified_at=NOW,
        updated_at=NOW,
        **values,
    )


def tag(contact_id: str, name: str, tenant: str = T1) -> ContactTagRecord:
    """A tag row."""
    return ContactTagRecord(tenant_id=tenant, contact_id=contact_id, tag=name)


def fixtures() -> list[Any]:
    """Nine live contacts and a merged one in tenant 1; look-alike rows in tenant 2."""
    acme_vp = {"email": "ana@acme.com", "title": "VP Sales", "country": "MX", "region": "Jalisco"}
    return [
        org("o1", T1, "Software", 250),
        org("o2", T1, "fintech", 40),
        org("o3", T1, "retail", None),
        org("o4", T1, None, 5),
        org("o9", T2, "software", 1000),
        contact("c01", organization_id="o1", **acme_vp, consent_email="granted", consent_sms="revoked",
                last_activity_at=ago(5)),
        contact("c02", organization_id="o2", email="bob@finco.io", title="Head of Growth", country="US",
                region="California", consent_email="revoked", last_activity_at=ago(40)),
        contact("c03", organization_id="o3", email="carla@retailx.com", title="Growth 100% Lead",
                country="MX", region="CDMX", consent_email="granted"),
        contact("c04", organization_id="o4", email="dan@Example.com", title="Growth 1000 Leader",
                last_activity_at=ago(29)),
        contact("c05", country="US", region="texas", consent_whatsapp="granted", last_activity_at=ago(31)),
        contact("c06", organization_id="o1", email="ana.old@acme.com", merged_into_id="c01",
                consent_email="granted"),
        contact("c07", organization_id="o1", email="eve@acme.com.mx", title="cto", country="CO",
                consent_email="granted", last_activity_at=ago(1)),
        contact("c08", organization_id="o2", email="fay@finco.io", title="Analyst a_b", country="US",
                consent_email="granted", consent_sms="granted", last_activity_at=ago(60)),
        # Points at another tenant's organization: that organization must never be read for it.
        contact("c09", organization_id="o9", email="gus@other.com", title="axb analyst", country="MX"),
        contact("c10", email="hal@acme.com", title="Sales Rep", country="AR", last_activity_at=ago(2)),
        contact("d01", T2, organization_id="o9", **acme_vp, consent_email="granted", last_activity_at=ago(1)),
        contact("d02", T2, email="yan@finco.io", country="US", last_activity_at=ago(1)),
        lead("L1", "c01", "sql", 80, purchase_potential="high", customer_type="enterprise", owner="alice",
             created_at=ago(10)),
        lead("L2", "c02", "mql", 55, purchase_potential="medium", source_channel="ads_platform", owner="bob",
             created_at=ago(100)),
        lead("L3", "c02", "opportunity", 90, purchase_potential="high", customer_type="enterprise",
             source_channel="referral", created_at=ago(3)),
        lead("L4", "c03", "customer", 70, purchase_potential="high", customer_type="mid_market",
             source_channel="event", owner="alice", created_at=ago(400)),
        lead("L5", "c05", "lead", 60, customer_type="individual", source_channel="whatsapp", owner="carol",
             created_at=ago(1)),
        lead("L6", "c06", "sql", 95, owner="alice"),
        lead("L7", "c07", "subscriber", 10, source_channel="email", owner="alice", created_at=ago(20)),
        lead("L8", "c10", "lead", 59, created_at=ago(50)),
        lead("M1", "d01", "sql", 99, tenant=T2, purchase_potential="high", customer_type="enterprise"),
        # Another tenant's lead that names a tenant-1 contact id: the tenant correlation must ignore it.
        lead("M2", "c07", "customer", 100, tenant=T2),
        *(tag(cid, name) for cid, name in [("c01", "vip"), ("c01", "newsletter"), ("c02", "vip"),
                                            ("c05", "newsletter"), ("c06", "vip"), ("c07", "VIP")]),
        tag("d01", "vip", tenant=T2),
    ]  # fmt: skip


def load(engine: Engine) -> Engine:
    """Create the schema on ``engine`` and insert the fixtures."""
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(fixtures())
        session.commit()
    return engine


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """An in-memory SQLite database with the fixtures (one shared connection)."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    yield load(engine)
    engine.dispose()


def members(engine: Engine, raw: dict[str, Any], tenant: str = T1) -> list[str]:
    """The ids of all members, in query order (duplicates kept so tests can see them)."""
    query = segment_members_query(parse_segment_rule(raw), tenant_id=tenant, now=NOW, after_id=None, limit=100)
    with Session(engine) as session:
        return [row.id for row in session.execute(query).scalars()]


def count(engine: Engine, raw: dict[str, Any], tenant: str = T1) -> int:
    """The count query's answer."""
    query = segment_count_query(parse_segment_rule(raw), tenant_id=tenant, now=NOW)
    with Session(engine) as session:
        return int(session.execute(query).scalar_one())


def one(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    """A rule with a single condition."""
    condition: dict[str, Any] = {"field": field, "op": op, **extra}
    if value is not None:
        condition["value"] = value
    return {"all": [condition]}


ALL_LIVE = {"c01", "c02", "c03", "c04", "c05", "c07", "c08", "c09", "c10"}
EXAMPLE: dict[str, Any] = {
    "all": [
        {"field": "industry", "op": "in", "value": ["software", "fintech"]},
        {
            "any": [
                {"field": "score", "op": "gte", "value": 60},
                {"field": "tags", "op": "contains", "value": "vip"},
            ]
        },
        {"field": "consent.email", "op": "eq", "value": "granted"},
        {"field": "last_activity", "op": "within_days", "value": 30},
    ]
}
CASES: list[tuple[dict[str, Any], set[str]]] = [
    # organization fields (EXISTS on crm_organizations, same tenant only)
    (one("industry", "eq", "SOFTWARE"), {"c01", "c07"}),
    (one("industry", "neq", "software"), ALL_LIVE - {"c01", "c07"}),  # includes no org / NULL / foreign org
    (one("industry", "in", ["fintech", "retail"]), {"c02", "c03", "c08"}),
    (one("industry", "contains", "TECH"), {"c02", "c08"}),
    (one("industry", "exists"), {"c01", "c02", "c03", "c07", "c08"}),
    (one("company_size", "eq", 250), {"c01", "c07"}),
    (one("company_size", "neq", 250), ALL_LIVE - {"c01", "c07"}),
    (one("company_size", "gt", 40), {"c01", "c07"}),
    (one("company_size", "gte", 40), {"c01", "c07", "c02", "c08"}),
    (one("company_size", "lt", 40), {"c04"}),
    (one("company_size", "lte", 40), {"c02", "c08", "c04"}),
    (one("company_size", "exists"), {"c01", "c02", "c04", "c07", "c08"}),
    # lead fields (EXISTS on crm_leads: at least one lead matches)
    (one("score", "gte", 60), {"c01", "c02", "c03", "c05"}),
    (one("score", "gt", 60), {"c01", "c02", "c03"}),
    (one("score", "gt", 59.5), {"c01", "c02", "c03", "c05"}),  # a fraction must not be rounded to 60
    (one("score", "lt", 60), {"c02", "c07", "c10"}),
    (one("score", "lte", 59), {"c02", "c07", "c10"}),
    (one("score", "in", [10, 80]), {"c01", "c07"}),
    (one("score", "eq", 59.5), set()),
    (one("stage", "eq", "sql"), {"c01"}),  # c06 (merged) has an sql lead too
    (one("stage", "in", ["opportunity", "customer"]), {"c02", "c03"}),
    (one("score", "eq", 100), set()),  # only the other tenant's M2 has it
    (one("stage", "neq", "sql"), {"c02", "c03", "c05", "c07", "c10"}),  # has a lead that is not sql
    (one("stage", "eq", "sql", **{"not": True}), ALL_LIVE - {"c01"}),  # has no sql lead (also no lead at all)
    (one("owner", "eq", "alice"), {"c01", "c03", "c07"}),
    (one("owner", "neq", "alice"), {"c02", "c05", "c10"}),  # L3 and L8 have no owner: unknown counts as "not"
    (one("owner", "contains", "AL"), {"c01", "c03", "c07"}),
    (one("owner", "exists"), {"c01", "c02", "c03", "c05", "c07"}),
    (one("customer_type", "eq", "enterprise"), {"c01", "c02"}),
    (one("purchase_potential", "in", ["high"]), {"c01", "c02", "c03"}),
    (one("source", "in", ["web_form", "referral"]), {"c01", "c02", "c10"}),
    (one("created", "within_days", 7), {"c02", "c05"}),
    (one("created", "lt", "2025-03-01T00:00:00Z"), {"c02", "c03"}),
    # tags (EXISTS on crm_contact_tags, case-insensitive)
    (one("tags", "contains", "vip"), {"c01", "c02", "c07"}),
    (one("tags", "in", ["newsletter", "beta"]), {"c01", "c05"}),
    (one("tags", "exists"), {"c01", "c02", "c05", "c07"}),
    (one("tags", "contains", "vip", **{"not": True}), ALL_LIVE - {"c01", "c02", "c07"}),
    # contact columns
    (one("consent.email", "eq", "granted"), {"c01", "c03", "c07", "c08"}),
    (one("consent.email", "neq", "granted"), {"c02", "c04", "c05", "c09", "c10"}),  # NULL counts as "not"
    (one("consent.email", "exists"), {"c01", "c02", "c03", "c07", "c08"}),
    (one("consent.sms", "in", ["revoked"]), {"c01"}),
    (one("country", "eq", "mx"), {"c01", "c03", "c09"}),
    (one("country", "in", ["US", "co"]), {"c02", "c05", "c07", "c08"}),
    (one("country", "neq", "MX"), ALL_LIVE - {"c01", "c03", "c09"}),
    (one("region", "eq", "JALISCO"), {"c01"}),
    (one("region", "contains", "cal"), {"c02"}),
    (one("title", "eq", "vp sales"), {"c01"}),
    (one("title", "contains", "100%"), {"c03"}),  # "%" is literal: "Growth 1000 Leader" must not match
    (one("title", "contains", "a_b"), {"c08"}),  # "_" is literal: "axb analyst" must not match
    (one("title", "contains", "growth"), {"c02", "c03", "c04"}),
    (one("title", "neq", "cto"), ALL_LIVE - {"c07"}),
    (one("last_activity", "within_days", 30), {"c01", "c04", "c07", "c10"}),
    (one("last_activity", "within_days", 30, **{"not": True}), {"c02", "c03", "c05", "c08", "c09"}),
    (one("last_activity", "lt", "2025-05-01T00:00:00Z"), {"c02", "c08"}),
    (one("last_activity", "gt", "2025-05-01"), {"c01", "c04", "c05", "c07", "c10"}),
    (one("last_activity", "exists"), ALL_LIVE - {"c03", "c09"}),
    # email domain (LIKE on the part after "@")
    (one("email_domain", "eq", "acme.com"), {"c01", "c10"}),  # not eve@acme.com.mx
    (one("email_domain", "eq", "EXAMPLE.com"), {"c04"}),
    (one("email_domain", "neq", "acme.com"), ALL_LIVE - {"c01", "c10"}),  # includes c05 (no email)
    (one("email_domain", "in", ["finco.io", "retailx.com"]), {"c02", "c03", "c08"}),
    (one("email_domain", "contains", "acme"), {"c01", "c07", "c10"}),
    (one("email_domain", "exists"), ALL_LIVE - {"c05"}),
    # groups
    (EXAMPLE, {"c01", "c07"}),
    (
        {"any": [one("stage", "eq", "sql"), one("tags", "contains", "vip")], "not": True},
        ALL_LIVE - {"c01", "c02", "c07"},
    ),
    (
        {"any": [{"all": [one("country", "eq", "MX"), one("score", "gte", 70)]}, one("title", "eq", "cto")]},
        {"c01", "c03", "c07"},
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_members_match_exactly(engine: Engine, raw: dict[str, Any], expected: set[str]) -> None:
    found = members(engine, raw)
    assert len(found) == len(set(found))
    assert set(found) == expected
    assert count(engine, raw) == len(expected)


def test_contact_with_two_matching_leads_appears_and_counts_once(engine: Engine) -> None:
    rule = one("score", "gte", 50)  # c02 has L2 (55) and L3 (90)
    assert members(engine, rule) == ["c01", "c02", "c03", "c05", "c10"]
    assert count(engine, rule) == 5


def test_merged_contacts_are_never_members(engine: Engine) -> None:
    assert "c06" not in members(engine, one("email_domain", "exists"))
    assert members(engine, one("score", "gte", 95)) == []  # only the merged c06 has such a lead


def test_other_tenants_rows_are_never_returned(engine: Engine) -> None:
    assert members(engine, one("industry", "eq", "software"), tenant=T2) == ["d01"]
    assert members(engine, one("country", "in", ["MX", "US"]), tenant=T2) == ["d01", "d02"]
    assert set(members(engine, one("email_domain", "exists"))).isdisjoint({"d01", "d02"})
    assert count(engine, one("stage", "eq", "sql"), tenant=T2) == 1


def test_predicate_composes_inside_a_leads_listing(engine: Engine) -> None:
    # The segment service filters lead listings by "contact_id IN (members)": the inner EXISTS on crm_leads
    # must stay its own subquery rather than be correlated to the outer crm_leads.
    rule = parse_segment_rule(one("score", "gte", 85))
    members_ids = select(col(ContactRecord.id)).where(segment_predicate(rule, tenant_id=T1, now=NOW))
    query = select(col(LeadRecord.id)).where(col(LeadRecord.contact_id).in_(members_ids)).order_by(col(LeadRecord.id))
    with Session(engine) as session:
        assert list(session.execute(query).scalars()) == ["L2", "L3"]  # both leads of c02, whose L3 scores 90


def test_keyset_pagination_walks_all_members_in_id_order(engine: Engine) -> None:
    rule = parse_segment_rule(one("email_domain", "exists"))
    pages: list[list[str]] = []
    after: str | None = None
    with Session(engine) as session:
        while True:
            query = segment_members_query(rule, tenant_id=T1, now=NOW, after_id=after, limit=3)
            page = [row.id for row in session.execute(query).scalars()]
            if not page:
                break
            pages.append(page)
            after = page[-1]
    assert pages == [["c01", "c02", "c03"], ["c04", "c07", "c08"], ["c09", "c10"]]


def test_limit_and_clock_are_checked() -> None:
    rule = parse_segment_rule(one("tags", "exists"))
    with pytest.raises(ValidationFailed):
        segment_members_query(rule, tenant_id=T1, now=NOW, after_id=None, limit=0)
    with pytest.raises(ValueError):
        segment_predicate(rule, tenant_id=T1, now=NOW.replace(tzinfo=None))


def postgres_unavailable(error: BaseException) -> NoReturn:
    """Skip when PostgreSQL is unreachable, except under CI=true where a silent skip would hide it: fail."""
    reason = f"PostgreSQL is not reachable ({type(error).__name__}: {error})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(f"{reason}; start it or set CI=true to make this a failure")


def test_an_unreachable_postgres_fails_under_ci_and_skips_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    error = ConnectionRefusedError("connection refused")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires it"):
        postgres_unavailable(error)
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="set CI=true"):
        postgres_unavailable(error)


@pytest.mark.postgres
def test_postgres_returns_the_same_members_as_sqlite(engine: Engine) -> None:
    psycopg = pytest.importorskip("psycopg")
    admin_url = make_url(PG_ADMIN_URL)
    try:
        admin = psycopg.connect(admin_url.render_as_string(hide_password=False), autocommit=True)
    except psycopg.OperationalError as exc:
        postgres_unavailable(exc)
    name = f"seg_{secrets.token_hex(6)}"
    admin.execute(f"CREATE DATABASE {name}")
    pg_engine: Engine | None = None
    try:
        url = admin_url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
        pg_engine = load(create_engine(url))
        for raw, expected in CASES:
            assert members(pg_engine, raw) == members(engine, raw), raw
            assert set(members(pg_engine, raw)) == expected, raw
            assert count(pg_engine, raw) == len(expected), raw
        assert members(pg_engine, one("industry", "eq", "software"), tenant=T2) == ["d01"]
    finally:
        if pg_engine is not None:
            pg_engine.dispose()
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
