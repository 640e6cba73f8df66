"""Fitting copy to a measure: cuts at a word boundary (never inside a grapheme cluster) and tidy endings."""

from collections.abc import Callable

import regex  # type: ignore[import-untyped]

from promptsales.domain_core.content.model import copy_templates as tpl
from promptsales.domain_core.content.model.text_basics import normalize

_CLUSTER = regex.compile(r"\X")
_DANGLING = " ,;:-\u2013\u2014(¿¡\"'/&\u201c\u00ab…"


def cut_to_fit(text: str, length: Callable[[str], int], limit: int, breaks: str = "") -> str:
    """The longest prefix at a word boundary that fits, else the longest fitting run of whole graphemes."""
    clusters: list[str] = _CLUSTER.findall(text)
    best = ""
    for index, cluster in enumerate(clusters):
        if not (cluster.isspace() or cluster in breaks) or not index:
            continue
        prefix = tidy_end("".join(clusters[:index]), words=True)
        if prefix and length(prefix) <= limit:
            best = prefix
        elif prefix:
            break  # platform counts only grow as text grows
    if best:
        return best
    for index in range(1, len(clusters) + 1):
        prefix = "".join(clusters[:index]).strip()
        if length(prefix) > limit:
            break
        best = prefix
    return best


def tidy_end(text: str, words: bool = False) -> str:
    """Drop what a cut leaves dangling: punctuation, unmatched "¿¡(" and (``words``) connectors like "with"."""
    previous = None
    while previous != text:
        previous = text
        text = text.rstrip(_DANGLING)
        head, _, last = text.rpartition(" ")
        if words and head and normalize(last) in tpl.TRAILING_STOPWORDS:
            text = head
    for opener, closer in (("¿", "?"), ("¡", "!"), ("(", ")")):
        if opener in text and closer not in text[text.rfind(opener) :]:
            text = text.replace(opener, "", 1) if text.count(opener) == 1 else text
    return text.strip()
