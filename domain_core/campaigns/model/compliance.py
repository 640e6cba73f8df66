"""The compliance verdict on a campaign: every rule run over its facts, findings ordered by severity, fail closed.

A rule whose check raises does not pass: it becomes a blocking finding naming the rule, so a defect in the rules
can hold a campaign back but never wave one through.
"""

from typing import Literal

from promptsales.domain_core.campaigns.model.compliance_facts import (
    AudienceFacts,
    CampaignFacts,
    ConsentCounts,
    CreativeFacts,
    InfluencerFacts,
    LintFact,
    PlanFacts,
    SpendCaps,
    SpendFacts,
)
from promptsales.domain_core.campaigns.model.compliance_rules import Rule, RuleSet, Severity, load_rules, parse_rules
from promptsales.domain_core.shared.dto import Dto

__all__ = [
    "AudienceFacts",
    "CampaignFacts",
    "ComplianceReport",
    "ConsentCounts",
    "CreativeFacts",
    "Finding",
    "InfluencerFacts",
    "LintFact",
    "PlanFacts",
    "RuleSet",
    "Severity",
    "SpendCaps",
    "SpendFacts",
    "evaluate",
    "load_rules",
    "parse_rules",
]

_RANK: dict[Severity, int] = {"block": 0, "needs_approval": 1, "warn": 2}


class Finding(Dto):
    """One problem: the rule that found it, how severe, what is wrong in plain words and what to change."""

    rule_id: str
    severity: Severity
    message: str
    fix: str
    channel: str | None = None
    subject: str | None = None


class ComplianceReport(Dto):
    """Every finding (blocking first, then those needing approval, then warnings) and the verdict they add up to."""

    findings: tuple[Finding, ...]
    blocking: bool
    needs_approval: bool
    rules_checked: int
    rules_version: str
    outcome: Literal["blocked", "needs_approval", "clear"]


def _run(rule: Rule, facts: CampaignFacts) -> list[Finding]:
    try:
        hits = rule.findings(facts)
    except Exception as exc:  # any defect in a check must hold the campaign, never wave it through
        return [
            Finding(
                rule_id=rule.id,
                severity="block",
                message=f"Rule {rule.id} could not be checked ({type(exc).__name__}), so the campaign is held: "
                f"{rule.description}",
                fix="Report the failing rule to the operators; activation stays blocked until it can be checked.",
            )
        ]
    return [
        Finding(
            rule_id=rule.id,
            severity=rule.severity,
            message=hit.message,
            fix=hit.fix,
            channel=hit.channel,
            subject=hit.subject,
        )
        for hit in hits
    ]


def evaluate(facts: CampaignFacts, rules: RuleSet | None = None) -> ComplianceReport:
    """Run every rule (the packaged ones unless ``rules`` is given) and report what they found."""
    ruleset = rules if rules is not None else load_rules()
    found = [finding for rule in ruleset.rules for finding in _run(rule, facts)]
    ordered = tuple(sorted(found, key=lambda finding: _RANK[finding.severity]))  # sorted() is stable
    blocking = any(finding.severity == "block" for finding in ordered)
    approval = any(finding.severity == "needs_approval" for finding in ordered)
    return ComplianceReport(
        findings=ordered,
        blocking=blocking,
        needs_approval=approval,
        rules_checked=len(ruleset.rules),
        rules_version=ruleset.version,
        outcome="blocked" if blocking else "needs_approval" if approval else "clear",
    )
