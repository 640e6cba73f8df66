"""A small dated table of USD exchange rates, to express USD benchmarks in a campaign's currency (an assumption)."""

import json
from datetime import date
from functools import cache
from importlib.resources import files

from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed


class FxRate(Dto):
    """How many units of ``currency`` one US dollar buys, on which date, from where."""

    currency: str
    per_usd: float
    as_of: date
    source: str

    def describe(self) -> str:
        """The rate in words, for a forecast's assumptions."""
        if self.currency == "USD":
            return "Amounts are in USD, the benchmarks' own currency (no conversion)."
        rate = f"1 USD = {self.per_usd:g} {self.currency}"
        return f"USD benchmarks converted at {rate} (rate of {self.as_of}; {self.source})."


@cache
def _table() -> dict[str, FxRate]:
    raw = json.loads(files(__package__).joinpath("fx.json").read_text(encoding="utf-8"))
    as_of = date.fromisoformat(raw["as_of"])
    return {
        code: FxRate(currency=code, per_usd=float(rate), as_of=as_of, source=raw["source"])
        for code, rate in raw["per_usd"].items()
    }


def usd_rate(currency: str) -> FxRate:
    """The table's rate for ``currency`` (ISO 4217), or ValidationFailed listing the known ones."""
    rate = _table().get(currency.upper())
    if rate is None:
        raise ValidationFailed(
            f"No exchange rate for currency '{currency}'.",
            field="currency",
            hint=f"Known currencies: {', '.join(sorted(_table()))}.",
        )
    return rate
