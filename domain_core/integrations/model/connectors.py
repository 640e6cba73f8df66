"""The shape of one connector and the catalogue of the platforms PromptSales connects to (pure, no I/O).

The facts (base URLs, auth kinds, idempotency and usage headers) live in ``connectors.json`` next to this
module, each with the source it was taken from and how strong that source is; where the project's reference
notes lack a fact the data says so (``not_in_reference``) instead of guessing.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from promptsales.domain_core.shared.errors import NotFound, ValidationFailed


class Capability(StrEnum):
    """What a connector can do for the product."""

    CRM_SYNC = "crm_sync"
    SUPPORT_SYNC = "support_sync"
    MESSAGING = "messaging"
    EMAIL_MARKETING = "email_marketing"
    ADS = "ads"
    DESIGN_ASSETS = "design_assets"


class AuthKind(StrEnum):
    """How a tenant authorises PromptSales on the platform."""

    OAUTH2_PKCE = "oauth2_pkce"  # OAuth 2.0 authorization code (with PKCE where the platform takes it) + refresh
    API_KEY = "api_key"  # a long-lived key or app token the tenant pastes in
    SYSTEM_USER_TOKEN = "system_user_token"  # noqa: S105  # a business-owned token (Meta system users)


class Strength(StrEnum):
    """How far a catalogue fact can be trusted."""

    SRC = "src"  # stated in the cited public source
    SECONDARY = "secondary"  # secondary material: verify against the live reference before relying on it
    NOT_IN_REFERENCE = "not_in_reference"  # the reference does not state it


FACT_NAMES: tuple[str, ...] = (
    "live_base_url",
    "auth_kinds",
    "idempotency_header",
    "rate_limit_headers",
    "platform_test_environment",
)


@dataclass(frozen=True, slots=True)
class Fact:
    """Where one catalogue fact comes from."""

    strength: Strength
    source: str
    note: str | None = None


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# What a tenant-specific URL part may be: a subdomain label, a Mailchimp data centre, a version number.
_URL_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True, slots=True)
class Connector:
    """One platform: what it is for, how it authenticates, where it lives and how it signals limits."""

    id: str
    display_name: str
    capabilities: frozenset[Capability]
    auth_kinds: tuple[AuthKind, ...]  # the first is the one the product offers by default
    refreshes_tokens: bool | None  # None: the reference does not say
    live_base_url: str  # may hold {placeholders}: per-tenant parts ({subdomain}, {dc}) and versions
    url_defaults: Mapping[str, str]
    sandbox_base_url: str  # the in-process simulator's host (never resolved) + the live path
    idempotency_header: str | None  # None: the platform takes no idempotency key
    rate_limit_headers: tuple[str, ...]
    facts: Mapping[str, Fact] = field(default_factory=dict)

    @property
    def auth_kind(self) -> AuthKind:
        """The auth kind the product offers by default."""
        return self.auth_kinds[0]

    @property
    def accepts_idempotency_key(self) -> bool:
        """Whether a retried POST/PATCH can be made safe with an idempotency key header."""
        return self.idempotency_header is not None

    def url_placeholders(self) -> tuple[str, ...]:
        """The names in ``live_base_url`` that must be filled in (defaults included)."""
        return tuple(_PLACEHOLDER.findall(self.live_base_url))

    def live_url(self, **parts: str) -> str:
        """``live_base_url`` with its placeholders filled from ``parts`` over ``url_defaults``.

        Raises :class:`ValidationFailed` naming the missing or malformed part (e.g. a Zendesk ``subdomain``).
        """
        values = {**self.url_defaults, **parts}
        unknown = sorted(set(parts) - set(self.url_placeholders()))
        if unknown:
            raise ValidationFailed(
                f"{self.display_name} URLs take no '{unknown[0]}'.",
                field=unknown[0],
                hint=f"Expected only: {', '.join(self.url_placeholders()) or 'nothing'}.",
            )

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            value = values.get(name)
            if value is None:
                raise ValidationFailed(
                    f"{self.display_name} needs the account's '{name}' to build its API address.",
                    field=name,
                    hint=f"Give the {name} shown in the {self.display_name} account settings.",
                )
            if not _URL_PART.fullmatch(value):
                raise ValidationFailed(
                    f"'{name}' for {self.display_name} must be letters, digits, dots or dashes.",
                    field=name,
                    hint="Give just the name (e.g. 'acme' for acme.zendesk.com), not a URL.",
                )
            return value

        return _PLACEHOLDER.sub(fill, self.live_base_url)


def _parse_connector(raw: Mapping[str, Any]) -> Connector:
    facts = {
        name: Fact(Strength(fact["strength"]), fact["source"], fact.get("note")) for name, fact in raw["facts"].items()
    }
    return Connector(
        id=raw["id"],
        display_name=raw["display_name"],
        capabilities=frozenset(Capability(value) for value in raw["capabilities"]),
        auth_kinds=tuple(AuthKind(value) for value in raw["auth_kinds"]),
        refreshes_tokens=raw["refreshes_tokens"],
        live_base_url=raw["live_base_url"],
        url_defaults=MappingProxyType(dict(raw["url_defaults"])),
        sandbox_base_url=raw["sandbox_base_url"],
        idempotency_header=raw["idempotency_header"],
        rate_limit_headers=tuple(raw["rate_limit_headers"]),
        facts=MappingProxyType(facts),
    )


def parse_catalogue(text: str) -> Mapping[str, Connector]:
    """Connectors by id from the catalogue's JSON text; raises ValueError when a connector is malformed."""
    document = json.loads(text)
    connectors: dict[str, Connector] = {}
    for raw in document["connectors"]:
        connector = _parse_connector(raw)
        missing = [name for name in FACT_NAMES if name not in connector.facts]
        if missing:
            raise ValueError(f"connector {connector.id!r} cites no source for {', '.join(missing)}")
        if not connector.auth_kinds or not connector.capabilities:
            raise ValueError(f"connector {connector.id!r} needs at least one auth kind and one capability")
        if connector.id in connectors:
            raise ValueError(f"connector {connector.id!r} is listed twice")
        connectors[connector.id] = connector
    return MappingProxyType(connectors)


@cache
def catalogue() -> Mapping[str, Connector]:
    """The built-in catalogue (``connectors.json``), read once."""
    text = resources.files("promptsales.domain_core.integrations.model").joinpath("connectors.json").read_text("utf-8")
    return parse_catalogue(text)


def get_connector(connector_id: str) -> Connector:
    """The connector with this id, or :class:`NotFound` listing the valid ones."""
    found = catalogue().get(connector_id)
    if found is None:
        error = NotFound("connector", connector_id, field="platform")
        error.hint = f"Valid platforms: {', '.join(sorted(catalogue()))}."
        raise error
    return found


def connectors_with(capability: Capability) -> tuple[Connector, ...]:
    """Every connector offering ``capability``, by id."""
    return tuple(connector for _, connector in sorted(catalogue().items()) if capability in connector.capabilities)
