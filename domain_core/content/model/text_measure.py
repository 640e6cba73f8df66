"""How platforms count text length: grapheme clusters, display width, X's weighted length, SMS units, bytes.

Every count is taken after Unicode NFC, which is what the product sends (X documents NFC; for the others it
only ever makes text shorter, e.g. ``e`` + combining acute becomes one GSM-7 ``é``).

- ``graphemes``: user-perceived characters (``\\X`` clusters): an emoji ZWJ family or a flag is 1. Platforms
  that say "characters" are read this way; which unit each really counts is not published (inference, W).
- ``display_width``: 2 per cluster whose base is East Asian Wide/Fullwidth (or an emoji), else 1. Microsoft
  Advertising documents this rule (P); for Google it is inferred from AdMob's "double-width" column, Adobe's
  "15 characters or 7 double-byte" and the API's "display width" wording (W); TikTok's "100 Latin / 50 Asian
  characters" is the same budget (S). See the channel specs' ``counting`` section for the citations.
- ``x_weighted``: twitter-text v3 (docs.x.com counting-characters, config/v3.json; P).
- ``sms_units``: GSM-7 septets or UCS-2 (UTF-16) code units, 3GPP TS 23.038 (vendor copies; P).
- ``utf8_bytes``: UTF-8 octets, for payload limits such as APNs' 4,096 bytes.
"""

import unicodedata
from dataclasses import dataclass
from typing import Literal, get_args

import regex  # type: ignore[import-untyped]

Counting = Literal["graphemes", "display_width", "x_weighted", "sms_units", "utf8_bytes"]
COUNTINGS: tuple[Counting, ...] = get_args(Counting)
SmsEncoding = Literal["GSM-7", "UCS-2"]

_CLUSTER = regex.compile(r"\X")
_WIDE = regex.compile(r"[\p{East_Asian_Width=Wide}\p{East_Asian_Width=Fullwidth}]")
# Emoji presentation by default, flags (regional indicators) and keycaps are emoji in any context.
_EMOJI_ALWAYS = regex.compile(r"[\p{Emoji_Presentation}\p{Regional_Indicator}\u20e3]")
_EMOJI_BASE = regex.compile(r"\p{Emoji}")
_PICTOGRAPH = regex.compile(r"\p{Extended_Pictographic}")
_VS16 = "\ufe0f"
# Text-default pictographs below U+2190 (©, ®, ‼, ⁉, ™, U+2139) are typography unless VS16 asks for emoji.
_TEXT_DEFAULT_PICTOGRAPHS_BELOW = 0x2190

# twitter-text v3 (config/v3.json): weights are in 1/100 of a character.
X_MAX_WEIGHTED_LENGTH = 280
X_SCALE = 100
X_DEFAULT_WEIGHT = 200
X_TRANSFORMED_URL_LENGTH = 23
X_RANGES: tuple[tuple[int, int, int], ...] = (
    (0x0000, 0x10FF, 100),
    (0x2000, 0x200D, 100),
    (0x2010, 0x201F, 100),
    (0x2032, 0x2037, 100),
)
# URL detection approximates twitter-text's extractor: scheme or www. URLs, bare domains on common generic
# TLDs, and bare two-letter (country) domains only when a path follows, as twitter-text requires.
_GENERIC_TLDS = (
    "com|net|org|info|biz|edu|gov|mil|int|io|ai|co|app|dev|shop|store|online|site|xyz|me|tv|ly|blog|news|"
    "tech|cloud|page|link|club|live|pro|email|agency|digital|media|global|world|today|market|marketing|sale"
)
_LABEL = r"[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?"
_URL = regex.compile(
    rf"""
    (?<![\w@.\-/])
    (?:
        https?://[^\s<>"]+
      | www\.[^\s<>"]+
      | (?:{_LABEL}\.)+(?:{_GENERIC_TLDS})(?![\p{{L}}\p{{N}}\-])(?:[/?\#][^\s<>"]*)?
      | (?:{_LABEL}\.)+[a-z]{{2}}/[^\s<>"]*
    )
    """,
    regex.IGNORECASE | regex.VERBOSE,
)
_URL_TRAILING = ".,;:!?'\")]}"

