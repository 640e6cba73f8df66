"""WhatsApp as a messaging channel: an approved template, or a free text within 24 hours of the person's last
message (§7 customer-service window), sent from the connection's business number."""

from datetime import timedelta
from typing import Any, Literal

from promptsales.domain_core.integrations.commands import SendMessage
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.messaging import Posted
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.whatsapp.client import TEXT_MAX, WhatsAppClient
from promptsales.domain_core.shared.errors import ValidationFailed


class WhatsAppChannel:
    """Templates and in-window texts on the WhatsApp Cloud API."""

    name: Literal["whatsapp"] = "whatsapp"
    platform = "whatsapp"
    label = "WhatsApp"
    service_window: timedelta | None = timedelta(hours=24)  # §7: free-form messages only within 24 h
    text_max = TEXT_MAX

    def check(self, command: SendMessage) -> None:
        """Exactly one of a template and a text; parameters only with a template."""
        if (command.template_name is None) == (command.text is None):
            raise ValidationFailed(
                "Give either template_name (an approved template) or text (a free message), exactly one of them.",
                field="template_name" if command.template_name is None else "text",
                hint="Outside a conversation the person opened in the last 24 hours only a template is delivered.",
            )
        if command.text is not None and command.parameters:
            raise ValidationFailed(
                "parameters fill a template's {{n}} placeholders; they go with template_name, not with text.",
                field="parameters",
            )

    def summary(self, command: SendMessage) -> str:
        """The fixed text of a free message, or the template with its values."""
        if command.template_name is None:
            return "WhatsApp message sent"
        values = f": {', '.join(command.parameters)}" if command.parameters else ""
        return f"WhatsApp template {command.template_name} ({command.language}) sent{values}"

    def details(self, command: SendMessage) -> dict[str, Any]:
        """A template's name and language."""
        if command.template_name is None:
            return {}
        return {"template": command.template_name, "language": command.language}

    async def post(self, http: ConnectorHttp, link: Link, to: str, command: SendMessage) -> Posted:
        """The template or the text, from the connection's number."""
        client = WhatsAppClient(http, link.account_id or "")
        if command.template_name is not None:
            sent = await client.send_template(to, command.template_name, command.language, command.parameters)
        else:
            assert command.text is not None
            sent = await client.send_text(to, command.text)
        return Posted(sent.message_id)
