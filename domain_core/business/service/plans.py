"""The plans catalogue as the facade returns it."""

from promptsales.domain_core.business.dto import PlanList, PlanView
from promptsales.domain_core.business.model.plans import Catalogue, Plan


def plan_view(plan: Plan) -> PlanView:
    """A catalogue plan as a DTO."""
    return PlanView(
        id=plan.id,
        name=plan.name,
        rank=plan.rank,
        description=plan.description,
        price=str(plan.price.amount),
        currency=plan.price.currency,
        interval=plan.price.interval,
        trial_days=plan.trial_days,
        contexts=sorted(plan.contexts),
        excluded_tools=sorted(plan.excluded_tools),
        channels=sorted(plan.channels),
        analytics_models=sorted(plan.analytics_models),
        live_connectors=plan.live_connectors,
        quotas=dict(plan.quotas),
    )


def plan_list(catalogue: Catalogue) -> PlanList:
    """Every plan, cheapest first."""
    return PlanList(plans=[plan_view(plan) for plan in catalogue.plans])
