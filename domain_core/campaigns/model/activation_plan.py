"""What activating a campaign creates, item by item, derived from its plan alone (pure; the preview shows it).

Ads channels get a campaign (daily budget), a customer list built from the CRM segment where the channel takes one,
an ad group (targeting, the list, bid) and one ad per approved creative; email a
campaign to the consenting audience; SMS and WhatsApp a batch to the consenting members; influencers a brief each.
Every item has a stable ``local_key`` (a retried activation finds what an earlier try made) and the UTM parameters
its links carry (``utm_content`` names the ad, email, batch or influencer).
"""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Literal

from promptsales.domain_core.campaigns.model.channels import ChannelSpec
from promptsales.domain_core.campaigns.model.plan import Bidding, ChannelPlan, Schedule, Targeting
from promptsales.domain_core.campaigns.model.tracking import parameters
from promptsales.domain_core.shared.dto import Dto

ItemKind = Literal["campaign", "audience", "ad_group", "ad", "email_campaign", "message_batch", "influencer_brief"]
# Bids the ad platforms take as "what a result may cost"; target ROAS and lowest cost leave bidding to the platform.
_BID_STRATEGIES = frozenset({"cost_cap", "target_cpa", "manual_cpc"})


class PlannedItem(Dto):
    """One object to create on a channel."""

    local_key: str
    channel: str
    platform: str | None
    kind: ItemKind
    name: str
    parent_key: str | None = None
    audience_key: str | None = None  # the customer list an ad group targets
    daily_budget: Decimal | None = None
    bid: Decimal | None = None
    targeting: Targeting | None = None
    creative_id: str | None = None
    utm: dict[str, str]
    recipients: int | None = None
    handle: str | None = None


def _unique(name: str, channel: str, campaign_id: str) -> str:
    """A platform-side name unique in the ad account (Google Ads refuses a second campaign of the same name), ending
    with the campaign's id so people can find it back."""
    return f"{name[: 200 - len(channel) - len(campaign_id) - 6]} · {channel} [{campaign_id}]"


def bid_of(bidding: Bidding) -> Decimal | None:
    """The per-result amount an ad group carries, or None where the strategy is the platform's automatic bidding."""
    return bidding.amount if bidding.strategy in _BID_STRATEGIES else None


def _utm(campaign_id: str, spec: ChannelSpec, content: str | None) -> dict[str, str]:
    return parameters(campaign_id=campaign_id, source=spec.utm_source, medium=spec.utm_medium, content=content)


def _ads(
    campaign_id: str, name: str, plan: ChannelPlan, spec: ChannelSpec, list_members: int | None
) -> list[PlannedItem]:
    root = f"{plan.channel}/campaign"
    group = f"{plan.channel}/ad_group"
    items = [
        PlannedItem(
            local_key=root,
            channel=plan.channel,
            platform=spec.platform,
            kind="campaign",
            name=_unique(name, spec.display_name, campaign_id),
            daily_budget=plan.daily_budget,
            utm=_utm(campaign_id, spec, None),
        )
    ]
    audience = None
    if plan.targeting.customer_list_segment_id and spec.customer_lists:
        audience = f"{plan.channel}/audience"
        items.append(
            PlannedItem(
                local_key=audience,
                channel=plan.channel,
                platform=spec.platform,
                kind="audience",
                name=f"{name} · {spec.display_name} · CRM list"[:200],
                utm=_utm(campaign_id, spec, None),
                recipients=list_members,
            )
        )
    items.append(
        PlannedItem(
            local_key=group,
            channel=plan.channel,
            platform=spec.platform,
            kind="ad_group",
            name=f"{name} · {spec.display_name} · audience"[:200],
            parent_key=root,
            audience_key=audience,
            bid=bid_of(plan.bidding),
            targeting=plan.targeting,
            utm=_utm(campaign_id, spec, None),
        )
    )
    items += [
        PlannedItem(
            local_key=f"{plan.channel}/ad/{creative}",
            channel=plan.channel,
            platform=spec.platform,
            kind="ad",
            name=f"{name} · {creative}"[:200],
            parent_key=group,
            creative_id=creative,
            utm=_utm(campaign_id, spec, creative),
        )
        for creative in plan.creative_ids
    ]
    return items


def _owned(campaign_id: str, name: str, plan: ChannelPlan, spec: ChannelSpec, recipients: int) -> list[PlannedItem]:
    kind: ItemKind = "email_campaign" if spec.kind == "email" else "message_batch"
    return [
        PlannedItem(
            local_key=f"{plan.channel}/{kind}/{creative}",
            channel=plan.channel,
            platform=spec.platform,
            kind=kind,
            name=f"{name} · {spec.display_name}"[:200],
            creative_id=creative,
            utm=_utm(campaign_id, spec, creative),
            recipients=recipients,
        )
        for creative in plan.creative_ids[:1]  # one message per channel and campaign: more would be a sequence
    ]


def items(
    *,
    campaign_id: str,
    name: str,
    channels: Sequence[ChannelPlan],
    catalogue: Mapping[str, ChannelSpec],
    recipients: Mapping[str, int],
    influencers: Sequence[tuple[str, str | None]],
    list_members: int | None = None,
) -> list[PlannedItem]:
    """Every object activation creates, parents before children. ``recipients``: consenting audience members per
    owned channel; ``list_members``: segment members a customer list would hold; ``influencers``: (handle, code)."""
    planned: list[PlannedItem] = []
    for plan in channels:
        spec = catalogue[plan.channel]
        if spec.kind == "ads":
            planned += _ads(campaign_id, name, plan, spec, list_members)
        elif spec.kind in ("email", "message"):
            planned += _owned(campaign_id, name, plan, spec, recipients.get(plan.channel, 0))
    influencer = catalogue.get("influencer")
    if influencer is not None:
        planned += [
            PlannedItem(
                local_key=f"influencer/{handle.lstrip('@').lower()}",
                channel="influencer",
                platform=None,
                kind="influencer_brief",
                name=f"{name} · {handle}"[:200],
                utm=_utm(campaign_id, influencer, code or handle.lstrip("@")),
                handle=handle,
            )
            for handle, code in influencers
        ]
    return planned


def max_spend(channels: Sequence[ChannelPlan], schedule: Schedule, *, total: Decimal | None, fees: Decimal) -> Decimal:
    """The most the campaign can spend: its daily budgets on every day of the flight (within its total), plus fees."""
    daily = sum((plan.daily_budget or Decimal(0) for plan in channels), start=Decimal(0))
    most = daily * schedule.days
    return (min(most, total) if total is not None else most) + fees


def starts_later(schedule: Schedule, today: date) -> bool:
    """Whether the flight starts after ``today`` (activation schedules it)."""
    return schedule.start_date > today
