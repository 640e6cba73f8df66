"""The verifier's bookkeeping: the client's ledger of calls held against what the database kept.

Every call carried a unique idempotency key, and the suite writes that key into each audit entry of the
transaction that applied it, so the audit log says which calls took effect and how often. New-contact
calls are also checked by their unique e-mail, and captures by their lead's touches (a capture applied
twice appends a second touch to the same lead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from windows import CallRecord

CREATES = frozenset({"capture", "create_contact"})
MAX_LISTED = 20


@dataclass(frozen=True, slots=True)
class DatabaseFacts:
    """What the database holds for the rig's keys and subjects (read as the superuser, past row-level security)."""

    # (tenant, idempotency key) -> {audit action: entries}
    audit: Mapping[tuple[str, str], Mapping[str, int]]
    # (tenant, e-mail) -> contacts rows with that e-mail (merged ones included)
    contacts_by_email: Mapping[tuple[str, str], int]
    # (tenant, lead id) -> touches of that lead
    touches_by_lead: Mapping[tuple[str, str], int]


@dataclass(slots=True)
class LedgerReport:
    """Keys whose fate breaks a goal, each with a short reason."""

    acknowledged: int = 0
    unacknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    applied_unacknowledged: list[str] = field(default_factory=list)
    phantom: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.phantom)

    def summary(self) -> dict[str, object]:
        return {
            "acknowledged": self.acknowledged,
            "unacknowledged": self.unacknowledged,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "applied_unacknowledged": len(self.applied_unacknowledged),
            "phantom": len(self.phantom),
            "examples": {
                name: values[:MAX_LISTED]
                for name, values in (
                    ("lost", self.lost),
                    ("duplicated", self.duplicated),
                    ("applied_unacknowledged", self.applied_unacknowledged),
                    ("phantom", self.phantom),
                )
                if values
            },
        }


def check_ledger(calls: Sequence[CallRecord], facts: DatabaseFacts) -> LedgerReport:
    """Every acknowledged call applied exactly once; no effect without a call that asked for it."""
    report = LedgerReport()
    known: set[tuple[str, str]] = set()
    for call in calls:
        where = (call.tenant, call.key)
        known.add(where)
        actions = facts.audit.get(where, {})
        if not call.acked:
            report.unacknowledged += 1
            if actions:
                report.applied_unacknowledged.append(f"{call.tenant}/{call.key} ({call.kind})")
            continue
        report.acknowledged += 1
        label = f"{call.tenant}/{call.key} ({call.kind} {call.subject})"
        if not actions:
            report.lost.append(f"{label}: acknowledged, no audit entry carries its key")
            continue
        repeated = {action: count for action, count in actions.items() if count > 1}
        if repeated:
            report.duplicated.append(f"{label}: audit entries {repeated}")
            continue
        if call.kind in CREATES:
            rows = facts.contacts_by_email.get((call.tenant, call.subject), 0)
            if rows != 1:
                (report.lost if rows == 0 else report.duplicated).append(f"{label}: {rows} contacts with its e-mail")
                continue
        if call.kind == "capture" and call.result_id is not None:
            touches = facts.touches_by_lead.get((call.tenant, call.result_id), 0)
            if touches != 1:
                target = report.lost if touches == 0 else report.duplicated
                target.append(f"{label}: lead {call.result_id} has {touches} touches")
    report.phantom = [f"{tenant}/{key}" for tenant, key in sorted(set(facts.audit) - known)]
    return report
