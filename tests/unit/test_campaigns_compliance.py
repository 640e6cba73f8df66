"""Campaign compliance: each rule's pass and fail, the report's order and verdict, and failing closed."""

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from promptsales.domain_core.campaigns.model.compliance import (
    AudienceFacts,
    CampaignFacts,
    ComplianceReport,
    ConsentCounts,
    CreativeFacts,
    InfluencerFacts,
    LintFact,
    PlanFacts,
    SpendCaps,
    SpendFacts,
    evaluate,
    load_rules,
    parse_rules,
)
from promptsales.domain_core.campaigns.model.compliance_base import CheckSpec, Hit, NoParams
from promptsales.domain_core.campaigns.model.compliance_rules import CHECKS
from promptsales.domain_core.campaigns.model.plan import Bidding, ChannelPlan, Daypart, Market, Schedule, Targeting
from promptsales.domain_core.shared.errors import ValidationFailed

RAW_RULES = json.loads(
    resources.files("promptsales.domain_core.campaigns.model").joinpath("compliance_rules.json").read_text("utf-8")
)
US_EMAIL = "Spring sale on running shoes. Unsubscribe any time. Acme Inc, 100 Main Street, Springfield IL 62701."
EVERYTHING = frozenset({"google_ads", "meta", "tiktok", "linkedin", "email", "sms", "whatsapp", "web"})


def plan(channel: str, *, budget: str = "1000", daily: str | None = None, **targeting: Any) -> ChannelPlan:
    return ChannelPlan(
        channel=channel,
        budget=Decimal(budget),
        daily_budget=None if daily is None else Decimal(daily),
        bidding=Bidding(strategy="lowest_cost"),
        targeting=Targeting(**targeting),
    )


def creative(channel: str, text: str = "Spring sale on running shoes", **changes: Any) -> CreativeFacts:
    return CreativeFacts(**{"asset_id": f"as_{channel}", "channel": channel, "approved": True, "text": text} | changes)


def consent(granted: int = 100, denied: int = 0, unknown: int = 0) -> ConsentCounts:
    return ConsentCounts(granted=granted, denied=denied, unknown=unknown)


def facts(
    channels: tuple[ChannelPlan, ...] | None = None,
    creatives: tuple[CreativeFacts, ...] | None = None,
    countries: tuple[str, ...] = ("US",),
    **changes: Any,
) -> CampaignFacts:
    """A clean US campaign on Google Search and email; ``changes`` replace fields of the facts."""
    channels = channels or (plan("google_search"), plan("email"))
    if creatives is None:  # one clean creative per channel, the email one with its CAN-SPAM footer
        creatives = tuple(creative(p.channel, US_EMAIL if p.channel == "email" else "Spring sale") for p in channels)
    fields: dict[str, Any] = {
        "objective": "sales",
        "channels": channels,
        "markets": tuple(Market(country=country) for country in countries),
        "schedule": Schedule(start_date=date(2027, 1, 4), end_date=date(2027, 1, 31), time_zone="America/New_York"),
        "audience": AudienceFacts(
            segment_id="seg_runners", size=100, consent={"email": consent(), "sms": consent(), "whatsapp": consent()}
        ),
        "creatives": creatives,
        "spend": SpendFacts(
            caps=SpendCaps(per_campaign=Decimal(10000), per_day=Decimal(500), per_month=Decimal(8000)),
            campaign_total=Decimal(3000),
            campaign_daily=Decimal(100),
            tenant_daily_committed=Decimal(50),
            tenant_month_committed=Decimal(1000),
        ),
        "plan": PlanFacts(allowed_channels=EVERYTHING, activations_left=3),
    }
    return CampaignFacts(**fields | changes)


def spend(**changes: Any) -> SpendFacts:
    return facts().spend.model_copy(update=changes)


def audience(**by_channel: ConsentCounts) -> AudienceFacts:
    return AudienceFacts(segment_id="seg_runners", size=100, consent=by_channel)


US_SMS_HOURS = Schedule(
    start_date=date(2027, 1, 4),
    end_date=date(2027, 1, 31),
    time_zone="America/New_York",
    dayparting=(Daypart(days=(0, 1, 2, 3, 4), start_hour=13, end_hour=21),),
)


