"""The plans catalogue: what each plan includes (contexts, tools, channels, models, connectors) and its quotas."""

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from promptsales.domain_core.shared.errors import ValidationFailed

QuotaName = Literal["contacts", "content_generations", "activations", "seats", "tool_calls_per_minute"]
QUOTA_NAMES: tuple[QuotaName, ...] = (
    "contacts",
    "content_generations",
    "activations",
    "seats",
    "tool_calls_per_minute",
)
# Stock quotas count what exists (contacts kept, seats taken this period); flow quotas count uses per period.
STOCK_QUOTAS: frozenset[str] = frozenset({"contacts"})
PERIOD_QUOTAS: frozenset[str] = frozenset({"content_generations", "activations", "seats"})
RATE_QUOTAS: frozenset[str] = frozenset({"tool_calls_per_minute"})
# Every plan includes the business context, so a tenant can always see its plan, usage and upgrade.
ALWAYS_INCLUDED_CONTEXTS: frozenset[str] = frozenset({"business"})


class Price(BaseModel):
    """A recurring price in major units (PayPal and our invoices use decimal strings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Decimal = Field(ge=0, decimal_places=2)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    interval: Literal["month", "year"] = "month"


class Plan(BaseModel):
    """One plan of the catalogue; ``None`` as a quota means unlimited."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=60)
    rank: int = Field(ge=0, description="Ordering: a higher rank includes at least what a lower one does.")
    description: str = Field(default="", max_length=300)
    price: Price
    trial_days: int = Field(default=0, ge=0, le=90)
    contexts: frozenset[str]
    excluded_tools: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    analytics_models: frozenset[str] = frozenset()
    live_connectors: bool = False
    quotas: dict[str, int | None]

    @field_validator("quotas")
    @classmethod
    def _every_quota(cls, value: dict[str, int | None]) -> dict[str, int | None]:
        missing = [name for name in QUOTA_NAMES if name not in value]
        unknown = sorted(set(value) - set(QUOTA_NAMES))
        if missing or unknown:
            raise ValueError(f"quotas must name exactly {list(QUOTA_NAMES)} (missing {missing}, unknown {unknown})")
        negative = [name for name, limit in value.items() if limit is not None and limit < 0]
        if negative:
            raise ValueError(f"quotas {negative} must be >= 0 or null (unlimited)")
        return value

    @property
    def is_paid(self) -> bool:
        """Whether subscribing takes a payment."""
        return self.price.amount > 0

    def includes_context(self, context: str) -> bool:
        """Whether tools of ``context`` are part of this plan."""
        return context in ALWAYS_INCLUDED_CONTEXTS or context in self.contexts

    def includes_tool(self, context: str | None, tool: str) -> bool:
        """Whether the gateway tool ``tool`` (of ``context``) is part of this plan."""
        if context is not None and context in ALWAYS_INCLUDED_CONTEXTS:
            return True
        return (context is None or context in self.contexts) and tool not in self.excluded_tools


class Catalogue(BaseModel):
    """Every plan on offer, cheapest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plans: tuple[Plan, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "Catalogue":
        ids = [plan.id for plan in self.plans]
        if len(ids) != len(set(ids)):
            raise ValueError(f"plan ids must be unique: {ids}")
        ranks = [plan.rank for plan in self.plans]
        if len(ranks) != len(set(ranks)):
            raise ValueError(f"plan ranks must be unique: {ranks}")
        object.__setattr__(self, "plans", tuple(sorted(self.plans, key=lambda p: p.rank)))
        return self

    def get(self, plan_id: str, *, field: str = "plan") -> Plan:
        """The plan with ``plan_id``, or a ValidationFailed listing the valid ids."""
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise ValidationFailed(f"Unknown plan '{plan_id}'.", field=field, hint=f"Choose one of: {', '.join(self.ids)}.")

    @property
    def ids(self) -> list[str]:
        """Plan ids, cheapest first."""
        return [plan.id for plan in self.plans]

    def above(self, plan: Plan) -> list[Plan]:
        """Plans ranked higher than ``plan``, cheapest first."""
        return [other for other in self.plans if other.rank > plan.rank]


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (
            _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def default_catalogue_data() -> dict[str, Any]:
    """The shipped catalogue as JSON data."""
    text = resources.files("promptsales.domain_core.business.model").joinpath("default_plans.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_catalogue(override_file: Path | None = None) -> Catalogue:
    """The shipped catalogue, with a deployment's overrides merged in by plan id (new ids add plans).

    The override file has the same shape (``{"plans": [{"id": "free", "quotas": {"contacts": 500}}, ...]}``);
    fields it names replace the shipped ones, quotas key by key.
    """
    data = default_catalogue_data()
    if override_file is not None:
        try:
            override = json.loads(override_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationFailed(
                f"The plans file {override_file} could not be read as JSON ({exc}).", field="plans_file"
            ) from exc
        by_id = {plan["id"]: plan for plan in data["plans"]}
        for plan in override.get("plans", []):
            plan_id = plan.get("id")
            by_id[plan_id] = _merge(by_id[plan_id], plan) if plan_id in by_id else plan
        data = {"plans": list(by_id.values())}
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValidationFailed(
            f"The plans catalogue is invalid at {where}: {first['msg']}.", field="plans_file"
        ) from exc
