"""Which plan a subscription grants right now, and whether a feature or quota is within it (pure)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from promptsales.domain_core.business.model.plans import (
    ALWAYS_INCLUDED_CONTEXTS,
    PERIOD_QUOTAS,
    QUOTA_NAMES,
    RATE_QUOTAS,
    Catalogue,
    Plan,
)
from promptsales.domain_core.shared.errors import ValidationFailed

SubscriptionStatus = Literal["trialing", "active", "past_due", "canceled", "suspended"]
Access = Literal["full", "read_only"]
# A late payment keeps the plan working this long before the tenant drops to read-only.
PAST_DUE_GRACE = timedelta(days=7)
FEATURE_KINDS = ("context", "channel", "analytics", "connectors", "quota")
# A channel entitlement covers activating campaigns and sending on that channel (campaigns, integrations).
# Writing copy and creatives *for* a channel is a content feature: these tools take any channel on any plan
# that includes them.
CREATIVE_TOOLS = ("content_generate_copy", "content_generate_image", "content_generate_video")


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """What entitlement checks need to know of a tool: its gateway name, context and whether it only reads."""

    name: str
    context: str | None
    read_only: bool


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """What the entitlement rules need to know of a tenant's subscription."""

    plan_id: str
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    past_due_since: datetime | None = None
    scheduled_plan_id: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """The plan a tenant may use now and how (full, or reads only), with the reason in words."""

    plan: Plan
    access: Access
    reason: str
    period_start: datetime
    period_end: datetime


