"""Copy lint: checks a variant against its channel's format spec and the tenant's brand rules.

Decisions worth knowing:
- Banned words, claims and required phrases match case- and accent-insensitively (NFKD, marks dropped,
  casefold; typographic apostrophes read as ``'``), on whole words: ``cure`` does not match ``secure``.
- Claims are English and Spanish. A hyphen is a word boundary, so ``best-in-class`` and ``best-selling`` are
  claims (they need proof too); a closed compound such as ``bestseller`` is not matched. Idioms that are not
  claims (``best regards``, ``all the best``, ``at best``...) are exempt, and so is text inside a required
  phrase (``Results not guaranteed.``) or a claim the brand substantiates.
- ALL-CAPS: words of 4+ letters written in capitals warn unless allowed (``STOP`` and ``HELP``, the SMS
  opt-out keywords, always are); a field with such a word and no lower-case letter at all is an error.
- Emoji limits (the brand's ``max_emoji``, 2 when it sets none, and a field's own) count per field item.
- Quality checks (``copy_quality``): repeated items, filler after compliance lines, stacked superlatives.
"""

from collections.abc import Mapping

from promptsales.domain_core.content.model.brand_rules import BrandRules, find_required
from promptsales.domain_core.content.model.channel_specs import FormatSpec
from promptsales.domain_core.content.model.claims import CLAIMS
from promptsales.domain_core.content.model.lint_report import (
    ERROR_CODES,
    UNFIXABLE_CODES,
    WARNING_CODES,
    FieldMeasure,
    LintIssue,
    LintReport,
)
from promptsales.domain_core.content.model.lint_rules import (
    Collector,
    CopyValue,
    check_brand,
    check_channel_rules,
    check_items,
    check_length,
    check_quality,
    check_repetition,
    items_of,
)
from promptsales.domain_core.content.model.text_measure import utf8_bytes

# The lint API in one place: the report models, issue codes, brand rules and claims live in their own modules.
__all__ = [
    "CLAIMS",
    "ERROR_CODES",
    "UNFIXABLE_CODES",
    "WARNING_CODES",
    "BrandRules",
    "CopyValue",
    "FieldMeasure",
    "LintIssue",
    "LintReport",
    "lint_copy",
]


def lint_copy(copy: Mapping[str, CopyValue], spec: FormatSpec, rules: BrandRules | None = None) -> LintReport:
    """Lint one variant (field name -> text or list of texts) against a format spec and brand rules."""
    rules = rules or BrandRules()
    out = Collector()
    given = {name: items_of(value, name) for name, value in copy.items()}
    for name in given:
        if name not in spec.fields:
            out.add(
                "unknown_field",
                name,
                None,
                f"{spec.key} has no field '{name}'; it is ignored.",
                f"Fields: {', '.join(spec.fields)}.",
            )
    for name, field in spec.fields.items():
        items = given.get(name, [])
        check_items(out, field, items)
        for position, text in enumerate(items):
            index = position if field.is_list else None
            check_length(out, field, index, text)
            check_channel_rules(out, field, index, text)
            check_brand(out, field, index, text, rules)
            check_quality(out, field, index, text, rules)
        for needed in field.requires:
            if items and not given.get(needed):
                out.add(
                    "requires_field",
                    name,
                    None,
                    f"{name} can only be set when {needed} is.",
                    f"Set {needed} first, or move this text there.",
                )
    check_repetition(out, spec, given)
    texts = [text for name, items in given.items() if name in spec.fields for text in items]
    for phrase in rules.required_phrases:
        if phrase.strip() and not any(find_required(text, phrase) for text in texts):
            out.add(
                "missing_required_phrase",
                None,
                None,
                f"The required phrase '{phrase}' does not appear in any field.",
                f"Add it, for example to {spec.body_field}.",
            )
    if spec.payload is not None:
        size = sum(utf8_bytes(text) for text in texts)
        if size > spec.payload.text_budget:
            out.add(
                "payload_too_large",
                None,
                None,
                f"The text takes {size} UTF-8 bytes; {spec.payload.text_budget} of the {spec.payload.max_bytes}-byte "
                "payload are available for it.",
                f"Shorten {spec.body_field}.",
            )
    ok = not any(issue.severity == "error" for issue in out.issues)
    return LintReport(ok=ok, issues=tuple(out.issues), measures=tuple(out.measures))
