"""Property: for random briefs (multi-byte, emoji, RTL, long words), every generated variant of every channel
format is within the platform's hard limits as the platform counts length, after the same finishing step the
generate_copy tool applies (local writer → fix_copy → lint)."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptsales.domain_core.content.dto import Usage
from promptsales.domain_core.content.model.channel_specs import load_channel_specs
from promptsales.domain_core.content.model.copy_lint import ERROR_CODES, UNFIXABLE_CODES, BrandRules
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
    ]
)
BRIEFS = st.lists(st.one_of(WORDS, st.text(min_size=1, max_size=30)), min_size=1, max_size=25).map(" ".join)
# Every lint error except what no fix can do (invent missing text): the finished copy must be free of them.
HARD_ERRORS = ERROR_CODES - UNFIXABLE_CODES


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
    drafts = copy.local_variants(brief, spec, language=language, tone=tone, variants=2)
    generated, fixed = copy.result(spec, language, drafts, BrandRules(), Usage(provider="local", model="t"))
    for fields, variant in zip(fixed, generated.variants, strict=True):
        assert not over_limit(channel, fmt, fields), (channel, fmt, brief)
        codes = {issue.code for issue in variant.lint.issues if issue.severity == "error"}
        assert not codes & HARD_ERRORS, (channel, fmt, codes)