def calendar_month(now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month containing ``now``."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def _rolled_period(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The billing period containing ``now`` when renewals have not been recorded yet (same length steps)."""
    length = end - start
    if length <= timedelta(0):
        return calendar_month(now)
    while now >= end:
        start, end = end, end + length
    return start, end


def standing(
    subscription: SubscriptionState | None, *, now: datetime, catalogue: Catalogue, default_plan: str
) -> Standing:
    """The tenant's effective plan and access: trial and paid periods, grace after a failed payment,
    read-only while suspended, and the default plan once a canceled subscription's period has ended."""
    fallback = catalogue.get(default_plan, field="default_plan")
    if subscription is None:
        start, end = calendar_month(now)
        return Standing(fallback, "full", f"No subscription: the {fallback.name} plan applies.", start, end)
    start, end = subscription.current_period_start, subscription.current_period_end
    # A downgrade waits for the end of the paid period, then the lower plan applies.
    due = subscription.scheduled_plan_id if subscription.scheduled_plan_id and now >= end else None
    plan = catalogue.get(due or subscription.plan_id)
    status = subscription.status
    if status == "canceled":
        if now < end:
            return Standing(plan, "full", f"Canceled; {plan.name} stays until {end.isoformat()}.", start, end)
        start, end = calendar_month(now)
        return Standing(fallback, "full", f"Canceled subscription ended: the {fallback.name} plan applies.", start, end)
    if status == "suspended":
        return Standing(
            plan, "read_only", "The subscription is suspended: reads only until it is reactivated.", start, end
        )
    if status == "past_due":
        since = subscription.past_due_since or end
        if now < since + PAST_DUE_GRACE:
            until = (since + PAST_DUE_GRACE).isoformat()
            return Standing(plan, "full", f"Payment past due; the plan keeps working until {until}.", start, end)
        return Standing(plan, "read_only", "Payment past due beyond the grace period: reads only.", start, end)
    start, end = _rolled_period(start, end, now)
    label = "Trial" if status == "trialing" else "Active"
    return Standing(plan, "full", f"{label} {plan.name} subscription.", start, end)


def parse_feature(feature: str) -> tuple[str, str]:
    """Split ``kind:name`` (``context:crm``, ``channel:meta``, ``quota:contacts``...); a bare quota name or
    gateway tool name (``crm_import_leads``) is accepted too and returned as ``("quota"|"tool", name)``."""
    kind, sep, name = feature.strip().partition(":")
    if sep:
        if kind not in FEATURE_KINDS or not name:
            raise ValidationFailed(
                f"Unknown feature '{feature}'.",
                field="feature",
                hint="Use a tool name as tools/list shows it (crm_capture_lead), a quota (contacts) or one of "
                + ", ".join(f"{k}:<name>" for k in FEATURE_KINDS)
                + ".",
            )
        return kind, name
    if kind in QUOTA_NAMES:
        return "quota", kind
    return "tool", kind


def vocabulary(catalogue: Catalogue, kind: str) -> frozenset[str] | None:
    """Every name a feature kind can take in this catalogue (None: the kind is open, e.g. tools and quotas)."""
    if kind == "channel":
        return frozenset().union(*(plan.channels for plan in catalogue.plans))
    if kind == "analytics":
        return frozenset().union(*(plan.analytics_models for plan in catalogue.plans))
    if kind == "context":
        return ALWAYS_INCLUDED_CONTEXTS.union(*(plan.contexts for plan in catalogue.plans))
    if kind == "connectors":
        return frozenset({"live", "sandbox"})
    return None


def check_known(catalogue: Catalogue, kind: str, name: str, feature: str) -> None:
    """Refuse a feature name no plan knows (a typo would otherwise read as "not in your plan")."""
    known = vocabulary(catalogue, kind)
    if known is not None and name not in known:
        raise ValidationFailed(
            f"Unknown {kind} '{name}' in feature '{feature}'.",
            field="feature",
            hint=f"Known {kind} names: {', '.join(sorted(known))}.",
        )


def channel_reason(catalogue: Catalogue, plan: Plan, channel: str, creative_tools: Sequence[ToolInfo]) -> str:
    """What a channel entitlement means for the tenant: activation and sending on it need a plan that includes
    the channel; copy and creatives for it are content features (``creative_tools``: the served ones)."""
    if channel in plan.channels:
        sending = f"Activating campaigns and sending on {channel} are included in the {plan.name} plan."
    else:
        lifter = lifting_plan(catalogue, plan, "channel", channel)
        sending = (
            f"Activating campaigns and sending on {channel} need the {lifter.name} plan "
            f"(business_start_checkout); the {plan.name} plan does not include them."
            if lifter is not None
            else f"No plan includes activating campaigns on {channel}."
        )
    writing = [tool.name for tool in creative_tools if plan.includes_tool(tool.context, tool.name)]
    if writing:
        return (
            f"{sending} Writing copy and creatives for {channel} is a content feature, available on the "
            f"{plan.name} plan: {', '.join(writing)}."
        )
    return f"{sending} Writing copy and creatives for {channel} is a content feature, not part of this entitlement."


def plan_includes(plan: Plan, kind: str, name: str, *, tool_context: str | None = None) -> bool:
    """Whether ``plan`` includes the feature (quotas are judged against usage elsewhere)."""
    if kind == "tool":
        return plan.includes_tool(tool_context, name)
    if kind == "context":
        return plan.includes_context(name)
    if kind == "channel":
        return name in plan.channels
    if kind == "analytics":
        return name in plan.analytics_models
    if kind == "connectors":
        return name != "live" or plan.live_connectors
    if kind == "quota":
        return plan.quotas.get(name) != 0
    return False


def quota_headroom(plan: Plan, quota: str, used: int) -> int | None:
    """Units left of ``quota`` under ``plan`` (None: unlimited)."""
    limit = plan.quotas[quota]
    return None if limit is None else max(limit - used, 0)


def lifting_plan(
    catalogue: Catalogue, plan: Plan, kind: str, name: str, *, tool_context: str | None = None
) -> Plan | None:
    """The cheapest higher plan that includes the feature, or for a quota raises its limit."""
    for candidate in catalogue.above(plan):
        if kind == "quota":
            current, offered = plan.quotas[name], candidate.quotas[name]
            if current is not None and (offered is None or offered > current):
                return candidate
        elif plan_includes(candidate, kind, name, tool_context=tool_context):
            return candidate
    return None


def quota_resets_at(quota: str, standing_now: Standing, now: datetime) -> datetime | None:
    """When a quota's count starts again: period quotas at the period end, the rate each minute."""
    if quota in PERIOD_QUOTAS:
        return standing_now.period_end
    if quota in RATE_QUOTAS:
        return now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return None


def tool_refusal(
    catalogue: Catalogue, standing_now: Standing, *, tool: str, context: str | None, read_only: bool
) -> str | None:
    """Why the tenant may not call ``tool`` now (None when it may), naming the plan that would allow it."""
    plan = standing_now.plan
    if not plan.includes_tool(context, tool):
        lifter = lifting_plan(catalogue, plan, "tool", tool, tool_context=context)
        lift = f" The {lifter.name} plan includes it (business_start_checkout)." if lifter else ""
        return f"{tool} is not part of the {plan.name} plan.{lift}"
    if standing_now.access == "read_only" and not read_only and context not in ALWAYS_INCLUDED_CONTEXTS:
        return f"{tool} changes data, and the tenant has read-only access now: {standing_now.reason}"
    return None
