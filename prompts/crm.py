"""CRM workflow playbooks as MCP prompts."""

from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field


def register(server: FastMCP, *, tool_prefix: str = "") -> None:
    """Add the CRM prompts to ``server``; ``tool_prefix`` is how clients see the tools (``crm_`` via the gateway)."""
    p = tool_prefix

    @server.prompt(name="qualify_lead", description="Qualify a lead end to end with the CRM tools.")
    def qualify_lead(
        email: Annotated[str, Field(max_length=320, description="The lead's email.")],
        channel: Annotated[Literal["chat", "voice"], Field(description="chat or voice")] = "chat",
    ) -> str:
        return (
            f"Qualify the lead {email}.\n"
            f"1. Call {p}search_contacts with the email; if absent, call {p}capture_lead (source_channel as fits).\n"
            f"2. Call {p}get_customer_360 to read the leads, score explanation and timeline.\n"
            f"3. Call {p}start_flow with flow_id 'bant-qualification' on channel '{channel}', then relay each "
            f"answer with {p}advance_flow, as the person said it, until done=true.\n"
            f"4. Call {p}classify_lead and report stage, score and the top factors; if the flow handed off, say to "
            "whom."
        )
