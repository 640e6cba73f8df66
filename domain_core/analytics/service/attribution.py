"""Journeys read from the tenant's touches and conversions, credited under the models its plan includes."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from promptsales.domain_core.analytics import repository as repo
from promptsales.domain_core.analytics.commands import AttributionQuery
from promptsales.domain_core.analytics.dto import AttributionView, ModelComparison
from promptsales.domain_core.analytics.model.attribution import (
    AttributionOptions,
    ModelName,
    attribute,
    compare,
)
from promptsales.domain_core.analytics.model.journeys import Journeys
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import NotEntitled, ValidationFailed

UTC = ZoneInfo("UTC")
JOURNEYS_MAX = 200_000  # contacts read per question: beyond it the most recent are kept and the answer says so
DAY_SECONDS = 86_400.0
# The plan catalogue names data-driven attribution once for both data-driven models.
ENTITLEMENT: dict[str, str] = {"markov": "data_driven", "shapley": "data_driven"}


def entitlement_of(model: ModelName) -> str:
    """The plan catalogue's name for a model."""
    return ENTITLEMENT.get(model, str(model))


def check_models(models: Sequence[ModelName], allowed: frozenset[str], plan_name: str) -> None:
    """Refuse models the tenant's plan does not include, naming the first one."""
    for model in models:
        if entitlement_of(model) not in allowed:
            raise NotEntitled(
                f"The {model} attribution model is not included in the {plan_name} plan.",
                hint=f"Included: {', '.join(sorted(allowed)) or 'none'}; business_check_entitlement "
                f"with analytics:{entitlement_of(model)} names the plan that has it.",
            )


def _bounds(since: date, until: date) -> tuple[datetime, datetime]:
    return datetime.combine(since, time.min, tzinfo=UTC), datetime.combine(until, time.max, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def read_journeys(uow: UnitOfWork, query: AttributionQuery) -> tuple[Journeys, bool]:
    """Each contact's steps in the lookback window before its conversion (or before the window's end if it did not
    convert), labelled by channel or campaign, and whether the cap on contacts read cut some off."""
    start, end = _bounds(query.since, query.until)
    lookback = timedelta(days=query.lookback_days)
    contacts = await repo.journey_contacts(uow, since=start - lookback, until=end, limit=JOURNEYS_MAX + 1)
    capped = len(contacts) > JOURNEYS_MAX
    contacts = contacts[:JOURNEYS_MAX]
    converted = {
        str(contact): (_utc(at), float(value or 0))
        for contact, at, value in await repo.first_conversions(uow, query.conversion, since=start, until=end)
    }
    steps: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for offset in range(0, len(contacts), 5_000):
        rows = await repo.journey_touches(uow, contacts[offset : offset + 5_000], since=start - lookback, until=end)
        for contact, channel, campaign, at in rows:
            label = (campaign or f"no campaign: {channel}") if query.by == "campaign" else channel
            steps[str(contact)].append((label, _utc(at)))
    paths, flags, values = [], [], []
    for contact, touches in steps.items():
        conversion = converted.get(contact)
        close = conversion[0] if conversion else end
        kept = [
            (label, (close - at).total_seconds() / DAY_SECONDS)
            for label, at in touches
            if close - lookback <= at <= close
        ]
        if not kept:
            continue
        if conversion is None and not any(at >= start for _, at in touches):
            continue  # a journey that ended before the window is not this window's
        paths.append(kept)
        flags.append(conversion is not None)
        values.append(conversion[1] if conversion else 0.0)
    return Journeys.from_paths(paths, flags, values), capped


def _options(query: AttributionQuery) -> AttributionOptions:
    return AttributionOptions(
        half_life_days=query.half_life_days,
        position_first=query.position_first,
        position_last=query.position_last,
        markov_order=query.markov_order,
    )


def _notes(journeys: Journeys, query: AttributionQuery, capped: bool) -> list[str]:
    notes = [
        f"{journeys.n_journeys:,} journeys ({journeys.n_touches:,} steps), {journeys.n_conversions:,} reaching "
        f"{query.conversion} between {query.since} and {query.until}, each with the steps of the "
        f"{query.lookback_days} days before."
    ]
    if capped:
        notes.append(f"Only the {JOURNEYS_MAX:,} most recently active contacts were read.")
    if query.conversion != "customer":
        notes.append("Value is credited only for conversion 'customer' (won deals carry the value).")
    return notes


def attribution(journeys: Journeys, capped: bool, *, query: AttributionQuery) -> AttributionView:
    """Credit per channel or campaign under each model asked for."""
    if journeys.n_conversions == 0:
        raise ValidationFailed(
            f"No contact reached {query.conversion} between {query.since} and {query.until}, so there is nothing "
            "to attribute.",
            field="since",
            hint="Widen the window or pick an earlier conversion stage (lead, mql).",
        )
    options = _options(query)
    results = [attribute(journeys, model, options) for model in query.models]
    return AttributionView(
        since=query.since,
        until=query.until,
        conversion=query.conversion,
        by=query.by,
        lookback_days=query.lookback_days,
        journeys=journeys.n_journeys,
        conversions=journeys.n_conversions,
        value=Decimal(str(round(float(journeys.value[journeys.converted].sum()), 2))),
        models=results,
        notes=_notes(journeys, query, capped),
    )


def comparison(journeys: Journeys, capped: bool, *, query: AttributionQuery) -> ModelComparison:
    """The models side by side and where they disagree most, in words."""
    view = attribution(journeys, capped, query=query)
    return ModelComparison(attribution=view, disagreements=list(compare(view.models, journeys))[:10])
