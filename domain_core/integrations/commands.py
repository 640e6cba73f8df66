"""Commands: one frozen model per mutating integrations use case, hashed whole for idempotency."""

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from promptsales.domain_core.integrations.ads import (
    AdGroupSpec,
    CampaignSpec,
    CreativeSpec,
    CustomerListSpec,
    DeliveryStatus,
    ObjectKind,
)
from promptsales.domain_core.shared.commands import Command

PlatformId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
Mode = Literal["sandbox", "live"]
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
CapabilityName = Literal["crm_sync", "support_sync", "messaging", "email_marketing", "ads", "design_assets"]


class Connect(Command):
    """Link the tenant to a platform: sandbox (instant), live with OAuth (an authorization URL) or an API key."""

    platform: PlatformId
    mode: Mode | None = None
    api_key: Annotated[str, Field(min_length=8, max_length=512)] | None = Field(default=None, repr=False)
    subdomain: Annotated[str, Field(min_length=1, max_length=63)] | None = None
    phone_number_id: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")] | None = None


class Disconnect(Command):
    """Forget the tenant's credentials for a platform (synced records stay)."""

    platform: PlatformId


class StartSync(Command):
    """Sync one capability of a connection; ``full`` ignores the last watermark."""

    platform: PlatformId
    capability: CapabilityName | None = None
    full: bool = False
    segment_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None


class SendMessage(Command):
    """One message to a CRM contact on a messaging channel: WhatsApp, an approved template or a free text in an open
    conversation (within 24 h of the person's last message); SMS, a text of at most 1600 characters."""

    channel: Literal["whatsapp", "sms"] = "whatsapp"
    contact_id: Annotated[str, Field(min_length=1, max_length=40)]
    template_name: Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")] | None = None
    language: Annotated[str, Field(min_length=2, max_length=10, pattern=r"^[a-z]{2,3}_?[A-Za-z]{0,4}$")] = "en_US"
    parameters: Annotated[list[Annotated[str, Field(min_length=1, max_length=1024)]], Field(max_length=50)] = Field(
        default_factory=list
    )
    text: Annotated[str, Field(min_length=1, max_length=4096)] | None = None


SenderName = Annotated[
    str, Field(min_length=1, max_length=100, description="Sender name; default: the copy's from_name.")
]
CampaignTitle = Annotated[
    str, Field(min_length=1, max_length=60, description="Internal campaign name; default: the asset's title.")
]
CrmSegmentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="A CRM segment synced to the audience (integrations_sync capability=email_marketing); default: "
        "the whole audience.",
    ),
]


class CreateEmailCampaign(Command):
    """An email campaign on the connected email platform from an approved email copy asset, for the whole audience
    or one CRM segment already synced to it: kept as a draft, sent now (``send``) or scheduled (``send_at``)."""

    platform: Literal["mailchimp"] = "mailchimp"
    asset_id: Annotated[
        str,
        Field(
            min_length=4,
            max_length=40,
            pattern=r"^as_[0-9A-Z]{26}$",
            description="An approved copy asset for channel email (content library).",
        ),
    ]
    reply_to: Annotated[
        str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN, description="Where replies go (an address).")
    ]
    from_name: SenderName | None = None
    title: CampaignTitle | None = None
    segment_id: CrmSegmentId | None = None
    send: bool = Field(default=False, description="Send at once (else a draft, unless send_at is given).")
    send_at: datetime | None = Field(
        default=None, description="Schedule it (UTC, in the future, on :00, :15, :30 or :45)."
    )


class SendEmailCampaign(Command):
    """Send, or schedule, an email campaign that was created as a draft."""

    campaign_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="PromptSales' id (ec_…) or the platform's id of the campaign.",
        ),
    ]
    send_at: datetime | None = Field(
        default=None, description="Schedule it (UTC, in the future, on :00, :15, :30 or :45); default: now."
    )


# --- ads: one command per write to an ad platform (hashed whole for idempotency; built by the ads surface) ----------

AccountId = Annotated[str, Field(min_length=1, max_length=64)]
ObjectId = Annotated[str, Field(min_length=1, max_length=64)]


class CreateAdCampaign(Command):
    """Create a paused campaign on an ad platform."""

    platform: PlatformId
    account_id: AccountId
    spec: CampaignSpec


class CreateAdGroup(Command):
    """Create a paused ad group / ad set under a campaign."""

    platform: PlatformId
    account_id: AccountId
    campaign_id: ObjectId
    spec: AdGroupSpec


class CreateAd(Command):
    """Create a paused ad under an ad group (the image is hashed, not carried, in the idempotency digest)."""

    platform: PlatformId
    account_id: AccountId
    ad_group_id: ObjectId
    creative: CreativeSpec

    def digest_source(self) -> dict[str, Any]:
        """The arguments with the image replaced by its SHA-256."""
        source = self.model_dump(mode="json", exclude={"creative": {"image_png"}})
        image = self.creative.image_png
        source["creative"]["image_sha256"] = hashlib.sha256(image).hexdigest() if image is not None else None
        return source


class CreateCustomerList(Command):
    """Create a customer-match audience from hashed identifiers (the digests count in the idempotency hash)."""

    platform: PlatformId
    account_id: AccountId
    spec: CustomerListSpec


class SetAdStatus(Command):
    """Pause, activate or remove a campaign, ad group or ad."""

    platform: PlatformId
    account_id: AccountId
    kind: ObjectKind
    object_id: ObjectId
    status: DeliveryStatus


class SetAdBudget(Command):
    """Set a campaign's daily budget (account currency)."""

    platform: PlatformId
    account_id: AccountId
    campaign_id: ObjectId
    daily_budget: Decimal


class SetAdBid(Command):
    """Set an ad group's bid (account currency)."""

    platform: PlatformId
    account_id: AccountId
    ad_group_id: ObjectId
    bid: Decimal
