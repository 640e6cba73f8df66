"""Commands: one frozen model per mutating integrations use case, hashed whole for idempotency."""

from typing import Annotated, Literal

from pydantic import Field

from promptsales.domain_core.shared.commands import Command

PlatformId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
Mode = Literal["sandbox", "live"]
CapabilityName = Literal["crm_sync", "support_sync", "messaging", "email_marketing", "ads", "design_assets"]


class Connect(Command):
    """Link the tenant to a platform: sandbox (instant), live with OAuth (an authorization URL) or an API key."""

    platform: PlatformId
    mode: Mode | None = None
    api_key: Annotated[str, Field(min_length=8, max_length=512)] | None = Field(default=None, repr=False)
    subdomain: Annotated[str, Field(min_length=1, max_length=63)] | None = None


class Disconnect(Command):
    """Forget the tenant's credentials for a platform (synced records stay)."""

    platform: PlatformId


class StartSync(Command):
    """Sync one capability of a connection; ``full`` ignores the last watermark."""

    platform: PlatformId
    capability: CapabilityName | None = None
    full: bool = False
    segment_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
