"""The forecast of an edited plan: the same benchmarks, curves and rates the planner used, over the new budgets."""

from collections.abc import Sequence

from promptsales.domain_core.campaigns.model.benchmarks import benchmark
from promptsales.domain_core.campaigns.model.channels import get_channel
from promptsales.domain_core.campaigns.model.forecast import forecast
from promptsales.domain_core.campaigns.model.fx import usd_rate
from promptsales.domain_core.campaigns.model.plan import ChannelPlan, Forecast, Schedule
from promptsales.domain_core.campaigns.model.response_curves import curve_from_benchmark


def reforecast(
    plans: Sequence[ChannelPlan], *, schedule: Schedule, currency: str, industry: str | None, audience_size: int | None
) -> Forecast:
    """Expected results of ``plans`` over ``schedule``, in ``currency``."""
    fx = usd_rate(currency)
    benches = {p.channel: benchmark(p.channel, industry) for p in plans}
    curves = {
        p.channel: curve_from_benchmark(
            benches[p.channel],
            flight_days=schedule.days,
            audience_cap=audience_size if get_channel(p.channel).kind != "ads" else None,
            currency_rate=fx.per_usd,
        )
        for p in plans
    }
    return forecast(plans, benches, curves, fx=fx, audience_size=audience_size)
