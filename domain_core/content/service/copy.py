"""Channel-ready copy: generate variants (local writer or a model), lint them, fix what fails, keep them.

Whatever writes the first draft, every variant passes through ``fix_copy`` and ``lint_copy`` with the
channel's spec and the brand's rules, so what leaves here fits the platform as it counts length.
"""

import json
from functools import partial
from typing import Any

from promptsales.domain_core.content.dto import (
    CheckResult,
    CopyResult,
    CopyVariant,
    FieldLength,
    LintIssueView,
    LintReportView,
    Usage,
)
from promptsales.domain_core.content.model.brand_rules import BrandRules
from promptsales.domain_core.content.model.brief_parsing import compliance_lines
from promptsales.domain_core.content.model.channel_specs import FieldSpec, FormatSpec
from promptsales.domain_core.content.model.copy_fit import fix_copy
from promptsales.domain_core.content.model.copy_lint import lint_copy
from promptsales.domain_core.content.model.copywriter import FieldPlan, write_copy
from promptsales.domain_core.content.model.lint_report import LintReport
from promptsales.domain_core.content.model.text_measure import measure
from promptsales.domain_core.content.providers.base import TextRequest, TextResult
from promptsales.domain_core.shared.errors import UpstreamError

# Opt-out and rates lines belong where people are messaged directly; an ad has nothing to reply to.
MESSAGING_CHANNELS = frozenset({"sms", "whatsapp", "email"})
# How many items a list field gets: enough to choose from, within the platform's bounds.
PREFERRED_ITEMS = 5
FIELD_KINDS = {
    "headline": "headline",
    "headlines": "headline",
    "short_headlines": "headline",
    "long_headline": "headline",
    "title": "headline",
    "subject": "subject",
    "preheader": "preheader",
    "path1": "path",
    "path2": "path",
    "call_to_action": "cta",
    "cta": "cta",
    "button_text": "cta",
    "buttons": "cta",
    "business_name": "short",
    "header": "short",
    "footer": "short",
}


def item_count(spec: FieldSpec) -> int:
    """Items to write for a field: its maximum when small, else a choice of five within its bounds."""
    return spec.max_items if spec.max_items <= 4 else max(spec.min_items, min(spec.max_items, PREFERRED_ITEMS))


def rules_for_brief(brief: str, spec: FormatSpec, rules: BrandRules) -> BrandRules:
    """The brand's rules plus, on messaging channels, the brief's compliance lines as required phrases (verbatim)."""
    if spec.channel not in MESSAGING_CHANNELS:
        return rules
    missing = [line for line in compliance_lines(brief) if line not in rules.required_phrases]
    return rules.model_copy(update={"required_phrases": [*rules.required_phrases, *missing]}) if missing else rules


def plans_for(spec: FormatSpec) -> list[FieldPlan]:
    """What the writer must produce for a format: each field's limit and the platform's way of counting."""
    plans = []
    for name, field in spec.fields.items():
        limit = field.recommended or field.max_length
        if limit is None:
            continue
        plans.append(
            FieldPlan(
                name=name,
                max_length=limit,
                measure=partial(measure, counting=field.counting),
                items=item_count(field),
                recommended=field.recommended,
                kind=FIELD_KINDS.get(name, "body"),  # type: ignore[arg-type]  # the writer's vocabulary
            )
        )
    return plans


def report_view(report: LintReport) -> LintReportView:
    """A lint report as the facade returns it."""
    return LintReportView(
        ok=report.ok,
        issues=[
            LintIssueView(
                code=i.code, severity=i.severity, field=i.field, index=i.index, message=i.message, hint=i.hint
            )
            for i in report.issues
        ],
        lengths=[
            FieldLength(
                field=m.field,
                index=m.index,
                length=m.length,
                limit=m.limit,
                recommended=m.recommended,
                counting=m.counting,
                sms_encoding=getattr(m, "encoding", None),
                sms_segments=getattr(m, "segments", None),
            )
            for m in report.measures
        ],
    )


def finish(
    copy: dict[str, Any], spec: FormatSpec, rules: BrandRules
) -> tuple[dict[str, Any], LintReportView, list[str]]:
    """Fix what can be fixed, then lint: the copy that leaves and its report."""
    fixed, changes = fix_copy(copy, spec, rules)
    return fixed, report_view(lint_copy(fixed, spec, rules)), changes


