"""A/B experiments: design (sample size before starting), deterministic assignment, and readouts an analyst would
trust (fixed-horizon, Bayesian and always-valid tests, a split check, multiple-comparison control, a verdict)."""

import math
from collections.abc import Sequence

from promptsales.domain_core.analytics import repository as repo
from promptsales.domain_core.analytics.commands import (
    AssignVariant,
    CreateExperiment,
    EndExperiment,
    Metric,
)
from promptsales.domain_core.analytics.dto import (
    ArmFigures,
    AssignmentView,
    DesignView,
    ExperimentPage,
    ExperimentResults,
    ExperimentView,
    MetricReadout,
    VariantView,
)
from promptsales.domain_core.analytics.model.assignment import assign
from promptsales.domain_core.analytics.model.experiment_stats import (
    BinomialArm,
    ContinuousArm,
    SrmCheck,
    bayes_binomial,
    bayes_normal,
    benjamini_hochberg,
    sample_ratio_mismatch,
    two_proportion_z,
    welch_t,
)
from promptsales.domain_core.analytics.model.power import days_needed, sample_size_means, sample_size_proportions
from promptsales.domain_core.analytics.model.sequential import msprt_binomial, msprt_means, running_p
from promptsales.domain_core.analytics.model.verdict import Verdict, decide
from promptsales.domain_core.analytics.tables import AssignmentRecord, ExperimentRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Conflict, NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import decode_cursor, encode_cursor

CONTACT_METRICS = frozenset({"lead", "mql", "sql", "opportunity", "customer", "revenue"})
AD_METRICS = frozenset({"ctr", "conversion_rate", "click_to_lead"})


def _check(command: CreateExperiment) -> None:
    keys = [variant.key for variant in command.variants]
    if len(set(keys)) != len(keys):
        raise ValidationFailed("Variant keys must be unique.", field="variants")
    allowed = AD_METRICS if command.subject == "ad" else CONTACT_METRICS
    for field, metric in [("primary_metric", command.primary_metric), *(("guardrails", g) for g in command.guardrails)]:
        if metric not in allowed:
            raise ValidationFailed(
                f"{metric} is not a metric of {command.subject} experiments.",
                field=field,
                hint=f"Use one of {', '.join(sorted(allowed))}.",
            )
    if command.primary_metric in command.guardrails:
        raise ValidationFailed("The primary metric cannot also be a guardrail.", field="guardrails")
    if command.subject == "ad":
        if any(variant.ad_id is None for variant in command.variants):
            raise ValidationFailed("Each variant of an ad experiment names its platform ad (ad_id).", field="variants")
        if len({variant.ad_id for variant in command.variants}) != len(command.variants):
            raise ValidationFailed("Each variant needs its own ad.", field="variants")
    elif any(variant.ad_id is not None for variant in command.variants):
        raise ValidationFailed("ad_id belongs to ad experiments only.", field="variants")
    if command.primary_metric == "revenue" and command.baseline_sd is None:
        raise ValidationFailed(
            "A revenue experiment needs baseline_sd (the spread of value per contact) to size the sample.",
            field="baseline_sd",
        )
    if command.primary_metric != "revenue" and command.baseline >= 1:
        raise ValidationFailed("baseline is the control's rate, between 0 and 1 (e.g. 0.04).", field="baseline")


def design(command: CreateExperiment) -> DesignView:
    """The sample per arm the minimum detectable effect needs (unequal weights: the smallest arm decides)."""
    weights = [variant.weight for variant in command.variants]
    ratio = min(weights[1:]) / weights[0]
    if command.primary_metric == "revenue":
        effect = command.minimum_detectable_effect * (command.baseline if command.relative_effect else 1.0)
        control, variant = sample_size_means(
            command.baseline_sd or 1.0, effect, alpha=command.alpha, power=command.power, ratio=ratio
        )
    else:
        control, variant = sample_size_proportions(
            command.baseline,
            command.minimum_detectable_effect,
            relative=command.relative_effect,
            alpha=command.alpha,
            power=command.power,
            ratio=ratio,
        )
    per_arm = max(control, variant)
    # Every arm reaches its size when the smallest share of the daily units has: total units ∝ 1 / smallest share.
    total = math.ceil(per_arm * sum(weights) / min(weights))
    return DesignView(
        minimum_detectable_effect=command.minimum_detectable_effect,
        relative_effect=command.relative_effect,
        baseline=command.baseline,
        baseline_sd=command.baseline_sd,
        alpha=command.alpha,
        power=command.power,
        units_per_day=command.units_per_day,
        needed_per_arm=per_arm,
        days_needed=days_needed(total, command.units_per_day),
    )