# 3GPP TS 23.038 GSM 7-bit default alphabet (Sinch's copy of the table); ESC (0x1B) is not printable.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + code, so it costs 2 septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
# 140 octets per message: 160 septets or 70 UCS-2 units; a 6-octet concatenation header leaves 153 / 67.
GSM7_SINGLE, GSM7_CONCATENATED = 160, 153
UCS2_SINGLE, UCS2_CONCATENATED = 70, 67

_DANGLING_CATEGORIES = frozenset({"Pd", "Ps", "Pi"})
_DANGLING_CHARS = frozenset(",;:&/\\#@+*=_<«\u2039")


@dataclass(frozen=True)
class SmsInfo:
    """How an SMS text is encoded and billed: units in that encoding and the segments they take."""

    encoding: SmsEncoding
    units: int
    segments: int
    per_segment_limit: int
    single_limit: int
    non_gsm: tuple[str, ...] = ()


def nfc(text: str) -> str:
    """The NFC form every count is taken on."""
    return unicodedata.normalize("NFC", text)


def clusters(text: str) -> list[str]:
    """The grapheme clusters of the NFC text."""
    found: list[str] = _CLUSTER.findall(nfc(text))
    return found


def graphemes(text: str) -> int:
    """User-perceived characters: an emoji ZWJ sequence, a flag or a letter with its accents is 1."""
    return len(clusters(text))


def is_emoji(cluster: str) -> bool:
    """Whether a grapheme cluster shows as an emoji (flags, keycaps, ZWJ sequences, skin tones included)."""
    if _EMOJI_ALWAYS.search(cluster):
        return True
    if _VS16 in cluster and _EMOJI_BASE.match(cluster):
        return True
    return any(ord(char) >= _TEXT_DEFAULT_PICTOGRAPHS_BELOW and _PICTOGRAPH.match(char) for char in cluster)


def emoji_count(text: str) -> int:
    """How many emoji (one per cluster) the text holds."""
    return sum(1 for cluster in clusters(text) if is_emoji(cluster))


def _cluster_width(cluster: str) -> int:
    return 2 if _WIDE.match(cluster) or is_emoji(cluster) else 1


def display_width(text: str) -> int:
    """Double-width counting: 2 per East Asian Wide/Fullwidth (or emoji) cluster, 1 for any other."""
    return sum(_cluster_width(cluster) for cluster in clusters(text))


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where URLs are in ``text`` (trailing sentence punctuation excluded), as X and link rules see them."""
    spans: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _URL_TRAILING:
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _code_point_weight(char: str) -> int:
    code = ord(char)
    for low, high, weight in X_RANGES:
        if low <= code <= high:
            return weight
    return X_DEFAULT_WEIGHT


def _x_cluster_costs(text: str) -> list[tuple[str, int | None]]:
    """Each cluster of the NFC text with its weight; clusters inside a URL carry None but the URL's last one."""
    costs: list[tuple[str, int | None]] = []
    spans = url_spans(text)
    position = 0
    span_index = 0
    for cluster in _CLUSTER.findall(text):
        start, end = position, position + len(cluster)
        position = end
        while span_index < len(spans) and spans[span_index][1] <= start:
            span_index += 1
        if span_index < len(spans) and spans[span_index][0] < end:
            url_end = spans[span_index][1]
            costs.append((cluster, X_TRANSFORMED_URL_LENGTH * X_SCALE if end >= url_end else None))
        elif is_emoji(cluster):
            costs.append((cluster, X_DEFAULT_WEIGHT))
        else:
            costs.append((cluster, sum(_code_point_weight(char) for char in cluster)))
    return costs


def x_weighted_length(text: str) -> int:
    """X's weighted length (twitter-text v3): 1 for Latin-range code points, 2 otherwise, URL 23, emoji 2."""
    total = sum(cost or 0 for _, cost in _x_cluster_costs(nfc(text)))
    return total // X_SCALE


def _segments(sizes: list[int], single: int, concatenated: int) -> int:
    """Segments needed, never splitting an escape pair or a surrogate pair across two parts."""
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > concatenated:
            count, used = count + 1, 0
        used += size
    return count


def _gsm_size(char: str) -> int | None:
    if char in GSM7_BASIC:
        return 1
    if char in GSM7_EXTENSION:
        return 2
    return None


def sms_encoding(text: str) -> SmsEncoding:
    """GSM-7 when every character is in the basic or extension table, else UCS-2 for the whole message."""
    return "GSM-7" if all(_gsm_size(char) is not None for char in nfc(text)) else "UCS-2"


