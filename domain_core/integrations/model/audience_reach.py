"""How the ad platform simulators size a targeting (pure, [~ modelling], not any platform's real figures).

* without customer lists: :func:`~.ad_performance.audience_size` — a fixed number of reachable people per targeted
  country (or a worldwide pool), times the targeted share of the 18-65+ age span, times the interest share;
* with customer lists: the lists' matched people (each list's uploaded identifiers times its platform's match rate)
  narrowed by the same age and interest shares, never more than the targeting reaches without them;
* the platforms answer a range, not a number: the simulators give the size ±10 %, whole hundreds.
"""

from collections.abc import Iterable, Sequence

from promptsales.domain_core.integrations.model.ad_performance import audience_size

RANGE_SPREAD = 0.10


def matched(uploaded: int, match_rate: float) -> int:
    """The people a list of ``uploaded`` identifiers matches on a platform that matches ``match_rate`` of them."""
    return int(max(uploaded, 0) * min(max(match_rate, 0.0), 1.0))


def targeted_reach(
    countries: Iterable[str],
    age_min: int | None,
    age_max: int | None,
    interests: Iterable[str],
    list_sizes: Sequence[int] = (),
) -> int:
    """People a targeting reaches: its countries, ages and interests, narrowed to the listed people when given."""
    places = list(countries)
    topics = list(interests)
    reach = audience_size(places, age_min, age_max, topics)
    if not list_sizes:
        return reach
    everyone = audience_size(places, None, None, ())
    share = reach / everyone if everyone else 0.0
    return min(reach, int(sum(max(s, 0) for s in list_sizes) * share))


def reach_range(size: int) -> tuple[int, int]:
    """The ``(lower, upper)`` range a simulator answers for ``size`` people: ±10 %, rounded to whole hundreds."""
    lower = int(size * (1 - RANGE_SPREAD)) // 100 * 100
    upper = -(-int(size * (1 + RANGE_SPREAD)) // 100) * 100
    return lower, upper
