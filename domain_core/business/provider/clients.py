"""PayPal clients per tenant: the deployment's account, or (live mode) the tenant's own app, kept open here."""

import hashlib
from collections.abc import Callable, Mapping

from promptsales.domain_core.business.commands import SetPaypalAccount
from promptsales.domain_core.business.paypal.client import PayPalClient
from promptsales.domain_core.business.provider.account import PayPalAccount, account_key
from promptsales.domain_core.shared.errors import ValidationFailed

ClientFactory = Callable[[str, str], PayPalClient]  # (client_id, client_secret) -> client on the deployment's host


class PaymentAccounts:
    """Builds and caches the PayPal account of each tenant from its opened credentials (no database here)."""

    def __init__(self, deployment: PayPalAccount, *, client_factory: ClientFactory | None, base_url: str) -> None:
        self.deployment = deployment
        self._client_factory = client_factory  # None in sandbox mode: only the simulator's account exists
        self._base_url = base_url
        self._tenants: dict[str, tuple[str, PayPalAccount]] = {}

    @property
    def per_tenant(self) -> bool:
        """Whether tenants may bill through their own PayPal app (live mode)."""
        return self._client_factory is not None

    def require_per_tenant(self) -> None:
        """Refuse storing a tenant's own app where it could never be used (sandbox mode)."""
        if not self.per_tenant:
            raise ValidationFailed(
                "In sandbox mode every tenant bills through the in-process PayPal simulator.",
                field="client_id",
                hint="Per-tenant PayPal accounts apply with PROMPTSALES_PAYPAL_MODE=live.",
            )

    async def resolve(self, tenant_id: str, secret: Mapping[str, str] | None) -> PayPalAccount:
        """The account for ``tenant_id`` given its stored credentials (None: the deployment's)."""
        if secret is None or not self.per_tenant:
            return self.deployment
        fingerprint = hashlib.sha256(repr(sorted(secret.items())).encode()).hexdigest()
        cached = self._tenants.get(tenant_id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        account = self._build(secret["client_id"], secret["client_secret"], secret["webhook_id"])
        if cached is not None:
            await cached[1].client.aclose()
        self._tenants[tenant_id] = (fingerprint, account)
        return account

    async def check_with_paypal(self, command: SetPaypalAccount) -> None:
        """Ask PayPal for a token with the tenant's credentials (UpstreamError when it refuses them)."""
        self.require_per_tenant()
        probe = self._build(command.client_id, command.client_secret.get_secret_value(), command.webhook_id)
        try:
            await probe.client.check_credentials()
        finally:
            await probe.client.aclose()

    def _build(self, client_id: str, client_secret: str, webhook_id: str) -> PayPalAccount:
        assert self._client_factory is not None
        deployment = self.deployment
        return PayPalAccount(
            client=self._client_factory(client_id, client_secret),
            webhook_id=webhook_id,
            account_key=account_key(self._base_url, client_id),
            return_url=deployment.return_url,
            cancel_url=deployment.cancel_url,
            mode=deployment.mode,
        )

    async def aclose(self) -> None:
        """Close every client this process opened."""
        for _, account in self._tenants.values():
            await account.client.aclose()
        self._tenants.clear()
        await self.deployment.client.aclose()
