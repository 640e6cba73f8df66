"""Composition root of the business context: catalogue, policy, PayPal account (sandbox or live), facade, meter."""

from dataclasses import dataclass

import httpx

from promptsales.domain_core.business.facade import BusinessFacade
from promptsales.domain_core.business.model.plans import load_catalogue
from promptsales.domain_core.business.paypal.client import PayPalClient
from promptsales.domain_core.business.paypal.simulator import PayPalSimulator
from promptsales.domain_core.business.provider.account import PayPalAccount, account_key
from promptsales.domain_core.business.provider.clients import PaymentAccounts
from promptsales.domain_core.business.service.metering import BusinessMeter
from promptsales.domain_core.business.service.standing import Policy, StandingCache
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.errors import ValidationFailed

LIVE_BASE_URL = "https://api-m.paypal.com"  # https://developer.paypal.com/api/rest/requests/
SANDBOX_CLIENT_ID = "promptsales-sandbox"
SANDBOX_CLIENT_SECRET = "promptsales-sandbox-secret"  # noqa: S105  # the in-process simulator's own credential
SANDBOX_WEBHOOK_ID = "WHPROMPTSALESSANDBOX"
SANDBOX_APPROVAL_PATH = "/sandbox/paypal"


@dataclass
class Business:
    """The built context: the facade, the usage meter every context's units are settled by, and the simulator
    behind the facade in sandbox mode. The caller (the process runtime) decides where the meter is plugged in."""

    facade: BusinessFacade
    meter: BusinessMeter
    simulator: PayPalSimulator | None

    async def aclose(self) -> None:
        """Close the PayPal clients' connections."""
        await self.facade.aclose()


def _live_account(settings: Settings) -> PayPalAccount:
    missing = [
        name
        for name, value in (
            ("PROMPTSALES_PAYPAL_CLIENT_ID", settings.paypal_client_id),
            ("PROMPTSALES_PAYPAL_CLIENT_SECRET", settings.paypal_client_secret),
            ("PROMPTSALES_PAYPAL_WEBHOOK_ID", settings.paypal_webhook_id),
        )
        if not value
    ]
    if missing:
        raise ValidationFailed(
            f"PayPal live mode needs {', '.join(missing)}.",
            field="paypal_mode",
            hint="Set them from the PayPal developer dashboard, or use PROMPTSALES_PAYPAL_MODE=sandbox.",
        )
    assert settings.paypal_client_id and settings.paypal_client_secret and settings.paypal_webhook_id
    base_url = settings.paypal_base_url or LIVE_BASE_URL
    client = PayPalClient(
        base_url=base_url, client_id=settings.paypal_client_id, client_secret=settings.paypal_client_secret
    )
    return _account(settings, client, settings.paypal_webhook_id, base_url, settings.paypal_client_id, "live")


def _account(
    settings: Settings, client: PayPalClient, webhook_id: str, base_url: str, client_id: str, mode: str
) -> PayPalAccount:
    origin = settings.public_url.rstrip("/")
    return PayPalAccount(
        client=client,
        webhook_id=webhook_id,
        account_key=account_key(base_url, client_id),
        return_url=f"{origin}/billing/return",
        cancel_url=f"{origin}/billing/cancel",
        mode=mode,
    )


def build_business(uow: UnitOfWorkFactory, settings: Settings) -> Business:
    """The business facade and usage meter; in sandbox mode its PayPal client talks to an in-process simulator.

    ``uow`` is only used, never changed: plugging the meter into it is the composition root's decision.
    """
    catalogue = load_catalogue(settings.plans_file)
    policy = Policy(catalogue=catalogue, default_plan=catalogue.get(settings.default_plan, field="default_plan").id)
    simulator: PayPalSimulator | None = None
    client_factory = None
    base_url = ""
    if settings.paypal_mode == "live":
        account = _live_account(settings)
        base_url = settings.paypal_base_url or LIVE_BASE_URL

        def client_factory(client_id: str, client_secret: str) -> PayPalClient:
            return PayPalClient(base_url=base_url, client_id=client_id, client_secret=client_secret)

    else:
        simulator = PayPalSimulator(
            client_id=SANDBOX_CLIENT_ID,
            client_secret=SANDBOX_CLIENT_SECRET,
            webhook_id=SANDBOX_WEBHOOK_ID,
            approval_base_url=settings.public_url.rstrip("/") + SANDBOX_APPROVAL_PATH,
        )
        # Each process has its own simulator, so its plans are not shared with other processes' caches.
        # (The host is never resolved: requests go through ASGITransport.)
        sandbox_url = f"https://paypal-simulator-{id(simulator):x}.invalid"
        client = PayPalClient(
            base_url=sandbox_url,
            client_id=SANDBOX_CLIENT_ID,
            client_secret=SANDBOX_CLIENT_SECRET,
            transport=httpx.ASGITransport(app=simulator.app),
        )
        account = _account(settings, client, SANDBOX_WEBHOOK_ID, sandbox_url, SANDBOX_CLIENT_ID, "sandbox")
    accounts = PaymentAccounts(account, client_factory=client_factory, base_url=base_url)
    credentials = CredentialStore(settings.key_ring())
    standings = StandingCache(policy, settings.entitlement_cache_seconds)
    facade = BusinessFacade(uow, policy, accounts, credentials, standings)
    if simulator is not None:
        # The simulator delivers its webhooks straight to the handler the HTTP route uses.
        async def deliver(headers: dict[str, str], body: bytes) -> int:
            return (await facade.handle_paypal_webhook(headers, body)).status_code

        simulator.deliver = deliver
    return Business(facade=facade, meter=BusinessMeter(policy, standings), simulator=simulator)
