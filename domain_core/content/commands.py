"""The content context's command models: one frozen input per mutating use case, from the tool to the service.

The parameter types double as the tools' typed parameters, so a limit is declared once and fits its column
(``tables.py``); secrets and large uploads count in the idempotency digest as their hashes.
"""

import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from promptsales.domain_core.content.dto import ImageProviderKind, TextProviderKind
from promptsales.domain_core.shared.commands import Command

CHANNEL_SPECS_URI = "content://content/channel-specs"

BrandKitName = Annotated[  # content_brand_kits.name
    str, Field(min_length=1, max_length=80)
]
Brief = Annotated[  # kept in the asset's body (JSON); titles take its first 80 characters
    str,
    Field(
        min_length=3,
        max_length=4000,
        description="Product, audience, offer, proof.",
    ),
]
Channel = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,  # content_assets.channel
        pattern=r"^[a-z_]+$",
        description="e.g. google_ads, meta, sms.",
    ),
]
Format = Annotated[
    str,
    Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$", description="e.g. rsa, feed."),
]
Placement = Annotated[
    str,
    Field(
        min_length=1,
        max_length=60,  # content_assets.target
        pattern=r"^[a-z0-9_]+$",
        description=f"From {CHANNEL_SPECS_URI}, e.g. meta_feed_square.",
    ),
]
Language = Annotated[Literal["en", "es"], Field()]
Tone = Annotated[Literal["professional", "friendly", "bold", "playful", "urgent"], Field()]
AssetId = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^as_[0-9A-Z]{26}$")]
Note = Annotated[str, Field(max_length=1000, description="Required to reject.")]  # content_assets.decision_note
Decision = Literal["submit", "approve", "reject"]
HexColor = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", max_length=7)]
Word = Annotated[str, Field(min_length=1, max_length=80)]
Phrase = Annotated[str, Field(min_length=1, max_length=300)]
# Brand kit parts: optional, so the tools show each description at the parameter's top level.
Voice = Annotated[str | None, Field(default=None, max_length=1000, description="How the brand speaks.")]
Colors = Annotated[list[HexColor] | None, Field(default=None, max_length=8, description="#RRGGBB, main first.")]
# 1,000,000 base64 characters (a 750 kB PNG) keep the call inside the 4 MiB request body limit.
LogoPng = Annotated[str | None, Field(default=None, max_length=1_000_000, description="Base64 PNG, ≤750 kB.")]
Fonts = Annotated[list[Word] | None, Field(default=None, max_length=4, description="Headings then body.")]
BannedWords = Annotated[
    list[Word] | None,
    Field(default=None, max_length=200, description="Never in copy (whole words)."),
]
RequiredPhrases = Annotated[
    list[Phrase] | None, Field(default=None, max_length=20, description="Must appear verbatim.")
]
SubstantiatedClaims = Annotated[
    list[Phrase] | None,
    Field(
        default=None,
        max_length=20,
        description="Provable claims copy may make.",
    ),
]
MaxEmoji = Annotated[int | None, Field(default=None, ge=0, le=20, description="Per field (default 2).")]
ModelId = Annotated[str, Field(min_length=1, max_length=80)]  # content_ai_settings.text_model / image_model
# OpenAI project keys are about 170 characters, Anthropic keys about 110; kept sealed in an 8000-character column.
ApiKey = Annotated[SecretStr, Field(min_length=1, max_length=500, description="Stored encrypted.")]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class SetBrandKit(Command):
    """Create or replace the kit called ``name`` (the first kit becomes the default)."""

    name: BrandKitName
    voice: Voice = None
    colors: Colors = None
    logo_png_base64: LogoPng = None
    fonts: Fonts = None
    banned_words: BannedWords = None
    required_phrases: RequiredPhrases = None
    substantiated_claims: SubstantiatedClaims = None
    max_emoji: MaxEmoji = None
    is_default: bool = False

    def digest_source(self) -> dict[str, Any]:
        """The logo counts as its hash (a megabyte of base64 need not be kept to compare two requests)."""
        source = self.model_dump(mode="json")
        if self.logo_png_base64 is not None:
            source["logo_png_base64"] = _sha256(self.logo_png_base64)
        return source


class GenerateCopy(Command):
    """N copy variants for a channel format, each kept as a draft asset."""

    brief: Brief
    channel: Channel
    format: Format
    language: Language = "en"
    tone: Tone = "professional"
    variants: int = Field(default=3, ge=1, le=10)
    brand_kit: BrandKitName | None = None


class GenerateImage(Command):
    """A PNG for a placement, kept as a draft asset."""

    brief: Brief
    placement: Placement
    brand_kit: BrandKitName | None = None
    language: Language = "en"
    variant: int = Field(default=0, ge=0, le=9)


class StoryboardScene(BaseModel):
    """A video scene; seconds are relative."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    headline: str = Field(min_length=1, max_length=120)
    body: str | None = Field(default=None, max_length=300)
    call_to_action: str | None = Field(default=None, max_length=40)
    seconds: float = Field(default=1.0, gt=0, le=60)


class GenerateVideo(Command):
    """An MP4 for a placement, from a storyboard or from a brief, kept as a draft asset."""

    placement: Placement
    brief: Brief | None = None
    storyboard: list[StoryboardScene] | None = Field(default=None, max_length=12)
    duration_seconds: float | None = Field(default=None, ge=1, le=60)
    brand_kit: BrandKitName | None = None
    language: Language = "en"


class DecideAsset(Command):
    """Move an asset through review: submit (draft → in_review), approve or reject (in_review → …)."""

    asset_id: AssetId
    decision: Decision
    note: Note | None = None


class SetAiProvider(Command):
    """The tenant's text and image model providers (and an API key, sealed)."""

    text_provider: TextProviderKind
    text_model: ModelId | None = None
    image_provider: ImageProviderKind = "local"
    image_model: ModelId | None = None
    base_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://")
    api_key: ApiKey | None = None
    allow_self_approval: bool | None = None

    def digest_source(self) -> dict[str, Any]:
        """The key counts as its hash (its JSON form is masked, so two different keys would look the same)."""
        source = self.model_dump(mode="json", exclude={"api_key"})
        source["api_key"] = _sha256(self.api_key.get_secret_value()) if self.api_key is not None else None
        return source


DesignPlatform = Literal["canva", "adobe_express"]
DesignId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=38,  # content_assets.target holds "design:<platform>:<id>" in 60 characters
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]


class ImportDesign(Command):
    """A connected design platform's design, exported as PNG into the library (again: a new version)."""

    platform: DesignPlatform
    design_id: DesignId
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class PushBrandKit(Command):
    """Send a brand kit's logo to a connected design platform (where its API takes one)."""

    platform: DesignPlatform
    brand_kit: BrandKitName | None = None
