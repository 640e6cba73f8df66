"""Understanding a free-text answer to a flow question, deterministically, in English and Spanish.

``interpret_reply`` maps what a person said to the question's option (or yes/no, or number) with a
confidence. Several readers look at the reply — the option's position ("la segunda"), an option's label
said inside a sentence, and what the options mean (money, a time horizon, urgency, who decides, yes/no,
"I don't know") — and their findings are combined: agreement raises the confidence, disagreement lowers it.
Below ``CONFIDENT`` the flow should ask someone better placed (the content context's extraction) or ask again.
"""

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from promptsales.domain_core.crm.model.flow_definitions import AskStep, Bounds, Choice, Scalar
from promptsales.domain_core.crm.model.reply_amounts import Amount, read_amounts
from promptsales.domain_core.crm.model.reply_cues import read_role, read_urgency, read_yes_no, says_unsure
from promptsales.domain_core.crm.model.reply_horizons import read_horizons
from promptsales.domain_core.crm.model.reply_text import find_labelled, fold, negated

CONFIDENT = 0.7
# Two options this close in confidence are a toss-up, not an answer.
TIE_MARGIN = 0.1
_ORDINALS = {
    "first": 1, "primera": 1, "primero": 1, "1st": 1, "second": 2, "segunda": 2, "segundo": 2, "2nd": 2,
    "third": 3, "tercera": 3, "tercero": 3, "3rd": 3, "fourth": 4, "cuarta": 4, "cuarto": 4, "4th": 4,
    "fifth": 5, "quinta": 5, "quinto": 5, "5th": 5, "last": -1, "ultima": -1, "ultimo": -1,
}  # fmt: skip
_POSITION = re.compile(
    r"\b(?:option|opcion|number|numero|choice|answer|respuesta)\s*#?\s*(?P<number>\d+)\b"
    r"|^(?:la|el|the)\s+(?P<alone>\d+)$"
    r"|\b(?:the|la|el)\s+(?P<ordinal>" + "|".join(_ORDINALS) + r")(?:\s+(?:one|option|opcion|una|uno))?\b"
)
_BARE_NUMBER = re.compile(r"[\d.,\s$\u20ac\u00a3+-]+[km]?")
_GENERIC_KEY_WORDS = 1  # single-word synonyms ("year", "quarter") are weaker evidence than phrases


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reply was understood to mean, how sure the reading is, and why."""

    value: Scalar
    confidence: float
    reason: str

    @property
    def confident(self) -> bool:
        """Whether the reading is good enough to act on."""
        return self.confidence >= CONFIDENT


def interpret_reply(step: AskStep, text: str) -> Reading | None:
    """The reply understood as an answer to ``step`` (None when nothing in it answers the question)."""
    folded = fold(text)
    if not folded:
        return None
    match step.expect:
        case "choice":
            return _choose(step.choices, folded)
        case "yes_no":
            answer = read_yes_no(folded)
            return Reading(answer[0], answer[1], "yes/no") if answer else None
        case "number":
            return _quantity(folded)
        case _:
            return None


def _quantity(folded: str) -> Reading | None:
    """A single number stated in a sentence ("about 5k dollars", "unas veinte personas")."""
    if _BARE_NUMBER.fullmatch(folded):
        return None  # a reply that is only a number was read exactly, or is ambiguous ("5.000"): never guess
    points = [a for a in read_amounts(folded, counts=True) if a.kind == "point"]
    if len({a.low for a in points}) != 1:
        return None
    value = points[0].low
    return Reading(int(value) if value == int(value) else value, 0.8, "number")


class _Votes:
    """Confidence per option from each reader; combined into one reading."""

    def __init__(self) -> None:
        self.by_choice: dict[str, list[tuple[float, str]]] = defaultdict(list)

    def add(self, choice: Choice | None, confidence: float, reason: str) -> None:
        if choice is not None:
            self.by_choice[choice.id].append((confidence, reason))

    def result(self) -> Reading | None:
        if not self.by_choice:
            return None
        scored = sorted(
            (
                (min(0.95, max(c for c, _ in votes) + 0.05 * (len(votes) - 1)), choice_id, votes)
                for choice_id, votes in self.by_choice.items()
            ),
            key=lambda item: item[0],
            reverse=True,
        )
        confidence, choice_id, votes = scored[0]
        reasons = ", ".join(reason for _, reason in votes)
        if len(scored) > 1 and confidence - scored[1][0] < TIE_MARGIN:
            return Reading(choice_id, confidence - 0.2, f"{reasons}; but also {scored[1][1]}")
        return Reading(choice_id, confidence, reasons)


def _choose(choices: tuple[Choice, ...], folded: str) -> Reading | None:
    votes = _Votes()
    _by_position(choices, folded, votes)
    _by_label(choices, folded, votes)
    _by_meaning(choices, folded, votes)
    return votes.result()


def _by_position(choices: tuple[Choice, ...], folded: str, votes: _Votes) -> None:
    """ "Option 2", "la segunda", "the last one"."""
    match = _POSITION.search(folded)
    if match is None:
        return
    raw = match.group("number") or match.group("alone")
    position = int(raw) if raw else _ORDINALS[match.group("ordinal")]
    index = len(choices) - 1 if position == -1 else position - 1
    if 0 <= index < len(choices):
        votes.add(choices[index], 0.9, f"option {index + 1}")


def _by_label(choices: tuple[Choice, ...], folded: str, votes: _Votes) -> None:
    """An option's label or synonym said inside the reply (and not negated)."""
    keys = {
        choice.id: tuple(k for k in (fold(key) for key in choice.match_keys()) if len(k) >= 3) for choice in choices
    }
    by_id = {choice.id: choice for choice in choices}
    for choice_id, hit in find_labelled(folded, keys):
        if negated(folded, hit.start):
            continue
        single_word = len(hit.phrase.split()) <= _GENERIC_KEY_WORDS
        votes.add(by_id[choice_id], 0.65 if single_word else 0.8, f"said '{hit.phrase}'")


