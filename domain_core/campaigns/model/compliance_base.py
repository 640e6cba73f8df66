"""What every compliance check shares: its answer (``Hit``), its registration (``CheckSpec``) and its scope params."""

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from promptsales.domain_core.campaigns.model.compliance_facts import CampaignFacts
from promptsales.domain_core.campaigns.model.plan import ChannelPlan

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
ChannelId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Phrase = Annotated[str, Field(min_length=1, max_length=80)]


@dataclass(frozen=True)
class Hit:
    """One thing a check found: plain words, the fix, and the channel or subject (asset, market…) it concerns."""

    message: str
    fix: str
    channel: str | None = None
    subject: str | None = None


class Params(BaseModel):
    """Base of every check's params: frozen, and an unknown key is an error (a typo must not loosen a rule)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def channels_named(self) -> set[str]:
        """The channel ids these params name (checked against the rules file's channel list at load)."""
        channels = getattr(self, "channels", None)
        return set(channels or ())


class NoParams(Params):
    """Params of a check that needs nothing from its rule."""


class Scope(Params):
    """Where a rule applies: channel ids and market countries (None: every one)."""

    channels: tuple[ChannelId, ...] | None = Field(default=None, min_length=1)
    markets: tuple[CountryCode, ...] | None = Field(default=None, min_length=1)

    def channels_in_scope(self, facts: CampaignFacts) -> tuple[ChannelPlan, ...]:
        """The campaign's channels this rule covers."""
        return tuple(p for p in facts.channels if self.channels is None or p.channel in self.channels)

    def countries_in_scope(self, countries: Iterable[str]) -> tuple[str, ...]:
        """Those of ``countries`` this rule covers, in order."""
        return in_markets(self.markets, countries)


def in_markets(markets: tuple[str, ...] | None, countries: Iterable[str]) -> tuple[str, ...]:
    """Those of ``countries`` among ``markets`` (None: all of them), in order."""
    return tuple(c for c in countries if markets is None or c in markets)


P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class CheckSpec(Generic[P]):
    """A named predicate: the params model a rule must satisfy and the function that finds problems."""

    params: type[P]
    run: Callable[[CampaignFacts, P], Iterable[Hit]]


Registry = dict[str, CheckSpec[Any]]


def money(amount: Decimal, currency: str) -> str:
    """An amount as people read it: 1,234.50 EUR."""
    return f"{amount:,.2f} {currency}"


def listed(items: Iterable[str], last: str = "and") -> str:
    """Items joined for a sentence: a, b and c (or ``last`` instead of 'and')."""
    values = list(items)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + f" {last} " + values[-1]


def fold(text: str) -> str:
    """Lower case without accents, so 'Préstamo' and 'prestamo' match alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=512)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    # Whole words only: '#ad' must not match '#adventure', 'loan' not 'loaned'; hashtags keep their '#'.
    return re.compile(r"(?<![\w#])" + re.escape(fold(phrase)) + r"(?!\w)")


def phrases_in(text: str, phrases: Iterable[str]) -> tuple[str, ...]:
    """The phrases that occur in ``text`` as whole words, case and accents ignored, in the order given."""
    folded = fold(text)
    return tuple(phrase for phrase in phrases if _phrase_pattern(phrase).search(folded))
