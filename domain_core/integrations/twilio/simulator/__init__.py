"""An in-process Twilio Programmable Messaging simulator (Starlette), stateful per account, for contract tests and
sandbox mode."""

from promptsales.domain_core.integrations.twilio.simulator.app import (
    SANDBOX_AUTH_TOKEN,
    TEST_SENDER,
    Callback,
    TwilioSimulator,
)

__all__ = ["SANDBOX_AUTH_TOKEN", "TEST_SENDER", "Callback", "TwilioSimulator"]
