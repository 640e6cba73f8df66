"""The channel catalogue: what each channel is, where it runs, what it serves and what it costs at least (data file)."""

import json
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Literal

from promptsales.domain_core.campaigns.model.plan import BiddingStrategy, Objective
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

ChannelKind = Literal["ads", "email", "message", "influencer"]


class ChannelSpec(Dto):
    """One channel a campaign can run on; ``bidding[0]`` is its default strategy, money is USD."""

    id: str
    display_name: str
    platform: str | None  # the integrations platform that activates it; None when nothing is automated
    entitlement: str  # the business plan's channel entitlement that covers it
    kind: ChannelKind
    content_channel: str | None  # the content context's channel whose formats the copy follows
    formats: tuple[str, ...]
    bidding: tuple[BiddingStrategy, ...]
    objectives: tuple[Objective, ...]
    customer_lists: bool  # accepts hashed customer lists (Customer Match, Custom/Matched Audiences)
    utm_source: str
    utm_medium: str
    min_daily_budget: Decimal
    min_daily_budget_source: str
    consent_channel: str | None  # the consent a recipient must have given (owned channels)


@cache
def channel_catalogue() -> Mapping[str, ChannelSpec]:
    """Every channel by id, read once from channels.json."""
    raw = json.loads(files(__package__).joinpath("channels.json").read_text(encoding="utf-8"))
    specs = (ChannelSpec.model_validate(entry) for entry in raw["channels"])
    return MappingProxyType({spec.id: spec for spec in specs})


def get_channel(channel_id: str) -> ChannelSpec:
    """The channel with this id, or ValidationFailed listing the valid ones."""
    catalogue = channel_catalogue()
    spec = catalogue.get(channel_id)
    if spec is None:
        raise ValidationFailed(
            f"Unknown channel '{channel_id}'.", field="channel", hint=f"Valid channels: {', '.join(catalogue)}."
        )
    return spec
