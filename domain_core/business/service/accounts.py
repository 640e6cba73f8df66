"""The tenant's own PayPal app (live mode): stored sealed, described without the secret."""

from promptsales.domain_core.business.commands import SetPaypalAccount
from promptsales.domain_core.business.dto import PaymentAccountView
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWork

ACTION = "business.set_paypal_account"
CREDENTIAL = "paypal"


def client_hint(client_id: str) -> str:
    """What is shown of a client id: its last four characters."""
    return f"client …{client_id[-4:]}"


async def store_paypal_account(
    uow: UnitOfWork, command: SetPaypalAccount, *, credentials: CredentialStore
) -> PaymentAccountView:
    """Keep the (already checked) credentials sealed for the tenant, replacing earlier ones."""
    secret = {
        "client_id": command.client_id,
        "client_secret": command.client_secret.get_secret_value(),
        "webhook_id": command.webhook_id,
    }
    await credentials.put(uow, CREDENTIAL, secret, label=client_hint(command.client_id))
    uow.audit(
        ACTION,
        target_type="credential",
        target_id=CREDENTIAL,
        after={"client": client_hint(command.client_id), "webhook_id": command.webhook_id},  # never the secret
    )
    return PaymentAccountView(
        provider="paypal", own_account=True, client=client_hint(command.client_id), webhook_id=command.webhook_id
    )


async def stored_credentials(uow: UnitOfWork, *, credentials: CredentialStore) -> dict[str, str] | None:
    """The tenant's opened PayPal credentials (None: it bills through the deployment's account)."""
    return await credentials.get(uow, CREDENTIAL)


async def stored_label(uow: UnitOfWork, *, credentials: CredentialStore) -> str | None:
    """The hint of the tenant's own client id (None: none stored)."""
    return await credentials.label(uow, CREDENTIAL)


def account_view(*, label: str | None, webhook_id: str) -> PaymentAccountView:
    """Which account bills the tenant: its own (``label`` set) or the deployment's."""
    return PaymentAccountView(provider="paypal", own_account=label is not None, client=label, webhook_id=webhook_id)
