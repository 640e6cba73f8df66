"""Billing through the sandbox PayPal simulator: subscribe, trial, renewals, failures, upgrades, downgrades, cancel."""

import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest_asyncio
from fastmcp import Client

from promptsales.domain_core.business.paypal.simulator import PayPalSimulator
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm


class Billing:
    """The business tools plus the buyer's and PayPal's side of the sandbox."""

    def __init__(self, client: Client, runtime: Runtime) -> None:
        self.tools = Crm(client, prefix="business_")
        self.crm = Crm(client)
        self.runtime = runtime

    @property
    def paypal(self) -> PayPalSimulator:
        simulator = self.runtime.paypal_simulator
        assert simulator is not None
        return simulator

    async def approve(self, approve_url: str) -> str | None:
        """The buyer clicks the link and approves (webhooks are delivered before this returns)."""
        return await self.paypal.approve(self.paypal.approval_token_for(approve_url))

    async def subscribe(self, plan: str) -> dict[str, Any]:
        checkout = await self.tools.ok("start_checkout", plan=plan)
        await self.approve(checkout["approve_url"])
        return await self.tools.ok("get_subscription")

    def paypal_subscription(self) -> str:
        return self.paypal.subscription_ids[-1]

    async def payments(self) -> list[dict[str, Any]]:
        return (await self.tools.ok("list_payments"))["items"]


@pytest_asyncio.fixture
async def billing(make_runtime: Callable[..., Runtime], tmp_path: Path) -> AsyncIterator[Billing]:
    """A tenant on the Free plan; Starter has no trial here so its payments start at once."""
    plans = tmp_path / "plans.json"
    plans.write_text(json.dumps({"plans": [{"id": "starter", "trial_days": 0}]}))
    runtime = make_runtime(default_plan="free", plans_file=plans)
    async with Client(build_gateway(runtime)) as client:
        yield Billing(client, runtime)


async def test_a_trial_subscription_applies_once_the_buyer_approves(billing: Billing) -> None:
    checkout = await billing.tools.ok("start_checkout", plan="pro")
    assert (checkout["kind"], checkout["status"], checkout["amount"]) == ("subscribe", "pending", "99.00")
    assert "14-day free trial" in checkout["message"]
    waiting = await billing.tools.ok("get_subscription")
    assert (waiting["plan"], waiting["pending_checkout_url"]) == ("free", checkout["approve_url"])
    assert "crm_import_leads" not in {t.name for t in await billing.crm.client.list_tools()}

    back = await billing.approve(checkout["approve_url"])
    assert back is not None and back.startswith("http://127.0.0.1:8000/billing/return")
    view = await billing.tools.ok("get_subscription")
    assert (view["plan"], view["status"], view["provider"], view["pending_checkout_url"]) == (
        "pro",
        "trialing",
        "paypal",
        None,
    )
    assert "crm_import_leads" in {t.name for t in await billing.crm.client.list_tools()}
    assert await billing.payments() == []  # nothing is charged during the trial


async def test_renewals_and_failed_payments_move_the_subscription_and_are_listed(billing: Billing) -> None:
    view = await billing.subscribe("starter")
    assert (view["plan"], view["status"]) == ("starter", "active")
    subscription = billing.paypal_subscription()
    await billing.paypal.bill_cycle(subscription, succeed=False)
    late = await billing.tools.ok("get_subscription")
    assert (late["status"], late["access"]) == ("past_due", "full")
    assert "past due" in late["reason"]
    await billing.paypal.bill_cycle(subscription, succeed=True)
    assert (await billing.tools.ok("get_subscription"))["status"] == "active"
    payments = await billing.payments()
    assert sorted((p["kind"], p["status"], p["amount"]) for p in payments) == [
        ("cycle", "completed", "29.00"),
        ("cycle", "completed", "29.00"),
        ("cycle", "failed", "29.00"),
    ]
    page = await billing.tools.ok("list_payments", limit=2)
    rest = await billing.tools.ok("list_payments", limit=2, cursor=page["next_cursor"])
    assert [p["id"] for p in page["items"] + rest["items"]] == [p["id"] for p in payments]
    assert rest["next_cursor"] is None


