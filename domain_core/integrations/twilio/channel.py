"""SMS on Twilio as a messaging channel: a text of at most 1600 characters at any time (no templates, no
conversation window), from the connection's sender, with statuses called back to ``/webhooks/twilio``."""

from datetime import timedelta
from typing import Any, Literal

from promptsales.domain_core.integrations.commands import SendMessage
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.messaging import Posted
from promptsales.domain_core.integrations.sessions import Link
from promptsales.domain_core.integrations.twilio.client import BODY_MAX, TwilioClient
from promptsales.domain_core.integrations.twilio.driver import PLATFORM, sender_of
from promptsales.domain_core.shared.errors import ValidationFailed


def callback_url(public_url: str) -> str:
    """Where Twilio posts a message's statuses (and the URL their signatures cover)."""
    return public_url.rstrip("/") + f"/webhooks/{PLATFORM}"


class SmsChannel:
    """Texts through Twilio Programmable Messaging."""

    name: Literal["sms"] = "sms"
    platform = PLATFORM
    label = "SMS"
    service_window: timedelta | None = None
    text_max = BODY_MAX

    def __init__(self, *, public_url: str) -> None:
        self._status_callback = callback_url(public_url)

    def check(self, command: SendMessage) -> None:
        """A text only, of at most 1600 characters (§8 Body)."""
        if command.template_name is not None or command.parameters:
            raise ValidationFailed(
                "SMS has no templates: send the words as text.",
                field="template_name" if command.template_name is not None else "parameters",
            )
        if command.text is None:
            raise ValidationFailed("An SMS needs its text.", field="text")
        if len(command.text) > BODY_MAX:
            raise ValidationFailed(
                f"An SMS is at most {BODY_MAX} characters (this text has {len(command.text)}).",
                field="text",
                hint="Shorten it; Twilio splits long texts into billed segments of 153 (or 67 non-Latin) characters.",
            )

    def summary(self, command: SendMessage) -> str:
        """Every SMS reads the same on the timeline; the text is its transcript."""
        return "SMS sent"

    def details(self, command: SendMessage) -> dict[str, Any]:
        """Nothing beyond the shared fields."""
        return {}

    async def post(self, http: ConnectorHttp, link: Link, to: str, command: SendMessage) -> Posted:
        """The text from the connection's sender, its statuses called back."""
        assert command.text is not None
        client = TwilioClient(http, link.account_id or "")
        sent = await client.send_sms(
            "+" + to, command.text, sender=sender_of(link.url_parts), status_callback=self._status_callback
        )
        return Posted(sent.sid, segments=sent.num_segments)
