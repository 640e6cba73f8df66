"""Lint issue codes and the report models: issues, field measures and the ``ok`` verdict."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from promptsales.domain_core.content.model.text_measure import Counting

Severity = Literal["error", "warning"]

WARNING_CODES = frozenset(
    {
        "unknown_field",
        "over_recommended",
        "all_caps_word",
        "repeated_punctuation",
        "sms_unicode",
        "multi_segment",
        "repeated_text",
        "too_many_superlatives",
    }
)
ERROR_CODES = frozenset(
    {
        "missing_field",
        "too_few_items",
        "too_many_items",
        "over_limit",
        "too_short",
        "no_short_item",
        "requires_field",
        "emoji_not_allowed",
        "hashtag_not_allowed",
        "mention_not_allowed",
        "link_not_allowed",
        "slash_not_allowed",
        "newline_not_allowed",
        "braces_not_allowed",
        "too_many_emoji",
        "banned_word",
        "missing_required_phrase",
        "unsubstantiated_claim",
        "all_caps_field",
        "too_many_segments",
        "payload_too_large",
        "duplicate_item",
        "repeated_field",
        "compliance_filler",
    }
)
# What fixing cannot do: invent missing text.
UNFIXABLE_CODES = frozenset({"missing_field", "too_few_items", "too_short"})


class LintIssue(BaseModel):
    """One finding, naming the field (and item index for list fields) and what to do."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    field: str | None
    index: int | None = None
    message: str
    hint: str | None = None


class FieldMeasure(BaseModel):
    """A field item's length as the platform counts it."""

    model_config = ConfigDict(frozen=True)

    field: str
    index: int | None
    length: int
    limit: int | None
    recommended: int | None
    counting: Counting
    encoding: str | None = None
    segments: int | None = None
    max_segments: int | None = None


class LintReport(BaseModel):
    """Lint result: ``ok`` when there are no errors."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    issues: tuple[LintIssue, ...]
    measures: tuple[FieldMeasure, ...]

    @property
    def errors(self) -> list[LintIssue]:
        """Issues that block publishing."""
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[LintIssue]:
        """Issues worth a look."""
        return [issue for issue in self.issues if issue.severity == "warning"]

    @property
    def codes(self) -> set[str]:
        """The distinct issue codes."""
        return {issue.code for issue in self.issues}
