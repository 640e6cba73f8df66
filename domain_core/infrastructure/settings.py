"""Deployment settings from ``PROMPTSALES_*`` environment variables; read in bootstrap, never at import."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from promptsales.domain_core.infrastructure.crypto import KeyRing

CONTEXTS: tuple[str, ...] = ("crm", "campaigns", "content", "business", "integrations")


def _default_data_dir() -> Path:
    return Path.home() / ".promptsales"


class Settings(BaseSettings):
    """Everything a PromptSales process needs to know about its deployment."""

    model_config = SettingsConfigDict(env_prefix="PROMPTSALES_", env_file=None, extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Where embedded data lives.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: a SQLite file in data_dir."
    )
    migration_database_url: str | None = Field(
        default=None, description="Owner connection used for migrations; default: database_url."
    )
    database_app_role: str = Field(
        default="promptsales_app",
        pattern=r"^([a-z_][a-z0-9_]{0,62})?$",
        description="Postgres non-owner role the app switches to (RLS applies); empty to connect as is.",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_reconnect_seconds: float = Field(
        default=8.0, ge=0, le=60, description="How long a unit is run again while Postgres is unreachable (failover)."
    )
    redis_url: str | None = Field(default=None, description="Redis URL; enables Redis Streams relay.")
    event_stream: str = Field(
        default="promptsales:events", min_length=1, max_length=200, description="Redis stream for domain events."
    )
    tenant: str = Field(default="local", min_length=1, max_length=64, description="Tenant for local mode.")
    actor: str = Field(default="local-agent", min_length=1, max_length=128)
    encryption_keys: SecretStr | None = Field(
        default=None,
        description="AES-256 keys for stored secrets, 'kid:base64key,...' (last is active); default: a local "
        "key file in data_dir.",
    )
    encryption_active_key: str | None = Field(default=None, description="Key id that seals new values.")
    rate_limits_enabled: bool = Field(default=True, description="Per-tenant token buckets per tool class.")
    rate_limit_reads_per_minute: int = Field(default=600, ge=1, description="Sustained reads per tenant and context.")
    rate_limit_writes_per_minute: int = Field(default=120, ge=1, description="Sustained writes per tenant and context.")
    auth_mode: Literal["none", "dev", "oidc"] = Field(
        default="none", description="HTTP auth: none (loopback only), dev (local issuer), oidc (JWKS via discovery)."
    )
    auth_issuer: str | None = Field(default=None, description="Expected token issuer (iss).")
    auth_audience: str | None = Field(default=None, description="This server's canonical URL (aud must equal it).")
    auth_jwks_url: str | None = Field(default=None, description="JWKS URL; default: from OIDC discovery.")
    auth_tenant_claim: str = Field(default="tenant", min_length=1, description="Claim holding the tenant id.")
    auth_actor_claim: str = Field(default="sub", min_length=1, description="Claim naming the actor.")
    auth_actor_kind_claim: str = Field(
        default="actor_kind",
        min_length=1,
        description="Claim saying whether a person ('human') or an agent acts; absent or other values: agent.",
    )
    plans_file: Path | None = Field(
        default=None, description="JSON file overriding the shipped plans catalogue (merged by plan id)."
    )
    default_plan: str = Field(default="free", min_length=1, description="Plan of tenants without a subscription.")
    entitlement_cache_seconds: float = Field(
        default=5.0, ge=0, le=300, description="How long a replica reuses a tenant's plan standing."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^/\s]+$",
        description="Origin buyers and PayPal reach this deployment at (return links, sandbox approval pages).",
    )
    paypal_mode: Literal["sandbox", "live"] = Field(
        default="sandbox", description="sandbox: in-process PayPal simulator; live: api-m.paypal.com."
    )
    paypal_base_url: str | None = Field(default=None, description="PayPal REST host override (e.g. PayPal's sandbox).")
    paypal_client_id: str | None = Field(default=None, description="PayPal REST app client id (live mode).")
    paypal_client_secret: SecretStr | None = Field(default=None, description="PayPal REST app secret (live mode).")
    paypal_webhook_id: str | None = Field(default=None, description="Id of the PayPal webhook pointing here.")
    integrations_mode: Literal["sandbox", "live"] = Field(
        default="sandbox",
        description="sandbox: every connector talks to its in-process simulator; live: the platforms' real APIs "
        "(only for tenants whose plan includes live connectors).",
    )
    integrations_apps: SecretStr | None = Field(
        default=None,
        description='Live-mode app credentials per platform as JSON: {"hubspot": {"client_id": …, '
        '"client_secret": …, "webhook_secret": …}, …} (README: Integrations).',
    )
    content_text_provider: Literal["local", "openai", "anthropic", "openai_compatible", "sampling"] = Field(
        default="local",
        description="Writer of tenants that chose none: local (offline), an API, or the client's model.",
    )
    content_text_model: str | None = Field(default=None, description="Model of that provider (default per provider).")
    content_image_provider: Literal["local", "openai"] = Field(
        default="local", description="Image maker of tenants that chose none: local (offline renderer) or openai."
    )
    content_image_model: str = Field(default="gpt-image-2", min_length=1)
    content_base_url: str | None = Field(default=None, description="Base URL for openai_compatible (or a proxy).")
    openai_api_key: SecretStr | None = Field(
        default=None, description="Deployment OpenAI key (tenants may bring their own)."
    )
    anthropic_api_key: SecretStr | None = Field(default=None, description="Deployment Anthropic key.")
    llm_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    llm_max_attempts: int = Field(default=3, ge=1, le=10)
    # Bounds a whole model call (every attempt and wait): clients stop waiting long before timeout x attempts.
    llm_total_timeout_seconds: float = Field(default=45.0, gt=0, le=600)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    toolsets: Annotated[tuple[str, ...], NoDecode] = Field(
        default=CONTEXTS, description="Contexts mounted by the gateway."
    )
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    analytics_refresh_minutes: float = Field(
        default=60.0, ge=0, le=1440, description="Insights pull a campaign's platform results first when older."
    )
    auto_migrate: bool | None = Field(
        default=None, description="Upgrade the schema on start; default: only for SQLite."
    )

    @field_validator("toolsets", mode="before")
    @classmethod
    def _split_toolsets(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("toolsets")
    @classmethod
    def _known_toolsets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(CONTEXTS))
        if unknown:
            raise ValueError(f"unknown context(s) {unknown}; choose from {list(CONTEXTS)}")
        return value

    def key_ring(self) -> KeyRing:
        """The keys that seal stored secrets (configured, or the embedded local key file)."""
        if self.encryption_keys is not None:
            return KeyRing.parse(self.encryption_keys.get_secret_value(), active=self.encryption_active_key)
        return KeyRing.load_or_create_local(self.data_dir / "keys")

    @property
    def resolved_database_url(self) -> str:
        """The async database URL actually used."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'promptsales.db'}"

    @property
    def resolved_migration_url(self) -> str:
        """The URL migrations run with (the schema owner)."""
        return self.migration_database_url or self.resolved_database_url

    @property
    def is_sqlite(self) -> bool:
        """Whether the embedded SQLite backend is in use."""
        return self.resolved_database_url.startswith("sqlite")

    @property
    def migrate_on_start(self) -> bool:
        """Embedded mode upgrades its schema on start; server deployments run ``db upgrade`` explicitly."""
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate
