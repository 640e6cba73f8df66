"""Integrations tools: messages to CRM contacts through a connected messaging platform (WhatsApp, SMS on Twilio)."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.domain_core.integrations.commands import SendMessage
from promptsales.domain_core.integrations.dto import MessageView
from promptsales.tools.context import IdempotencyKey, ToolRuntime

# Reaches the platform (open world); without an idempotency_key a repeat sends another message.
SEND = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the messaging tools to ``mcp``."""

    @mcp.tool(annotations=SEND, tags={"integrations", "write", "messaging"})
    async def send_message(
        ctx: Context,
        contact_id: Annotated[str, Field(min_length=1, max_length=40, description="Recipient contact.")],
        template_name: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=512,
                pattern=r"^[a-z0-9_]+$",
                description="WhatsApp template, e.g. follow_up; or text.",
            ),
        ] = None,
        language: Annotated[
            str,
            Field(
                min_length=2,
                max_length=10,
                pattern=r"^[a-z]{2,3}_?[A-Za-z]{0,4}$",
                description="e.g. en_US.",
            ),
        ] = "en_US",
        parameters: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=1024)]] | None,
            Field(max_length=50, description="Values of the template body's {{1}}, {{2}}… in order."),
        ] = None,
        text: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=4096,
                description="A free text (SMS: ≤1600 characters; WhatsApp: only within 24 h of their last message).",
            ),
        ] = None,
        channel: Annotated[Literal["whatsapp", "sms"], Field()] = "whatsapp",
        idempotency_key: IdempotencyKey = None,
    ) -> MessageView:
        """Send a WhatsApp or SMS message to a CRM contact who opted in to that channel."""
        command = SendMessage(
            channel=channel,
            contact_id=contact_id,
            template_name=template_name,
            language=language,
            parameters=list(parameters or []),
            text=text,
        )
        return await runtime.integrations.send_message(runtime.caller(ctx), command, idempotency_key=idempotency_key)
