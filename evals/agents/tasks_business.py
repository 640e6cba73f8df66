"""Business tasks: plans, subscription, usage, entitlements and checkout."""

from evals.agents.spec import CheckContext, Step, Task, need


async def check_subscription(ctx: CheckContext) -> None:
    ctx.last_ok("business_get_subscription")


async def check_usage(ctx: CheckContext) -> None:
    usage = ctx.last_ok("business_get_usage").data or {}
    need("content_generations" in str(usage), "the usage read lacks content generations")


async def check_experiments_blocked(ctx: CheckContext) -> None:
    checks = ctx.ok_calls("business_check_entitlement")
    need(checks, "no entitlement was checked")
    asked = [c for c in checks if "experiment" in str(c.arguments.get("feature", ""))]
    need(asked, f"checked {[c.arguments for c in checks]}, not experiments")
    need((asked[-1].data or {}).get("allowed") is False, "the entitlement read says experiments are allowed")


async def check_plans(ctx: CheckContext) -> None:
    ctx.last_ok("business_list_plans")
    need(not ctx.ok_calls("business_start_checkout"), "a checkout was started; the user only asked to compare")


async def check_checkout(ctx: CheckContext) -> None:
    started = ctx.last_ok("business_start_checkout")
    need(started.arguments.get("plan") == "pro", f"checkout for {started.arguments.get('plan')}")
    subscription = await ctx.read("business_get_subscription")
    need(subscription.get("pending_checkout_url"), "the subscription shows no checkout waiting for approval")


async def check_payments(ctx: CheckContext) -> None:
    ctx.last_ok("business_list_payments")


async def check_seat_quota(ctx: CheckContext) -> None:
    checks = [c for c in ctx.ok_calls("business_check_entitlement") if c.arguments.get("feature") == "contacts"]
    usage = ctx.ok_calls("business_get_usage")
    need(checks or usage, "neither the contacts quota nor the usage was read")


TASKS = [
    Task(
        id="business-current-plan",
        context="business",
        request="What plan are we on, and is our subscription active?",
        path=(Step("business_get_subscription"),),
        check=check_subscription,
    ),
    Task(
        id="business-generations-left",
        context="business",
        request="How many content generations do we have left this billing period?",
        path=(Step("business_get_usage"),),
        check=check_usage,
    ),
    Task(
        id="business-can-we-ab-test",
        context="business",
        request="Can we run A/B tests on our current plan? If not, which plan would we need?",
        settings={"default_plan": "starter"},
        path=(
            Step("business_check_entitlement", {"feature": "campaigns_create_experiment"}),
            Step("business_list_plans"),
        ),
        check=check_experiments_blocked,
    ),
    Task(
        id="business-compare-plans",
        context="business",
        request="Compare the plans for me: which is the cheapest one that allows live connectors?",
        path=(Step("business_list_plans"),),
        check=check_plans,
    ),
    Task(
        id="business-upgrade-pro",
        context="business",
        request="Upgrade us to the Pro plan.",
        settings={"default_plan": "free"},
        path=(Step("business_list_plans"), Step("business_start_checkout", {"plan": "pro"})),
        check=check_checkout,
    ),
    Task(
        id="business-failed-payments",
        context="business",
        request="Did any of our payments fail recently?",
        path=(Step("business_list_payments"),),
        check=check_payments,
    ),
    Task(
        id="business-contacts-quota",
        context="business",
        request="Can we still add contacts, or are we at our plan's contact limit?",
        path=(Step("business_check_entitlement", {"feature": "contacts"}),),
        check=check_seat_quota,
    ),
]
