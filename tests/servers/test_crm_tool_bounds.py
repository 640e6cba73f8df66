"""Every text a CRM tool accepts is bounded, and the bound fits where the text is stored.

Three checks: each string in a CRM tool's input schema (nested models and list items included) has a
maxLength; a tool never allows more than its command model; a command never allows more than the column
that stores the field (unless the field is normalized to a shorter form before it is stored).
"""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import String
from sqlmodel import SQLModel

from promptsales.domain_core.crm import commands
from promptsales.domain_core.crm.tables import (
    ContactRecord,
    FlowRunRecord,
    InteractionRecord,
    LeadRecord,
    OrganizationRecord,
    SegmentRecord,
)
from promptsales.domain_core.shared.commands import Command

# Which command a mutating tool builds.
COMMAND_OF: dict[str, type[Command]] = {
    "crm_create_organization": commands.CreateOrganization,
    "crm_create_contact": commands.CreateContact,
    "crm_update_contact": commands.UpdateContact,
    "crm_merge_contacts": commands.MergeContacts,
    "crm_capture_lead": commands.CaptureLead,
    "crm_update_lead": commands.UpdateLead,
    "crm_classify_lead": commands.ClassifyLead,
    "crm_set_scoring_rules": commands.SetScoringRules,
    "crm_log_interaction": commands.LogInteraction,
    "crm_create_segment": commands.CreateSegment,
    "crm_start_flow": commands.StartFlow,
    "crm_advance_flow": commands.AdvanceFlow,
}
# Where each command's fields are stored: (record, {field: column when named differently}).
STORED_IN: list[tuple[type[Command], type[SQLModel], dict[str, str]]] = [
    (commands.CreateOrganization, OrganizationRecord, {}),
    (commands.CreateContact, ContactRecord, {}),
    (commands.UpdateContact, ContactRecord, {}),
    (commands.CaptureLead, ContactRecord, {}),
    (commands.CaptureLead, LeadRecord, {}),
    (commands.CaptureLead, OrganizationRecord, {"company": "name", "company_domain": "domain"}),
    (commands.UpdateLead, LeadRecord, {}),
    (commands.LogInteraction, InteractionRecord, {}),
    (commands.CreateSegment, SegmentRecord, {}),
    (commands.StartFlow, FlowRunRecord, {}),
]
# Stored in a normalized, shorter form: E.164 phones, ISO country codes.
NORMALIZED = {"phone", "country"}


def strings(schema: dict[str, Any], defs: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every string schema inside ``schema``, with a readable path."""
    if "$ref" in schema:
        yield from strings(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, path)
        return
    for variant in schema.get("anyOf", []):
        yield from strings(variant, defs, path)
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]  # a nullable field reads type: ["string", "null"]
    if "string" in kinds:
        yield path, schema
    if "array" in kinds:
        yield from strings(schema.get("items", {}), defs, f"{path}[]")
    for name, prop in schema.get("properties", {}).items():
        yield from strings(prop, defs, f"{path}.{name}")


def max_length(schema: dict[str, Any], defs: dict[str, Any]) -> int | None:
    """The tightest maxLength of a (possibly optional) string schema."""
    found = [s["maxLength"] for _, s in strings(schema, defs, "") if "maxLength" in s]
    return min(found) if found else None


async def crm_tools(client: Any) -> dict[str, dict[str, Any]]:
    return {tool.name: tool.input_schema for tool in await client.list_tools() if tool.name.startswith("crm_")}


async def test_every_string_a_crm_tool_accepts_has_a_max_length(client) -> None:
    unbounded = []
    for name, schema in (await crm_tools(client)).items():
        defs = schema.get("$defs", {})
        for path, string in strings(schema, defs, name):
            parsed = string.get("format") in ("date-time", "date")  # a timestamp is parsed, never stored as text
            if "maxLength" not in string and "enum" not in string and "const" not in string and not parsed:
                unbounded.append(path)
    assert not unbounded, f"strings without maxLength: {unbounded}"


async def test_no_tool_accepts_more_than_its_command(client) -> None:
    tools = await crm_tools(client)
    assert set(COMMAND_OF) <= set(tools), set(COMMAND_OF) - set(tools)
    too_long = []
    for name, command in COMMAND_OF.items():
        tool_schema, command_schema = tools[name], command.model_json_schema()
        for field, prop in tool_schema["properties"].items():
            if field not in command_schema["properties"]:
                continue
            tool_max = max_length(prop, tool_schema.get("$defs", {}))
            command_max = max_length(command_schema["properties"][field], command_schema.get("$defs", {}))
            if command_max is not None and (tool_max is None or tool_max > command_max):
                too_long.append(f"{name}.{field}: tool {tool_max} > command {command_max}")
    assert not too_long, too_long


def test_no_command_accepts_more_than_its_column_stores() -> None:
    too_long = []
    for command, record, renamed in STORED_IN:
        schema = command.model_json_schema()
        columns = record.__table__.columns  # type: ignore[attr-defined]  # set on table models
        for field, prop in schema["properties"].items():
            column = columns.get(renamed.get(field, field))
            limit = max_length(prop, schema.get("$defs", {}))
            if column is None or limit is None or field in NORMALIZED or not isinstance(column.type, String):
                continue
            if column.type.length is not None and limit > column.type.length:
                too_long.append(f"{command.__name__}.{field}: {limit} > {record.__name__}.{column.name}")
    assert not too_long, too_long


async def test_csv_import_accepts_one_million_characters_and_says_so(client) -> None:
    schema = (await crm_tools(client))["crm_import_leads"]["properties"]["csv_text"]
    assert schema["maxLength"] == 1_000_000
    assert "1,000,000 characters" in schema["description"]
