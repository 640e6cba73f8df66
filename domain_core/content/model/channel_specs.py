"""Channel specs: the copy, image and video limits platforms enforce, loaded from ``channel_specs.json``.

JSON has no comments, so the citations are data: every spec carries a ``source`` (URL, other references, the
confidence mark P / P-copy / S / W of shared/reference/channel_specs.md, or ``product`` for our own choices)
and a ``sources`` map for the figures that come from elsewhere; ``source_of(attribute)`` resolves either.
"""

from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from promptsales.domain_core.content.model.text_measure import Counting
from promptsales.domain_core.shared.errors import ValidationFailed

Confidence = Literal["P", "P-copy", "S", "W", "product"]
SIMPLE_RULES = frozenset({"no_emoji", "no_hashtags", "no_mentions", "no_links", "no_slash", "no_newline", "no_braces"})
# Parameterised rules: "requires:<field>" (only with that field set), "at_least_one_short:<n>" (one item <= n).
PARAMETER_RULES = frozenset({"requires", "at_least_one_short"})
_ASPECT_TOLERANCE_PCT = 1.0


class Source(BaseModel):
    """Where a figure was read and how far to trust it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    also: tuple[str, ...] = ()
    confidence: Confidence
    note: str = ""

    @model_validator(mode="after")
    def _cited(self) -> "Source":
        if self.confidence == "product":
            if not self.note:
                raise ValueError("a product choice needs a note saying what was chosen and why")
        elif not (self.url and self.url.startswith("https://")):
            raise ValueError(f"a {self.confidence} source needs an https URL")
        return self


class Cited(BaseModel):
    """A spec with a citation for every figure: ``source`` by default, ``sources[attribute]`` where it differs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Source
    sources: dict[str, Source] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sources_name_figures(self) -> "Cited":
        unknown = sorted(set(self.sources) - (set(type(self).model_fields) - {"source", "sources"}))
        if unknown:
            raise ValueError(f"sources names unknown attributes {unknown}")
        return self

    def source_of(self, attribute: str) -> Source:
        """The citation of one figure."""
        return self.sources.get(attribute, self.source)


class FieldSpec(Cited):
    """One copy field: how many items, how long each may be as the platform counts, and its rules."""

    name: str
    description: str = ""
    max_length: int | None = Field(default=None, ge=1)
    min_length: int | None = Field(default=None, ge=1)
    counting: Counting
    hard: bool = Field(description="True when max_length is the platform's own limit (it rejects longer text).")
    recommended: int | None = Field(default=None, ge=1, description="Where the platform truncates the display.")
    min_items: int = Field(default=1, ge=0)
    max_items: int = Field(default=1, ge=1)
    max_emoji: int | None = Field(default=None, ge=0)
    max_segments: int | None = Field(default=None, ge=1)
    recommended_segments: int | None = Field(default=None, ge=1)
    rules: tuple[str, ...] = ()

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for rule in value:
            name, _, argument = rule.partition(":")
            if rule not in SIMPLE_RULES and not (name in PARAMETER_RULES and argument):
                raise ValueError(f"unknown rule {rule!r}")
            if name == "at_least_one_short" and not argument.isdigit():
                raise ValueError(f"{rule!r} needs a length")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "FieldSpec":
        if self.min_items > self.max_items:
            raise ValueError("min_items exceeds max_items")
        if self.max_length is not None and self.recommended is not None and self.recommended > self.max_length:
            raise ValueError("recommended exceeds max_length")
        if self.max_length is not None and self.min_length is not None and self.min_length > self.max_length:
            raise ValueError("min_length exceeds max_length")
        if self.hard and self.max_length is None:
            raise ValueError("a hard field needs a max_length")
        return self

    @property
    def is_list(self) -> bool:
        """Whether the field takes several items (headlines) rather than one text."""
        return self.max_items > 1

    @property
    def required(self) -> bool:
        """Whether at least one item must be given."""
        return self.min_items > 0

    @property
    def requires(self) -> tuple[str, ...]:
        """Fields that must be set for this one to be allowed."""
        return tuple(rule.partition(":")[2] for rule in self.rules if rule.startswith("requires:"))

    @property
    def short_item_limit(self) -> int | None:
        """The length at least one item must stay within, when the platform asks for a short one."""
        for rule in self.rules:
            if rule.startswith("at_least_one_short:"):
                return int(rule.partition(":")[2])
        return None


class PayloadLimit(Cited):
    """A byte budget the fields share (push payloads); ``envelope_bytes`` are kept free for the JSON around them."""

    max_bytes: int = Field(ge=1)
    envelope_bytes: int = Field(default=0, ge=0)

    @property
    def text_budget(self) -> int:
        """UTF-8 bytes left for the text fields together."""
        return self.max_bytes - self.envelope_bytes


