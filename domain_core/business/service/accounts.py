"""Which PayPal account bills a tenant: the deployment's, or (live mode) the tenant's own, sealed at rest."""

import hashlib
from collections.abc import Callable

from promptsales.domain_core.business.dto import PaymentAccountView
from promptsales.domain_core.business.paypal.client import PayPalClient
from promptsales.domain_core.business.service.provider import PayPalAccount
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import ValidationFailed

CREDENTIAL = "paypal"
ClientFactory = Callable[[str, str], PayPalClient]  # (client_id, client_secret) -> client on the deployment's host


def _hint(client_id: str) -> str:
    return f"client …{client_id[-4:]}"


class PaymentAccounts:
    """Resolves and stores PayPal accounts per tenant; opened credentials live only in this process's memory."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        store: CredentialStore,
        deployment: PayPalAccount,
        *,
        client_factory: ClientFactory | None,
        base_url: str,
    ) -> None:
        self._uow = uow
        self._store = store
        self.deployment = deployment
        self._client_factory = client_factory  # None in sandbox mode: only the simulator's account exists
        self._base_url = base_url
        self._tenants: dict[str, tuple[str, PayPalAccount]] = {}

    async def for_tenant(self, caller: Caller) -> PayPalAccount:
        """The account that bills ``caller``'s tenant."""
        if self._client_factory is None:
            return self.deployment
        secret = await self._uow.read(caller, lambda uow: self._store.get(uow, CREDENTIAL))
        if secret is None:
            return self.deployment
        fingerprint = hashlib.sha256(repr(sorted(secret.items())).encode()).hexdigest()
        cached = self._tenants.get(caller.tenant_id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        account = self._build(secret["client_id"], secret["client_secret"], secret["webhook_id"])
        if cached is not None:
            await cached[1].client.aclose()
        self._tenants[caller.tenant_id] = (fingerprint, account)
        return account

    def _build(self, client_id: str, client_secret: str, webhook_id: str) -> PayPalAccount:
        assert self._client_factory is not None
        deployment = self.deployment
        return PayPalAccount(
            client=self._client_factory(client_id, client_secret),
            webhook_id=webhook_id,
            account_key=hashlib.sha256(f"{self._base_url}|{client_id}".encode()).hexdigest()[:32],
            return_url=deployment.return_url,
            cancel_url=deployment.cancel_url,
            mode=deployment.mode,
        )

    async def store(
        self, caller: Caller, *, client_id: str, client_secret: str, webhook_id: str, idempotency_key: str | None
    ) -> PaymentAccountView:
        """Check the credentials with PayPal (a token request), then keep them sealed for the tenant."""
        if self._client_factory is None:
            raise ValidationFailed(
                "In sandbox mode every tenant bills through the in-process PayPal simulator.",
                field="client_id",
                hint="Per-tenant PayPal accounts apply with PROMPTSALES_PAYPAL_MODE=live.",
            )
        probe = self._build(client_id, client_secret, webhook_id)
        try:
            await probe.client.check_credentials()
        finally:
            await probe.client.aclose()

        async def work(uow: UnitOfWork) -> PaymentAccountView:
            secret = {"client_id": client_id, "client_secret": client_secret, "webhook_id": webhook_id}
            await self._store.put(uow, CREDENTIAL, secret, label=_hint(client_id))
            uow.audit(
                "business.set_paypal_account",
                target_type="credential",
                target_id=CREDENTIAL,
                after={"client": _hint(client_id), "webhook_id": webhook_id},  # never the secret
            )
            return PaymentAccountView(
                provider="paypal", own_account=True, client=_hint(client_id), webhook_id=webhook_id
            )

        return await self._uow.mutate(
            caller,
            action="business.set_paypal_account",
            arguments={
                "client_id": client_id,
                "webhook_id": webhook_id,
                "secret": hashlib.sha256(client_secret.encode()).hexdigest(),
            },
            idempotency_key=idempotency_key,
            work=work,
            result_type=PaymentAccountView,
        )

    async def describe(self, caller: Caller) -> PaymentAccountView:
        """Which account bills the tenant (no secret, only a hint of the client id)."""

        async def work(uow: UnitOfWork) -> str | None:
            return await self._store.label(uow, CREDENTIAL)

        label = await self._uow.read(caller, work) if self._client_factory is not None else None
        if label is None:
            return PaymentAccountView(
                provider="paypal", own_account=False, client=None, webhook_id=self.deployment.webhook_id
            )
        account = await self.for_tenant(caller)
        return PaymentAccountView(provider="paypal", own_account=True, client=label, webhook_id=account.webhook_id)

    async def aclose(self) -> None:
        """Close every client this process opened."""
        for _, account in self._tenants.values():
            await account.client.aclose()
        self._tenants.clear()
        await self.deployment.client.aclose()
