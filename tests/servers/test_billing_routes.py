"""The billing HTTP routes: the sandbox approval page a buyer clicks through, return pages, webhook limits."""

from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx
import pytest_asyncio

from promptsales.domain_core.business.commands import StartCheckout
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import served_over_http


@pytest_asyncio.fixture
async def served(make_runtime: Callable[..., Runtime]) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    async with served_over_http(make_runtime(default_plan="free")) as served_app:
        yield served_app


async def test_a_buyer_approves_a_sandbox_checkout_in_the_browser(served: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, http = served
    caller = Caller(tenant_id=runtime.settings.tenant, actor_id="agent-1")
    checkout = await runtime.business.start_checkout(caller, StartCheckout(plan="pro"))
    assert checkout.approve_url is not None
    link = urlsplit(checkout.approve_url)
    assert link.path.startswith("/sandbox/paypal/")
    path = f"{link.path}?{link.query}"

    page = await http.get(path)
    assert page.status_code == 200 and "Approve" in page.text and "No money moves" in page.text
    decided = await http.post(path, data={"decision": "approve"}, headers={"origin": "http://127.0.0.1:8000"})
    assert decided.status_code == 303
    assert decided.headers["location"].startswith("http://127.0.0.1:8000/billing/return")
    assert (await http.get("/billing/return")).status_code == 200
    view = await runtime.business.get_subscription(caller)
    assert (view.plan, view.status) == ("pro", "trialing")
    again = await http.post(path, data={"decision": "approve"}, headers={"origin": "http://127.0.0.1:8000"})
    assert again.status_code in (404, 409)  # an approval link works once


async def test_a_buyer_who_backs_out_is_sent_to_the_cancel_page(served: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, http = served
    caller = Caller(tenant_id=runtime.settings.tenant, actor_id="agent-1")
    checkout = await runtime.business.start_checkout(caller, StartCheckout(plan="starter"))
    assert checkout.approve_url is not None
    link = urlsplit(checkout.approve_url)
    decided = await http.post(f"{link.path}?{link.query}", data={"decision": "cancel"})
    assert decided.status_code == 303 and "/billing/cancel" in decided.headers["location"]
    assert "Nothing was charged" in (await http.get("/billing/cancel")).text
    assert (await runtime.business.get_subscription(caller)).plan == "free"


async def test_unknown_links_and_oversized_webhooks_are_refused(served: tuple[Runtime, httpx.AsyncClient]) -> None:
    _, http = served
    assert (await http.get("/sandbox/paypal/webapps/billing/subscriptions?ba_token=BA-FORGED")).status_code == 404
    huge = await http.post("/webhooks/paypal", content=b"{" + b" " * (300 * 1024) + b"}")
    assert huge.status_code == 413
