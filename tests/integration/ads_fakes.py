"""What the ad platforms' contract tests share: one targeting spec, the create chain and its activation."""

from decimal import Decimal

from promptsales.domain_core.integrations.ads import AdGroupSpec, AdsPlatform, CampaignSpec, CustomerListSpec
from promptsales.domain_core.integrations.model.customer_lists import hash_email
from tests.integration.connector_fakes import T0

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DAY0 = T0.date()
GROUP = AdGroupSpec(
    name="Runners", bid=Decimal("1.50"), countries=("US", "ca"), age_min=25, age_max=44, interests=("running",)
)

CUSTOMERS = CustomerListSpec(
    name="Loyal customers", hashed_emails=tuple(hash_email(f"customer{i}@shop.example") for i in range(1_000))
)


def listed(audience_id: str) -> AdGroupSpec:
    """The tests' targeting narrowed to one customer list."""
    return GROUP.model_copy(update={"name": "Loyal runners", "audience_ids": (audience_id,)})


def campaign_spec(daily_budget: str = "25.00") -> CampaignSpec:
    """The tests' campaign (TikTok's smallest daily budget is higher: pass it)."""
    return CampaignSpec(name="Winter sale", objective="traffic", daily_budget=Decimal(daily_budget))


async def build_chain(ads: AdsPlatform, account: str, campaign: CampaignSpec, creative: object) -> tuple[str, str, str]:
    """Campaign → ad group → ad (all created paused); their ids."""
    made = await ads.create_campaign(account, campaign)
    group = await ads.create_ad_group(account, made.id, GROUP)
    ad = await ads.create_ad(account, group.id, creative)  # type: ignore[arg-type]
    return made.id, group.id, ad.id


async def activate(ads: AdsPlatform, account: str, chain: tuple[str, str, str]) -> None:
    """Turn the whole chain on."""
    for kind, object_id in zip(("campaign", "ad_group", "ad"), chain, strict=True):
        await ads.set_status(account, kind, object_id, "active")  # type: ignore[arg-type]
