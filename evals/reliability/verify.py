"""After the load: read the rig's database and check what the suite promised.

Read as the cluster's superuser, which row-level security lets by (every tenant at once). Checks: the ledger
(ledger.py: acknowledged writes exactly once, nothing applied that nobody asked for), every tenant's audit
hash chain (the suite's own ``verify_chain``), the outbox (every event published, and handled once by each
consumer subscribed to its type: one ``processed_events`` row, and for captures one analytics touchpoint),
and the contacts quota (``business_usage`` equals the tenant's live contacts).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import psycopg
from ledger import DatabaseFacts

from promptsales.domain_core.analytics.service import journal
from promptsales.domain_core.campaigns.service import touches
from promptsales.domain_core.integrations import crm_push
from promptsales.domain_core.shared.events import DomainEvent

# Who consumes which event type, and which of them it can use at all (the suite's own subscription lists and
# filters, as servers/runtime.py wires them): a consumer leaves no marker for an event its filter skips.
CONSUMERS: Mapping[str, tuple[frozenset[str], Callable[[DomainEvent], bool] | None]] = {
    crm_push.CONSUMER: (frozenset(crm_push.EVENT_TYPES), None),
    touches.CONSUMER: (frozenset(touches.EVENTS), touches.names_a_campaign),
    journal.CONSUMER: (frozenset(journal.EVENTS), None),
}
SETTLE_POLL_S = 2.0


def database_facts(conninfo: str) -> DatabaseFacts:
    audit: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT tenant_id, idempotency_key, action, count(*) FROM audit_log "
            "WHERE idempotency_key LIKE 'rig-%' GROUP BY 1, 2, 3"
        ).fetchall()
        for tenant, key, action, count in rows:
            audit[(tenant, key)][action] = int(count)
        emails = conn.execute(
            "SELECT tenant_id, email, count(*) FROM crm_contacts WHERE email LIKE '%@rig.example' GROUP BY 1, 2"
        ).fetchall()
        leads = conn.execute("SELECT tenant_id, lead_id, count(*) FROM crm_lead_touches GROUP BY 1, 2").fetchall()
    return DatabaseFacts(
        audit=audit,
        contacts_by_email={(t, e): int(c) for t, e, c in emails},
        touches_by_lead={(t, lead): int(c) for t, lead, c in leads},
    )


@dataclass(slots=True)
class DeliveryFigures:
    """The outbox and its consumers, as the database shows them."""

    events: int = 0
    unpublished: int = 0
    expected_handlings: int = 0
    missing_handlings: int = 0
    unexpected_handlings: int = 0
    captures_without_touchpoint: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.unpublished or self.missing_handlings or self.unexpected_handlings or self.captures_without_touchpoint
        )


def delivery_figures(conninfo: str) -> DeliveryFigures:
    figures = DeliveryFigures()
    with psycopg.connect(conninfo) as conn:
        events = conn.execute(
            "SELECT tenant_id, id, type, payload, published_at IS NOT NULL FROM outbox_events"
        ).fetchall()
        handled = {(t, c, e) for t, c, e in conn.execute("SELECT tenant_id, consumer, event_id FROM processed_events")}
        touched = {(t, e) for t, e in conn.execute("SELECT tenant_id, event_id FROM analytics_touchpoints")}
    expected: set[tuple[str, str, str]] = set()
    figures.events = len(events)
    for tenant, event_id, event_type, payload, published in events:
        if not published:
            figures.unpublished += 1
            _example(figures, f"unpublished {tenant}/{event_id} {event_type}")
        event = DomainEvent(id=event_id, type=event_type, tenant_id=tenant, payload=payload)
        for consumer, (types, wants) in CONSUMERS.items():
            if event_type in types and (wants is None or wants(event)):
                expected.add((tenant, consumer, event_id))
        if event_type == "crm.lead_captured" and (tenant, event_id) not in touched:
            figures.captures_without_touchpoint += 1
            _example(figures, f"no analytics touchpoint for {tenant}/{event_id}")
    figures.expected_handlings = len(expected)
    missing, unexpected = expected - handled, handled - expected
    figures.missing_handlings, figures.unexpected_handlings = len(missing), len(unexpected)
    for tenant, consumer, event_id in sorted(missing)[:5]:
        _example(figures, f"{consumer} never handled {tenant}/{event_id}")
    for tenant, consumer, event_id in sorted(unexpected)[:5]:
        _example(figures, f"{consumer} handled {tenant}/{event_id}, which no outbox row explains")
    return figures


def _example(figures: DeliveryFigures, text: str) -> None:
    if len(figures.examples) < 10:
        figures.examples.append(text)


def wait_for_delivery(conninfo: str, timeout_s: float) -> tuple[DeliveryFigures, float]:
    """Poll until every event is published and handled (or the time runs out); returns the last figures and
    how long it took. Messages a killed replica had read stay pending until another worker reclaims them
    (after 30 s idle, redis_streams.RedisStreamConsumer), so this can take most of a minute."""
    start = time.monotonic()
    while True:
        figures = delivery_figures(conninfo)
        if figures.ok or time.monotonic() - start > timeout_s:
            return figures, time.monotonic() - start
        time.sleep(SETTLE_POLL_S)


def quota_mismatches(conninfo: str) -> list[str]:
    """Tenants whose ``contacts`` usage differs from their live (not merged) contacts."""
    with psycopg.connect(conninfo) as conn:
        used: dict[str, int] = dict(
            conn.execute("SELECT tenant_id, sum(used) FROM business_usage WHERE quota = 'contacts' GROUP BY 1")
        )
        live: dict[str, int] = dict(
            conn.execute("SELECT tenant_id, count(*) FROM crm_contacts WHERE merged_into_id IS NULL GROUP BY 1")
        )
    return [
        f"{tenant}: usage {int(used.get(tenant, 0))}, live contacts {int(live.get(tenant, 0))}"
        for tenant in sorted(set(used) | set(live))
        if int(used.get(tenant, 0)) != int(live.get(tenant, 0))
    ]


async def chain_results(async_url: str, tenants: list[str]) -> dict[str, str]:
    """Each tenant's audit chain through the suite's ``verify_chain``: 'ok (N entries)' or the first break."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    from promptsales.domain_core.infrastructure.audit import verify_chain

    engine = create_async_engine(async_url, pool_size=1, max_overflow=0)
    results: dict[str, str] = {}
    try:
        async with AsyncSession(engine) as session:
            for tenant in tenants:
                found = await verify_chain(session, tenant)
                results[tenant] = (
                    f"ok ({found.entries_checked} entries)"
                    if found.ok
                    else f"BROKEN at seq {found.broken_seq} ({found.broken_entry_id}): {found.reason}"
                )
    finally:
        await engine.dispose()
    return results


def audited_tenants(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        return [row[0] for row in conn.execute("SELECT DISTINCT tenant_id FROM audit_log ORDER BY 1")]