def sms(**changes: Any) -> CampaignFacts:
    """A US SMS campaign sent in hours that are 8:00-21:00 in every US state (13:00-21:00 New York in January)."""
    fields: dict[str, Any] = {"schedule": US_SMS_HOURS} | changes
    return facts(channels=(plan("sms"),), **fields)


def meta(category: str = "none", countries: tuple[str, ...] = ("US",), **targeting: Any) -> CampaignFacts:
    return facts(channels=(plan("meta_facebook", **targeting),), countries=countries, special_ad_category=category)


def product(category: str, channels: tuple[str, ...], countries: tuple[str, ...] = ("US",), **t: Any) -> CampaignFacts:
    return facts(channels=tuple(plan(c, **t) for c in channels), countries=countries, product_category=category)


def influencer(disclosure: str | None, countries: tuple[str, ...] = ("US",)) -> CampaignFacts:
    post = InfluencerFacts(handle="@runner_ana", brief="Try the new trail shoe", disclosure=disclosure)
    return facts(channels=(plan("influencer"),), creatives=(), countries=countries, influencers=(post,))


def lint(severity: str) -> CampaignFacts:
    found = LintFact(code="claim.superlative", severity=severity, message="'best in the world' needs proof")
    return facts(creatives=(creative("google_search", lint=(found,)), creative("email", US_EMAIL)))


