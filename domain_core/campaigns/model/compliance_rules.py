"""Compliance rules as data: the JSON shape, the check registry, and loading that fails on any invalid rule.

A rule names a check from the registry and gives it params; loading validates every rule's params against its
check's model, so a typo, an unknown check or a missing field stops the load instead of skipping the rule.
Lists in params may name a shared group (``"@eu_eea_uk"``) from the file's ``groups``, and every channel id a rule
names must be one of the file's ``channels``.
"""

import importlib.resources
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promptsales.domain_core.campaigns.model import (
    compliance_account,
    compliance_ads,
    compliance_content,
    compliance_messaging,
)
from promptsales.domain_core.campaigns.model.compliance_base import ChannelId, CheckSpec, Hit, Params, Registry
from promptsales.domain_core.campaigns.model.compliance_facts import CampaignFacts
from promptsales.domain_core.shared.errors import ValidationFailed

Severity = Literal["block", "needs_approval", "warn"]
RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=80)]
GroupName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


def _registry(*parts: Registry) -> Registry:
    merged: Registry = {}
    for part in parts:
        for name, spec in part.items():
            if name in merged:
                raise ValueError(f"check {name} is registered twice")
            merged[name] = spec
    return merged


CHECKS: Registry = _registry(
    compliance_messaging.CHECKS, compliance_ads.CHECKS, compliance_content.CHECKS, compliance_account.CHECKS
)


class RuleSource(BaseModel):
    """The law or platform policy behind a rule: a citation people can look up, and its URL where there is one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    citation: str = Field(min_length=5, max_length=400)
    url: str | None = Field(default=None, pattern=r"^https://\S+$", max_length=300)


class RuleEntry(BaseModel):
    """One rule as written in the file, before its params are checked against its check."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: RuleId
    description: str = Field(min_length=10, max_length=500)
    source: RuleSource
    severity: Severity
    check: str = Field(min_length=1, max_length=60)
    params: dict[str, Any] = {}


class RuleFile(BaseModel):
    """The rules file: a version, shared groups of channels or markets, and the rules in reporting order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    channels: frozenset[ChannelId] = Field(min_length=1)  # every campaign channel id rules may name
    groups: dict[GroupName, tuple[str, ...]] = {}
    rules: tuple[RuleEntry, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Rule:
    """A loaded rule: what it is, why (source), how severe, and its check with validated params."""

    id: str
    description: str
    source: RuleSource
    severity: Severity
    check: str
    params: Params
    spec: CheckSpec[Any]

    def findings(self, facts: CampaignFacts) -> list[Hit]:
        """What this rule finds in the campaign (an empty list: it passes)."""
        return list(self.spec.run(facts, self.params))


@dataclass(frozen=True)
class RuleSet:
    """Every rule of one rules file, in the file's order, and the file's version."""

    version: str
    rules: tuple[Rule, ...]


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(
        message, field="compliance_rules", hint="Fix the rules file; no campaign is checked with an invalid one."
    )


def _where(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc']) or '(top)'}: {first['msg']}"


def _expand(value: Any, groups: Mapping[str, tuple[str, ...]], rule_id: str) -> Any:
    """Replace each '@group' item of a list with the group's members, anywhere in the params."""
    if isinstance(value, dict):
        return {key: _expand(item, groups, rule_id) for key, item in value.items()}
    if isinstance(value, list):
        expanded: list[Any] = []
        for item in value:
            if isinstance(item, str) and item.startswith("@"):
                if item[1:] not in groups:
                    raise _invalid(f"Compliance rule {rule_id} names the unknown group {item}.")
                expanded.extend(groups[item[1:]])
            else:
                expanded.append(_expand(item, groups, rule_id))
        return expanded
    return value


def _build(entry: RuleEntry, file: RuleFile, registry: Registry) -> Rule:
    spec = registry.get(entry.check)
    if spec is None:
        raise _invalid(f"Compliance rule {entry.id} names the unknown check '{entry.check}'.")
    try:
        params = spec.params.model_validate(_expand(entry.params, file.groups, entry.id))
    except ValidationError as exc:
        raise _invalid(f"Compliance rule {entry.id} has invalid params at {_where(exc)}.") from exc
    unknown = params.channels_named() - file.channels
    if unknown:  # a misspelt channel would silently never match
        raise _invalid(f"Compliance rule {entry.id} names unknown channels: {', '.join(sorted(unknown))}.")
    return Rule(entry.id, entry.description, entry.source, entry.severity, entry.check, params, spec)


def parse_rules(text: str, registry: Registry | None = None) -> RuleSet:
    """Validate a rules file and bind each rule to its check (any invalid rule: ValidationFailed naming it)."""
    try:
        data = RuleFile.model_validate_json(text)
    except ValidationError as exc:
        raise _invalid(f"The compliance rules file is invalid at {_where(exc)}.") from exc
    rules = tuple(_build(entry, data, registry or CHECKS) for entry in data.rules)
    _unique(rule.id for rule in rules)
    return RuleSet(version=data.version, rules=rules)


def _unique(ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for rule_id in ids:
        if rule_id in seen:
            raise _invalid(f"Compliance rule id {rule_id} is used twice.")
        seen.add(rule_id)


@lru_cache(maxsize=1)
def load_rules() -> RuleSet:
    """The packaged compliance rules, validated once."""
    resource = importlib.resources.files("promptsales.domain_core.campaigns.model").joinpath("compliance_rules.json")
    return parse_rules(resource.read_text("utf-8"))
