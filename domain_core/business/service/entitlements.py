"""check_entitlement: whether a tool, context, channel, model, connector mode or quota is available now."""

from collections.abc import Sequence

from promptsales.domain_core.business.dto import EntitlementCheck
from promptsales.domain_core.business.model.entitlements import (
    ToolInfo,
    channel_reason,
    check_known,
    lifting_plan,
    parse_feature,
    plan_includes,
    tool_refusal,
)
from promptsales.domain_core.business.model.plans import RATE_QUOTAS, Plan
from promptsales.domain_core.business.service.metering import usage_of
from promptsales.domain_core.business.service.standing import Policy, load_standing
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def check(
    uow: UnitOfWork,
    *,
    policy: Policy,
    feature: str,
    tool: ToolInfo | None = None,
    creative_tools: Sequence[ToolInfo] = (),
) -> EntitlementCheck:
    """The answer for ``feature`` under the tenant's current standing (``tool``: the served tool it names;
    ``creative_tools``: the served content tools a channel answer points to)."""
    kind, name = parse_feature(feature)
    catalogue = policy.catalogue
    check_known(catalogue, kind, name, feature)
    standing, _ = await load_standing(uow, policy)
    plan = standing.plan
    if kind == "quota":
        if name in RATE_QUOTAS:
            limit = plan.quotas[name]
            return EntitlementCheck(
                feature=feature,
                allowed=True,
                reason=f"{plan.name} allows {limit if limit is not None else 'unlimited'} tool calls per minute.",
                plan=plan.id,
                upgrade_plan=_id(lifting_plan(catalogue, plan, kind, name)),
            )
        usage = next(q for q in await usage_of(uow, standing) if q.quota == name)
        allowed = usage.remaining is None or usage.remaining > 0
        if usage.limit is None:
            reason = f"{name} is unlimited on the {plan.name} plan."
        else:
            reason = f"{usage.used} of {usage.limit} {name} used on the {plan.name} plan."
        return EntitlementCheck(
            feature=feature,
            allowed=allowed,
            reason=reason,
            plan=plan.id,
            quota=usage,
            upgrade_plan=_id(lifting_plan(catalogue, plan, kind, name)),
        )
    if kind == "tool":
        context, read_only = (tool.context, tool.read_only) if tool is not None else (None, True)
        refusal = tool_refusal(catalogue, standing, tool=name, context=context, read_only=read_only)
        return EntitlementCheck(
            feature=feature,
            allowed=refusal is None,
            reason=refusal or f"{name} is included in the {plan.name} plan. {standing.reason}",
            plan=plan.id,
            upgrade_plan=_id(lifting_plan(catalogue, plan, kind, name, tool_context=context)) if refusal else None,
        )
    included = plan_includes(plan, kind, name)
    if kind == "channel":
        reason = channel_reason(catalogue, plan, name, creative_tools)
    else:
        reason = f"{kind} '{name}' is {'included in' if included else 'not part of'} the {plan.name} plan."
    return EntitlementCheck(
        feature=feature,
        allowed=included,
        reason=reason,
        plan=plan.id,
        upgrade_plan=None if included else _id(lifting_plan(catalogue, plan, kind, name)),
    )


def _id(plan: Plan | None) -> str | None:
    return plan.id if plan is not None else None