class FormatSpec(Cited):
    """One ad or message format of a channel and its copy fields."""

    channel: str
    format: str
    title: str
    fields: dict[str, FieldSpec]
    body_field: str = Field(description="Where disclaimers go when no other field has room.")
    notes: tuple[str, ...] = ()
    payload: PayloadLimit | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            named = {}
            for name, spec in data["fields"].items():
                named[name] = {"name": name, **spec} if isinstance(spec, dict) else spec
            data = {**data, "fields": named}
        return data

    @model_validator(mode="after")
    def _references(self) -> "FormatSpec":
        if self.body_field not in self.fields:
            raise ValueError(f"body_field {self.body_field!r} is not a field")
        for spec in self.fields.values():
            missing = [name for name in spec.requires if name not in self.fields]
            if missing:
                raise ValueError(f"{spec.name} requires unknown fields {missing}")
        return self

    @property
    def key(self) -> str:
        """``channel/format``, as tools name it."""
        return f"{self.channel}/{self.format}"


def _ratio(aspect_ratio: str) -> float:
    width, _, height = aspect_ratio.partition(":")
    return float(width) / float(height)


_RATIO_PATTERN = r"^\d+(\.\d+)?:\d+(\.\d+)?$"


class SafeZone(BaseModel):
    """Margins (percent of the frame) to keep text and logos out of, where the platform's UI overlays."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    top_pct: float = Field(ge=0, le=50)
    bottom_pct: float = Field(ge=0, le=50)
    side_pct: float = Field(ge=0, le=50)


class ImageSpec(Cited):
    """An image placement: the size to render, the ratio and bounds the platform accepts."""

    placement: str
    channel: str
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    aspect_ratio: str = Field(pattern=_RATIO_PATTERN)
    aspect_tolerance_pct: float | None = Field(default=None, ge=0)
    min_width: int | None = Field(default=None, ge=1)
    min_height: int | None = Field(default=None, ge=1)
    max_width: int | None = Field(default=None, ge=1)
    max_height: int | None = Field(default=None, ge=1)
    max_file_mb: float | None = Field(default=None, gt=0)
    file_types: tuple[str, ...] = ()
    safe_zone: SafeZone | None = None
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _size_matches_ratio(self) -> "ImageSpec":
        expected = _ratio(self.aspect_ratio)
        tolerance = (self.aspect_tolerance_pct or _ASPECT_TOLERANCE_PCT) / 100
        if abs(self.width / self.height - expected) > expected * tolerance:
            raise ValueError(f"{self.width}x{self.height} is not {self.aspect_ratio}")
        if (self.min_width or 0) > self.width or (self.min_height or 0) > self.height:
            raise ValueError("the render size is below the minimum")
        if self.width > (self.max_width or self.width) or self.height > (self.max_height or self.height):
            raise ValueError("the render size is above the maximum")
        return self


class VideoSpec(Cited):
    """A video placement: durations (seconds), ratio and size."""

    placement: str
    channel: str
    min_seconds: float | None = Field(default=None, ge=0)
    max_seconds: float | None = Field(default=None, gt=0)
    recommended_seconds: float | None = Field(default=None, gt=0)
    aspect_ratio: str = Field(pattern=_RATIO_PATTERN)
    alternative_ratios: tuple[str, ...] = ()
    width: int = Field(ge=1, description="The size to render.")
    height: int = Field(ge=1)
    min_width: int | None = Field(default=None, ge=1)
    min_height: int | None = Field(default=None, ge=1)
    max_width: int | None = Field(default=None, ge=1)
    max_file_mb: float | None = Field(default=None, gt=0)
    file_types: tuple[str, ...] = ()
    safe_zone: SafeZone | None = None
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> "VideoSpec":
        low, high = self.min_seconds or 0, self.max_seconds
        if high is not None and (low > high or (self.recommended_seconds or 0) > high):
            raise ValueError("durations are inconsistent")
        expected = _ratio(self.aspect_ratio)
        if abs(self.width / self.height - expected) > expected * _ASPECT_TOLERANCE_PCT / 100:
            raise ValueError(f"{self.width}x{self.height} is not {self.aspect_ratio}")
        if (self.min_width or 0) > self.width or self.width > (self.max_width or self.width):
            raise ValueError("the render width is outside the accepted range")
        return self


class SmsSpec(Cited):
    """SMS segment sizes (3GPP TS 23.038 via vendor docs)."""

    octets_per_message: int
    gsm7_single: int
    gsm7_concatenated: int
    ucs2_single: int
    ucs2_concatenated: int


class CountingSpec(Cited):
    """What one counting method means and why it is used."""

    description: str


class ChannelSpecs(BaseModel):
    """Every channel's formats, image and video placements, SMS segments and counting methods."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    compiled_from: str
    confidence_key: dict[str, str]
    counting: dict[Counting, CountingSpec]
    sms: SmsSpec
    formats: tuple[FormatSpec, ...]
    images: tuple[ImageSpec, ...]
    videos: tuple[VideoSpec, ...]

    @model_validator(mode="after")
    def _unique(self) -> "ChannelSpecs":
        for kind, keys in (
            ("format", [spec.key for spec in self.formats]),
            ("image placement", [spec.placement for spec in self.images]),
            ("video placement", [spec.placement for spec in self.videos]),
        ):
            duplicates = sorted({key for key in keys if keys.count(key) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind}s {duplicates}")
        return self

    @property
    def channels(self) -> list[str]:
        """Channel names, in catalogue order."""
        return list(dict.fromkeys(spec.channel for spec in self.formats))

    def formats_of(self, channel: str) -> list[FormatSpec]:
        """The formats of one channel (unknown channel: ValidationFailed on ``channel``)."""
        found = [spec for spec in self.formats if spec.channel == channel]
        if not found:
            raise ValidationFailed(
                f"Unknown channel '{channel}'. Valid channels: {', '.join(self.channels)}.",
                field="channel",
                hint="Read content://content/channel-specs for every channel and format.",
            )
        return found

    def format(self, channel: str, format: str) -> FormatSpec:
        """One format (unknown channel or format: ValidationFailed naming the field and the valid values)."""
        formats = self.formats_of(channel)
        for spec in formats:
            if spec.format == format:
                return spec
        raise ValidationFailed(
            f"Unknown format '{format}' for channel '{channel}'. Valid formats: "
            f"{', '.join(spec.format for spec in formats)}.",
            field="format",
            hint="Read content://content/channel-specs for every channel and format.",
        )

    def image(self, placement: str) -> ImageSpec:
        """One image placement (unknown: ValidationFailed on ``placement``)."""
        for spec in self.images:
            if spec.placement == placement:
                return spec
        raise _unknown_placement("image", placement, [spec.placement for spec in self.images])

    def video(self, placement: str) -> VideoSpec:
        """One video placement (unknown: ValidationFailed on ``placement``)."""
        for spec in self.videos:
            if spec.placement == placement:
                return spec
        raise _unknown_placement("video", placement, [spec.placement for spec in self.videos])

    def images_of(self, channel: str) -> list[ImageSpec]:
        """Image placements of one channel (possibly none)."""
        return [spec for spec in self.images if spec.channel == channel]

    def videos_of(self, channel: str) -> list[VideoSpec]:
        """Video placements of one channel (possibly none)."""
        return [spec for spec in self.videos if spec.channel == channel]

    def as_resource(self) -> dict[str, Any]:
        """A JSON-serialisable view for the content://content/channel-specs resource, grouped by channel."""
        channels: dict[str, Any] = {}
        for channel in self.channels:
            channels[channel] = {
                "formats": {
                    spec.format: spec.model_dump(mode="json", exclude={"channel"}) for spec in self.formats_of(channel)
                },
                "images": [spec.model_dump(mode="json", exclude={"channel"}) for spec in self.images_of(channel)],
                "videos": [spec.model_dump(mode="json", exclude={"channel"}) for spec in self.videos_of(channel)],
            }
        return {
            "version": self.version,
            "compiled_from": self.compiled_from,
            "confidence_key": dict(self.confidence_key),
            "counting": {name: spec.model_dump(mode="json") for name, spec in self.counting.items()},
            "sms": self.sms.model_dump(mode="json"),
            "channels": channels,
        }


def _unknown_placement(kind: str, placement: str, valid: list[str]) -> ValidationFailed:
    return ValidationFailed(
        f"Unknown {kind} placement '{placement}'. Valid {kind} placements: {', '.join(valid)}.",
        field="placement",
        hint="Read content://content/channel-specs for every placement and its size.",
    )


def parse_channel_specs(text: str) -> ChannelSpecs:
    """Validate channel specs JSON (a bad file: ValidationFailed naming the first wrong entry)."""
    try:
        return ChannelSpecs.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValidationFailed(f"Channel specs are invalid at {where}: {first['msg']}.", field="channel_specs") from exc


@lru_cache(maxsize=1)
def load_channel_specs() -> ChannelSpecs:
    """The packaged channel specs, parsed once."""
    text = resources.files("promptsales.domain_core.content.model").joinpath("channel_specs.json").read_text("utf-8")
    return parse_channel_specs(text)