# rule id → (facts that pass it, facts that break it)
MATRIX: dict[str, tuple[Callable[[], CampaignFacts], Callable[[], CampaignFacts]]] = {
    "plan.channel_included": (
        lambda: facts(),
        lambda: facts(plan=PlanFacts(allowed_channels=frozenset({"email"}))),
    ),
    "plan.activations_left": (
        lambda: facts(plan=PlanFacts(allowed_channels=EVERYTHING, activations_left=None)),
        lambda: facts(plan=PlanFacts(allowed_channels=EVERYTHING, activations_left=0)),
    ),
    "spend.per_campaign_cap": (
        lambda: facts(spend=spend(campaign_total=Decimal(10000))),
        lambda: facts(spend=spend(campaign_total=Decimal("10000.01"))),
    ),
    "spend.daily_cap": (
        lambda: facts(spend=spend(campaign_daily=Decimal(450))),
        lambda: facts(spend=spend(campaign_daily=Decimal(451))),
    ),
    "spend.monthly_cap": (
        lambda: facts(spend=spend(tenant_month_committed=Decimal(5000))),
        lambda: facts(spend=spend(tenant_month_committed=Decimal(6000))),
    ),
    "audience.required": (
        lambda: facts(channels=(plan("google_search"),), audience=None),
        lambda: facts(countries=("MX",), audience=None),
    ),
    "consent.gdpr_prior_opt_in": (
        lambda: facts(countries=("ES",), audience=audience(email=consent(granted=1, unknown=99))),
        lambda: facts(countries=("ES",), audience=audience(email=consent(granted=0, unknown=100))),
    ),
    "consent.tcpa_sms_prior_consent": (
        lambda: sms(audience=audience(sms=consent(granted=40))),
        lambda: sms(audience=audience(sms=consent(granted=0, denied=40))),
    ),
    "consent.whatsapp_opt_in": (
        lambda: facts(channels=(plan("whatsapp"),), countries=("MX",)),
        lambda: facts(channels=(plan("whatsapp"),), countries=("MX",), audience=audience(email=consent())),
    ),
    "consent.members_excluded": (
        lambda: facts(),
        lambda: facts(audience=audience(email=consent(granted=80, denied=5, unknown=15))),
    ),
    "tcpa.quiet_hours": (
        lambda: sms(),
        lambda: sms(schedule=US_SMS_HOURS.model_copy(update={"dayparting": ()})),
    ),
    "can_spam.footer": (
        lambda: facts(),
        lambda: facts(creatives=(creative("google_search"), creative("email", "Spring sale on running shoes."))),
    ),
    "special_ads.meta_restricted_targeting": (
        lambda: meta("housing", age_min=18, age_max=65, genders=("female", "male")),
        lambda: meta("housing", age_min=25),
    ),
    "special_ads.google_restricted_targeting": (
        lambda: facts(
            special_ad_category="credit", channels=(plan("google_search", postcodes=("10001",)),), countries=("ES",)
        ),
        lambda: facts(special_ad_category="credit", channels=(plan("google_search", postcodes=("10001",)),)),
    ),
    "special_ads.undeclared": (
        lambda: facts(special_ad_category="credit", creatives=(creative("google_search", "Low-rate mortgage"),)),
        lambda: facts(creatives=(creative("google_search", "Low-rate mortgage"), creative("email", US_EMAIL))),
    ),
    "special_ads.social_issues_authorization": (
        lambda: facts(special_ad_category="social_issues"),
        lambda: meta("social_issues"),
    ),
    "age_gate.alcohol": (
        lambda: product("alcohol", ("meta_facebook",), age_min=21),
        lambda: product("alcohol", ("meta_facebook",), age_min=18),
    ),
    "age_gate.gambling": (
        lambda: product("gambling", ("google_search",), countries=("ES",), age_min=18),
        lambda: product("gambling", ("google_search",), countries=("ES", "US"), age_min=18),
    ),
    "age_gate.unverified_audience": (
        lambda: product("alcohol", ("google_search",), age_min=21),
        lambda: product("alcohol", ("email",)),
    ),
    "market_ban.alcohol": (
        lambda: product("alcohol", ("google_search",), countries=("ES",), age_min=18),
        lambda: product("alcohol", ("google_search",), countries=("ES", "NO"), age_min=18),
    ),
    "market_ban.tobacco_platforms": (
        lambda: product("tobacco", ("email",)),
        lambda: product("tobacco", ("tiktok",), age_min=21),
    ),
    "market_ban.tobacco_eu": (
        lambda: product("tobacco", ("email",)),
        lambda: product("tobacco", ("email",), countries=("FR",)),
    ),
    "certification.gambling": (
        lambda: product("general", ("google_search",)),
        lambda: product("gambling", ("youtube",), age_min=21),
    ),
    "certification.pharma": (
        lambda: product("pharma", ("email",)),
        lambda: product("pharma", ("google_display",)),
    ),
    "certification.crypto": (
        lambda: product("crypto", ("email",)),
        lambda: product("crypto", ("linkedin",)),
    ),
    "disclosure.influencer": (
        lambda: influencer("#ad Loving these trail shoes"),
        lambda: influencer("Thanks @acme for the shoes!"),
    ),
    "disclosure.spain_publi": (
        lambda: influencer("#publi Me encantan", countries=("ES",)),
        lambda: influencer("#ad Loving these trail shoes", countries=("ES",)),
    ),
    "creative.approved": (
        lambda: facts(),
        lambda: facts(creatives=(creative("google_search", approved=False), creative("email", US_EMAIL))),
    ),
    "creative.lint_errors": (lambda: lint("warning"), lambda: lint("error")),
    "creative.lint_warnings": (lambda: lint("error"), lambda: lint("warning")),
    "creative.required": (
        lambda: facts(),
        lambda: facts(creatives=(creative("email", US_EMAIL),)),
    ),
    "budget.daily_minimum": (
        lambda: facts(channels=(plan("tiktok", daily="20"),)),
        lambda: facts(channels=(plan("tiktok", daily="19.99"),)),
    ),
}
SEVERITY = {rule.id: rule.severity for rule in load_rules().rules}


def ids(report: ComplianceReport) -> list[str]:
    return [finding.rule_id for finding in report.findings]


def test_the_clean_campaign_passes_every_rule() -> None:
    report = evaluate(facts())

    assert report.findings == ()
    assert (report.blocking, report.needs_approval, report.outcome) == (False, False, "clear")
    assert report.rules_checked == len(RAW_RULES["rules"])
    assert report.rules_version == RAW_RULES["version"]


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    assert set(MATRIX) == set(SEVERITY)


@pytest.mark.parametrize("rule_id", sorted(MATRIX))
def test_rule_passes_and_fails(rule_id: str) -> None:
    passing, failing = MATRIX[rule_id]

    assert rule_id not in ids(evaluate(passing()))
    found = [finding for finding in evaluate(failing()).findings if finding.rule_id == rule_id]
    assert found, f"{rule_id} found nothing in its failing case"
    assert {finding.severity for finding in found} == {SEVERITY[rule_id]}
    assert all(finding.message and finding.fix for finding in found)