async def test_an_upgrade_charges_the_prorated_difference_then_applies_at_once(billing: Billing) -> None:
    await billing.subscribe("starter")
    upgrade = await billing.tools.ok("start_checkout", plan="pro")
    assert (upgrade["kind"], upgrade["status"]) == ("upgrade", "pending")
    # 99 - 29 = 70 for the whole period; seconds have passed since it started.
    assert Decimal("69.90") <= Decimal(upgrade["amount"]) <= Decimal("70.00")
    assert (await billing.tools.ok("get_subscription"))["plan"] == "starter"  # not before the money moved

    await billing.approve(upgrade["approve_url"])  # CHECKOUT.ORDER.APPROVED -> captured -> applied
    await billing.paypal.drain()
    view = await billing.tools.ok("get_subscription")
    assert view["plan"] == "pro"
    proration = [p for p in await billing.payments() if p["kind"] == "proration"]
    assert [(p["status"], p["amount"], p["plan"]) for p in proration] == [("completed", upgrade["amount"], "pro")]
    # PayPal has the buyer approve the new recurring price: that link is the pending checkout now.
    assert view["pending_checkout_url"] and "update" in view["pending_checkout_url"]
    await billing.approve(view["pending_checkout_url"])
    remote = await billing.runtime.business.account.client.get_subscription(
        subscription_id=billing.paypal_subscription()
    )
    assert remote.plan_id != billing.paypal.plan_ids[0]  # moved to the Pro billing plan


async def test_a_declined_upgrade_payment_leaves_the_plan_unchanged(billing: Billing) -> None:
    await billing.subscribe("starter")
    upgrade = await billing.tools.ok("start_checkout", plan="enterprise")
    billing.paypal.decline_next_capture()
    await billing.approve(upgrade["approve_url"])
    await billing.paypal.drain()
    assert (await billing.tools.ok("get_subscription"))["plan"] == "starter"
    assert [p["status"] for p in await billing.payments() if p["kind"] == "proration"] == ["declined"]


async def test_a_downgrade_waits_for_the_end_of_the_paid_period(billing: Billing) -> None:
    await billing.subscribe("pro")  # trialing
    await billing.tools.ok("start_checkout", plan="enterprise")  # an upgrade during the trial is free and immediate
    assert (await billing.tools.ok("get_subscription"))["plan"] == "enterprise"
    down = await billing.tools.ok("start_checkout", plan="starter")
    assert (down["kind"], down["status"], down["amount"]) == ("downgrade", "scheduled", "0.00")
    view = await billing.tools.ok("get_subscription")
    assert (view["plan"], view["scheduled_plan"]) == ("enterprise", "starter")


async def test_cancel_needs_the_preview_token_and_keeps_access_until_the_period_ends(billing: Billing) -> None:
    await billing.subscribe("starter")
    preview = await billing.tools.ok("cancel_subscription")
    assert preview["status"] == "preview" and preview["refund"] == "0.00"
    token = preview["confirmation_token"]
    assert (await billing.tools.ok("get_subscription"))["status"] == "active"  # a preview changes nothing
    assert "confirmation_token" in await billing.tools.error("cancel_subscription", confirmation_token="cf_forged_0001")
    done = await billing.tools.ok("cancel_subscription", confirmation_token=token)
    assert done["status"] == "canceled" and done["ends_at"] == preview["ends_at"]
    again = await billing.tools.error("cancel_subscription", confirmation_token=token)
    assert "no active subscription to cancel" in again
    await billing.paypal.drain()
    view = await billing.tools.ok("get_subscription")
    assert (view["status"], view["plan"], view["ends_at"]) == ("canceled", "starter", preview["ends_at"])
    remote = await billing.runtime.business.account.client.get_subscription(
        subscription_id=billing.paypal_subscription()
    )
    assert remote.status == "CANCELLED"


