"""Money between currencies through the planner's dated USD rate table (an assumption the preview states)."""

from decimal import ROUND_HALF_UP, Decimal

from promptsales.domain_core.campaigns.model.fx import usd_rate

CENT = Decimal("0.01")


def convert(amount: Decimal, source: str, target: str) -> Decimal:
    """``amount`` in ``source`` expressed in ``target``, to the cent (unknown currencies: ValidationFailed)."""
    if source == target:
        return amount
    in_usd = amount / Decimal(str(usd_rate(source).per_usd))
    return (in_usd * Decimal(str(usd_rate(target).per_usd))).quantize(CENT, rounding=ROUND_HALF_UP)
