"""Every text a content tool accepts is bounded to fit where it is stored (issue 8 A3): the schema says so, and
an oversized value is refused naming its parameter instead of overflowing a column."""

from typing import Any

import pytest
from fastmcp import Client

from tests.servers.conftest import Crm


def unbounded_strings(schema: Any, path: str, defs: dict[str, Any]) -> list[str]:
    """Paths of string schemas without maxLength (enums and constants are bounded by their values)."""
    if isinstance(schema, list):
        return [found for index, item in enumerate(schema) for found in unbounded_strings(item, path, defs)]
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        return unbounded_strings(defs[schema["$ref"].rsplit("/", 1)[-1]], path, {})
    found = []
    types = schema.get("type")
    is_string = types == "string" or (isinstance(types, list) and "string" in types)
    if is_string and "maxLength" not in schema and "enum" not in schema and "const" not in schema:
        found.append(path)
    for key, value in schema.items():
        if key == "properties":
            for name, sub in value.items():
                found += unbounded_strings(sub, f"{path}.{name}", defs)
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties", "propertyNames"):
            found += unbounded_strings(value, f"{path}[{key}]", defs)
    return found


async def test_every_text_parameter_of_every_content_tool_has_a_max_length(client: Client) -> None:
    tools = [tool for tool in await client.list_tools() if tool.name.startswith("content_")]
    assert len(tools) > 15
    missing = []
    for tool in tools:
        schema = tool.input_schema
        missing += unbounded_strings(schema.get("properties", {}), tool.name, schema.get("$defs", {}))
    assert not missing, missing


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("set_ai_provider", {"text_provider": "openai", "api_key": "sk-" + "k" * 1_000_000}, "api_key"),
        ("set_ai_provider", {"text_provider": "openai", "text_model": "m" * 81}, "text_model"),
        ("set_brand_kit", {"name": "Acme", "voice": "v" * 1001}, "voice"),
        ("generate_video", {"placement": "meta_story_video", "storyboard": [{"headline": "h" * 121}]}, "headline"),
        ("check_copy", {"copy": {"text": "t" * 10_001}, "channel": "sms", "format": "text"}, "copy"),
        ("approve_asset", {"asset_id": "as_01M96YQD61TKGKTX1PT03TXNG3", "note": "n" * 1001}, "note"),
    ],
)
async def test_an_oversized_text_is_refused_naming_its_parameter(
    client: Client, tool: str, arguments: dict[str, Any], field: str
) -> None:
    text = await Crm(client, prefix="content_").error(tool, **arguments)
    assert field in text and "k" * 100 not in text
