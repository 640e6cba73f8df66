"""What the core needs of each platform: its API address, auth headers, a cheap probe, and its sandbox.

A driver is small and stateless; the platform's client does the talking. ``SandboxAccount`` is deterministic
per tenant (an in-process simulator per replica must agree with every other replica about a tenant's account).
"""

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import Connector


@dataclass(frozen=True, slots=True)
class SandboxAccount:
    """A tenant's account on a platform simulator."""

    account_id: str
    label: str
    url_parts: Mapping[str, str]


class Simulator(Protocol):
    """What every platform simulator offers the core (see each ``<platform>/simulator``)."""

    app: Any  # an ASGI application (httpx.ASGITransport serves it)

    def grant(self, token: str, account: str) -> None: ...

    def revoke(self, token: str) -> None: ...


class Driver(Protocol):
    """One platform as the connection lifecycle sees it."""

    connector: Connector

    def live_base_url(self, url_parts: Mapping[str, str]) -> str: ...

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str: ...

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]: ...

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str: ...

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator: ...

    def sandbox_account(self, tenant_id: str) -> SandboxAccount: ...

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class KeyCredentials:
    """What a pasted API key becomes: the URL parts it implies, the secret to store, when it expires, and the
    account it names (Twilio's AccountSid; webhooks find the tenant by it)."""

    url_parts: Mapping[str, str]
    secret: dict[str, Any]
    expires_at: datetime | None = None
    account_id: str | None = None


@runtime_checkable
class KeyedDriver(Protocol):
    """A driver whose API key is more than a bearer token (Mailchimp's names its data centre; Adobe's is a client
    credential traded for a token). Without it, a key is stored as the access token as it is."""

    async def key_credentials(
        self, api_key: str, *, tenant_id: str, transport: httpx.AsyncBaseTransport | None, now: datetime
    ) -> KeyCredentials: ...


@runtime_checkable
class RenewingDriver(Protocol):
    """A driver that renews a live access token itself (client credentials: no refresh token, ask again)."""

    async def renew(
        self, secret: Mapping[str, Any], *, tenant_id: str, transport: httpx.AsyncBaseTransport | None, now: datetime
    ) -> tuple[dict[str, Any], datetime | None]: ...


def tenant_number(tenant_id: str, digits: int) -> str:
    """A stable number of ``digits`` digits for a tenant (sandbox account ids)."""
    value = int.from_bytes(hashlib.sha256(tenant_id.encode()).digest()[:8], "big")
    low = 10 ** (digits - 1)
    return str(low + value % (9 * low))


def tenant_slug(tenant_id: str) -> str:
    """A host-safe label for a tenant (sandbox subdomains)."""
    return "t" + hashlib.sha256(tenant_id.encode()).hexdigest()[:12]


ProbeCall = Callable[[ConnectorHttp], Awaitable[str]]
