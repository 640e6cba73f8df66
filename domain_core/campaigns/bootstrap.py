"""Composition root of the campaigns context: the planner, compliance facts, placement on channels, the facade."""

from promptsales.domain_core.business.facade import BusinessFacade
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.campaigns.service.activation import Activation
from promptsales.domain_core.campaigns.service.changes import Changes
from promptsales.domain_core.campaigns.service.facts import FactsReader
from promptsales.domain_core.campaigns.service.placement import Placement
from promptsales.domain_core.campaigns.service.planning import Planner
from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.integrations.facade import IntegrationsFacade


def build_campaigns(
    uow: UnitOfWorkFactory,
    *,
    crm: CrmFacade,
    content: ContentFacade,
    business: BusinessFacade,
    integrations: IntegrationsFacade,
) -> CampaignsFacade:
    """The campaigns facade over the CRM (audiences), content (creatives), business (plan) and integrations
    (platforms) facades."""
    facts = FactsReader(uow, crm=crm, content=content, business=business)
    placement = Placement(integrations=integrations, content=content, crm=crm)
    return CampaignsFacade(
        uow,
        planner=Planner(uow, crm=crm, content=content, business=business),
        facts=facts,
        activation=Activation(uow, facts=facts, placement=placement),
        changes=Changes(uow, placement=placement),
    )