def copy_request(
    brief: str, spec: FormatSpec, rules: BrandRules, *, voice: str, language: str, tone: str, variants: int
) -> TextRequest:
    """The prompt for a model: the brief, each field's limit as the platform counts it, the brand's rules."""
    lines = []
    properties: dict[str, Any] = {}
    for plan in plans_for(spec):
        counting = spec.fields[plan.name].counting
        shape = f"a list of {plan.items} distinct strings" if plan.items > 1 else "one string"
        lines.append(f"- {plan.name}: {shape}, each at most {plan.max_length} ({counting}).")
        text = {"type": "string"}
        properties[plan.name] = {"type": "array", "items": text} if plan.items > 1 else text
    rules_text = []
    if rules.banned_words:
        rules_text.append("Never use these words: " + ", ".join(rules.banned_words) + ".")
    if rules.required_phrases:
        rules_text.append("Include exactly: " + " | ".join(rules.required_phrases) + ".")
    rules_text.append(
        "Make no claim the brief does not support (no 'guaranteed', '#1', 'the best'); no ALL CAPS; "
        "at most one exclamation mark."
    )
    schema = {
        "type": "object",
        "properties": {
            "variants": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": properties,
                    "required": list(properties),
                    "additionalProperties": False,
                },
            }
        },
        "required": ["variants"],
        "additionalProperties": False,
    }
    return TextRequest(
        system=(
            f"You are a senior performance-marketing copywriter for {spec.title}. Brand voice: {voice or 'clear'}. "
            "Answer with JSON only."
        ),
        prompt=(
            f"Write {variants} distinct variants in language '{language}' with a {tone} tone for this brief:\n"
            f"{brief}\n\nFields:\n" + "\n".join(lines) + "\n" + " ".join(rules_text)
        ),
        max_output_tokens=min(4000, 300 + 250 * variants),
        temperature=0.8,
        json_schema=schema,
        schema_name="copy_variants",
    )


def parse_variants(result: TextResult, spec: FormatSpec, expected: int) -> list[dict[str, Any]]:
    """The variants in a model's JSON answer (shape-checked; missing fields are left for lint to report)."""
    try:
        data = json.loads(_strip_fence(result.text))
        raw = data["variants"] if isinstance(data, dict) else data
        if not isinstance(raw, list) or not raw:
            raise ValueError("no variants")
    except (ValueError, KeyError, TypeError) as exc:
        raise UpstreamError(
            f"The {result.provider} model did not answer with the JSON asked for; nothing was saved.",
            hint="Retry, or choose another model with content_set_ai_provider.",
        ) from exc
    variants = []
    for entry in raw[:expected]:
        if not isinstance(entry, dict):
            continue
        variant: dict[str, Any] = {}
        for name, field in spec.fields.items():
            value = entry.get(name)
            if isinstance(value, list):
                items = [str(v) for v in value if isinstance(v, str | int | float)]
                variant[name] = items if field.max_items > 1 else (items[0] if items else "")
            elif isinstance(value, str):
                variant[name] = [value] if field.max_items > 1 else value
        variants.append(variant)
    if not variants:
        raise UpstreamError(f"The {result.provider} model returned no usable variant; nothing was saved.")
    return variants


def _strip_fence(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped


def local_variants(brief: str, spec: FormatSpec, *, language: str, tone: str, variants: int) -> list[dict[str, Any]]:
    """Variants from the offline writer."""
    return write_copy(brief, plans_for(spec), language=language, tone=tone, variants=variants)


def result(
    spec: FormatSpec, language: str, drafts: list[dict[str, Any]], rules: BrandRules, usage: Usage
) -> tuple[CopyResult, list[dict[str, Any]]]:
    """The finished variants (without asset ids yet) and their fixed copy."""
    finished = [finish(draft, spec, rules) for draft in drafts]
    return (
        CopyResult(
            channel=spec.channel,
            format=spec.format,
            language=language,
            variants=[CopyVariant(asset_id=None, fields=fixed, lint=report) for fixed, report, _ in finished],
            usage=usage,
        ),
        [fixed for fixed, _, _ in finished],
    )


def check(copy: dict[str, Any], spec: FormatSpec, rules: BrandRules, *, rewrite: bool) -> CheckResult:
    """Lint given copy; with ``rewrite``, fix it first and say what changed."""
    if rewrite:
        fixed, report, changes = finish(copy, spec, rules)
        return CheckResult(
            channel=spec.channel,
            format=spec.format,
            variant=CopyVariant(asset_id=None, fields=fixed, lint=report),
            changes=changes,
        )
    report = report_view(lint_copy(copy, spec, rules))
    return CheckResult(
        channel=spec.channel, format=spec.format, variant=CopyVariant(asset_id=None, fields=copy, lint=report)
    )
