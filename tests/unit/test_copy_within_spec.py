"""Property: for random briefs (multi-byte, emoji, RTL, long words, compliance lines, hype), every generated
variant of every channel format is within the platform's hard limits as the platform counts length, after the
same finishing step the generate_copy tool applies (local writer → fix_copy → lint), and passes the quality
checks: nothing repeated, compliance lines kept plain, at most one superlative and two emoji per item — both
as the writer drafts it and as it leaves the tool."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptsales.domain_core.content.dto import Usage
from promptsales.domain_core.content.model.channel_specs import load_channel_specs
from promptsales.domain_core.content.model.copy_lint import ERROR_CODES, UNFIXABLE_CODES, BrandRules, lint_copy
from promptsales.domain_core.content.model.text_measure import measure
from promptsales.domain_core.content.service import copy

SPECS = load_channel_specs()
FORMATS = [(channel, spec.format) for channel in SPECS.channels for spec in SPECS.formats_of(channel)]
WORDS = st.sampled_from(
    [
        "PromptSales",
        "campaigns",
        "60%",
        "free trial",
        "book a demo",
        "🚀",
        "👨‍👩‍👧‍👦",
        "🇪🇸",
        "漢字テスト",
        "مرحبا",
        "ñandú",
        "Straße",
        "e\u0301",
        "x" * 80,
        "https://promptsales.example/launch?utm=1",
        "€",
        "{",
        "~",
        "Reply STOP to opt out.",
        "reply stop to opt out today",
        "Msg & data rates may apply",
        "Responde BAJA para darte de baja.",
        "amazing",
        "the most incredible",
        "deal ever",
        "leading",
        "increíble",
        "🚀🚀🚀🚀",
        "CRM",
        "CRM CRM",
    ]
)
BRIEFS = st.lists(st.one_of(WORDS, st.text(min_size=1, max_size=30)), min_size=1, max_size=25).map(" ".join)
# Every lint error except what no fix can do (invent missing text): the finished copy must be free of them.
HARD_ERRORS = ERROR_CODES - UNFIXABLE_CODES
QUALITY_CODES = {
    "duplicate_item",
    "repeated_field",
    "repeated_text",
    "compliance_filler",
    "too_many_superlatives",
    "too_many_emoji",
}


def over_limit(channel: str, fmt: str, fields: dict[str, Any]) -> list[str]:
    spec = SPECS.format(channel, fmt)
    over = []
    for name, value in fields.items():
        field = spec.fields[name]
        items = value if isinstance(value, list) else [value]
        if len(items) > field.max_items:
            over.append(f"{name}: {len(items)} items > {field.max_items}")
        for item in items:
            if field.max_length is not None and measure(item, field.counting) > field.max_length:
                over.append(f"{name}: {item!r} ({measure(item, field.counting)} > {field.max_length} {field.counting})")
    return over


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    brief=BRIEFS.filter(lambda b: len(b.strip()) >= 3),
    pick=st.integers(min_value=0, max_value=len(FORMATS) - 1),
    language=st.sampled_from(["en", "es"]),
    tone=st.sampled_from(["professional", "friendly", "bold", "playful", "urgent"]),
)
def test_every_variant_of_every_format_fits_its_spec(brief: str, pick: int, language: str, tone: str) -> None:
    channel, fmt = FORMATS[pick]
    spec = SPECS.format(channel, fmt)
    rules = copy.rules_for_brief(brief, spec, BrandRules())
    drafts = copy.local_variants(brief, spec, language=language, tone=tone, variants=2)
    for draft in drafts:
        drafted = {issue.code for issue in lint_copy(draft, spec, BrandRules()).issues}
        assert not drafted & (QUALITY_CODES | {"too_few_items", "missing_field"}), (channel, fmt, drafted, draft)
    generated, fixed = copy.result(spec, language, drafts, rules, Usage(provider="local", model="t"))
    for fields, variant in zip(fixed, generated.variants, strict=True):
        assert not over_limit(channel, fmt, fields), (channel, fmt, brief)
        codes = {issue.code for issue in variant.lint.issues}
        errors = {issue.code for issue in variant.lint.issues if issue.severity == "error"}
        assert not errors & HARD_ERRORS, (channel, fmt, errors, fields)
        assert not codes & QUALITY_CODES, (channel, fmt, codes, fields)


@pytest.mark.parametrize("channel", sorted(copy.MESSAGING_CHANNELS))
def test_a_briefs_opt_out_line_is_kept_verbatim_on_messaging_channels_and_never_padded(channel: str) -> None:
    spec = SPECS.formats_of(channel)[0]
    brief = "Promote our spring sale: 20% off all plans for small businesses. Reply STOP to opt out."
    rules = copy.rules_for_brief(brief, spec, BrandRules())
    for tone in ("urgent", "friendly", "playful", "bold"):
        drafts = copy.local_variants(brief, spec, language="en", tone=tone, variants=3)
        _, fixed = copy.result(spec, "en", drafts, rules, Usage(provider="local", model="t"))
        for fields in fixed:
            text = " ".join(v if isinstance(v, str) else " ".join(v) for v in fields.values())
            assert text.count("Reply STOP to opt out.") == 1, fields
            assert "opt out today" not in text and "opt out now" not in text and "opt out!" not in text


def test_ads_do_not_carry_opt_out_lines_or_repeat_their_paths() -> None:
    spec = SPECS.format("google_ads", "rsa")
    brief = "Promote our spring sale: 20% off all plans for small businesses. Reply STOP to opt out."
    for tone in ("urgent", "professional", "playful"):
        for draft in copy.local_variants(brief, spec, language="en", tone=tone, variants=3):
            assert "STOP" not in repr(draft)
            assert draft["path1"] != draft.get("path2")
