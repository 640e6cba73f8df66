"""Live mode with a tenant's own PayPal app: checked, sealed at rest, used for its checkouts and its webhooks.

PayPal is the simulator served over real HTTP on loopback, so the live client code path (real sockets, no
ASGITransport) is what runs.
"""

import asyncio
import base64
import os
import socket
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
import uvicorn
from fastmcp import Client

from promptsales.domain_core.business.paypal.simulator import PayPalSimulator
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm

TENANT_CLIENT = "tenant-app-3fa9"
DEPLOYMENT_CLIENT = "deployment-app"


@dataclass
class LivePayPal:
    simulator: PayPalSimulator
    url: str
    secret: str


@pytest_asyncio.fixture(loop_scope="session")
async def live_paypal() -> AsyncIterator[LivePayPal]:
    """The simulator, knowing only the tenant's app, on a loopback port."""
    secret = "tenant-secret-" + base64.b32encode(os.urandom(10)).decode()
    simulator = PayPalSimulator(client_id=TENANT_CLIENT, client_secret=secret, webhook_id="WHTENANTAPP")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue from now on, so no need to wait for uvicorn to be up
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(simulator.app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    simulator.api_base_url = f"http://127.0.0.1:{port}"
    try:
        yield LivePayPal(simulator, simulator.api_base_url, secret)
    finally:
        server.should_exit = True
        await task


async def test_a_tenant_bills_through_its_own_paypal_app(live_paypal: LivePayPal, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        tenant="agency-client",
        default_plan="free",
        rate_limits_enabled=False,
        entitlement_cache_seconds=0,
        paypal_mode="live",
        paypal_base_url=live_paypal.url,
        paypal_client_id=DEPLOYMENT_CLIENT,
        paypal_client_secret="deployment-secret-unused",
        paypal_webhook_id="WHDEPLOYMENT",
    )
    runtime = Runtime(settings)
    async with Client(build_gateway(runtime)) as client:
        business = Crm(client, prefix="business_")
        before = await business.ok("get_paypal_account")
        assert (before["own_account"], before["webhook_id"]) == (False, "WHDEPLOYMENT")

        wrong = await business.error(
            "set_paypal_account", client_id=TENANT_CLIENT, client_secret="not-the-secret", webhook_id="WHTENANTAPP"
        )
        assert "PayPal" in wrong and "not-the-secret" not in wrong
        assert (await business.ok("get_paypal_account"))["own_account"] is False  # nothing stored

        stored = await business.ok(
            "set_paypal_account", client_id=TENANT_CLIENT, client_secret=live_paypal.secret, webhook_id="WHTENANTAPP"
        )
        assert stored == {
            "provider": "paypal",
            "own_account": True,
            "client": "client …3fa9",
            "webhook_id": "WHTENANTAPP",
        }
        assert await business.ok("get_paypal_account") == stored

        # The buyer's approval reaches the webhook handler, which verifies it with the tenant's app.
        async def deliver(headers: dict[str, str], body: bytes) -> int:
            return (await runtime.business.handle_paypal_webhook(headers, body)).status_code

        live_paypal.simulator.deliver = deliver
        checkout = await business.ok("start_checkout", plan="pro")
        simulator = live_paypal.simulator
        await simulator.approve(simulator.approval_token_for(checkout["approve_url"]))
        view = await business.ok("get_subscription")
        assert (view["plan"], view["status"]) == ("pro", "trialing")

    used = set()
    for request in simulator.requests:
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("Basic "):
            used.add(base64.b64decode(authorization[6:]).decode().split(":", 1)[0])
    assert used == {TENANT_CLIENT}  # the deployment's app was never used for this tenant

    # At rest the secret is sealed: not in any column of any table of the database file.
    with sqlite3.connect(tmp_path / "promptsales.db") as db:
        dump = "\n".join(db.iterdump())
        sealed = db.execute("SELECT provider, key_id, sealed, label FROM tenant_credentials").fetchall()
    assert live_paypal.secret not in dump and TENANT_CLIENT not in dump
    assert [(row[0], row[3]) for row in sealed] == [("paypal", "client …3fa9")]
    assert sealed[0][2].startswith(f"v1.{sealed[0][1]}.")


async def test_a_replayed_set_paypal_account_asks_paypal_once_and_a_new_secret_needs_a_new_key(
    live_paypal: LivePayPal, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        tenant="agency-client-2",
        default_plan="free",
        rate_limits_enabled=False,
        paypal_mode="live",
        paypal_base_url=live_paypal.url,
        paypal_client_id=DEPLOYMENT_CLIENT,
        paypal_client_secret="deployment-secret-unused",
        paypal_webhook_id="WHDEPLOYMENT",
    )
    async with Client(build_gateway(Runtime(settings))) as client:
        business = Crm(client, prefix="business_")
        arguments = {"client_id": TENANT_CLIENT, "client_secret": live_paypal.secret, "webhook_id": "WHTENANTAPP"}
        stored = await business.ok("set_paypal_account", **arguments, idempotency_key="own-app-1")
        asked = len(live_paypal.simulator.requests)
        assert await business.ok("set_paypal_account", **arguments, idempotency_key="own-app-1") == stored
        assert len(live_paypal.simulator.requests) == asked  # the replay did not check the secret again
        # The secret counts in the key's digest (as its hash), so another secret under the same key is refused.
        text = await business.error(
            "set_paypal_account", **{**arguments, "client_secret": "another-secret"}, idempotency_key="own-app-1"
        )
        assert "idempotency_key" in text and "another-secret" not in text
