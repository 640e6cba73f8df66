"""Channel specs: the sourced figures, their citations, lookups and the resource view."""

import json
from importlib import resources
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from promptsales.domain_core.content.model import text_measure
from promptsales.domain_core.content.model.channel_specs import (
    ChannelSpecs,
    Cited,
    Source,
    load_channel_specs,
    parse_channel_specs,
)
from promptsales.domain_core.shared.errors import ValidationFailed

SPECS = load_channel_specs()
RAW = json.loads(
    resources.files("promptsales.domain_core.content.model").joinpath("channel_specs.json").read_text("utf-8")
)
NOT_FIGURES = {"source", "sources", "name", "description", "notes", "title", "channel", "format", "placement"}


def cited_specs(specs: ChannelSpecs) -> list[tuple[str, Cited]]:
    found: list[tuple[str, Cited]] = [("sms", specs.sms)]
    found += [(f"counting.{name}", spec) for name, spec in specs.counting.items()]
    for spec in specs.formats:
        found.append((spec.key, spec))
        found += [(f"{spec.key}.{name}", field) for name, field in spec.fields.items()]
        if spec.payload is not None:
            found.append((f"{spec.key}.payload", spec.payload))
    found += [(spec.placement, spec) for spec in specs.images]
    found += [(spec.placement, spec) for spec in specs.videos]
    return found


def test_the_shipped_specs_cover_every_channel_of_the_issue() -> None:
    assert SPECS.channels == ["google_ads", "meta", "tiktok", "linkedin", "x", "email", "sms", "whatsapp", "push"]
    assert [spec.format for spec in SPECS.formats_of("google_ads")] == ["rsa", "rda", "pmax"]
    assert [spec.format for spec in SPECS.formats_of("meta")] == ["feed", "story"]
    assert load_channel_specs() is SPECS  # parsed once


def test_every_figure_has_a_source_with_a_url_or_a_product_note() -> None:
    key = set(SPECS.confidence_key)
    for where, spec in cited_specs(SPECS):
        assert spec.source.confidence in key, where
        figures = [name for name in type(spec).model_fields if name not in NOT_FIGURES]
        for figure in figures:
            if getattr(spec, figure) in (None, (), {}):
                continue
            source = spec.source_of(figure)
            if source.confidence == "product":
                assert source.note, (where, figure)
            else:
                assert source.url and source.url.startswith("https://"), (where, figure)


def test_every_object_in_the_json_carries_a_source() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if any(isinstance(value, int | float) and not isinstance(value, bool) for value in node.values()):
                assert node.get("source"), where
            for name, value in node.items():
                if name not in ("source", "sources", "safe_zone"):
                    walk(value, f"{where}.{name}")
        elif isinstance(node, list):
            for position, value in enumerate(node):
                walk(value, f"{where}[{position}]")

    walk(RAW, "$")


def test_a_source_needs_a_url_unless_it_is_a_product_choice_with_a_note() -> None:
    assert Source(url="https://example.com", confidence="S").url
    assert Source(confidence="product", note="our pick").note
    with pytest.raises(ValidationError):
        Source(confidence="P")
    with pytest.raises(ValidationError):
        Source(url="example.com", confidence="W")
    with pytest.raises(ValidationError):
        Source(confidence="product")


def test_google_rsa_limits() -> None:
    rsa = SPECS.format("google_ads", "rsa")
    headlines, descriptions = rsa.fields["headlines"], rsa.fields["descriptions"]
    assert (headlines.min_items, headlines.max_items, headlines.max_length, headlines.counting) == (
        3,
        15,
        30,
        "display_width",
    )
    assert headlines.hard and headlines.is_list
    assert (descriptions.min_items, descriptions.max_items, descriptions.max_length) == (2, 4, 90)
    for path in ("path1", "path2"):
        assert rsa.fields[path].max_length == 15 and not rsa.fields[path].required
        assert {"no_slash", "no_newline"} <= set(rsa.fields[path].rules)
    assert rsa.fields["path2"].requires == ("path1",)
    assert rsa.fields["path2"].source_of("rules").confidence == "P"
    assert headlines.source_of("max_items").confidence == "P" and headlines.source_of("max_length").confidence == "S"


