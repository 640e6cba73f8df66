"""Business command models: frozen, closed, and hashed whole for idempotency (secrets as their hash)."""

import pytest
from pydantic import SecretStr, ValidationError

from promptsales.domain_core.business.commands import SetPaypalAccount, StartCheckout
from promptsales.domain_core.infrastructure.idempotency import request_hash


def account(secret: str) -> SetPaypalAccount:
    return SetPaypalAccount(client_id="app-3fa9", client_secret=SecretStr(secret), webhook_id="WH1")


def test_a_changed_paypal_secret_changes_the_digest_and_the_secret_is_not_in_it() -> None:
    first, second = account("secret-one").digest_source(), account("secret-two").digest_source()
    assert request_hash(first) != request_hash(second)
    assert request_hash(first) == request_hash(account("secret-one").digest_source())
    assert "secret-one" not in repr(first)


def test_commands_are_frozen_and_closed() -> None:
    command = StartCheckout(plan="pro")
    with pytest.raises(ValidationError):
        command.plan = "starter"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        StartCheckout(plan="pro", coupon="FREE")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        StartCheckout(plan="p" * 33)  # longer than business_subscriptions.plan_id
