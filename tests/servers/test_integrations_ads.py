"""The ads surface end to end on SQLite, for each ad platform's sandbox: connect, list the ad accounts (the tool),
create a campaign chain through the facade as campaigns will (paused, idempotent), activate it, read deterministic
daily performance; server-side checks; and a revoked token turning the connection needs_reauth."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from promptsales.domain_core.infrastructure.tables import AuditEntryRecord
from promptsales.domain_core.integrations.dto import AdGroupSpec, CampaignSpec, CreativeSpec, CustomerListSpec
from promptsales.domain_core.integrations.model.customer_lists import hash_email
from promptsales.domain_core.integrations.model.errors import AuthExpired
from promptsales.domain_core.shared.errors import Conflict, ValidationFailed
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm

PLATFORMS = ("google_ads", "meta_ads", "tiktok_ads", "linkedin_ads")
DAY = date(2026, 3, 1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CAMPAIGN = CampaignSpec(name="Spring launch", objective="leads", daily_budget=Decimal("60.00"))
GROUP = AdGroupSpec(name="Spain", bid=Decimal("3.00"), countries=("ES",), age_min=25, age_max=54)
CREATIVE = CreativeSpec(
    name="Launch ad",
    headlines=("Accounting made easy", "Try it free", "Invoices in minutes"),
    descriptions=("Close your books in a day.", "Made for small firms."),
    final_url="https://books.example/es?utm_source=promptsales",
    image_png=PNG,
)


def integrations(crm: Crm) -> Crm:
    return Crm(crm.client, prefix="integrations_")


def requests_seen(runtime: Runtime, platform: str) -> int:
    simulator: Any = runtime.integrations.sandbox.simulator(platform)
    return len(simulator.requests)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_sandbox_campaign_goes_from_connect_to_measured_results(
    crm: Crm, runtime: Runtime, platform: str
) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform=platform)
    assert (connection["status"], connection["mode"]) == ("connected", "sandbox")
    assert (await tools.ok("test_connection", platform=platform))["ok"] is True
    listed = await tools.ok("list_ad_accounts", platform=platform)
    [account] = listed["items"]
    assert listed["platform"] == platform
    assert (account["id"], account["currency"], account["time_zone"]) == (connection["account_id"], "USD", "UTC")

    facade, caller = runtime.integrations, runtime.caller(None)
    ads = facade.ads(caller, platform)
    account_id = account["id"]
    campaign = await ads.create_campaign(account_id, CAMPAIGN, idempotency_key="act-1:campaign")
    retried = await ads.create_campaign(account_id, CAMPAIGN, idempotency_key="act-1:campaign")
    assert retried == campaign  # a retried activation gets the stored object, nothing new on the platform
    group = await ads.create_ad_group(account_id, campaign.id, GROUP, idempotency_key="act-1:group")
    ad = await ads.create_ad(account_id, group.id, CREATIVE, idempotency_key="act-1:ad")
    assert [o.status for o in (campaign, group, ad)] == ["paused"] * 3
    assert (group.parent_id, ad.parent_id) == (campaign.id, group.id)
    with pytest.raises(Conflict):  # the same key for a different request is refused
        await ads.create_campaign(
            account_id, CAMPAIGN.model_copy(update={"name": "Other"}), idempotency_key="act-1:campaign"
        )

    for kind, object_id in (("campaign", campaign.id), ("ad_group", group.id), ("ad", ad.id)):
        assert (await ads.set_status(account_id, kind, object_id, "active")).status == "active"  # type: ignore[arg-type]
    facade.sandbox.advance(timedelta(days=3))
    today = facade.sandbox.now().date()
    window = (today - timedelta(days=3), today)
    report = await ads.daily_performance(account_id, "campaign", [campaign.id], *window)
    assert [r.day for r in report] == [today - timedelta(days=3 - i) for i in range(4)]
    full_days = report[1:3]
    assert all(r.impressions > r.clicks > 0 and 0 < r.spend <= Decimal("60.00") for r in full_days), full_days
    assert report == await ads.daily_performance(account_id, "campaign", [campaign.id], *window)

    paused = await ads.set_status(account_id, "campaign", campaign.id, "paused", idempotency_key="act-1:pause")
    assert paused.status == "paused"

    async def audited(uow: Any) -> list[tuple[str, str]]:
        rows = await uow.session.exec(
            select(AuditEntryRecord).where(AuditEntryRecord.action.startswith("integrations.ads."))
        )  # type: ignore[attr-defined]
        return [(r.action, r.target_type) for r in rows.all()]

    entries = await runtime.uow.read(caller, audited)
    assert entries.count(("integrations.ads.create_campaign", f"{platform}.campaign")) == 1
    assert ("integrations.ads.set_status", f"{platform}.campaign") in entries


async def test_money_and_shapes_are_checked_before_any_request(crm: Crm, runtime: Runtime) -> None:
    platform = "meta_ads"  # the checks are the facade's, the same for every platform
    tools = integrations(crm)
    connection = await tools.ok("connect", platform=platform)
    ads = runtime.integrations.ads(runtime.caller(None), platform)
    account_id = connection["account_id"]
    campaign = await ads.create_campaign(account_id, CAMPAIGN)
    before = requests_seen(runtime, platform)
    refused = [
        (ads.set_daily_budget(account_id, campaign.id, Decimal("0")), "daily_budget"),
        (ads.set_daily_budget(account_id, campaign.id, Decimal("50000.01")), "daily_budget"),
        (ads.set_bid(account_id, campaign.id, Decimal("-2")), "bid"),
        (ads.create_campaign(account_id, CAMPAIGN.model_copy(update={"daily_budget": Decimal("1e9")})), "daily_budget"),
        (ads.set_status(account_id, "campaign", campaign.id, "running"), "status"),  # type: ignore[arg-type]
        (ads.set_status(account_id, "keyword", campaign.id, "paused"), "kind"),  # type: ignore[arg-type]
        (ads.daily_performance(account_id, "campaign", [], DAY, DAY), "object_ids"),
        (ads.daily_performance(account_id, "campaign", [campaign.id], DAY, DAY + timedelta(days=93)), "until"),
        (ads.set_status("", "campaign", campaign.id, "paused"), "account_id"),
    ]
    for call, field in refused:
        with pytest.raises(ValidationFailed) as caught:
            await call
        assert caught.value.field == field
    assert requests_seen(runtime, platform) == before


async def test_only_connected_ad_platforms_run_ads(crm: Crm, runtime: Runtime) -> None:
    tools = integrations(crm)
    message = await tools.error("list_ad_accounts", platform="google_ads")
    assert "integrations_connect" in message
    await tools.ok("connect", platform="hubspot")
    with pytest.raises(ValidationFailed) as caught:
        runtime.integrations.ads(runtime.caller(None), "hubspot")
    assert caught.value.field == "platform" and "google_ads, linkedin_ads, meta_ads, tiktok_ads" in (
        caught.value.hint or ""
    )
    rejected = await tools.raw("list_ad_accounts", {"platform": "hubspot"})
    assert rejected.is_error and "google_ads" in rejected.content[0].text


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_revoked_token_marks_the_ad_connection_needs_reauth(crm: Crm, runtime: Runtime, platform: str) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform=platform)
    facade = runtime.integrations
    secret: dict[str, Any] = {}

    async def grab(uow: Any) -> None:
        secret.update(await facade.sessions.credentials.get(uow, f"integrations.{platform}") or {})

    await runtime.uow.read(runtime.caller(None), grab)
    facade.sandbox.revoke(platform, access_token=secret["access_token"], refresh_token=secret["refresh_token"])
    with pytest.raises(AuthExpired):
        await facade.ads(runtime.caller(None), platform).create_campaign(connection["account_id"], CAMPAIGN)
    listing = await tools.ok("list_connectors")
    [entry] = [i for i in listing["items"] if i["platform"] == platform]
    assert entry["connection"]["status"] == "needs_reauth" and entry["connection"]["last_error"]
    message = await tools.error("list_ad_accounts", platform=platform)
    assert "integrations_connect" in message and secret["access_token"] not in message
    assert (await tools.ok("connect", platform=platform))["status"] == "connected"
    assert len((await tools.ok("list_ad_accounts", platform=platform))["items"]) == 1


@pytest.mark.parametrize("platform", ["google_ads", "tiktok_ads", "linkedin_ads"])
async def test_a_refused_access_token_is_refreshed_once_and_the_call_goes_through(
    crm: Crm, runtime: Runtime, platform: str
) -> None:
    tools = integrations(crm)
    connection = await tools.ok("connect", platform=platform)
    facade, caller = runtime.integrations, runtime.caller(None)

    async def secret(uow: Any) -> dict[str, Any]:
        return await facade.sessions.credentials.get(uow, f"integrations.{platform}") or {}

    before = await runtime.uow.read(caller, secret)
    # The access token is refused from now on; the refresh token still works.
    facade.sandbox.revoke(platform, access_token=before["access_token"], refresh_token=None)
    [account] = await facade.ads(caller, platform).list_accounts()
    after = await runtime.uow.read(caller, secret)
    assert account.id == connection["account_id"]
    assert after["access_token"] != before["access_token"]
    listing = await tools.ok("list_connectors")
    assert next(i for i in listing["items"] if i["platform"] == platform)["connection"]["status"] == "connected"


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_customer_list_is_paid_work_audited_without_its_digests_and_sizes_a_targeting(
    crm: Crm, runtime: Runtime, platform: str
) -> None:
    connection = await integrations(crm).ok("connect", platform=platform)
    account_id = connection["account_id"]
    ads = runtime.integrations.ads(runtime.caller(None), platform)
    digests = tuple(hash_email(f"client{i}@books.example") for i in range(1_500))
    spec = CustomerListSpec(name="Clients 2025", hashed_emails=digests)

    made = await ads.create_customer_list(account_id, spec, idempotency_key="act-9:list")
    assert await ads.create_customer_list(account_id, spec, idempotency_key="act-9:list") == made  # replayed
    assert made.name == "Clients 2025" and (made.size is None or 0 < made.size <= 1_500)

    targeting = AdGroupSpec(name="Clients", countries=("ES",), age_min=25, age_max=54, audience_ids=(made.id,))
    estimate = await ads.estimate_audience(account_id, targeting)
    assert 0 < estimate.lower <= estimate.upper and estimate.basis
    campaign = await ads.create_campaign(account_id, CAMPAIGN)
    group = await ads.create_ad_group(account_id, campaign.id, targeting, idempotency_key="act-9:group")
    assert group.parent_id == campaign.id

    async def audited(uow: Any) -> list[Any]:
        rows = await uow.session.exec(
            select(AuditEntryRecord).where(AuditEntryRecord.action == "integrations.ads.create_customer_list")
        )
        return list(rows.all())

    [entry] = await runtime.uow.read(runtime.caller(None), audited)
    assert (entry.target_type, entry.target_id) == (f"{platform}.customer_list", made.id)
    assert entry.changes["emails"] == 1_500 and entry.changes["phones"] == 0
    assert digests[0] not in str(entry.changes)

    before = requests_seen(runtime, platform)
    for bad, field in (
        (spec.model_copy(update={"hashed_emails": ("client0@books.example",)}), "hashed_emails"),
        (spec.model_copy(update={"name": ""}), "name"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            await ads.create_customer_list(account_id, bad)
        assert caught.value.field == field
    with pytest.raises(ValidationFailed) as caught:
        await ads.estimate_audience(account_id, targeting.model_copy(update={"audience_ids": ("a/b",)}))
    assert caught.value.field == "audience_ids"
    assert requests_seen(runtime, platform) == before
