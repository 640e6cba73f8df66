"""Composition root of analytics: platform pulls through integrations, campaigns' plans, the plan's models."""

from datetime import timedelta

from promptsales.domain_core.analytics.facade import AnalyticsFacade
from promptsales.domain_core.analytics.service.pulls import Puller
from promptsales.domain_core.business.facade import BusinessFacade
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.integrations.facade import IntegrationsFacade
from promptsales.domain_core.shared.caller import Caller


def build_analytics(
    uow: UnitOfWorkFactory,
    *,
    campaigns: CampaignsFacade,
    crm: CrmFacade,
    integrations: IntegrationsFacade,
    business: BusinessFacade,
    fresh_for: timedelta,
) -> AnalyticsFacade:
    """The analytics facade over campaigns (plans, objects), integrations (platform reports) and business (plan)."""

    async def models_allowed(caller: Caller) -> tuple[frozenset[str], str]:
        plan = (await business.standing(caller)).plan
        return frozenset(plan.analytics_models), plan.name

    puller = Puller(uow, campaigns=campaigns, integrations=integrations, fresh_for=fresh_for)
    return AnalyticsFacade(uow, campaigns=campaigns, crm=crm, puller=puller, models_allowed=models_allowed)
