"""The experiment verdict: every rule, in order, with the numbers in the reason."""

import pytest

from promptsales.domain_core.analytics.model.experiment_stats import (
    BinomialArm,
    LiftTest,
    SrmCheck,
    sample_ratio_mismatch,
    two_proportion_z,
)
from promptsales.domain_core.analytics.model.sequential import SequentialResult, msprt_binomial
from promptsales.domain_core.analytics.model.verdict import Verdict, decide
from promptsales.domain_core.shared.errors import ValidationFailed

GOOD_SPLIT = sample_ratio_mismatch([10_000, 10_000], [1.0, 1.0])
BAD_SPLIT = sample_ratio_mismatch([10_000, 9_000], [1.0, 1.0])


def _readout(control: int, variant: int, trials: int = 10_000) -> tuple[SequentialResult, LiftTest]:
    """The always-valid result and the lift for two arms' successes out of ``trials`` each."""
    arms = BinomialArm(successes=control, trials=trials), BinomialArm(successes=variant, trials=trials)
    return msprt_binomial(*arms, tau=0.01), two_proportion_z(*arms)


WIN = _readout(1000, 1300)
LOSS = _readout(1300, 1000)
FLAT = _readout(1000, 1010)


def _decide(
    *,
    srm: SrmCheck = GOOD_SPLIT,
    primary: tuple[SequentialResult, LiftTest] = FLAT,
    guardrails: tuple[tuple[str, SequentialResult, LiftTest, bool], ...] = (),
    needed: int = 20_000,
    have: int = 10_000,
    per_day: float = 1_500.0,
    higher_is_better: bool = True,
) -> Verdict:
    """decide() with a flat, well-split, half-done experiment unless told otherwise."""
    return decide(
        srm=srm,
        primary=primary[0],
        primary_lift=primary[1],
        guardrails=guardrails,
        needed_per_arm=needed,
        have_per_arm=have,
        units_per_day=per_day,
        higher_is_better=higher_is_better,
    )


def test_readouts_are_what_the_cases_assume() -> None:
    assert WIN[0].significant and WIN[1].absolute_lift > 0
    assert LOSS[0].significant and LOSS[1].absolute_lift < 0
    assert not FLAT[0].significant
    assert BAD_SPLIT.mismatch and not GOOD_SPLIT.mismatch


def test_sample_ratio_mismatch_stops_before_any_metric_verdict() -> None:
    verdict = _decide(srm=BAD_SPLIT, primary=WIN)
    assert verdict.action == "stop" and verdict.days_left is None
    assert "split is broken" in verdict.reason and "10000" in verdict.reason


def test_a_harmed_guardrail_stops_even_a_winning_primary() -> None:
    verdict = _decide(primary=WIN, guardrails=(("unsubscribe rate", WIN[0], WIN[1], False),))
    assert verdict.action == "stop"
    assert "unsubscribe rate" in verdict.reason and "0.13 vs 0.1" in verdict.reason
    dropped = _decide(primary=WIN, guardrails=(("revenue", LOSS[0], LOSS[1], True),))
    assert dropped.action == "stop" and "revenue" in dropped.reason


def test_an_improved_or_flat_guardrail_does_not_block_shipping() -> None:
    verdict = _decide(primary=WIN, guardrails=(("revenue", WIN[0], WIN[1], True), ("bounce", FLAT[0], FLAT[1], False)))
    assert verdict.action == "ship" and verdict.days_left == 0
    assert "+30.0%" in verdict.reason and "p = " in verdict.reason


def test_ship_on_a_lower_is_better_metric_that_fell() -> None:
    assert _decide(primary=LOSS, higher_is_better=False).action == "ship"


def test_stop_when_the_primary_is_significantly_worse() -> None:
    verdict = _decide(primary=LOSS)
    assert verdict.action == "stop" and "significantly worse" in verdict.reason and "-23.1%" in verdict.reason
    assert _decide(primary=WIN, higher_is_better=False).action == "stop"


def test_stop_for_futility_once_the_planned_sample_is_in() -> None:
    verdict = _decide(primary=FLAT, needed=10_000, have=10_000)
    assert verdict.action == "stop" and verdict.days_left == 0
    assert "no detectable effect at the MDE" in verdict.reason and "10000" in verdict.reason


def test_keep_running_with_the_days_left() -> None:
    verdict = _decide(primary=FLAT, needed=20_000, have=10_000, per_day=1_500.0)
    assert verdict.action == "keep_running"
    assert verdict.days_left == 7  # ceil(10,000 / 1,500)
    assert "10000 more needed" in verdict.reason and "7 more days" in verdict.reason
    stalled = _decide(primary=FLAT, per_day=0.0)
    assert stalled.action == "keep_running" and stalled.days_left is None and "no new traffic" in stalled.reason


@pytest.mark.parametrize(("needed", "have", "field"), [(-1, 0, "needed_per_arm"), (10, -1, "have_per_arm")])
def test_rejects_negative_counts(needed: int, have: int, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        _decide(needed=needed, have=have)
    assert err.value.field == field