def only(report: ComplianceReport, rule_id: str) -> Any:
    (finding,) = [finding for finding in report.findings if finding.rule_id == rule_id]
    return finding


def test_a_channel_outside_the_plan_names_the_plan_channel_to_buy() -> None:
    report = evaluate(facts(channels=(plan("youtube"),), plan=PlanFacts(allowed_channels=frozenset({"email"}))))

    finding = only(report, "plan.channel_included")
    assert finding.channel == "youtube"
    assert finding.subject == "google_ads"
    assert "business_start_checkout" in finding.fix


def test_a_channel_the_plans_do_not_know_is_blocked() -> None:
    finding = only(evaluate(facts(channels=(plan("myspace"),))), "plan.channel_included")

    assert finding.severity == "block"
    assert "myspace" in finding.message


def test_spend_caps_report_the_cap_and_the_overshoot() -> None:
    report = evaluate(facts(spend=spend(campaign_total=Decimal(12500), campaign_daily=Decimal(470))))

    assert "2,500.00 USD over the per-campaign cap of 10,000.00 USD" in only(report, "spend.per_campaign_cap").message
    daily = only(report, "spend.daily_cap")
    assert "520.00 USD, 20.00 USD over the daily cap of 500.00 USD" in daily.message
    assert "50.00 USD a day committed by other live campaigns" in daily.message


def test_the_monthly_cap_is_checked_for_each_month_the_flight_touches() -> None:
    # 20 Jan - 10 Feb at 100 a day: 12 days (1,200) in January, 10 days (1,000) in February.
    schedule = Schedule(start_date=date(2027, 1, 20), end_date=date(2027, 2, 10))
    over = facts(
        schedule=schedule, spend=spend(caps=SpendCaps(per_month=Decimal(3100)), tenant_month_committed=Decimal(2000))
    )

    finding = only(evaluate(over), "spend.monthly_cap")
    assert finding.message.startswith("In 2027-01 the campaign's spend")
    assert "3,200.00 USD, 100.00 USD over the monthly cap of 3,100.00 USD" in finding.message


def test_consent_blocks_when_nobody_opted_in_and_counts_who_is_left_out() -> None:
    none = evaluate(facts(countries=("DE",), audience=audience(email=consent(granted=0, denied=3, unknown=7))))
    some = evaluate(facts(countries=("DE",), audience=audience(email=consent(granted=90, denied=3, unknown=7))))

    blocked = only(none, "consent.gdpr_prior_opt_in")
    assert (blocked.channel, blocked.subject) == ("email", "seg_runners")
    assert "DE" in blocked.message
    assert "10 of 10 members" in only(none, "consent.members_excluded").message
    assert "nobody will" in only(none, "consent.members_excluded").message
    assert "10 of 100 members" in only(some, "consent.members_excluded").message
    assert "3 refused and 7 never gave consent; 90 will" in only(some, "consent.members_excluded").message


def test_messaging_without_an_audience_is_blocked_once() -> None:
    report = evaluate(facts(countries=("GB",), audience=None))

    assert ids(report) == ["audience.required"]
    assert report.findings[0].channel == "email"


def test_missing_consent_counts_are_reported_not_taken_as_consent() -> None:
    finding = only(evaluate(facts(audience=audience(sms=consent()))), "consent.members_excluded")

    assert "has no email consent counts" in finding.message


def test_quiet_hours_fix_gives_the_window_in_the_campaign_time_zone() -> None:
    # Los Angeles in January: 8:00 in Honolulu is 10:00 there, 21:00 in New York is 18:00 there.
    schedule = US_SMS_HOURS.model_copy(update={"time_zone": "America/Los_Angeles"})
    finding = only(evaluate(sms(schedule=schedule)), "tcpa.quiet_hours")

    assert "13:00-21:00 America/Los_Angeles sends outside 08:00-21:00" in finding.message
    assert "run 10:00-18:00 America/Los_Angeles only" in finding.fix


