"""Offline retrieval eval: does BM25 over the tool descriptions rank each task's expected tools in its top 3?"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evals.agents.model import ToolSpec
from evals.agents.spec import Task

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "this",
        "to",
        "us",
        "was",
        "we",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


def stem(word: str) -> str:
    """A light suffix-stripper (plurals, -ing, -ed) so 'campaigns' meets 'campaign'; no external stemmer."""
    for suffix in ("ies", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, stop-worded, stemmed words (underscores split, so tool names contribute their parts)."""
    return [stem(w) for w in _WORD.findall(text.lower().replace("_", " ")) if w not in _STOP]


def document(tool: ToolSpec) -> str:
    """What the ranker sees of a tool: its name, description and parameter names."""
    params = " ".join(tool.parameters.get("properties", {}))
    return f"{tool.name} {tool.description} {params}"


class BM25:
    """Okapi BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009)."""

    def __init__(self, docs: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avg = sum(self.lengths) / max(len(docs), 1)
        df: Counter[str] = Counter(term for d in docs for term in set(d))
        n = len(docs)
        # The "+1" form of the idf keeps weights positive for terms in more than half the documents.
        self.idf = {term: math.log(1 + (n - f + 0.5) / (f + 0.5)) for term, f in df.items()}

    def scores(self, query: Iterable[str]) -> list[float]:
        """The score of every document for ``query``."""
        out = []
        for counts, length in zip(self.docs, self.lengths, strict=True):
            score = 0.0
            for term in query:
                tf = counts.get(term, 0)
                if tf:
                    norm = tf + self.k1 * (1 - self.b + self.b * length / self.avg)
                    score += self.idf[term] * tf * (self.k1 + 1) / norm
            out.append(score)
        return out


@dataclass
class Miss:
    """An expected tool the ranker did not put in the top 3."""

    task: str
    tool: str
    rank: int
    top3: list[str]


@dataclass
class RetrievalReport:
    """Top-1/top-3 accuracy per context and overall, over (task, expected tool) pairs."""

    per_context: dict[str, dict[str, float]] = field(default_factory=dict)
    overall: dict[str, float] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "per_context": self.per_context,
            "overall": self.overall,
            "misses": [m.__dict__ for m in self.misses],
        }


def evaluate(tasks: Sequence[Task], tools: Sequence[ToolSpec]) -> RetrievalReport:
    """Rank every tool for each task's request; score each distinct expected tool of the task by its rank."""
    names = [t.name for t in tools]
    ranker = BM25([tokens(document(t)) for t in tools])
    pairs: dict[str, list[int]] = {}
    report = RetrievalReport()
    for task in tasks:
        scores = ranker.scores(tokens(task.request))
        order = sorted(range(len(names)), key=lambda i: (-scores[i], names[i]))
        ranked = [names[i] for i in order]
        for tool in dict.fromkeys(task.expected_tools):
            rank = ranked.index(tool) + 1 if tool in ranked else len(ranked) + 1
            pairs.setdefault(task.context, []).append(rank)
            if rank > 3:
                report.misses.append(Miss(task=task.id, tool=tool, rank=rank, top3=ranked[:3]))
    every = [rank for ranks in pairs.values() for rank in ranks]
    for context, ranks in pairs.items():
        report.per_context[context] = _accuracy(ranks)
    report.overall = _accuracy(every)
    return report


def _accuracy(ranks: Sequence[int]) -> dict[str, float]:
    n = len(ranks)
    return {
        "pairs": float(n),
        "top1": sum(r == 1 for r in ranks) / n if n else 0.0,
        "top3": sum(r <= 3 for r in ranks) / n if n else 0.0,
    }
