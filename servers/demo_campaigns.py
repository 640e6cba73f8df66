"""The demo tenant's campaigns: one live on the Google Ads sandbox, one planned (re-runs change nothing).

Each campaign is found by name and taken from wherever it stands to where the demo wants it (planned; or approved
copy attached, submitted, approved by a person where compliance asks for one, and activated), so a run interrupted
half-way is finished by the next; every call carries a deterministic idempotency key (``demo:campaign:<key>:<step>``).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from promptsales.domain_core.campaigns.commands import (
    ActivateCampaign,
    ChannelChange,
    DecideCampaign,
    PlanCampaign,
    SubmitCampaign,
    UpdateCampaign,
)
from promptsales.domain_core.campaigns.dto import CampaignSummary, CampaignView
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.campaigns.model.plan import Market
from promptsales.domain_core.content.commands import DecideAsset, GenerateCopy
from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.demo_data import CAMPAIGNS, DemoCampaign

# The live campaign runs on the Google Ads sandbox account the demo connects; its copy is written for Google Ads.
CHANNEL = "google_search"
COPY_CHANNEL, COPY_FORMAT = "google_ads", "rsa"
REVIEWER_ID = "demo-reviewer"


def reviewer_of(caller: Caller) -> Caller:
    """The person who approves the demo's copy and campaign (the seeder may not approve its own work)."""
    return Caller(tenant_id=caller.tenant_id, actor_id=REVIEWER_ID, actor_kind="human", source="cli")


async def seed_campaigns(campaigns: CampaignsFacade, content: ContentFacade, caller: Caller) -> str:
    """Plan the demo campaigns that are missing and bring the live one to active; a summary for people."""
    existing = await _by_name(campaigns, caller)
    added = 0
    for demo in CAMPAIGNS:
        found = existing.get(demo.name)
        if found is None:
            planned = await campaigns.plan_campaign(caller, _goal(demo), idempotency_key=_key(demo, "plan"))
            campaign_id, status = planned.id, planned.status
            added += 1
        else:
            campaign_id, status = found.id, found.status
        if demo.live and status in {"planned", "in_review", "approved"}:
            await _go_live(campaigns, content, caller, demo, campaign_id)
            added += 1
    states = await _by_name(campaigns, caller)
    listed = ", ".join(f"{demo.name} {states[demo.name].status}" for demo in CAMPAIGNS)
    return f"campaigns: {listed}" + ("" if added else " (nothing added)")


async def _by_name(campaigns: CampaignsFacade, caller: Caller) -> dict[str, CampaignSummary]:
    found: dict[str, CampaignSummary] = {}
    cursor: str | None = None
    while True:
        page = await campaigns.list_campaigns(caller, cursor=cursor, limit=100)
        found.update((item.name, item) for item in page.items if item.name not in found)
        if (cursor := page.next_cursor) is None:
            return found


def _key(demo: DemoCampaign, step: str) -> str:
    return f"demo:campaign:{demo.key}:{step}"


def _goal(demo: DemoCampaign) -> PlanCampaign:
    start = datetime.now(UTC).date() + timedelta(days=demo.starts_in_days)
    return PlanCampaign(
        name=demo.name,
        objective=demo.objective,
        product=demo.product,
        markets=tuple(Market(country=country, languages=(language,)) for country, language in demo.markets),
        start_date=start,
        end_date=start + timedelta(days=demo.days - 1),
        landing_url=demo.landing_url,
        budget=Decimal(demo.budget),
        currency=demo.currency,
        channels=(CHANNEL,),
    )


async def _go_live(
    campaigns: CampaignsFacade, content: ContentFacade, caller: Caller, demo: DemoCampaign, campaign_id: str
) -> CampaignView:
    """From wherever the campaign stands: approved copy attached, submitted, a person's approval, activation."""
    reviewer = reviewer_of(caller)
    view = await campaigns.get_campaign(caller, campaign_id=campaign_id)
    if view.status == "planned":
        if not any(plan.creative_ids for plan in view.channels):
            asset_id = await _approved_copy(content, caller, demo)
            change = ChannelChange(channel=CHANNEL, creative_ids=(asset_id,))
            edit = UpdateCampaign(campaign_id=campaign_id, channels=(change,), reason="Approved copy for the demo")
            await campaigns.update_campaign(caller, edit, idempotency_key=_key(demo, "creatives"))
        submit = SubmitCampaign(campaign_id=campaign_id, note="Demo campaign")
        await campaigns.submit_for_review(caller, submit, idempotency_key=_key(demo, "submit"))
        view = await campaigns.get_campaign(caller, campaign_id=campaign_id)
    if view.status == "in_review":
        decision = DecideCampaign(campaign_id=campaign_id, decision="approve", note="Budget and copy checked.")
        await campaigns.decide(reviewer, decision, idempotency_key=_key(demo, "approve"))
    preview = await campaigns.preview_activation(caller, campaign_id=campaign_id)
    go = ActivateCampaign(campaign_id=campaign_id, confirmation_token=preview.confirmation_token)
    await campaigns.activate(caller, go, idempotency_key=_key(demo, "activate"))
    return await campaigns.get_campaign(caller, campaign_id=campaign_id)


async def _approved_copy(content: ContentFacade, caller: Caller, demo: DemoCampaign) -> str:
    """One Google Ads copy variant for the campaign, submitted and approved by the reviewer."""
    command = GenerateCopy(
        brief=demo.brief, channel=COPY_CHANNEL, format=COPY_FORMAT, language=demo.language, variants=1
    )
    written = await content.generate_copy(caller, command, idempotency_key=_key(demo, "copy"))
    asset_id = written.variants[0].asset_id
    if asset_id is None:  # the facade keeps every generated variant; a missing id would attach nothing
        raise RuntimeError("the generated demo copy was not kept in the library")
    await content.decide_asset(
        caller, DecideAsset(asset_id=asset_id, decision="submit"), idempotency_key=_key(demo, "copy-submit")
    )
    approve = DecideAsset(asset_id=asset_id, decision="approve", note="On brand, within the format's limits.")
    await content.decide_asset(reviewer_of(caller), approve, idempotency_key=_key(demo, "copy-approve"))
    return asset_id
