"""Length as platforms count it: graphemes, double width, X's weighted length, SMS units and segments, truncation."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptsales.domain_core.content.model.text_measure import (
    COUNTINGS,
    GSM7_BASIC,
    GSM7_EXTENSION,
    Counting,
    clusters,
    display_width,
    emoji_count,
    graphemes,
    measure,
    nfc,
    sms_encoding,
    sms_info,
    truncate_to,
    utf8_bytes,
    x_weighted_length,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # man, woman, girl, boy joined by ZWJ
SPAIN = "\U0001f1ea\U0001f1f8"
THUMBS_UP_MEDIUM = "\U0001f44d\U0001f3fd"
KEYCAP_ONE = "1\ufe0f\u20e3"
E_ACUTE_DECOMPOSED = "e\u0301"

EMOJI_TOKENS = [FAMILY, SPAIN, THUMBS_UP_MEDIUM, KEYCAP_ONE, "\U0001f600", "\u2764\ufe0f"]
TOKENS = [
    *EMOJI_TOKENS,
    E_ACUTE_DECOMPOSED,
    "中文",
    "한국어",
    "€",
    "{",
    "~",
    "https://example.com/a",
    " ",
    "\n",
    "\U0001d400",
]
texts = st.lists(
    st.one_of(st.sampled_from(TOKENS), st.characters(codec="utf-8"), st.text("abc xyz,.-", max_size=6)),
    max_size=40,
).map("".join)


def test_an_emoji_zwj_family_a_flag_a_skin_tone_and_a_keycap_are_one_grapheme_each() -> None:
    for emoji in (FAMILY, SPAIN, THUMBS_UP_MEDIUM, KEYCAP_ONE):
        assert graphemes(emoji) == 1, emoji
    assert graphemes(FAMILY + SPAIN + "ab") == 4
    assert emoji_count(FAMILY + " and " + SPAIN + " ©") == 2  # a bare © is typography, not an emoji


def test_combining_accents_are_counted_after_nfc() -> None:
    assert graphemes(E_ACUTE_DECOMPOSED) == 1
    assert nfc(E_ACUTE_DECOMPOSED) == "é"
    assert x_weighted_length(E_ACUTE_DECOMPOSED * 10) == 10
    assert sms_info(E_ACUTE_DECOMPOSED) == sms_info("é")  # composes to a GSM-7 character: 1 unit, no UCS-2


def test_display_width_counts_east_asian_wide_and_fullwidth_as_two() -> None:
    assert display_width("abc") == 3
    assert display_width("中文") == 4
    assert display_width("한국어") == 6
    assert display_width("カタカナ") == 8
    assert display_width("\uff21") == 2  # fullwidth A
    assert display_width("\uff71") == 1  # halfwidth katakana stays single
    assert display_width("中" * 15) == 30  # a Google headline holds 15 CJK characters
    assert display_width(FAMILY) == 2


def test_x_weighted_length_follows_twitter_text_v3() -> None:
    assert x_weighted_length("a" * 280) == 280
    assert x_weighted_length("中" * 140) == 280  # CJK weighs 2
    assert x_weighted_length(FAMILY) == 2  # one emoji sequence, whatever its code points
    assert x_weighted_length(SPAIN + THUMBS_UP_MEDIUM + KEYCAP_ONE) == 6
    assert x_weighted_length("\u201chi\u201d") == 4  # U+2010-U+201F weigh 1
    assert x_weighted_length("\u2026") == 2  # the ellipsis is outside the light ranges
    assert x_weighted_length("\u2032") == 1 and x_weighted_length("\u2022") == 2
    assert x_weighted_length("\U0001d400") == 2  # astral non-emoji: the default weight


def test_every_url_counts_23_on_x() -> None:
    assert x_weighted_length("https://example.com/" + "a" * 100) == 23
    assert x_weighted_length("https://t.co") == 23
    assert x_weighted_length("visit example.com.") == 6 + 23 + 1  # trailing full stop is not part of the URL
    assert x_weighted_length("a https://a.example/x b www.example.org") == 2 + 23 + 3 + 23
    assert x_weighted_length("me@example.com") == 14  # an email address is not a link
    assert x_weighted_length("e.g. this") == 9
    assert x_weighted_length("x" * 257 + " https://example.com/long/path") == 281


def test_gsm7_tables_match_3gpp_23_038() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes less ESC
    assert frozenset("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION
    for char in "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r":
        assert char in GSM7_BASIC


def test_gsm7_single_message_is_160_and_parts_are_153() -> None:
    one = sms_info("a" * 160)
    assert (one.encoding, one.units, one.segments, one.per_segment_limit, one.single_limit) == (
        "GSM-7",
        160,
        1,
        160,
        160,
    )
    two = sms_info("a" * 161)
    assert (two.segments, two.per_segment_limit) == (2, 153)
    assert sms_info("a" * 306).segments == 2
    assert sms_info("a" * 307).segments == 3
    assert sms_info("").segments == 0


def test_extension_characters_cost_two_septets() -> None:
    for char in "€{}[]~^|\\":
        assert sms_info(char).units == 2, char
        assert sms_encoding(char) == "GSM-7"
    assert sms_info("€" * 80).segments == 1
    assert sms_info("€" * 81).segments == 2
    # An escape pair is never split across parts: the first part holds 152 + (€ would be 154) -> 3 parts.
    assert sms_info("a" * 152 + "€" + "a" * 152).segments == 3


def test_one_character_outside_gsm7_switches_the_message_to_ucs2() -> None:
    assert sms_encoding("a" * 100) == "GSM-7"
    info = sms_info("a" * 100 + "\U0001f600")
    assert info.encoding == "UCS-2" and info.non_gsm == ("\U0001f600",)
    assert info.units == 102  # the emoji is outside the BMP: two UTF-16 units
    assert sms_encoding("It\u2019s") == "UCS-2"  # the typographic apostrophe is not GSM-7
    assert sms_encoding("`") == "UCS-2"


def test_ucs2_single_message_is_70_and_parts_are_67() -> None:
    assert sms_info("ą" * 70).segments == 1
    seventy_one = sms_info("ą" * 71)
    assert (seventy_one.segments, seventy_one.per_segment_limit, seventy_one.single_limit) == (2, 67, 70)
    assert sms_info("ą" * 134).segments == 2
    assert sms_info("ą" * 135).segments == 3
    assert sms_info("a" * 69 + "\U0001f600").segments == 2  # 71 units


def test_measure_dispatches_on_the_counting() -> None:
    text = "中" + FAMILY + "€"
    assert measure(text, "graphemes") == 3
    assert measure(text, "display_width") == 2 + 2 + 1
    assert measure(text, "x_weighted") == 2 + 2 + 2
    assert measure(text, "sms_units") == 1 + 11 + 1
    assert measure(text, "utf8_bytes") == utf8_bytes(text) == 3 + 25 + 3


def test_truncate_prefers_a_word_boundary_and_drops_dangling_punctuation() -> None:
    assert truncate_to("Hello wonderful world", 17, "graphemes") == "Hello wonderful"
    assert truncate_to("Hello, world", 8, "graphemes") == "Hello"
    assert truncate_to("Save big (today only)", 12, "graphemes") == "Save big"
    assert truncate_to("Supercalifragilistic", 5, "graphemes") == "Super"  # no space to cut at: a hard cut
    assert truncate_to("中文中文中文中文中文中文中文中文", 15, "display_width") == "中文中文中文中"
    assert truncate_to("Short", 10, "graphemes") == "Short"
    assert truncate_to(E_ACUTE_DECOMPOSED, 1, "graphemes") == "é"
    assert truncate_to("anything", 0, "graphemes") == ""
    assert truncate_to("ab \u200ccd", 4, "graphemes") == "ab"  # a space carrying a ZWNJ is still a space
    with pytest.raises(ValueError):
        truncate_to("x", -1, "graphemes")


def test_truncate_never_splits_an_emoji_sequence_or_a_link() -> None:
    assert truncate_to("ab" + FAMILY, 2, "graphemes") == "ab"
    assert truncate_to("Go to https://example.com/abcdef now", 20, "x_weighted") == "Go to"
    assert truncate_to("€€€€€ą", 6, "sms_units") == "€€€€€ą"  # UCS-2: 6 units, though the GSM-7 prefix takes 10
    assert truncate_to("€€€€ąab", 5, "sms_units") == "€€€€ą"
    assert truncate_to("€€€ab", 5, "sms_units") == "€€"


@settings(max_examples=300, deadline=None)
@given(text=texts, limit=st.integers(min_value=0, max_value=80), counting=st.sampled_from(COUNTINGS))
def test_truncate_to_never_exceeds_and_cuts_at_a_grapheme_boundary(text: str, limit: int, counting: Counting) -> None:
    cut = truncate_to(text, limit, counting)
    assert measure(cut, counting) <= limit
    whole = nfc(text)
    assert whole.startswith(cut)
    assert clusters(cut) == clusters(whole)[: len(clusters(cut))]
    if measure(text, counting) <= limit:
        assert cut == whole


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.sampled_from("abcXYZ中文한ü"), max_size=60), limit=st.integers(min_value=0, max_value=70))
def test_truncate_keeps_the_longest_prefix_when_there_is_no_word_to_cut_at(text: str, limit: int) -> None:
    assert graphemes(truncate_to(text, limit, "graphemes")) == min(limit, graphemes(text))


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_counts_are_taken_on_nfc(text: str) -> None:
    decomposed = unicodedata.normalize("NFD", text)
    for counting in COUNTINGS:
        assert measure(decomposed, counting) == measure(text, counting)
