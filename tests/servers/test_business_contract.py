"""What the business tools show an agent: bounded string parameters, and only tool/resource names that exist."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastmcp import Client

from promptsales.domain_core.business.model.plans import QUOTA_NAMES
from promptsales.servers.gateway import build_gateway
from tests.servers.conftest import Crm

TOOL_NAME = re.compile(r"\b(?:crm|business|content)_[a-z0-9_]+\b")
RESOURCE_URI = re.compile(r"\b(?!https?://)[a-z][a-z0-9+.-]*://[A-Za-z0-9_./{}-]+")


def unbounded_strings(schema: Any, path: str = "") -> Iterator[str]:
    """Paths of string values in a JSON schema that have no maxLength (enums and constants are bounded)."""
    if isinstance(schema, dict):
        types = schema.get("type")
        is_string = types == "string" or (isinstance(types, list) and "string" in types)
        if is_string and "maxLength" not in schema and "enum" not in schema and "const" not in schema:
            yield path or "<root>"
        for key, value in schema.items():
            if key in ("properties", "$defs", "definitions"):
                for name, sub in value.items():
                    yield from unbounded_strings(sub, f"{path}.{name}")
            elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
                yield from unbounded_strings(value, path)
    elif isinstance(schema, list):
        for sub in schema:
            yield from unbounded_strings(sub, path)


def descriptions(schema: Any) -> Iterator[str]:
    """Every description in a JSON schema."""
    if isinstance(schema, dict):
        if isinstance(schema.get("description"), str):
            yield schema["description"]
        for value in schema.values():
            yield from descriptions(value)
    elif isinstance(schema, list):
        for sub in schema:
            yield from descriptions(sub)


async def test_every_string_parameter_of_the_business_tools_has_a_max_length(client: Client) -> None:
    tools = [tool for tool in await client.list_tools() if tool.name.startswith("business_")]
    assert len(tools) == 9
    unbounded = [f"{tool.name}{path}" for tool in tools for path in unbounded_strings(tool.input_schema)]
    assert unbounded == []


async def test_business_texts_name_only_tools_and_resources_a_client_sees(make_runtime, tmp_path: Path) -> None:
    plans = tmp_path / "plans.json"
    plans.write_text(json.dumps({"plans": [{"id": "free", "quotas": {"contacts": 1}}]}))
    runtime = make_runtime(default_plan="free", plans_file=plans)
    async with Client(build_gateway(runtime)) as client:
        business, crm = Crm(client, prefix="business_"), Crm(client)
        listed = await client.list_tools()
        tool_names = {tool.name for tool in listed}
        uris = {str(resource.uri) for resource in await client.list_resources()}
        uris |= {template.uri_template for template in await client.list_resource_templates()}
        # Descriptions are the same for every tenant: they may name only tools this Free tenant is shown.
        static = []
        for tool in listed:
            if tool.name.startswith("business_"):
                static += [tool.description or "", *descriptions(tool.input_schema)]
                static += descriptions(tool.output_schema or {})
        static += [resource.description or "" for resource in await client.list_resources()]
        # Answers and errors may also name a served tool the plan leaves out (the one asked about).
        texts: list[str] = []
        for feature in ("crm_import_leads", "channel:tiktok", "channel:google_ads", "contacts", "analytics:x"):
            result = await business.raw("check_entitlement", {"feature": feature})
            texts.append(result.content[0].text)
        texts.append(await business.error("check_entitlement", feature="colour:red"))
        texts.append(await business.error("start_checkout", plan="free"))
        texts.append(await business.error("cancel_subscription"))
        texts.append(await business.error("cancel_subscription", confirmation_token="cf_forged_0001"))
        texts.append(await business.error("set_paypal_account", client_id="a", client_secret="b", webhook_id="W"))
        texts.append(await business.error("list_payments", cursor="not-a-cursor"))
        texts.append(await crm.error("import_leads", csv_text="email\na@b.co\n"))
        await crm.ok("create_contact", email="one@example.com")
        texts.append(await crm.error("create_contact", email="two@example.com"))
        checkout = await business.ok("start_checkout", plan="pro")
        texts += [checkout["message"], (await business.ok("get_subscription"))["reason"]]

    served = set(runtime.tool_infos)
    named = {name for text in texts for name in TOOL_NAME.findall(text)}
    assert "business_start_checkout" in named and "business_check_entitlement" in named  # the scan sees them
    assert named - served - set(QUOTA_NAMES) == set()
    assert {name for text in static for name in TOOL_NAME.findall(text)} - tool_names - set(QUOTA_NAMES) == set()
    assert {uri for text in static + texts for uri in RESOURCE_URI.findall(text)} - uris == set()