def test_google_rda_and_pmax_limits() -> None:
    rda = SPECS.format("google_ads", "rda").fields
    assert (rda["short_headlines"].max_items, rda["short_headlines"].max_length) == (5, 30)
    assert (rda["long_headline"].min_items, rda["long_headline"].max_items, rda["long_headline"].max_length) == (
        1,
        1,
        90,
    )
    assert (rda["descriptions"].max_items, rda["descriptions"].max_length) == (5, 90)
    assert rda["business_name"].max_length == 25 and rda["call_to_action"].max_length == 30
    pmax = SPECS.format("google_ads", "pmax").fields
    assert pmax["headlines"].short_item_limit == 15 and pmax["descriptions"].short_item_limit == 60
    assert (pmax["descriptions"].min_items, pmax["descriptions"].max_items) == (2, 5)


def test_meta_copy_is_recommended_short_with_weak_hard_maxima() -> None:
    feed = SPECS.format("meta", "feed").fields
    assert (feed["primary_text"].recommended, feed["primary_text"].max_length) == (125, 2200)
    assert (feed["headline"].recommended, feed["headline"].max_length) == (40, 255)
    assert (feed["description"].recommended, feed["description"].max_length) == (30, 255)
    assert "27" in feed["headline"].source.note  # the conflicting figure is recorded
    assert feed["headline"].source_of("max_length").confidence == "W"
    story = SPECS.format("meta", "story").fields
    assert (story["primary_text"].recommended, story["headline"].recommended) == (125, 40)


def test_tiktok_linkedin_x_limits() -> None:
    ad_text = SPECS.format("tiktok", "in_feed").fields["ad_text"]
    assert (ad_text.max_length, ad_text.counting) == (100, "display_width")
    assert {"no_emoji", "no_hashtags", "no_mentions", "no_links"} <= set(ad_text.rules)
    linkedin = SPECS.format("linkedin", "sponsored_content")
    intro = linkedin.fields["intro_text"]
    assert (intro.recommended, intro.max_length, intro.max_emoji) == (150, 600, 4)
    assert any("3,000" in note for note in linkedin.notes)
    assert (linkedin.fields["headline"].recommended, linkedin.fields["headline"].max_length) == (70, 200)
    assert (linkedin.fields["description"].recommended, linkedin.fields["description"].max_length) == (70, 300)
    post = SPECS.format("x", "post").fields["text"]
    assert (post.max_length, post.counting, post.hard) == (280, "x_weighted", True)


def test_email_sms_whatsapp_push_limits() -> None:
    email = SPECS.format("email", "message").fields
    assert (email["subject"].recommended, email["subject"].max_length) == (50, 998)
    assert email["preheader"].recommended == 100 and email["preheader"].max_length is None
    sms = SPECS.format("sms", "text").fields["text"]
    assert (sms.counting, sms.max_segments, sms.max_length, sms.recommended) == ("sms_units", 6, 918, 160)
    assert sms.source_of("max_segments").confidence == "product"
    whatsapp = SPECS.format("whatsapp", "template").fields
    assert [whatsapp[name].max_length for name in ("header", "body", "footer", "buttons")] == [60, 1024, 60, 25]
    assert whatsapp["buttons"].max_items == 10
    push = SPECS.format("push", "notification")
    assert push.payload is not None and push.payload.max_bytes == 4096
    assert push.payload.source_of("envelope_bytes").confidence == "product"
    assert (push.fields["title"].recommended, push.fields["body"].recommended) == (50, 110)


def test_sms_segment_sizes_agree_with_the_counting_code() -> None:
    sms = SPECS.sms
    assert (sms.gsm7_single, sms.gsm7_concatenated) == (text_measure.GSM7_SINGLE, text_measure.GSM7_CONCATENATED)
    assert (sms.ucs2_single, sms.ucs2_concatenated) == (text_measure.UCS2_SINGLE, text_measure.UCS2_CONCATENATED)
    assert sms.source_of("ucs2_concatenated").confidence == "W"


@pytest.mark.parametrize(
    ("placement", "width", "height", "ratio"),
    [
        ("google_rda_landscape", 1200, 628, "1.91:1"),
        ("google_rda_square", 600, 600, "1:1"),
        ("google_rda_logo_landscape", 1200, 300, "4:1"),
        ("google_pmax_square", 1200, 1200, "1:1"),
        ("meta_feed_square", 1080, 1080, "1:1"),
        ("meta_feed_portrait", 1080, 1350, "4:5"),
        ("meta_story", 1080, 1920, "9:16"),
        ("meta_reels", 1080, 1920, "9:16"),
        ("tiktok_in_feed", 1080, 1920, "9:16"),
        ("linkedin_landscape", 1200, 628, "1.91:1"),
        ("linkedin_square", 1200, 1200, "1:1"),
        ("linkedin_vertical", 720, 900, "4:5"),
        ("x_landscape", 1200, 628, "1.91:1"),
        ("x_square", 1200, 1200, "1:1"),
        ("whatsapp_header", 800, 418, "1.91:1"),
        ("email_hero", 1200, 600, "2:1"),
    ],
)
def test_image_placements(placement: str, width: int, height: int, ratio: str) -> None:
    image = SPECS.image(placement)
    assert (image.width, image.height, image.aspect_ratio) == (width, height, ratio)


