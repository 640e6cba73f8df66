"""What tool functions need from the running process: facades and the caller of the current request."""

import json
from typing import Annotated, Any, Protocol

from fastmcp import Context
from mcp.types import ToolAnnotations
from pydantic import AfterValidator, Field

from promptsales.domain_core.analytics.facade import AnalyticsFacade
from promptsales.domain_core.business.facade import BusinessFacade, ToolInfo
from promptsales.domain_core.campaigns.facade import CampaignsFacade
from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.integrations.facade import IntegrationsFacade
from promptsales.domain_core.shared.caller import Caller


class ToolRuntime(Protocol):
    """The process's services as seen by tools (implemented by the server runtime)."""

    @property
    def crm(self) -> CrmFacade:
        """The CRM facade."""
        ...

    @property
    def business(self) -> BusinessFacade:
        """The business facade (plans, subscriptions, entitlements, billing)."""
        ...

    @property
    def content(self) -> ContentFacade:
        """The content facade (copy, creatives, library, AI services)."""
        ...

    @property
    def integrations(self) -> IntegrationsFacade:
        """The integrations facade (connectors, connections, syncs)."""
        ...

    @property
    def campaigns(self) -> CampaignsFacade:
        """The campaigns facade (plans, review, activation, live changes, spend caps)."""
        ...

    @property
    def analytics(self) -> AnalyticsFacade:
        """The analytics facade (insights, attribution, experiments)."""
        ...

    def caller(self, ctx: Context) -> Caller:
        """The authenticated caller of the current request."""
        ...

    def tool_info(self, name: str) -> ToolInfo | None:
        """Context and read-only flag of a served tool by its gateway name (None: no such tool)."""
        ...


IdempotencyKey = Annotated[
    str | None,
    Field(
        default=None,
        min_length=1,
        max_length=255,
        # Shown in ~40 tools' schemas, so kept as short as can be (issue 12 budgets).
    ),
]
Cursor = Annotated[
    str | None,
    Field(default=None, max_length=2000),
]
Limit = Annotated[int, Field(default=20, ge=1, le=100)]

# Free-form JSON arguments (contact attributes, scoring overrides, segment rules, extraction schemas) are bounded
# as a whole, as strings are: their JSON columns have no length of their own.
MAX_JSON_BYTES = 65_536
MAX_JSON_DEPTH = 8


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))
    if size > MAX_JSON_BYTES:
        raise ValueError(f"is {size} bytes as JSON; at most {MAX_JSON_BYTES} are accepted")
    if _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
    return value


JsonObject = Annotated[dict[str, Any], Field(max_length=200), AfterValidator(_bounded_json)]

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
CREATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
UPSERT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
REPLACE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
# Writes ours and may call a model provider outside (content generation with an API provider).
GENERATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)