def view(record: ExperimentRecord) -> ExperimentView:
    """An experiment as tools show it."""
    return ExperimentView(
        id=record.id,
        name=record.name,
        subject=record.subject,
        campaign_id=record.campaign_id,
        status=record.status,
        variants=[VariantView.model_validate(item) for item in record.variants],
        primary_metric=record.primary_metric,
        guardrails=list(record.guardrails),
        design=DesignView.model_validate(record.design),
        started_at=record.started_at,
        ended_at=record.ended_at,
        created_by=record.created_by,
        decision={str(k): str(v) for k, v in record.verdict.items()},
    )


async def create(uow: UnitOfWork, command: CreateExperiment) -> ExperimentView:
    """Start an experiment after checking it can be read and sizing it."""
    _check(command)
    record = ExperimentRecord(
        id=new_id("exp"),
        tenant_id=uow.tenant_id,
        name=command.name,
        subject=command.subject,
        campaign_id=command.campaign_id,
        variants=[variant.model_dump(mode="json") for variant in command.variants],
        primary_metric=command.primary_metric,
        guardrails=list(command.guardrails),
        design=design(command).model_dump(mode="json"),
        looks={},
        status="running",
        verdict={},
        created_by=uow.caller.actor_id,
        started_at=uow.now,
    )
    await repo.save(uow, record)
    uow.audit(
        "analytics.create_experiment",
        target_type="experiment",
        target_id=record.id,
        changes=command.model_dump(mode="json"),
    )
    return view(record)


async def _load(uow: UnitOfWork, experiment_id: str, *, for_update: bool = False) -> ExperimentRecord:
    record = await repo.experiment(uow, experiment_id, for_update=for_update)
    if record is None:
        raise NotFound("experiment", experiment_id, field="experiment_id", lookup="campaigns_list_experiments")
    return record


async def get(uow: UnitOfWork, experiment_id: str) -> ExperimentView:
    """One experiment."""
    return view(await _load(uow, experiment_id))


async def page(uow: UnitOfWork, *, status: str | None, cursor: str | None, limit: int) -> ExperimentPage:
    """Experiments newest first."""
    position = decode_cursor(cursor, "analytics.experiments", {"status": status})
    records = await repo.experiments_page(
        uow, status=status, before_id=str(position[0]) if position else None, limit=limit + 1
    )
    more = len(records) > limit
    records = records[:limit]
    next_cursor = encode_cursor("analytics.experiments", {"status": status}, [records[-1].id]) if more else None
    return ExperimentPage(items=[view(record) for record in records], next_cursor=next_cursor)


async def assign_variant(uow: UnitOfWork, command: AssignVariant) -> AssignmentView:
    """The contact's variant by hash, recorded on first exposure (later calls agree with it)."""
    record = await _load(uow, command.experiment_id)
    if record.subject == "ad":
        raise ValidationFailed("Ad experiments are split by the ad platform, not per contact.", field="experiment_id")
    if record.status != "running":
        raise Conflict(f"Experiment {record.id} has finished; it assigns no one.", field="experiment_id")
    variants = [VariantView.model_validate(item) for item in record.variants]
    picked = assign(record.id, command.contact_id, [(variant.key, variant.weight) for variant in variants])
    kept = await repo.assign(
        uow,
        AssignmentRecord(
            id=new_id("asg"),
            tenant_id=uow.tenant_id,
            experiment_id=record.id,
            unit_id=command.contact_id,
            variant=picked,
            assigned_at=uow.now,
        ),
    )
    described = next(variant.description for variant in variants if variant.key == kept)
    return AssignmentView(experiment_id=record.id, contact_id=command.contact_id, variant=kept, description=described)