def test_image_details_and_product_defaults() -> None:
    story = SPECS.image("meta_story")
    assert story.safe_zone is not None and (story.safe_zone.top_pct, story.safe_zone.bottom_pct) == (14, 20)
    assert SPECS.image("email_hero").source.confidence == "product"
    tiktok = SPECS.image("tiktok_in_feed")
    assert (tiktok.min_width, tiktok.min_height) == (540, 960)
    assert tiktok.source_of("width").confidence == "product" and tiktok.source_of("min_width").confidence == "P"
    linkedin = SPECS.image("linkedin_landscape")
    assert (linkedin.min_width, linkedin.max_width, linkedin.max_file_mb) == (640, 7680, 5)
    for channel in SPECS.channels:
        if channel not in ("sms", "push"):
            assert SPECS.images_of(channel), channel


@pytest.mark.parametrize(
    ("placement", "low", "high"),
    [
        ("meta_feed_video", 1, 14460),
        ("meta_story_video", None, 60),
        ("meta_reels_video", 1, 90),
        ("tiktok_in_feed_video", 5, 600),
        ("tiktok_reservation_in_feed_video", 5, 60),
        ("linkedin_video", 3, 1800),
        ("x_video", None, 140),
    ],
)
def test_video_durations(placement: str, low: float | None, high: float) -> None:
    video = SPECS.video(placement)
    assert (video.min_seconds, video.max_seconds) == (low, high)
    assert video.width > 0 and video.height > 0


def test_unknown_channel_format_and_placements_name_the_field_and_the_valid_values() -> None:
    with pytest.raises(ValidationFailed) as channel:
        SPECS.format("myspace", "post")
    assert channel.value.field == "channel" and "google_ads" in channel.value.message
    with pytest.raises(ValidationFailed) as fmt:
        SPECS.format("google_ads", "expanded_text")
    assert fmt.value.field == "format" and "rsa" in fmt.value.message and "pmax" in fmt.value.message
    with pytest.raises(ValidationFailed) as image:
        SPECS.image("billboard")
    assert image.value.field == "placement" and "meta_story" in image.value.message
    with pytest.raises(ValidationFailed) as video:
        SPECS.video("billboard")
    assert video.value.field == "placement" and "x_video" in video.value.message
    with pytest.raises(ValidationFailed) as formats:
        SPECS.formats_of("fax")
    assert formats.value.field == "channel"


def test_the_resource_is_json_grouped_by_channel_with_sources() -> None:
    resource = SPECS.as_resource()
    assert json.loads(json.dumps(resource)) == resource
    assert set(resource["channels"]) == set(SPECS.channels)
    headlines = resource["channels"]["google_ads"]["formats"]["rsa"]["fields"]["headlines"]
    assert headlines["max_length"] == 30 and headlines["source"]["url"].startswith("https://")
    assert resource["channels"]["meta"]["images"][0]["placement"].startswith("meta_")
    assert resource["sms"]["gsm7_single"] == 160
    assert set(resource["counting"]) == set(text_measure.COUNTINGS)


def _tampered(path: list[str | int], value: object) -> str:
    data = json.loads(json.dumps(RAW))
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["images", 0, "height"], 900),  # no longer 1.91:1
        (["formats", 0, "fields", "path2", "rules"], ["requires:path9"]),
        (["formats", 0, "fields", "headlines", "rules"], ["no_vowels"]),
        (["formats", 0, "fields", "headlines", "source"], {"confidence": "P"}),
        (["formats", 0, "body_field"], "nowhere"),
        (["formats", 0, "fields", "headlines", "sources"], {"colour": {"confidence": "product", "note": "x"}}),
        (["videos", 0, "max_seconds"], 10),  # below the recommended 30
    ],
)
def test_inconsistent_data_is_rejected_naming_where(path: list[str | int], value: object) -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_channel_specs(_tampered(path, value))
    assert error.value.field == "channel_specs"


def test_specs_are_frozen() -> None:
    spec = SPECS.format("x", "post")
    with pytest.raises(ValidationError):
        spec.fields["text"].max_length = 1  # type: ignore[misc]
    assert isinstance(spec, BaseModel)
