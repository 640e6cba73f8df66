"""Route handlers for /v1/billing/subscriptions: create, show, revise, cancel, suspend, activate."""

from typing import Any

from promptsales.domain_core.business.paypal.simulator.errors import invalid, issue, not_found, unprocessable
from promptsales.domain_core.business.paypal.simulator.events import EventBuilder
from promptsales.domain_core.business.paypal.simulator.formats import iso
from promptsales.domain_core.business.paypal.simulator.models import Call, Subscription
from promptsales.domain_core.business.paypal.simulator.validation import read_text, read_url


class SubscriptionRoutes(EventBuilder):
    """The subscription endpoints; lifecycle changes queue their webhook for after the answer."""

    def _create_subscription(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_create
        body = call.body
        issues: list[dict[str, str]] = []
        plan_id = read_text(body, "plan_id", "/plan_id", issues, required=True, max_length=50)
        custom_id = read_text(body, "custom_id", "/custom_id", issues, required=False, max_length=127)
        raw_subscriber = body.get("subscriber")
        subscriber: dict[str, Any] = raw_subscriber if isinstance(raw_subscriber, dict) else {}
        email = read_text(
            subscriber, "email_address", "/subscriber/email_address", issues, required=False, max_length=254
        )
        if email is not None and "@" not in email:
            issues.append(issue("/subscriber/email_address", "INVALID_PARAMETER_SYNTAX", "Not an email address."))
        raw_context = body.get("application_context")
        context: dict[str, Any] = dict(raw_context) if isinstance(raw_context, dict) else {}
        for key in ("return_url", "cancel_url"):
            context[key] = read_url(context.get(key), f"/application_context/{key}", issues)
        if issues or plan_id is None:
            raise invalid(*issues)
        plan = self._plan(plan_id, "/plan_id", location="body")
        if plan.status != "ACTIVE":
            raise unprocessable(
                "PLAN_STATUS_INVALID", "Invalid plan status for subscribe action; plan status should be active."
            )
        now = self.clock()
        subscription = Subscription(
            id=self._ref("I-", 12),
            plan_id=plan.id,
            status="APPROVAL_PENDING",
            custom_id=custom_id,
            email=email,
            context=context,
            created=now,
            updated=now,
            status_updated=now,
            start_time=now,
            approval_token=self._ref("BA-", 17),
            completed=[0] * len(plan.cycles),
        )
        self._subscriptions[subscription.id] = subscription
        self._approvals[subscription.approval_token] = ("subscription", subscription.id)
        self._send_later(
            [self._subscription_event(subscription, "BILLING.SUBSCRIPTION.CREATED", "Subscription created")]
        )
        return 201, self._subscription_json(subscription)

    def _get_subscription(self, call: Call) -> tuple[int, Any]:
        return 200, self._subscription_json(self._subscription_for(call))

    def _revise(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_revise : the buyer must approve
        # the change at the returned approve link before the new plan applies.
        subscription = self._subscription_for(call)
        issues: list[dict[str, str]] = []
        plan_id = read_text(call.body, "plan_id", "/plan_id", issues, required=True, max_length=50)
        if issues or plan_id is None:
            raise invalid(*issues)
        plan = self._plan(plan_id, "/plan_id", location="body")
        if subscription.status not in ("ACTIVE", "SUSPENDED"):
            raise unprocessable(
                "SUBSCRIPTION_STATUS_INVALID",
                "Invalid subscription status for revise action; subscription status should be active or suspended.",
            )
        if plan.status != "ACTIVE":
            raise unprocessable("PLAN_STATUS_INVALID", "Invalid plan status; plan status should be active.")
        if subscription.revision_token:
            self._approvals.pop(subscription.revision_token, None)
        subscription.pending_plan_id = plan.id
        subscription.revision_token = self._ref("BA-", 17)
        self._approvals[subscription.revision_token] = ("subscription", subscription.id)
        approve = (
            f"{self.approval_base_url}/webapps/billing/subscriptions/update?ba_token={subscription.revision_token}"
        )
        return 200, {
            "plan_id": plan.id,
            "effective_time": iso(subscription.next_billing_time or self.clock()),
            "plan_overridden": False,
            "links": [
                {"href": approve, "rel": "approve", "method": "GET"},
                *self._links(f"/v1/billing/subscriptions/{subscription.id}", edit=True),
            ],
        }

    def _cancel(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_cancel → 204
        return self._transition(call, "cancel", ("ACTIVE", "SUSPENDED"), "CANCELLED", "BILLING.SUBSCRIPTION.CANCELLED")

    def _suspend(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_suspend → 204
        return self._transition(call, "suspend", ("ACTIVE",), "SUSPENDED", "BILLING.SUBSCRIPTION.SUSPENDED")

    def _activate(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_activate → 204
        return self._transition(call, "activate", ("SUSPENDED",), "ACTIVE", "BILLING.SUBSCRIPTION.ACTIVATED")

    def _transition(
        self, call: Call, action: str, allowed: tuple[str, ...], target: str, event_type: str
    ) -> tuple[int, Any]:
        subscription = self._subscription_for(call)
        issues: list[dict[str, str]] = []
        reason = read_text(call.body, "reason", "/reason", issues, required=action != "activate", max_length=128)
        if issues:
            raise invalid(*issues)
        if subscription.status not in allowed:
            wanted = " or ".join(status.lower() for status in allowed)
            raise unprocessable(
                "SUBSCRIPTION_STATUS_INVALID",
                f"Invalid subscription status for {action} action; subscription status should be {wanted}.",
            )
        now = self.clock()
        subscription.status_change_note = reason
        if target == "CANCELLED":
            subscription.next_billing_time = None
        if target == "ACTIVE":
            subscription.failed_payments_count = 0  # [~] a reactivated subscription starts a fresh failure count
        self._set_status(subscription, target, now)
        summary = f"Subscription {target.lower()}"
        self._send_later([self._subscription_event(subscription, event_type, summary)])
        return 204, None

    def _subscription_for(self, call: Call) -> Subscription:
        subscription = self._subscriptions.get(call.params["subscription_id"])
        if subscription is None:
            raise not_found("subscription_id", "The specified subscription does not exist.")
        return subscription