async def _contact_arms(uow: UnitOfWork, record: ExperimentRecord, metric: str) -> dict[str, ArmFigures]:
    stage = "customer" if metric == "revenue" else metric
    arms = {}
    for variant, units, reached, total, squares in await repo.unit_outcomes(uow, record.id, stage):
        n, value, square = int(units), float(total or 0), float(squares or 0)
        if metric == "revenue":
            mean = value / n if n else 0.0
            spread = math.sqrt(max(square - n * mean * mean, 0.0) / (n - 1)) if n > 1 else 0.0
            arms[str(variant)] = ArmFigures(variant=str(variant), units=n, mean=mean, sd=spread)
        else:
            hits = int(reached or 0)
            arms[str(variant)] = ArmFigures(variant=str(variant), units=n, successes=hits, mean=hits / n if n else 0.0)
    return arms


async def _ad_arms(uow: UnitOfWork, record: ExperimentRecord, metric: str) -> dict[str, ArmFigures]:
    variants = [VariantView.model_validate(item) for item in record.variants]
    figures = await repo.ad_figures(uow, [v.ad_id or "" for v in variants], since=record.started_at.date())
    arms = {}
    for variant in variants:
        impressions, clicks, conversions, leads = figures.get(variant.ad_id or "", (0, 0, 0.0, 0))
        successes, trials = {
            "ctr": (clicks, impressions),
            "conversion_rate": (round(conversions), clicks),
            "click_to_lead": (leads, clicks),
        }[metric]
        successes = min(successes, trials)
        arms[variant.key] = ArmFigures(
            variant=variant.key, units=trials, successes=successes, mean=successes / trials if trials else 0.0
        )
    return arms


def _compare(
    record: ExperimentRecord, metric: Metric, control: ArmFigures, arm: ArmFigures, alpha: float
) -> MetricReadout:
    previous = record.looks.get(f"{metric}:{arm.variant}")
    if metric == "revenue":
        c = ContinuousArm(mean=control.mean, sd=control.sd or 0.0, n=control.units)
        v = ContinuousArm(mean=arm.mean, sd=arm.sd or 0.0, n=arm.units)
        lift, bayes, sequential = welch_t(c, v, alpha), bayes_normal(c, v), msprt_means(c, v, alpha=alpha)
    else:
        cb = BinomialArm(successes=control.successes or 0, trials=control.units)
        vb = BinomialArm(successes=arm.successes or 0, trials=arm.units)
        lift, bayes, sequential = (
            two_proportion_z(cb, vb, alpha),
            bayes_binomial(cb, vb),
            msprt_binomial(cb, vb, alpha=alpha),
        )
    low = running_p(float(previous) if previous is not None else None, sequential.p_value)
    return MetricReadout(
        metric=metric,
        variant=arm.variant,
        arms=[control, arm],
        lift=lift,
        bayes=bayes,
        sequential=sequential,
        running_p_value=low,
        adjusted_p_value=low,
        significant=False,
    )


def _readable(arms: Sequence[ArmFigures], metric: str) -> bool:
    least = 2 if metric == "revenue" else 1
    return all(arm.units >= least for arm in arms)