async def test_checkout_mistakes_are_named(billing: Billing) -> None:
    await billing.tools.rejects(
        "start_checkout",
        [
            ({"plan": "free"}, "plan"),
            ({"plan": "platinum"}, "free, starter, pro, enterprise"),
        ],
    )
    assert "no active subscription to cancel" in await billing.tools.error("cancel_subscription")
    await billing.subscribe("starter")
    assert "already on the Starter plan" in await billing.tools.error("start_checkout", plan="starter")


async def test_a_retried_checkout_creates_one_paypal_subscription(billing: Billing) -> None:
    first = await billing.tools.ok("start_checkout", plan="pro", idempotency_key="buy-pro-1")
    assert await billing.tools.ok("start_checkout", plan="pro", idempotency_key="buy-pro-1") == first
    assert len(billing.paypal.subscription_ids) == 1
    text = await billing.tools.error("start_checkout", plan="starter", idempotency_key="buy-pro-1")
    assert "idempotency_key" in text


async def test_a_suspended_subscription_is_read_only_but_billing_still_works(billing: Billing) -> None:
    await billing.subscribe("starter")
    await billing.crm.ok("create_contact", email="ann@example.com")
    await billing.runtime.business.account.client.suspend_subscription(
        subscription_id=billing.paypal_subscription(), reason="test"
    )
    await billing.paypal.drain()
    view = await billing.tools.ok("get_subscription")
    assert (view["status"], view["access"]) == ("suspended", "read_only")
    text = await billing.crm.error("create_contact", email="bob@example.com")
    assert "read-only" in text and "suspended" in text
    assert len((await billing.crm.ok("search_contacts"))["items"]) == 1
    assert (await billing.tools.ok("check_entitlement", feature="crm_create_contact"))["allowed"] is False
    assert not (await billing.tools.raw("list_plans")).is_error
    await billing.runtime.business.account.client.activate_subscription(
        subscription_id=billing.paypal_subscription(), reason="test"
    )
    await billing.paypal.drain()
    await billing.crm.ok("create_contact", email="bob@example.com")


async def test_every_mutating_business_tool_takes_an_idempotency_key(billing: Billing) -> None:
    tools = [t for t in await billing.crm.client.list_tools() if t.name.startswith("business_")]
    mutating = {t.name for t in tools if not t.annotations.read_only_hint}
    assert mutating == {"business_start_checkout", "business_cancel_subscription", "business_set_paypal_account"}
    for tool in tools:
        if tool.name in mutating:
            assert "idempotency_key" in tool.input_schema["properties"], tool.name
    await billing.subscribe("starter")
    preview = await billing.tools.ok("cancel_subscription", idempotency_key="preview-1")
    assert await billing.tools.ok("cancel_subscription", idempotency_key="preview-1") == preview


async def test_own_paypal_accounts_are_for_live_mode(billing: Billing) -> None:
    text = await billing.tools.error(
        "set_paypal_account", client_id="app-1", client_secret="s3cr3t-value", webhook_id="WH1"
    )
    assert "sandbox mode" in text and "PROMPTSALES_PAYPAL_MODE=live" in text and "s3cr3t-value" not in text
    account = await billing.tools.ok("get_paypal_account")
    assert (account["own_account"], account["client"]) == (False, None)


async def test_a_replayed_checkout_or_cancellation_returns_the_first_result_without_calling_paypal(
    billing: Billing,
) -> None:
    first = await billing.tools.ok("start_checkout", plan="starter", idempotency_key="buy-starter")
    calls = len(billing.paypal.requests)
    assert await billing.tools.ok("start_checkout", plan="starter", idempotency_key="buy-starter") == first
    assert len(billing.paypal.requests) == calls
    await billing.approve(first["approve_url"])

    token = (await billing.tools.ok("cancel_subscription"))["confirmation_token"]
    done = await billing.tools.ok("cancel_subscription", confirmation_token=token, idempotency_key="cancel-1")
    calls = len(billing.paypal.requests)
    # The subscription is canceled now; the retry still gets the first answer, and PayPal hears nothing more.
    assert await billing.tools.ok("cancel_subscription", confirmation_token=token, idempotency_key="cancel-1") == done
    assert len(billing.paypal.requests) == calls