def test_quiet_hours_seen_from_abroad_can_cross_the_campaign_midnight() -> None:
    # Madrid in January is 6 (New York) to 11 (Honolulu) hours ahead: 8:00-21:00 everywhere is 19:00 to 03:00 there.
    madrid = US_SMS_HOURS.model_copy(update={"time_zone": "Europe/Madrid"})
    late = madrid.model_copy(update={"dayparting": (Daypart(days=(0, 1, 2, 3, 4), start_hour=19, end_hour=24),)})

    finding = only(evaluate(sms(schedule=madrid)), "tcpa.quiet_hours")
    assert "run 00:00-03:00 or 19:00-24:00 Europe/Madrid only" in finding.fix
    assert "tcpa.quiet_hours" not in ids(evaluate(sms(schedule=late)))


def test_quiet_hours_follow_daylight_saving_time() -> None:
    # In July New York is 6 hours ahead of Honolulu (no DST there): 13:00 New York is 7:00 in Honolulu.
    summer = US_SMS_HOURS.model_copy(update={"start_date": date(2027, 7, 5), "end_date": date(2027, 7, 9)})

    assert "run 14:00-21:00 America/New_York only" in only(evaluate(sms(schedule=summer)), "tcpa.quiet_hours").fix


def test_an_unknown_schedule_time_zone_blocks_sms_with_its_own_message() -> None:
    schedule = US_SMS_HOURS.model_copy(update={"time_zone": "Mars/Olympus"})

    assert "'Mars/Olympus' is unknown" in only(evaluate(sms(schedule=schedule)), "tcpa.quiet_hours").message


def test_special_categories_name_each_forbidden_criterion() -> None:
    finding = only(
        evaluate(meta("employment", age_min=30, genders=("female",), postcodes=("28001",))),
        "special_ads.meta_restricted_targeting",
    )

    assert finding.message == "Employment ads on meta_facebook may not target by age, gender and postcode."
    assert (
        finding.fix == "Remove targeting.age_min/age_max, targeting.genders and targeting.postcodes on meta_facebook."
    )


def test_undeclared_category_names_the_words_and_the_assets() -> None:
    copy = creative("google_search", "Nuevos préstamos sin comisiones")
    finding = only(evaluate(facts(creatives=(copy, creative("email", US_EMAIL)))), "special_ads.undeclared")

    assert "as_google_search" in finding.message
    assert "'prestamos'" in finding.message
    assert "special_ad_category to credit" in finding.fix


def test_age_gates_use_the_strictest_market() -> None:
    finding = only(evaluate(product("alcohol", ("tiktok",), countries=("ES", "US"), age_min=18)), "age_gate.alcohol")

    assert "in US they may only reach people aged 21 or over" in finding.message
    assert finding.fix == "Set targeting.age_min to 21 on tiktok."


def test_an_unset_age_reaches_every_age() -> None:
    finding = only(evaluate(product("gambling", ("meta_instagram",), countries=("MX",))), "age_gate.gambling")

    assert "reach every age" in finding.message


def test_a_hashtag_inside_another_word_is_not_a_disclosure() -> None:
    assert "disclosure.influencer" in ids(evaluate(influencer("#adventure time with @acme")))
    assert "disclosure.influencer" not in ids(evaluate(influencer("Paid partnership with @acme")))


def test_a_creative_named_but_not_described_is_blocked() -> None:
    named = plan("google_search").model_copy(update={"creative_ids": ("as_ghost",)})
    finding = only(evaluate(facts(channels=(named,), creatives=(creative("google_search"),))), "creative.approved")

    assert finding.subject == "as_ghost"


def test_a_daily_minimum_in_an_unlisted_currency_is_a_warning_not_a_silence() -> None:
    finding = only(
        evaluate(facts(channels=(plan("linkedin", daily="5"),), spend=spend(currency="MXN"))), "budget.daily_minimum"
    )

    assert "in MXN is not known" in finding.message


def test_findings_are_ordered_block_then_approval_then_warn_in_rule_order() -> None:
    messy = facts(
        channels=(plan("google_search"), plan("email")),
        creatives=(
            creative("google_search", "Mortgage rates", approved=False),
            creative("email", "Hello", lint=(LintFact(code="length", severity="warning", message="long"),)),
        ),
        audience=audience(email=consent(granted=50, unknown=50)),
        plan=PlanFacts(allowed_channels=EVERYTHING, activations_left=0),
    )
    report = evaluate(messy)

    # consent.members_excluded comes before creative.approved in the file, yet as a warning it is reported after
    # every block and approval; within each severity the file's order holds.
    assert ids(report) == [
        "plan.activations_left",
        "creative.approved",
        "can_spam.footer",
        "special_ads.undeclared",
        "consent.members_excluded",
        "creative.lint_warnings",
    ]
    assert (report.blocking, report.needs_approval, report.outcome) == (True, True, "blocked")