async def results(uow: UnitOfWork, experiment_id: str) -> ExperimentResults:
    """Read the experiment now; this look's always-valid p-values lower the running ones kept for later looks."""
    record = await _load(uow, experiment_id, for_update=True)
    experiment = view(record)
    keys = [variant.key for variant in experiment.variants]
    alpha, notes = experiment.design.alpha, []
    read = _ad_arms if record.subject == "ad" else _contact_arms
    srm = None
    if record.subject != "ad":
        units = await repo.units_per_variant(uow, record.id)
        if sum(units.values()) > 0:
            srm = sample_ratio_mismatch([units.get(k, 0) for k in keys], [v.weight for v in experiment.variants])
    else:
        notes.append("Ad experiments are split by the platform's rotation, so no sample-ratio check applies.")
    readouts: dict[str, list[MetricReadout]] = {}
    for metric in [experiment.primary_metric, *experiment.guardrails]:
        arms = await read(uow, record, metric)
        figures = [arms.get(key) or ArmFigures(variant=key, units=0, successes=0, mean=0.0) for key in keys]
        if not _readable(figures, metric):
            notes.append(f"{metric}: not every variant has data yet.")
            readouts[metric] = []
            continue
        readouts[metric] = [_compare(record, metric, figures[0], arm, alpha) for arm in figures[1:]]
    every = [readout for found in readouts.values() for readout in found]
    adjusted, rejected = benjamini_hochberg([r.running_p_value for r in every], alpha) if every else ([], [])
    settled = {
        (r.metric, r.variant): r.model_copy(update={"adjusted_p_value": p, "significant": hit})
        for r, p, hit in zip(every, adjusted, rejected, strict=True)
    }
    record.looks = {**record.looks, **{f"{r.metric}:{r.variant}": r.running_p_value for r in every}}
    await repo.save(uow, record)
    primary = [settled[(r.metric, r.variant)] for r in readouts[experiment.primary_metric]]
    guardrails = [settled[(r.metric, r.variant)] for m in experiment.guardrails for r in readouts[m]]
    verdict = _verdict(experiment, srm, primary, guardrails)
    return ExperimentResults(
        experiment=experiment, sample_ratio=srm, primary=primary, guardrails=guardrails, verdict=verdict, notes=notes
    )


def _smallest_arm_per_day(experiment: ExperimentView) -> float:
    """The daily units of the smallest arm (the design's figure is every arm's traffic together)."""
    weights = [variant.weight for variant in experiment.variants]
    return experiment.design.units_per_day * min(weights) / sum(weights)


def _verdict(
    experiment: ExperimentView,
    srm: SrmCheck | None,
    primary: list[MetricReadout],
    guardrails: list[MetricReadout],
) -> Verdict:
    design = experiment.design
    if not primary:
        return Verdict(
            action="keep_running",
            reason="Not every variant has data yet; look again once units have been assigned and measured.",
            days_left=design.days_needed,
        )
    decisions = []
    for readout in primary:
        held = [
            (g.metric, g.sequential.model_copy(update={"significant": g.significant}), g.lift, True)
            for g in guardrails
            if g.variant == readout.variant
        ]
        decisions.append(
            (
                readout,
                decide(
                    srm=srm,
                    primary=readout.sequential.model_copy(update={"significant": readout.significant}),
                    primary_lift=readout.lift,
                    guardrails=held,
                    needed_per_arm=design.needed_per_arm,
                    have_per_arm=min(arm.units for arm in readout.arms),
                    units_per_day=_smallest_arm_per_day(experiment),
                ),
            )
        )
    shipping = [(r, d) for r, d in decisions if d.action == "ship"]
    if shipping:
        best, found = max(shipping, key=lambda pair: pair[0].lift.absolute_lift)
        reason = f"Variant {best.variant}: {found.reason}" if len(decisions) > 1 else found.reason
        return found.model_copy(update={"reason": reason})
    if all(d.action == "stop" for _, d in decisions):
        return (
            decisions[0][1]
            if len(decisions) == 1
            else Verdict(
                action="stop", reason=" ".join(f"Variant {r.variant}: {d.reason}" for r, d in decisions), days_left=None
            )
        )
    waiting = [(r, d) for r, d in decisions if d.action == "keep_running"]
    longest = max(waiting, key=lambda pair: pair[1].days_left or 0)
    return longest[1]


async def end(uow: UnitOfWork, command: EndExperiment) -> ExperimentView:
    """Finish an experiment with the decision taken (ship a winner, or stop)."""
    record = await _load(uow, command.experiment_id, for_update=True)
    if record.status != "running":
        raise Conflict(f"Experiment {record.id} has already finished.", field="experiment_id")
    keys = [str(item["key"]) for item in record.variants]
    if command.decision == "ship" and command.winner not in keys[1:] + keys[:1]:
        raise ValidationFailed("Shipping needs the winning variant's key.", field="winner", hint=", ".join(keys))
    record.status = "finished"
    record.ended_at = uow.now
    record.verdict = {"decision": command.decision, "winner": command.winner or "", "reason": command.reason}
    record.version += 1
    await repo.save(uow, record)
    uow.audit(
        "analytics.end_experiment",
        target_type="experiment",
        target_id=record.id,
        changes=command.model_dump(mode="json"),
    )
    return view(record)