def sms_info(text: str) -> SmsInfo:
    """Encoding, units and segments of an SMS (GSM-7 160 / 153 per part; UCS-2 70 / 67 per part)."""
    normalized = nfc(text)
    non_gsm = tuple(dict.fromkeys(char for char in normalized if _gsm_size(char) is None))
    encoding: SmsEncoding
    if not non_gsm:
        sizes = [_gsm_size(char) or 0 for char in normalized]
        single, concatenated, encoding = GSM7_SINGLE, GSM7_CONCATENATED, "GSM-7"
    else:
        # UCS-2 on the wire is UTF-16 in practice: characters outside the BMP (most emoji) take 2 units.
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in normalized]
        single, concatenated, encoding = UCS2_SINGLE, UCS2_CONCATENATED, "UCS-2"
    segments = _segments(sizes, single, concatenated)
    return SmsInfo(
        encoding=encoding,
        units=sum(sizes),
        segments=segments,
        per_segment_limit=concatenated if segments > 1 else single,
        single_limit=single,
        non_gsm=non_gsm,
    )


def utf8_bytes(text: str) -> int:
    """UTF-8 octets of the NFC text."""
    return len(nfc(text).encode("utf-8"))


def measure(text: str, counting: Counting) -> int:
    """The length of ``text`` as a platform using ``counting`` sees it."""
    if counting == "graphemes":
        return graphemes(text)
    if counting == "display_width":
        return display_width(text)
    if counting == "x_weighted":
        return x_weighted_length(text)
    if counting == "sms_units":
        return sms_info(text).units
    return utf8_bytes(text)


def _prefix_costs(parts: list[str], counting: Counting) -> list[int | None]:
    """Cost of each prefix of ``parts`` (index k = first k clusters); None where a cut would split a URL."""
    costs: list[int | None] = [0]
    if counting == "x_weighted":
        total = 0
        for _, cost in _x_cluster_costs("".join(parts)):
            total += cost or 0
            costs.append(None if cost is None else total // X_SCALE)
        return costs
    if counting == "sms_units":
        gsm = ucs = 0
        all_gsm = True
        for part in parts:
            sizes = [_gsm_size(char) for char in part]
            all_gsm = all_gsm and all(size is not None for size in sizes)
            gsm += sum(size or 0 for size in sizes)
            ucs += sum(2 if ord(char) > 0xFFFF else 1 for char in part)
            costs.append(gsm if all_gsm else ucs)
        return costs
    total = 0
    for part in parts:
        if counting == "graphemes":
            total += 1
        elif counting == "display_width":
            total += _cluster_width(part)
        else:
            total += len(part.encode("utf-8"))
        costs.append(total)
    return costs


def _space(cluster: str) -> bool:
    # A space can carry extending marks (" " + ZWNJ is one cluster): its base decides.
    return cluster[:1].isspace()


def _dangling(cluster: str) -> bool:
    return _space(cluster) or cluster[0] in _DANGLING_CHARS or unicodedata.category(cluster[0]) in _DANGLING_CATEGORIES


def truncate_to(text: str, limit: int, counting: Counting) -> str:
    """The longest prefix of the NFC text within ``limit`` that ends at a grapheme (preferably word) boundary.

    A cut never splits a cluster or a URL, prefers the last space when that keeps at least half the text,
    and drops trailing spaces and dangling punctuation (commas, dashes, opening brackets). Never exceeds.
    """
    if limit < 0:
        raise ValueError("limit must be >= 0")
    normalized = nfc(text)
    if measure(normalized, counting) <= limit:
        return normalized
    parts: list[str] = _CLUSTER.findall(normalized)
    costs = _prefix_costs(parts, counting)
    fitting = [k for k, cost in enumerate(costs) if cost is not None and cost <= limit]
    cut = fitting[-1] if fitting else 0
    if 0 < cut < len(parts) and not _space(parts[cut]) and not _space(parts[cut - 1]):
        spaces = [k for k in fitting if 0 < k < cut and _space(parts[k])]
        if spaces and spaces[-1] * 2 >= cut:
            cut = spaces[-1]
    kept = parts[:cut]
    while True:
        while kept and _dangling(kept[-1]):
            kept.pop()
        result = "".join(kept)
        if measure(result, counting) <= limit:
            return result
        kept.pop()