def test_approval_without_blocks_is_the_outcome() -> None:
    report = evaluate(product("pharma", ("google_search",)))

    assert (report.blocking, report.needs_approval, report.outcome) == (False, True, "needs_approval")


def rules_file(*rules: dict[str, Any], groups: dict[str, list[str]] | None = None) -> str:
    channels = ["google_search", "email", "sms", "tiktok"]
    return json.dumps({"version": "test", "channels": channels, "groups": groups or {}, "rules": list(rules)})


def rule(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "test.activations",
        "description": "Activations must be left.",
        "source": {"citation": "Test citation", "url": "https://example.org/policy"},
        "severity": "block",
        "check": "activations_left",
    }
    return base | changes


def exploding(facts: CampaignFacts, params: NoParams) -> Iterator[Hit]:
    raise ZeroDivisionError("bug in a check")


def test_a_check_that_raises_blocks_the_campaign_naming_the_rule() -> None:
    registry = CHECKS | {"exploding": CheckSpec(NoParams, exploding)}
    broken = rule(id="test.broken", severity="warn", check="exploding")
    rules = parse_rules(rules_file(broken, rule()), registry=registry)

    report = evaluate(facts(plan=PlanFacts(allowed_channels=EVERYTHING, activations_left=0)), rules)

    assert ids(report) == ["test.broken", "test.activations"]
    failed = report.findings[0]
    assert failed.severity == "block"
    assert "Rule test.broken could not be checked (ZeroDivisionError)" in failed.message
    assert report.blocking


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (rules_file(rule(check="no_such_check")), "test.activations names the unknown check 'no_such_check'"),
        (rules_file(rule(check="spend_cap", params={"cap": "per_year"})), "test.activations has invalid params at cap"),
        (rules_file(rule(check="spend_cap", params={"cap": "per_day", "capp": 1})), "invalid params at capp"),
        (rules_file(rule(check="consent_granted", params={"channels": ["@nope"]})), "the unknown group @nope"),
        (rules_file(rule(), rule()), "test.activations is used twice"),
        (
            rules_file(rule(check="channel_has_creatives", params={"channels": ["tiktock"]})),
            "unknown channels: tiktock",
        ),
        (
            rules_file(rule(check="daily_minimum", params={"minimums": {"snap": {"USD": "5"}}})),
            "unknown channels: snap",
        ),
        (rules_file(rule(severity="fatal")), "rules.0.severity"),
        (rules_file({k: v for k, v in rule().items() if k != "source"}), "rules.0.source"),
        (rules_file(rule(source={"citation": "Test citation", "url": "ftp://x"})), "rules.0.source.url"),
        (
            rules_file(
                rule(
                    check="sending_hours",
                    params={"start_hour": 8, "end_hour": 21, "recipient_time_zones": ["Mars/Base"]},
                )
            ),
            "unknown time zone",
        ),
        ('{"version": "x", "rules": []}', "rules"),
        ("not json", "invalid"),
    ],
)
def test_an_invalid_rules_file_fails_to_load(text: str, expected: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_rules(text)

    assert expected in caught.value.message
    assert caught.value.field == "compliance_rules"


def test_groups_expand_inside_params() -> None:
    text = rules_file(
        rule(check="consent_granted", params={"channels": ["email"], "markets": ["@iberia", "FR"]}),
        groups={"iberia": ["ES", "PT"]},
    )

    assert parse_rules(text).rules[0].params.model_dump()["markets"] == ("ES", "PT", "FR")


@pytest.mark.parametrize("entry", RAW_RULES["rules"], ids=lambda entry: entry["id"])
def test_every_shipped_rule_is_described_sourced_and_bound_to_a_known_check(entry: dict[str, Any]) -> None:
    assert entry["id"].count(".") >= 1
    assert len(entry["description"]) >= 10
    assert entry["source"]["citation"]
    assert entry["severity"] in {"block", "needs_approval", "warn"}
    assert entry["check"] in CHECKS
