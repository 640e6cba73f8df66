"""The plans catalogue and the entitlement rules: which plan applies in each subscription state, and what it allows."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from promptsales.domain_core.business.model.entitlements import (
    PAST_DUE_GRACE,
    SubscriptionState,
    lifting_plan,
    parse_feature,
    plan_includes,
    quota_resets_at,
    standing,
    tool_refusal,
)
from promptsales.domain_core.business.model.plans import QUOTA_NAMES, load_catalogue
from promptsales.domain_core.shared.errors import ValidationFailed

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
CATALOGUE = load_catalogue()


def state(status: str, *, plan: str = "pro", days_left: float = 10, **extra: object) -> SubscriptionState:
    return SubscriptionState(
        plan_id=plan,
        status=status,  # type: ignore[arg-type]
        current_period_start=NOW - timedelta(days=30 - days_left),
        current_period_end=NOW + timedelta(days=days_left),
        **extra,  # type: ignore[arg-type]
    )


def test_the_shipped_catalogue_has_four_ranked_plans_with_every_quota() -> None:
    assert CATALOGUE.ids == ["free", "starter", "pro", "enterprise"]
    for plan in CATALOGUE.plans:
        assert set(plan.quotas) == set(QUOTA_NAMES)
        assert plan.includes_context("business")  # nobody is ever locked out of their own billing
    assert not CATALOGUE.get("free").is_paid and CATALOGUE.get("pro").is_paid
    assert CATALOGUE.get("enterprise").quotas["contacts"] is None  # unlimited


def test_higher_plans_include_at_least_what_lower_ones_do() -> None:
    for lower, higher in zip(CATALOGUE.plans, CATALOGUE.plans[1:], strict=False):
        assert lower.contexts <= higher.contexts | {"integrations"}
        assert lower.channels <= higher.channels
        assert lower.analytics_models <= higher.analytics_models
        assert higher.excluded_tools <= lower.excluded_tools
        for quota in QUOTA_NAMES:
            low, high = lower.quotas[quota], higher.quotas[quota]
            assert high is None or (low is not None and high >= low), (lower.id, higher.id, quota)


def test_a_deployment_file_overrides_fields_and_quotas_by_plan_id(tmp_path: Path) -> None:
    override = tmp_path / "plans.json"
    override.write_text(
        json.dumps(
            {
                "plans": [
                    {"id": "free", "quotas": {"contacts": 5}, "channels": ["email"]},
                    {
                        "id": "agency",
                        "name": "Agency",
                        "rank": 9,
                        "price": {"amount": "799.00"},
                        "contexts": ["crm"],
                        "quotas": {name: None for name in QUOTA_NAMES},
                    },
                ]
            }
        )
    )
    catalogue = load_catalogue(override)
    free = catalogue.get("free")
    assert free.quotas["contacts"] == 5
    assert free.quotas["seats"] == CATALOGUE.get("free").quotas["seats"]  # untouched keys stay
    assert free.channels == frozenset({"email"})
    assert catalogue.ids[-1] == "agency"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "could not be read as JSON"),
        ('{"plans": [{"id": "free", "quotas": {"contacts": -1}}]}', "quotas"),
        ('{"plans": [{"id": "free", "quotas": {"widgets": 3}}]}', "widgets"),
        ('{"plans": [{"id": "free", "rank": 1}]}', "ranks must be unique"),
    ],
)
def test_a_broken_plans_file_is_refused_with_the_place_named(tmp_path: Path, content: str, expected: str) -> None:
    override = tmp_path / "plans.json"
    override.write_text(content)
    with pytest.raises(ValidationFailed) as caught:
        load_catalogue(override)
    assert expected in caught.value.public_message()
    assert caught.value.field == "plans_file"


def test_unknown_plan_ids_list_the_valid_ones() -> None:
    with pytest.raises(ValidationFailed) as caught:
        CATALOGUE.get("platinum")
    assert "free, starter, pro, enterprise" in caught.value.public_message()


# ------------------------------------------------------------------------------------------- standing


def test_no_subscription_means_the_default_plan_for_the_calendar_month() -> None:
    now = standing(None, now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert (now.plan.id, now.access) == ("free", "full")
    assert now.period_start == datetime(2026, 12, 1, tzinfo=UTC)
    assert now.period_end == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("status", ["trialing", "active"])
def test_trialing_and_active_grant_the_plan_for_its_period(status: str) -> None:
    now = standing(state(status), now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert (now.plan.id, now.access) == ("pro", "full")
    assert now.period_end == NOW + timedelta(days=10)


def test_an_unrenewed_period_rolls_forward_in_steps_of_its_length() -> None:
    subscription = state("active", days_left=-35)  # renewal events missed: still active per the provider
    now = standing(subscription, now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert now.period_start <= NOW < now.period_end
    assert now.period_end - now.period_start == subscription.current_period_end - subscription.current_period_start


def test_past_due_keeps_the_plan_for_the_grace_period_then_reads_only() -> None:
    since = NOW - PAST_DUE_GRACE + timedelta(hours=1)
    within = standing(state("past_due", past_due_since=since), now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert within.access == "full" and "past due" in within.reason
    late = standing(
        state("past_due", past_due_since=since - timedelta(hours=2)), now=NOW, catalogue=CATALOGUE, default_plan="free"
    )
    assert (late.plan.id, late.access) == ("pro", "read_only")


def test_suspended_is_read_only() -> None:
    now = standing(state("suspended"), now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert (now.plan.id, now.access) == ("pro", "read_only")


def test_canceled_keeps_the_plan_until_the_period_ends_then_the_default_plan_applies() -> None:
    before = standing(state("canceled"), now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert (before.plan.id, before.access) == ("pro", "full")
    after = standing(state("canceled", days_left=-1), now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert (after.plan.id, after.access) == ("free", "full")


def test_a_scheduled_downgrade_applies_once_the_period_is_over() -> None:
    waiting = standing(state("active", scheduled_plan_id="starter"), now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert waiting.plan.id == "pro"
    due = standing(
        state("active", days_left=-1, scheduled_plan_id="starter"), now=NOW, catalogue=CATALOGUE, default_plan="free"
    )
    assert due.plan.id == "starter"


# ------------------------------------------------------------------------------------------- features


@pytest.mark.parametrize(
    ("feature", "parsed"),
    [
        ("crm_import_leads", ("tool", "crm_import_leads")),
        ("contacts", ("quota", "contacts")),
        ("quota:seats", ("quota", "seats")),
        ("channel:tiktok", ("channel", "tiktok")),
        ("analytics:data_driven", ("analytics", "data_driven")),
        ("connectors:live", ("connectors", "live")),
        ("context:campaigns", ("context", "campaigns")),
    ],
)
def test_features_are_named_by_kind(feature: str, parsed: tuple[str, str]) -> None:
    assert parse_feature(feature) == parsed


def test_an_unknown_feature_kind_names_the_valid_ones() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_feature("colour:red")
    assert caught.value.field == "feature"
    assert "channel:<name>" in caught.value.public_message()


def test_the_lifting_plan_is_the_cheapest_one_that_includes_the_feature() -> None:
    free, starter = CATALOGUE.get("free"), CATALOGUE.get("starter")
    assert not plan_includes(free, "channel", "tiktok")
    assert lifting_plan(CATALOGUE, free, "channel", "tiktok").id == "pro"  # type: ignore[union-attr]
    assert lifting_plan(CATALOGUE, free, "connectors", "live").id == "starter"  # type: ignore[union-attr]
    assert lifting_plan(CATALOGUE, starter, "quota", "contacts").id == "pro"  # type: ignore[union-attr]
    assert lifting_plan(CATALOGUE, CATALOGUE.get("enterprise"), "quota", "contacts") is None
    assert lifting_plan(CATALOGUE, free, "tool", "crm_import_leads", tool_context="crm").id == "starter"  # type: ignore[union-attr]


def test_tool_refusals_name_the_plan_and_what_would_allow_it() -> None:
    free = standing(None, now=NOW, catalogue=CATALOGUE, default_plan="free")
    refusal = tool_refusal(CATALOGUE, free, tool="crm_import_leads", context="crm", read_only=False)
    assert refusal is not None and "Free" in refusal and "Starter" in refusal
    assert tool_refusal(CATALOGUE, free, tool="crm_capture_lead", context="crm", read_only=False) is None
    # Campaigns are not part of Free at all.
    assert tool_refusal(CATALOGUE, free, tool="campaigns_activate", context="campaigns", read_only=False)
    suspended = standing(state("suspended"), now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert tool_refusal(CATALOGUE, suspended, tool="crm_get_lead", context="crm", read_only=True) is None
    write = tool_refusal(CATALOGUE, suspended, tool="crm_capture_lead", context="crm", read_only=False)
    assert write is not None and "read-only" in write
    # Billing stays usable while suspended, so the tenant can fix it.
    checkout = tool_refusal(CATALOGUE, suspended, tool="business_start_checkout", context="business", read_only=False)
    assert checkout is None


def test_quota_reset_times() -> None:
    now = standing(state("active"), now=NOW, catalogue=CATALOGUE, default_plan="free")
    assert quota_resets_at("content_generations", now, NOW) == now.period_end
    assert quota_resets_at("contacts", now, NOW) is None
    assert quota_resets_at("tool_calls_per_minute", now, NOW) == datetime(2026, 12, 10, 12, 1, tzinfo=UTC)
