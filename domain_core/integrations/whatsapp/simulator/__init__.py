"""An in-process WhatsApp Cloud API simulator (Starlette), stateful per business phone number, for contract tests and
sandbox mode."""

from promptsales.domain_core.integrations.whatsapp.simulator.app import (
    DEFAULT_TEMPLATES,
    SANDBOX_APP_SECRET,
    TemplateSeed,
    WebhookDelivery,
    WhatsAppSimulator,
    waba_of,
)

__all__ = ["DEFAULT_TEMPLATES", "SANDBOX_APP_SECRET", "TemplateSeed", "WebhookDelivery", "WhatsAppSimulator", "waba_of"]
