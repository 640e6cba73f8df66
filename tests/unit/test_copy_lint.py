"""Copy lint against channel specs and brand rules, and the deterministic fixes that make failing copy pass."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptsales.domain_core.content.model.brand_rules import BrandRules
from promptsales.domain_core.content.model.channel_specs import FormatSpec, load_channel_specs
from promptsales.domain_core.content.model.copy_fit import fix_copy
from promptsales.domain_core.content.model.copy_lint import lint_copy
from promptsales.domain_core.content.model.lint_report import ERROR_CODES, UNFIXABLE_CODES, WARNING_CODES, LintReport
from promptsales.domain_core.content.model.lint_rules import CopyValue
from promptsales.domain_core.content.model.text_measure import measure, sms_info
from promptsales.domain_core.shared.errors import ValidationFailed

SPECS = load_channel_specs()
RSA = SPECS.format("google_ads", "rsa")
PMAX = SPECS.format("google_ads", "pmax")
META = SPECS.format("meta", "feed")
TIKTOK = SPECS.format("tiktok", "in_feed")
LINKEDIN = SPECS.format("linkedin", "sponsored_content")
X = SPECS.format("x", "post")
EMAIL = SPECS.format("email", "message")
SMS = SPECS.format("sms", "text")
PUSH = SPECS.format("push", "notification")
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
PARTY = "\U0001f389"
GOOD_RSA: dict[str, CopyValue] = {
    "headlines": ["Plan campaigns faster", "Leads sorted for you", "Try it free for 30 days"],
    "descriptions": ["Capture, score and route leads in one place.", "Set up in minutes and keep your data."],
}


def codes(report: LintReport, severity: str | None = None) -> set[str]:
    return {issue.code for issue in report.issues if severity is None or issue.severity == severity}


def one(report: LintReport, code: str) -> Any:
    found = [issue for issue in report.issues if issue.code == code]
    assert len(found) == 1, report.issues
    return found[0]


def test_clean_copy_passes_and_reports_lengths_as_the_platform_counts() -> None:
    report = lint_copy(GOOD_RSA, RSA)
    assert report.ok and not report.issues
    assert [(m.field, m.index, m.limit, m.counting) for m in report.measures][:2] == [
        ("headlines", 0, 30, "display_width"),
        ("headlines", 1, 30, "display_width"),
    ]
    assert report.measures[0].length == len("Plan campaigns faster")


def test_every_issue_code_is_an_error_or_a_warning() -> None:
    assert not ERROR_CODES & WARNING_CODES
    assert UNFIXABLE_CODES <= ERROR_CODES


def test_missing_too_few_too_many_and_unknown_fields() -> None:
    sparse: dict[str, CopyValue] = {"headlines": ["One", "Two"], "colour": "blue"}
    report = lint_copy(sparse, RSA)
    assert one(report, "too_few_items").field == "headlines"
    assert one(report, "missing_field").field == "descriptions"
    assert one(report, "unknown_field").severity == "warning"
    many = lint_copy({**GOOD_RSA, "descriptions": ["a", "b", "c", "d", "e"]}, RSA)
    assert "at most 4" in one(many, "too_many_items").message
    blank = lint_copy({**GOOD_RSA, "headlines": ["  ", "A", "B"]}, RSA)
    assert one(blank, "too_few_items").field == "headlines"  # blank items do not count


def test_over_the_hard_limit_names_field_index_length_and_limit_as_counted() -> None:
    copy = {**GOOD_RSA, "headlines": ["Fine", "x" * 31, "中" * 16]}
    report = lint_copy(copy, RSA)
    over = [issue for issue in report.issues if issue.code == "over_limit"]
    assert [(issue.field, issue.index) for issue in over] == [("headlines", 1), ("headlines", 2)]
    assert "headlines[1] is 31" in over[0].message and "30" in over[0].message
    assert "headlines[2] is 32 display-width" in over[1].message
    assert lint_copy({**GOOD_RSA, "headlines": ["Fine", "Also fine", "中" * 15]}, RSA).ok


def test_x_counts_weighted_length_with_links_as_23() -> None:
    assert lint_copy({"text": "x" * 257 + " https://example.com/" + "p" * 80}, X).codes == {"over_limit"}
    assert lint_copy({"text": "x" * 256 + " https://example.com/" + "p" * 80}, X).ok
    assert not lint_copy({"text": "中" * 141}, X).ok


def test_over_the_recommended_length_is_a_warning_about_see_more() -> None:
    report = lint_copy({"primary_text": "a" * 126, "headline": "Fine"}, META)
    issue = one(report, "over_recommended")
    assert report.ok and issue.severity == "warning" and "See more" in issue.message
    assert one(lint_copy({"primary_text": "a" * 2201, "headline": "Fine"}, META), "over_limit")


def test_tiktok_ad_text_rules() -> None:
    report = lint_copy({"ad_text": f"Join #summer with @brand at example.com {{now}} {PARTY}"}, TIKTOK)
    assert {
        "hashtag_not_allowed",
        "mention_not_allowed",
        "link_not_allowed",
        "braces_not_allowed",
        "emoji_not_allowed",
    } <= codes(report, "error")
    assert "too_short" in codes(lint_copy({"ad_text": "Hi", "display_name": "A"}, TIKTOK))
    assert lint_copy({"ad_text": "Hi", "display_name": "中"}, TIKTOK).ok  # one Asian character is width 2


def test_google_paths_forbid_slashes_and_need_path1() -> None:
    report = lint_copy({**GOOD_RSA, "path2": "shoes/men"}, RSA)
    assert {"slash_not_allowed", "requires_field"} <= codes(report)
    assert one(report, "requires_field").field == "path2"
    assert "newline_not_allowed" in codes(lint_copy({**GOOD_RSA, "path1": "a\nb"}, RSA))


def test_pmax_needs_one_short_headline() -> None:
    long_ones = ["Campaign planning made easy", "Leads scored automatically", "Reports every Monday"]
    copy: dict[str, CopyValue] = {
        "headlines": long_ones,
        "long_headlines": ["Plan, launch and measure"],
        "descriptions": ["Short one.", "Another description here."],
        "business_name": "Acme",
    }
    assert one(lint_copy(copy, PMAX), "no_short_item").field == "headlines"
    assert lint_copy({**copy, "headlines": [*long_ones, "Try Acme"]}, PMAX).ok


def test_banned_words_are_whole_word_case_and_accent_insensitive() -> None:
    rules = BrandRules(banned_words=["cafe", "cheap"])
    report = lint_copy({"text": "CAFÉ au lait, Café noir and cheap cheap deals"}, X, rules)
    assert [issue.message for issue in report.issues if issue.code == "banned_word"] == [
        "text uses the banned word 'CAFÉ'.",
        "text uses the banned word 'Café'.",
        "text uses the banned word 'cheap'.",
    ]
    assert lint_copy({"text": "Our cafeteria is cheaper"}, X, rules).ok


@pytest.mark.parametrize(
    "text",
    [
        "Guaranteed results",
        "We guarantee it",
        "The #1 CRM",
        "Number one in Spain",
        "The best tool",
        "Our best offer",
        "100% natural",
        "Risk-free trial",
        "It cures colds",
        "A miracle cream",
        "Best-in-class support",
        "Éxito garantizado",
        "El mejor precio",
        "Somos el número uno",
        "Somos el numero uno",
        "Nº 1 en ventas",
        "Sin riesgo",
    ],
)
def test_unsubstantiated_claims_are_errors(text: str) -> None:
    issue = one(lint_copy({"text": text}, X), "unsubstantiated_claim")
    assert issue.severity == "error" and "substantiat" in (issue.hint or "")


@pytest.mark.parametrize(
    "text",
    [
        "Our bestseller is back",  # a closed compound is not matched (documented)
        "Best regards, the team",
        "All the best for 2027",
        "Use best practices",
        "Top #10 tips",
        "Secure checkout",
        "Mejor tarde que nunca",  # comparative "mejor" without an article is not a superlative claim
    ],
)
def test_idioms_and_lookalikes_are_not_claims(text: str) -> None:
    assert "unsubstantiated_claim" not in codes(lint_copy({"text": text}, X))


def test_substantiated_claims_and_required_phrases_are_allowed() -> None:
    rules = BrandRules(substantiated_claims=["#1 rated CRM", "best"], required_phrases=["Results not guaranteed."])
    report = lint_copy({"text": "The #1 rated CRM, the best value. Results not guaranteed."}, X, rules)
    assert report.ok, report.issues
    assert "unsubstantiated_claim" in codes(lint_copy({"text": "The #1 CRM"}, X, rules))


def test_required_phrases_must_appear_in_some_field() -> None:
    rules = BrandRules(required_phrases=["Terms apply."])
    missing = lint_copy({"primary_text": "Spring offer", "headline": "Save now"}, META, rules)
    issue = one(missing, "missing_required_phrase")
    assert issue.field is None and "primary_text" in (issue.hint or "")
    present = lint_copy({"primary_text": "Spring offer", "headline": "Save now. TERMS  apply."}, META, rules)
    assert "missing_required_phrase" not in codes(present)


def test_all_caps_words_warn_and_a_shouted_field_is_an_error() -> None:
    rules = BrandRules(allow_all_caps_words=["CRM", "NASA"])
    report = lint_copy({"text": "Our CRM is FAST and NASA approved, reply STOP"}, X, rules)
    assert report.ok and one(report, "all_caps_word").message == "text shouts 'FAST'."
    shouted = lint_copy({"text": "HUGE SALE TODAY!"}, X, rules)
    assert codes(shouted) == {"all_caps_field"}
    assert lint_copy({"text": "NEW CRM"}, X, rules).ok  # short words and acronyms are not shouting


def test_emoji_limits_from_the_brand_and_the_channel() -> None:
    rules = BrandRules(max_emoji=1)
    report = lint_copy({"text": f"Party {PARTY}{FAMILY}"}, X, rules)
    assert "has 2 emoji; at most 1" in one(report, "too_many_emoji").message
    generous = BrandRules(max_emoji=10)
    intro = "Hello " + PARTY * 5
    assert "too_many_emoji" in codes(lint_copy({"intro_text": intro, "headline": "Hi"}, LINKEDIN, generous))
    assert lint_copy({"intro_text": "Hello " + PARTY * 4, "headline": "Hi"}, LINKEDIN, generous).ok


def test_without_a_brand_limit_two_emoji_per_item_are_allowed() -> None:
    assert lint_copy({"text": f"Launch day {PARTY}{PARTY}"}, X).ok
    rocket = "\U0001f680"
    report = lint_copy({"text": f"Designed leading CRM! A great deal ever {rocket * 4}"}, X)
    assert "has 4 emoji; at most 2" in one(report, "too_many_emoji").message


def test_repeated_list_items_and_sibling_fields_are_errors() -> None:
    report = lint_copy({**GOOD_RSA, "headlines": ["Plan faster", "Leads sorted", "plan FASTER!"]}, RSA)
    issue = one(report, "duplicate_item")
    assert (issue.severity, issue.field, issue.index, issue.message) == (
        "error",
        "headlines",
        2,
        "headlines[2] repeats headlines[0].",
    )
    paths = lint_copy({**GOOD_RSA, "path1": "Spring", "path2": "spring"}, RSA)
    assert one(paths, "repeated_field").message == "path2 repeats path1."
    assert lint_copy({**GOOD_RSA, "path1": "Spring", "path2": "Sale"}, RSA).ok


def test_the_same_text_in_two_different_fields_warns() -> None:
    report = lint_copy(
        {"primary_text": "Meet Acme. Learn more.", "headline": "Meet Acme", "description": "Meet Acme!"}, META
    )
    assert report.ok and one(report, "repeated_text").message == "description says the same as headline."


@pytest.mark.parametrize(
    ("text", "filler"),
    [
        ("Spring sale. Reply STOP to opt out today.", "today."),
        ("Spring sale. Reply STOP to opt out!", "!"),
        ("Spring sale. Reply STOP to opt out whenever you're ready.", "whenever you're ready."),
        (f"Spring sale. Reply STOP to opt out. {PARTY}", f". {PARTY}"),
        ("Rebajas. Responde BAJA para darte de baja hoy.", "hoy."),
        ("Sale. Reply STOP to opt out. Msg & data rates may apply, act now.", ", act now."),
    ],
)
def test_filler_after_a_compliance_line_is_an_error(text: str, filler: str) -> None:
    issue = one(lint_copy({"text": text}, SMS), "compliance_filler")
    assert issue.severity == "error" and f"adds '{filler}'" in issue.message
    fixed, changes = fix_copy({"text": text}, SMS)
    assert str(fixed["text"]).endswith(("opt out.", "de baja.", "may apply.")) and lint_copy(fixed, SMS).ok, fixed
    assert any("after a compliance line" in change for change in changes)


@pytest.mark.parametrize(
    "text",
    [
        "Spring sale. Reply STOP to opt out.",
        "Sale. Reply STOP to opt out, HELP for help. Msg & data rates may apply.",
        "To opt out, reply STOP. New plans are here.",
        "Stop settling for slow campaigns today.",
    ],
)
def test_plain_compliance_lines_pass(text: str) -> None:
    assert "compliance_filler" not in codes(lint_copy({"text": text}, SMS))


def test_a_brands_own_compliance_wording_is_not_filler() -> None:
    rules = BrandRules(required_phrases=["Reply STOP to opt out anytime."])
    assert lint_copy({"text": "Sale. Reply STOP to opt out anytime."}, SMS, rules).ok


def test_stacked_superlatives_warn_and_the_fix_keeps_the_first() -> None:
    text = "The most amazing, incredible CRM ever"
    issue = one(lint_copy({"text": text}, X), "too_many_superlatives")
    assert issue.severity == "warning" and "'The most amazing', 'incredible', 'ever'" in issue.message
    fixed, _ = fix_copy({"text": text}, X)
    assert fixed["text"] == "The most amazing CRM"
    assert lint_copy({"text": "An amazing CRM for teams"}, X).ok
    spanish = lint_copy({"text": "La solución más increíble y revolucionaria"}, X)
    assert "too_many_superlatives" in codes(spanish)


def test_the_reported_rewrite_now_passes_every_quality_check() -> None:
    rocket = "\U0001f680"
    fixed, _ = fix_copy({"text": f"GUARANTEED #1 CRM!!! The BEST deal ever {rocket * 4}"}, X)
    report = lint_copy(fixed, X)
    assert report.ok and not report.issues, (fixed, report.issues)
    assert str(fixed["text"]).count(rocket) == 2


def test_fix_drops_repeated_items_and_a_path2_that_repeats_path1() -> None:
    copy = {**GOOD_RSA, "headlines": ["Plan faster", "Leads sorted", "plan FASTER!", "Try it"], "path1": "Spring"}
    fixed, changes = fix_copy({**copy, "path2": "SPRING"}, RSA)
    assert fixed["headlines"] == ["Plan faster", "Leads sorted", "Try it"] and "path2" not in fixed
    assert lint_copy(fixed, RSA).ok and any("repeats" in change for change in changes)


def test_repeated_punctuation_warns() -> None:
    assert one(lint_copy({"text": "Wow!!! Really??"}, X), "repeated_punctuation").severity == "warning"
    assert lint_copy({"text": "Really?! Yes."}, X).ok


def test_sms_reports_encoding_and_segments() -> None:
    single = lint_copy({"text": "a" * 160}, SMS)
    assert single.ok and not single.issues
    measure_ = single.measures[0]
    assert (measure_.encoding, measure_.segments, measure_.max_segments, measure_.length) == ("GSM-7", 1, 6, 160)
    two = lint_copy({"text": "a" * 161}, SMS)
    assert two.ok and one(two, "multi_segment").severity == "warning"
    unicode = lint_copy({"text": "Hi \U0001f600 it\u2019s here"}, SMS)
    assert "UCS-2" in one(unicode, "sms_unicode").message and unicode.measures[0].encoding == "UCS-2"
    assert one(lint_copy({"text": "a" * (6 * 153 + 1)}, SMS), "too_many_segments").severity == "error"
    assert lint_copy({"text": "a" * (6 * 153)}, SMS).ok
    assert not lint_copy({"text": "ą" * (6 * 67 + 1)}, SMS).ok


def test_push_payload_budget() -> None:
    assert PUSH.payload is not None
    report = lint_copy({"body": "€" * 2000}, PUSH)  # 6,000 bytes
    assert one(report, "payload_too_large").field is None


def test_copy_must_be_text() -> None:
    with pytest.raises(ValidationFailed) as error:
        lint_copy({"text": 42}, X)  # type: ignore[dict-item]
    assert error.value.field == "text"


# ------------------------------------------------------------------------------------------------ fixes


def test_fix_removes_banned_words_softens_claims_and_sentence_cases() -> None:
    rules = BrandRules(banned_words=["cheap"], allow_all_caps_words=["CRM"])
    copy = {"text": "GUARANTEED results!!! The best CRM, cheap and FAST. #1 choice"}
    fixed, changes = fix_copy(copy, X, rules)
    assert fixed == {"text": "Designed results! A great CRM, and fast. Leading choice"}
    assert any("'GUARANTEED'" in change for change in changes) and any("banned" in change for change in changes)
    assert lint_copy(fixed, X, rules).ok


def test_fix_sentence_cases_a_shouted_field() -> None:
    fixed, _ = fix_copy({"text": "HUGE SALE TODAY. ALL CRM PLANS"}, X, BrandRules(allow_all_caps_words=["CRM"]))
    assert fixed["text"] == "Huge sale today. All CRM plans"


def test_fix_strips_what_tiktok_forbids_and_keeps_the_words() -> None:
    fixed, _ = fix_copy({"ad_text": f"Join #summer with @brand {PARTY} at example.com {{now}}"}, TIKTOK)
    assert fixed["ad_text"] == "Join summer with brand at now"
    assert lint_copy(fixed, TIKTOK).ok


def test_fix_keeps_the_first_emoji_within_the_brand_limit() -> None:
    fixed, changes = fix_copy({"text": f"Party {PARTY} time {FAMILY} now {PARTY}"}, X, BrandRules(max_emoji=1))
    assert fixed["text"] == f"Party {PARTY} time now" and "removed 2 emoji" in changes[0]


def test_fix_cuts_to_hard_limits_or_recommended_lengths_at_word_boundaries() -> None:
    copy = {"primary_text": "word " * 600, "headline": "Fresh " * 10}
    fixed, _ = fix_copy(copy, META)
    assert measure(str(fixed["primary_text"]), "graphemes") <= 2200 and fixed["headline"] == copy["headline"].strip()
    short, _ = fix_copy(copy, META, prefer_recommended=True)
    assert len(str(short["primary_text"])) <= 125 and len(str(short["headline"])) <= 40
    assert not str(short["primary_text"]).endswith(" ")


def test_fix_moves_path2_to_an_empty_path1_and_drops_extra_items() -> None:
    fixed, changes = fix_copy({**GOOD_RSA, "path2": "shoes/men", "descriptions": ["a", "b", "c", "d", "e"]}, RSA)
    assert fixed["path1"] == "shoes-men" and "path2" not in fixed
    assert fixed["descriptions"] == ["a", "b", "c", "d"]
    assert lint_copy(fixed, RSA).ok, changes


def test_fix_adds_required_phrases_where_they_fit() -> None:
    rules = BrandRules(required_phrases=["Terms apply."])
    fixed, changes = fix_copy({"primary_text": "Spring offer", "headline": "Save now"}, META, rules)
    assert fixed["primary_text"] == "Spring offer. Terms apply." and "primary_text" in changes[-1]
    full, _ = fix_copy({"text": "x" * 280}, X, rules)
    assert str(full["text"]).endswith(" Terms apply.") and lint_copy(full, X, rules).ok
    email, _ = fix_copy({"subject": "Hello"}, EMAIL, rules)
    assert email == {"subject": "Hello", "body": "Terms apply."}  # the disclaimer goes to the body, not the subject


def test_fix_keeps_sms_within_the_product_segment_cap() -> None:
    rules = BrandRules(required_phrases=["Reply STOP to opt out"])
    fixed, _ = fix_copy({"text": "\u201cHi\u201d \u2014 your code is ready \U0001f600 " * 40}, SMS, rules)
    info = sms_info(str(fixed["text"]))
    assert info.segments <= 6 and str(fixed["text"]).endswith("Reply STOP to opt out")
    assert "\u201c" not in str(fixed["text"])  # typographic quotes replaced to stay in GSM-7 where possible
    assert lint_copy(fixed, SMS, rules).ok


def test_fix_fits_the_push_payload() -> None:
    fixed, _ = fix_copy({"title": "Hi", "body": "€" * 2000}, PUSH)
    assert lint_copy(fixed, PUSH).ok


def test_fix_with_a_clean_report_returns_the_copy() -> None:
    assert fix_copy(GOOD_RSA, RSA, report=lint_copy(GOOD_RSA, RSA)) == (GOOD_RSA, [])


def test_fix_reports_missing_items_instead_of_inventing_them() -> None:
    fixed, _ = fix_copy({"headlines": ["Only one"]}, RSA)
    assert codes(lint_copy(fixed, RSA), "error") == {"too_few_items", "missing_field"}


# ------------------------------------------------------------------------------------- property tests

TOKENS = [
    FAMILY,
    PARTY,
    "\U0001f1ea\U0001f1f8",
    "1\ufe0f\u20e3",
    "e\u0301",
    "中文",
    "한국어",
    "€",
    "{",
    "}",
    "#1",
    "#sale",
    "@brand",
    "best",
    "the best",
    "GUARANTEED",
    "garantizado",
    "bestseller",
    "cheap",
    "CAFÉ",
    "https://example.com/path",
    "example.io",
    "!!!",
    "??",
    " ",
    "  ",
    "\n",
    "/",
    "\u2019",
    "\u2026",
    "\U0001d400",
    "BIG SALE NOW",
    "Terms",
    "STOP",
]
words = st.text("abcdefghij ", min_size=1, max_size=10)
pieces = st.one_of(st.sampled_from(TOKENS), words, st.characters(codec="utf-8"))
short_texts = st.lists(pieces, max_size=30).map("".join)
texts = st.one_of(short_texts, st.tuples(short_texts, st.integers(1, 40)).map(lambda pair: pair[0] * pair[1]))
RULE_SETS = [
    BrandRules(),
    BrandRules(
        banned_words=["cheap", "cafe"],
        required_phrases=["Terms apply."],
        max_emoji=1,
        allow_all_caps_words=["SALE"],
    ),
    BrandRules(required_phrases=["T&C"], substantiated_claims=["best"], max_emoji=0),
]


def copies_for(spec: FormatSpec) -> st.SearchStrategy[dict[str, CopyValue]]:
    fields = {
        name: (st.lists(texts, max_size=field.max_items + 2) if field.is_list else texts)
        for name, field in spec.fields.items()
    }
    return st.fixed_dictionaries({}, optional=fields)


@pytest.mark.parametrize("spec", SPECS.formats, ids=lambda spec: spec.key)
def test_fixed_copy_passes_lint_for_random_text(spec: FormatSpec) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(copy=copies_for(spec), rules=st.sampled_from(RULE_SETS), prefer=st.booleans())
    def check(copy: dict[str, CopyValue], rules: BrandRules, prefer: bool) -> None:
        fixed, _ = fix_copy(copy, spec, rules, prefer_recommended=prefer)
        report = lint_copy(fixed, spec, rules)
        assert {issue.code for issue in report.errors} <= UNFIXABLE_CODES, report.errors
        for name, field in spec.fields.items():
            value = fixed.get(name)
            items = [value] if isinstance(value, str) else list(value or [])
            assert len(items) <= field.max_items
            for item in items:
                if field.max_length is not None:
                    assert measure(item, field.counting) <= field.max_length
                if prefer and field.recommended is not None:
                    assert measure(item, field.counting) <= field.recommended
                if field.max_segments is not None:
                    assert sms_info(item).segments <= field.max_segments

    check()
