"""Frozen DTOs the content facade returns and accepts; tools expose them as typed MCP outputs."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from promptsales.domain_core.shared.dto import Dto

AssetKind = Literal["copy", "image", "video"]
AssetStatus = Literal["draft", "in_review", "approved", "rejected"]
TextProviderKind = Literal["local", "openai", "anthropic", "openai_compatible", "sampling"]
ImageProviderKind = Literal["local", "openai"]


class BrandKitView(Dto):
    """A brand kit as stored (the logo is referenced, not inlined)."""

    id: str
    name: str
    is_default: bool
    voice: str
    colors: list[str]
    fonts: list[str]
    banned_words: list[str]
    required_phrases: list[str]
    substantiated_claims: list[str]
    max_emoji: int | None
    logo_uri: str | None = Field(description="Resource URI of the logo PNG, if any.")
    version: int
    updated_at: datetime


class LintIssueView(Dto):
    """One problem found in copy."""

    code: str
    severity: Literal["error", "warning"]
    field: str | None
    index: int | None
    message: str
    hint: str | None


class FieldLength(Dto):
    """A field's length as the platform counts it."""

    field: str
    index: int | None
    length: int
    limit: int | None
    recommended: int | None
    counting: str
    sms_encoding: str | None = None
    sms_segments: int | None = None


class LintReportView(Dto):
    """The lint report of one variant (ok = no errors)."""

    ok: bool
    issues: list[LintIssueView]
    lengths: list[FieldLength]


class CopyVariant(Dto):
    """One generated or checked piece of copy, with its lint report (and its library asset)."""

    asset_id: str | None
    fields: dict[str, str | list[str]]
    lint: LintReportView


class Usage(Dto):
    """What a generation cost: provider, model and tokens."""

    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0


class CopyResult(Dto):
    """Generated copy variants, each within the channel spec."""

    channel: str
    format: str
    language: str
    variants: list[CopyVariant]
    usage: Usage


class CheckResult(Dto):
    """Lint of given copy; with a rewrite, the fixed copy and what changed."""

    channel: str
    format: str
    variant: CopyVariant
    changes: list[str] = Field(default_factory=list)


class AssetVersionView(Dto):
    """One version of an asset."""

    version: int
    body: dict[str, Any]
    file_uri: str | None
    mime_type: str | None
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    created_by: str
    created_at: datetime


class AssetView(Dto):
    """An asset in the content library and its review state."""

    id: str
    kind: AssetKind
    title: str
    channel: str | None
    target: str | None
    status: AssetStatus
    current_version: int
    uri: str
    file_uri: str | None
    brand_kit_id: str | None
    created_by: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    updated_at: datetime
    versions: list[AssetVersionView] = Field(default_factory=list)


class AssetPage(Dto):
    """Assets newest first."""

    items: list[AssetView]
    next_cursor: str | None


class ApprovedCopy(Dto):
    """An approved copy asset's current version, for another context to send as it stands (an email platform)."""

    asset_id: str
    version: int
    title: str
    channel: str
    format: str | None
    language: str
    fields: dict[str, str | list[str]] = Field(description="The copy's fields as its channel spec names them.")
    brand_kit_id: str | None
    accent_color: str | None = Field(description="The brand kit's first colour (#RRGGBB), if it has one.")


class CreativeResult(Dto):
    """A rendered image or video stored in the library."""

    asset: AssetView
    placement: str
    width: int
    height: int
    mime_type: str
    bytes: int
    duration_seconds: float | None = None
    frame_count: int | None = None
    codec: str | None = None
    usage: Usage


class ClassificationView(Dto):
    """Labels for a text: intent, sentiment and, with labels given, topic."""

    intent: str
    intent_confidence: float
    sentiment: Literal["positive", "neutral", "negative"]
    sentiment_score: float
    topic: str | None
    topic_confidence: float | None
    scores: dict[str, float]
    evidence: list[str]
    usage: Usage


class SummaryView(Dto):
    """An extractive summary (sentences verbatim from the text)."""

    summary: str
    sentences: list[str]
    ratio: float
    usage: Usage


class ExtractionView(Dto):
    """Fields extracted from a text by a JSON schema; nothing is invented."""

    values: dict[str, Any]
    missing: list[str]
    evidence: dict[str, str]
    usage: Usage


class AiSettingsView(Dto):
    """The tenant's text and image model providers (API keys are never shown)."""

    text_provider: TextProviderKind
    text_model: str
    image_provider: ImageProviderKind
    image_model: str
    base_url: str | None
    api_key_stored: bool
    allow_self_approval: bool = False


class InteractionSignals(Dto):
    """What CRM keeps of an interaction's text: intent and sentiment."""

    intent: str
    intent_confidence: float
    sentiment: Literal["positive", "neutral", "negative"]
    sentiment_score: float


class ImportedDesign(Dto):
    """A design file a design platform exported (handed in by the composition root; never a URL)."""

    data: bytes = Field(repr=False)
    mime_type: str
    title: str
    width: int | None = None
    height: int | None = None


class BrandKitPush(Dto):
    """What a design platform received of a brand kit."""

    platform: str
    brand_kit: str
    logo_asset_id: str = Field(description="The logo's id on the platform (Canva: an upload the user can place).")
    colours_pushed: bool = Field(description="Always false: no connected design platform's API takes brand colours.")
