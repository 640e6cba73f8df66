"""The simulator's state: one merchant app's objects, issued tokens and approvals, and its recordings."""

import asyncio
import random
import string
from collections.abc import Awaitable, Callable
from datetime import datetime

from promptsales.domain_core.business.paypal import signing
from promptsales.domain_core.business.paypal.simulator.errors import SimulatorError, not_found
from promptsales.domain_core.business.paypal.simulator.models import Fault, Order, Plan, Product, Subscription
from promptsales.domain_core.business.paypal.simulator.records import DeliveryAttempt, EmittedEvent, RecordedRequest
from promptsales.domain_core.shared.clock import utc_now

Deliver = Callable[[dict[str, str], bytes], Awaitable[int]]

_ALNUM = string.ascii_uppercase + string.digits


class SimulatorState:
    """What the simulator knows; the route, action and delivery mixins read and change it."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        approval_base_url: str = "https://www.sandbox.paypal.com",
        api_base_url: str = "https://api-m.sandbox.paypal.com",
        clock: Callable[[], datetime] = utc_now,
        deliver: Deliver | None = None,
        seed: int | None = None,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.webhook_id = webhook_id
        self.approval_base_url = approval_base_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self.clock = clock
        self.deliver = deliver
        self._rng = random.Random(seed)
        self.requests: list[RecordedRequest] = []
        self.events: list[EmittedEvent] = []
        self.deliveries: list[DeliveryAttempt] = []
        self._tokens: dict[str, datetime] = {}
        self._products: dict[str, Product] = {}
        self._plans: dict[str, Plan] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._orders: dict[str, Order] = {}
        self._approvals: dict[str, tuple[str, str]] = {}  # token → (kind, object id)
        self._replies: dict[tuple[str, str], tuple[int, bytes]] = {}  # (path, PayPal-Request-Id) → first answer
        self._faults: list[Fault] = []
        self._decline_next_capture = False
        self._transmissions: dict[str, EmittedEvent] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._tail: asyncio.Task[None] | None = None  # the last queued delivery; each one waits for its predecessor
        self._identity_cache: signing.SigningIdentity | None = None
        self.cert_id = f"CERT-360caa42-fca2a594-{self._rng.getrandbits(32):08x}"

    # ------------------------------------------------------------------------------------- public state

    @property
    def product_ids(self) -> tuple[str, ...]:
        """Ids of the products created so far."""
        return tuple(self._products)

    @property
    def plan_ids(self) -> tuple[str, ...]:
        """Ids of the plans created so far."""
        return tuple(self._plans)

    @property
    def subscription_ids(self) -> tuple[str, ...]:
        """Ids of the subscriptions created so far."""
        return tuple(self._subscriptions)

    @property
    def order_ids(self) -> tuple[str, ...]:
        """Ids of the orders created so far."""
        return tuple(self._orders)

    # ----------------------------------------------------------------------------------------- lookups

    def _plan(self, plan_id: str, field_path: str, *, location: str = "path") -> Plan:
        plan = self._plans.get(plan_id)
        if plan is None:
            raise not_found(field_path, "The specified plan does not exist.", location=location)
        return plan

    def _subscription(self, subscription_id: str) -> Subscription:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is None:
            raise SimulatorError(f"no subscription {subscription_id}")
        return subscription

    def _order(self, order_id: str) -> Order:
        order = self._orders.get(order_id)
        if order is None:
            raise SimulatorError(f"no order {order_id}")
        return order

    def _approval(self, token: str) -> tuple[str, str]:
        found = self._approvals.get(token)
        if found is None:
            raise SimulatorError(f"unknown approval token {token}")
        return found

    # ----------------------------------------------------------------------------------------- helpers

    def _set_status(self, subscription: Subscription, status: str, now: datetime) -> None:
        subscription.status = status
        subscription.status_updated = subscription.updated = now

    def _ref(self, prefix: str, length: int = 17) -> str:
        return prefix + "".join(self._rng.choices(_ALNUM, k=length))

    def _links(self, path: str, *, edit: bool = False) -> list[dict[str, str]]:
        href = f"{self.api_base_url}{path}"
        links = [{"href": href, "rel": "self", "method": "GET"}]
        if edit:
            links.append({"href": href, "rel": "edit", "method": "PATCH"})
        return links
