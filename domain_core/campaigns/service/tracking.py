"""What analytics reads of the tenant's campaigns: plans to measure against and platform objects to pull."""

from promptsales.domain_core.campaigns import repository as repo
from promptsales.domain_core.campaigns.dto import CampaignTracking, TrackedObject
from promptsales.domain_core.campaigns.service import views
from promptsales.domain_core.campaigns.tables import CampaignRecord, PlatformObjectRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork

MEASURED = ("scheduled", "active", "paused", "completed", "archived")  # campaigns that ever ran or will


def _tracked(record: PlatformObjectRecord) -> TrackedObject | None:
    if record.platform_id is None:
        return None
    return TrackedObject.model_validate(
        {
            "channel": record.channel,
            "platform": record.platform,
            "kind": record.kind,
            "name": record.name,
            "account_id": record.account_id,
            "platform_id": record.platform_id,
            "status": record.status,
            "ad_ref": record.tracking.get("utm_content"),
        }
    )


async def _one(uow: UnitOfWork, record: CampaignRecord) -> CampaignTracking:
    objects = [found for row in await repo.objects(uow, record.id) if (found := _tracked(row)) is not None]
    return CampaignTracking(
        summary=views.summary(record),
        time_zone=views.schedule_of(record).time_zone,
        countries=sorted({market.country for market in views.markets_of(record)}),
        budget_daily=record.budget_daily,
        kpis=views.kpis_of(record),
        forecast=views.forecast_of(record),
        objects=objects,
    )


async def measured(uow: UnitOfWork, campaign_ids: list[str] | None) -> list[CampaignTracking]:
    """The tenant's measured campaigns (or those of ``campaign_ids`` among them), newest first."""
    records = await repo.campaigns_in_status(uow, MEASURED, ids=campaign_ids)
    return [await _one(uow, record) for record in records]
