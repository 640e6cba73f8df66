"""Frozen views the integrations facade returns (they double as the tools' typed output).

The ads surface's models live in :mod:`.ads` (the port every ad platform adapter implements) and are re-exported
here, so other contexts (campaigns) reach them through ``integrations.dto`` only.
"""

from datetime import datetime
from typing import Literal

from pydantic import Field

from promptsales.domain_core.integrations.ads import (
    AdAccount,
    AdGroupSpec,
    AdObject,
    AudienceEstimate,
    AudienceRef,
    AudienceStatus,
    CampaignSpec,
    CreativeSpec,
    CustomerListSpec,
    DailyPerformance,
    DeliveryStatus,
    ObjectKind,
)
from promptsales.domain_core.shared.dto import Dto

# The ads port's models are re-exported: part of this context's public DTOs (names defined here need no listing).
__all__ = [
    "AdAccount",
    "AdGroupSpec",
    "AdObject",
    "AudienceEstimate",
    "AudienceRef",
    "AudienceStatus",
    "CampaignSpec",
    "CreativeSpec",
    "CustomerListSpec",
    "DailyPerformance",
    "DeliveryStatus",
    "ObjectKind",
]

ConnectionStatus = Literal["pending", "connected", "needs_reauth", "disconnected"]
MessageStatus = Literal["accepted", "sent", "delivered", "read", "failed", "unconfirmed", "received"]


class ConnectionView(Dto):
    """A tenant's link to a platform; never a credential."""

    id: str
    platform: str
    mode: Literal["sandbox", "live"]
    status: ConnectionStatus
    account_id: str | None
    account_label: str | None
    connected_at: datetime | None
    token_expires_at: datetime | None
    last_error: str | None = Field(description="Why the connection needs attention (needs_reauth), if it does.")
    authorization_url: str | None = Field(
        default=None, description="Live OAuth only: open it to approve access; it works once, for 10 minutes."
    )


class ConnectorView(Dto):
    """One platform PromptSales connects to, what the plan allows and the tenant's connection."""

    platform: str
    name: str
    capabilities: list[str]
    auth: str
    available: bool = Field(description="false: listed for completeness; this deployment cannot connect it yet.")
    live_allowed: bool = Field(description="Whether the tenant's plan includes live (non-sandbox) connections.")
    connection: ConnectionView | None


class ConnectorList(Dto):
    """Every connector."""

    items: list[ConnectorView]


class ConnectionCheck(Dto):
    """Whether a connection works now."""

    platform: str
    ok: bool
    status: str
    detail: str
    latency_ms: int


class SyncFailure(Dto):
    """One record a sync could not apply."""

    external_id: str
    reason: str


class SyncRunView(Dto):
    """One sync run: where it stands and what it did."""

    id: str
    platform: str
    capability: str
    status: Literal["running", "interrupted", "succeeded", "partial", "failed"]
    incremental_since: datetime | None
    created: int
    updated: int
    skipped: int
    failed: int
    failures: list[SyncFailure]
    error: str | None
    attempts: int
    started_at: datetime
    finished_at: datetime | None


class SyncRunPage(Dto):
    """Sync runs, newest first."""

    items: list[SyncRunView]
    next_cursor: str | None


class SupportTicketView(Dto):
    """A support ticket on a connected help desk, as last synced."""

    platform: str
    ticket_id: str
    subject: str | None
    status: str | None = Field(description="new, open, pending or hold (open tickets); solved or closed.")
    priority: str | None
    channel: str | None = Field(description="How it came in: email, web, chat, voice, ...")
    updated_at: datetime | None


class SupportTickets(Dto):
    """A contact's open support tickets, latest change first."""

    contact_id: str
    open_count: int
    items: list[SupportTicketView]


class WebhookOutcome(Dto):
    """What a webhook delivery came to (the HTTP route answers with ``status_code``)."""

    status_code: int
    outcome: str
    body: str | None = None
    media_type: str = "text/plain"  # of ``body`` (Salesforce's Ack is SOAP XML)


class AuthorizationOutcome(Dto):
    """What an OAuth callback came to."""

    ok: bool
    platform: str | None
    message: str


