"""Review: submitting a campaign (compliance decides whether a person must approve it) and a person's decision."""

from promptsales.domain_core.campaigns import repository as repo
from promptsales.domain_core.campaigns.commands import DecideCampaign, SubmitCampaign
from promptsales.domain_core.campaigns.dto import DecisionResult, SubmitResult
from promptsales.domain_core.campaigns.model.compliance import ComplianceReport
from promptsales.domain_core.campaigns.service import views
from promptsales.domain_core.campaigns.service.campaigns import load, move
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import ComplianceBlocked, Conflict, NotEntitled


def blocked(report: ComplianceReport, action: str) -> ComplianceBlocked:
    """The error for an action refused by blocking findings, each with its rule id and fix."""
    findings = [f for f in report.findings if f.severity == "block"]
    listed = "; ".join(f"[{f.rule_id}] {f.message} Fix: {f.fix}" for f in findings[:5])
    more = f" (+{len(findings) - 5} more: campaigns_check_compliance lists them)" if len(findings) > 5 else ""
    return ComplianceBlocked(
        f"Cannot {action}: {len(findings)} blocking compliance finding(s). {listed}{more}",
        field="campaign_id",
        hint="Fix them with campaigns_update_campaign (or the content library), then try again.",
    )


async def submit(uow: UnitOfWork, command: SubmitCampaign, report: ComplianceReport, version: int) -> SubmitResult:
    """planned → in_review; with nothing needing a person, in_review → approved at once (both steps recorded)."""
    record = await load(uow, command.campaign_id, for_update=True)
    if record.version != version:
        raise Conflict(
            "The campaign changed while compliance was checked.", field="campaign_id", hint="Submit it again."
        )
    if report.blocking:
        raise blocked(report, "submit the campaign")
    await move(uow, record, "submit", command.note)
    record.submitted_by = uow.caller.actor_id
    if not report.needs_approval:
        await move(uow, record, "approve", f"No compliance finding needs a person (rules {report.rules_version}).")
        record.approved_by = "compliance"
    await repo.save(uow, record)
    return SubmitResult(campaign=views.summary(record), compliance=report)


async def decide(uow: UnitOfWork, command: DecideCampaign) -> DecisionResult:
    """A person's approval or rejection of a campaign in review; whoever submitted it cannot approve it."""
    record = await load(uow, command.campaign_id, for_update=True)
    if command.decision == "approve" and record.submitted_by == uow.caller.actor_id:
        raise NotEntitled(
            f"{uow.caller.actor_id} submitted this campaign and cannot also approve it.",
            field="campaign_id",
            hint="Ask another person with the campaigns:approve scope to decide.",
        )
    await move(uow, record, command.decision, command.note)
    if command.decision == "approve":
        record.approved_by = uow.caller.actor_id
    await repo.save(uow, record)
    latest = (await repo.transitions(uow, record.id, limit=1))[0]
    return DecisionResult(
        campaign=views.summary(record), decision=views.transition_view(latest), approved_by=record.approved_by
    )
