"""What compliance reads about a campaign: the plan, its audience, creatives, influencers, spend and business plan.

The campaigns service gathers these facts from its own records and other contexts' facades (CRM consent counts,
the content library's approval and copy lint, the business plan); the rules only read them, so they stay pure.
"""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from promptsales.domain_core.campaigns.model.plan import (
    ChannelPlan,
    Market,
    Objective,
    ProductCategory,
    Schedule,
    SpecialAdCategory,
)
from promptsales.domain_core.shared.dto import Dto

ConsentChannel = Literal["email", "sms", "whatsapp"]
Amount = Annotated[Decimal, Field(ge=0)]


class ConsentCounts(Dto):
    """How many segment members gave, refused or never answered consent for one messaging channel."""

    granted: Annotated[int, Field(ge=0)] = 0
    denied: Annotated[int, Field(ge=0)] = 0
    unknown: Annotated[int, Field(ge=0)] = 0

    @property
    def without_consent(self) -> int:
        """Members a send must leave out: refused or never asked."""
        return self.denied + self.unknown


class AudienceFacts(Dto):
    """The CRM segment the campaign messages, with consent counts per consent channel."""

    segment_id: str
    size: Annotated[int, Field(ge=0)]
    consent: dict[ConsentChannel, ConsentCounts] = {}


class LintFact(Dto):
    """One finding of the content context's copy lint (length, claims, brand rules) on a creative."""

    code: str
    severity: Literal["error", "warning"]
    message: str


class CreativeFacts(Dto):
    """A creative of the campaign as the content library knows it: approval, lint and its copy as one text."""

    asset_id: str
    channel: str
    approved: bool
    lint: tuple[LintFact, ...] = ()
    text: str = ""


class InfluencerFacts(Dto):
    """An influencer post of the campaign: who posts, the brief, and the disclosure the post will carry."""

    handle: str
    brief: str = ""
    disclosure: str | None = None


class SpendCaps(Dto):
    """The tenant's spend ceilings in the campaign's currency (None: no cap at that level)."""

    per_campaign: Amount | None = None
    per_day: Amount | None = None
    per_month: Amount | None = None


class SpendFacts(Dto):
    """The campaign's money next to the tenant's caps and what its other live campaigns already commit."""

    caps: SpendCaps = SpendCaps()
    campaign_total: Amount
    campaign_daily: Amount
    tenant_daily_committed: Amount = Decimal(0)
    tenant_month_committed: Amount = Decimal(0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


class PlanFacts(Dto):
    """What the tenant's business plan allows: its channel names (google_ads, meta, web…) and activations left."""

    allowed_channels: frozenset[str]
    activations_left: Annotated[int, Field(ge=0)] | None = None  # None: unlimited


class CampaignFacts(Dto):
    """Everything the compliance rules look at for one campaign, gathered before activation."""

    objective: Objective
    channels: tuple[ChannelPlan, ...]
    markets: tuple[Market, ...]
    schedule: Schedule
    special_ad_category: SpecialAdCategory = "none"
    product_category: ProductCategory = "general"
    audience: AudienceFacts | None = None
    creatives: tuple[CreativeFacts, ...] = ()
    influencers: tuple[InfluencerFacts, ...] = ()
    spend: SpendFacts
    plan: PlanFacts

    def channel_ids(self) -> tuple[str, ...]:
        """The campaign's channel ids in plan order."""
        return tuple(plan.channel for plan in self.channels)

    def countries(self) -> tuple[str, ...]:
        """The campaign's market countries in order, without repeats."""
        return tuple(dict.fromkeys(market.country for market in self.markets))

    def channel_countries(self, channel: ChannelPlan) -> tuple[str, ...]:
        """The countries one channel reaches: its own targeting's, else the campaign's markets."""
        return channel.targeting.countries or self.countries()

    def creatives_of(self, channel: ChannelPlan) -> tuple[CreativeFacts, ...]:
        """Creatives the channel runs: those it names by id and those made for it."""
        named = set(channel.creative_ids)
        return tuple(c for c in self.creatives if c.asset_id in named or c.channel == channel.channel)