class InboundRequest(Dto):
    """A webhook delivery as the HTTP route received it (``url``: as the platform called it, for signatures)."""

    method: str
    url: str
    headers: dict[str, str] = Field(description="Lower-case header names.")
    query: dict[str, str]
    body: bytes = Field(repr=False)


class AdAccountList(Dto):
    """The ad accounts a platform connection can manage (ids to pass to the ads operations)."""

    platform: str
    items: list[AdAccount] = Field(description="Each account's id, name, currency and time zone.")


class DesignView(Dto):
    """One design on a design platform (metadata; export it to get the file)."""

    platform: str
    design_id: str = Field(
        description="The platform's id of the design (Canva design id; Adobe Express: a generation job id)."
    )
    title: str | None
    page_count: int | None
    created_at: datetime | None
    updated_at: datetime | None


class DesignPage(Dto):
    """A page of the tenant's designs on one platform."""

    items: list[DesignView]
    next_cursor: str | None


class MessageView(Dto):
    """A message sent (or received) through a messaging platform, and where it stands."""

    id: str = Field(description="PromptSales' id of the message (wm_…).")
    platform: str
    direction: Literal["outbound", "inbound"]
    contact_id: str | None
    kind: Literal["template", "text"]
    message_id: str | None = Field(
        description="The platform's id (WhatsApp wamid, Twilio SM…); its status webhooks carry it."
    )
    status: MessageStatus = Field(
        description="accepted → sent → delivered → read, or failed; unconfirmed: the platform did not answer and the "
        "message may or may not have gone out; received: an inbound message."
    )
    to: str | None = Field(description="The recipient's number (E.164).")
    interaction_id: str | None = Field(description="The CRM interaction logging it (crm_get_customer_360).")
    error: str | None = None
    at: datetime
    segments: int | None = Field(default=None, description="SMS: the segments Twilio bills (num_segments).")


EmailCampaignStatus = Literal["draft", "scheduled", "sent", "unconfirmed"]


class EmailCopy(Dto):
    """An approved email copy asset as an email platform sends it (the content library's fields for channel email:
    subject, preheader, from_name, body); the composition root fills it from the content facade."""

    asset_id: str
    version: int
    title: str
    language: str
    fields: dict[str, str | list[str]]
    accent_color: str | None = None


class EmailCampaignView(Dto):
    """An email campaign PromptSales created on an email platform from an approved copy asset."""

    id: str = Field(description="PromptSales' id of the email campaign (ec_…); the reports take it.")
    platform: str
    campaign_id: str | None = Field(
        description="The platform's campaign id (Mailchimp); null when the platform never confirmed creating it."
    )
    status: EmailCampaignStatus = Field(
        description="draft (created, not sent), scheduled, sent, or unconfirmed: the platform did not answer a create "
        "or send, which may or may not have happened (it is never repeated; the report reads the platform's state)."
    )
    asset_id: str
    asset_version: int
    list_id: str | None = Field(description="The audience it goes to.")
    segment_id: str | None = Field(description="The CRM segment it goes to (its tag in the audience); null: everyone.")
    subject: str
    preview_text: str | None
    from_name: str
    reply_to: str
    send_at: datetime | None = Field(description="When a scheduled campaign goes out (UTC).")
    sent_at: datetime | None = Field(description="When PromptSales asked the platform to send it.")
    created_at: datetime
    error: str | None = None


class EmailCampaignReport(Dto):
    """A sent email campaign's numbers as the platform reports them; rates are fractions (0-1)."""

    id: str = Field(description="PromptSales' id of the email campaign (ec_…).")
    platform: str
    campaign_id: str
    status: str = Field(description="The platform's campaign status (sending, sent).")
    emails_sent: int
    delivered: int = Field(description="Sent less hard and soft bounces.")
    unique_opens: int
    opens_total: int
    open_rate: float = Field(description="Unique opens / delivered, as the platform computes it.")
    unique_clicks: int
    clicks_total: int
    click_rate: float = Field(description="Unique clicks / delivered, as the platform computes it.")
    hard_bounces: int
    soft_bounces: int
    bounce_rate: float = Field(description="(Hard + soft bounces) / emails sent.")
    unsubscribed: int
    unsubscribe_rate: float = Field(description="Unsubscribes / delivered.")
    abuse_reports: int
    send_time: datetime | None
