"""CRM workflow playbooks as MCP prompts."""

from typing import Annotated

from fastmcp import FastMCP
from pydantic import Field


def register(server: FastMCP) -> None:
    """Add the CRM prompts to ``server``."""

    @server.prompt(name="qualify_lead", description="Qualify a lead end to end with the CRM tools.")
    def qualify_lead(
        email: Annotated[str, Field(description="The lead's email.")],
        channel: Annotated[str, Field(description="chat or voice")] = "chat",
    ) -> str:
        return (
            f"Qualify the lead {email}.\n"
            "1. Call search_contacts with the email; if absent, call capture_lead (source_channel as fits).\n"
            "2. Call get_customer_360 to read the leads, score explanation and timeline.\n"
            f"3. Call start_flow with flow_id 'bant-qualification' on channel '{channel}', then relay each answer "
            "with advance_flow until done=true.\n"
            "4. Call classify_lead and report stage, score and the top factors; if the flow handed off, say to whom."
        )