def _by_meaning(choices: tuple[Choice, ...], folded: str, votes: _Votes) -> None:
    """What the options mean, read from the reply: money, horizon, urgency, who decides, yes/no, unsure."""
    meant = [choice for choice in choices if choice.means is not None]
    if not meant:
        return

    def first(test: Callable[[Choice], bool]) -> Choice | None:
        return next((choice for choice in meant if test(choice)), None)

    unsure = says_unsure(folded)
    if any(choice.means and choice.means.amount for choice in meant):
        _amount(meant, folded, votes)
    if any(choice.means and choice.means.within_days for choice in meant):
        _horizon(meant, folded, votes)
    if unsure:
        votes.add(first(lambda c: bool(c.means and c.means.unsure)), 0.8, "not sure")
    urgency = read_urgency(folded)
    if urgency is not None:
        votes.add(first(lambda c: bool(c.means and c.means.urgency == urgency[0])), urgency[1], f"{urgency[0]} urgency")
    role = read_role(folded)
    if role is not None:
        votes.add(first(lambda c: bool(c.means and c.means.role == role[0])), role[1], f"role {role[0]}")
    answer = read_yes_no(folded)
    if answer is not None:
        said = "yes" if answer[0] else "no"
        votes.add(first(lambda c: bool(c.means and c.means.answer == said)), answer[1], f"said {said}")


def _amount(meant: list[Choice], folded: str, votes: _Votes) -> None:
    amounts = read_amounts(folded)
    strong = [a for a in amounts if a.strong]
    picked = strong or amounts
    if not picked:
        return
    options = [(choice, choice.means.amount) for choice in meant if choice.means and choice.means.amount]
    found = {_within(options, amount) for amount in picked}
    found.discard(None)
    if len(found) != 1:
        return
    choice, confidence = found.pop()  # type: ignore[misc]
    amount = picked[0]
    base = 0.85 if amount.strong else (0.8 if amount.low >= 1000 else 0.5)
    currency = f" {amount.currency}" if amount.currency else ""
    votes.add(choice, min(base, confidence), f"amount {amount.kind} {amount.low:g}-{amount.high:g}{currency}")


def _within(options: list[tuple[Choice, Bounds]], amount: Amount) -> tuple[Choice, float] | None:
    """The option an amount (an interval) falls in, and how cleanly it falls there."""
    low, high = amount.low, amount.high
    inside = (low + high) / 2 if math.isfinite(high) else low
    if amount.kind == "above":
        inside = low * (1 + 1e-9) + 1e-9
    elif amount.kind == "below":
        inside = high * (1 - 1e-9)
    elif amount.kind == "range":
        lo_probe = low * (1 + 1e-9) + 1e-9
        both = [choice for choice, bounds in options if bounds.contains(lo_probe) and bounds.contains(high)]
        if both:
            return both[0], 0.85
    holder = next((choice for choice, bounds in options if bounds.contains(inside)), None)
    if holder is None:
        return None
    overlapping = [c for c, b in options if b.lower() < high and low < b.upper()]
    clean = amount.kind == "point" or len(overlapping) <= 1
    return holder, 0.85 if clean else (0.6 if amount.kind == "range" else 0.7)


def _horizon(meant: list[Choice], folded: str, votes: _Votes) -> None:
    horizons = read_horizons(folded)
    concrete = [h.days for h in horizons if h.days is not None]
    if not concrete:
        if horizons:
            votes.add(next((c for c in meant if c.means and c.means.unsure), None), 0.8, "no timeline")
        return
    days = max(concrete)  # an upper bound: "this month, next quarter at the latest" is next quarter
    holder = next((c for c in meant if c.means and c.means.within_days and c.means.within_days.contains(days)), None)
    votes.add(holder, 0.85 if len(set(concrete)) == 1 and len(concrete) == len(horizons) else 0.75, f"{days:g} days")
