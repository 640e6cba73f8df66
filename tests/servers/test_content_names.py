"""Every tool and resource the content context names — in tool and resource descriptions, parameter
descriptions, hints and error texts (any prose string in its code) — exists under that exact name as a client
sees it through the gateway (issue 8 B)."""

import ast
import re
from pathlib import Path
from typing import Any

from fastmcp import Client

import promptsales.domain_core.content as content_domain
import promptsales.tools.content as content_tools

TOOL_NAME = re.compile(r"(?<![\w.:/-])(?:content|crm|business)_[a-z][a-z0-9_]*[a-z0-9](?![\w(])")
URI = re.compile(r"\b[a-z]+://[^\s'\"`),;]+")
# Names in prose that are not tools: quotas (business_check_entitlement features).
NOT_TOOLS = {"content_generations"}
CODE_ROOTS = [Path(content_domain.__file__).parent, Path(content_tools.__file__).parent]


def prose_strings() -> list[tuple[str, str]]:
    """(where, text) of every string literal with a space in it: messages, hints, descriptions, docstrings."""
    found = []
    for root in CODE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value:
                    found.append((f"{path.name}:{node.lineno}", node.value))
    return found


def schema_descriptions(schema: Any) -> list[str]:
    """Every description in a JSON schema."""
    if isinstance(schema, dict):
        own = [schema["description"]] if isinstance(schema.get("description"), str) else []
        return own + [text for value in schema.values() for text in schema_descriptions(value)]
    if isinstance(schema, list):
        return [text for value in schema for text in schema_descriptions(value)]
    return []


def uri_matches(uri: str, resources: set[str], templates: list[str]) -> bool:
    if uri.rstrip(".") in resources:
        return True
    return any(re.fullmatch(re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(t)), uri.rstrip(".")) for t in templates)


async def test_every_named_tool_and_resource_exists_as_served(client: Client) -> None:
    tools = {tool.name: tool for tool in await client.list_tools()}
    resources = {str(resource.uri) for resource in await client.list_resources()}
    templates = [template.uri_template for template in await client.list_resource_templates()]
    content_tools_served = {name for name in tools if name.startswith("content_")}
    # Bare names with an underscore ("rewrite_copy"); single words ("summarize") are also plain English.
    unprefixed = sorted(
        {bare for name in content_tools_served if "_" in (bare := name.removeprefix("content_"))}, key=len, reverse=True
    )
    bare = re.compile(rf"(?<![\w./:-])(?:{'|'.join(unprefixed)})(?![\w(])")
    texts = prose_strings()
    for name in content_tools_served:
        tool = tools[name]
        texts.append((name, tool.description or ""))
        texts += [(f"{name} schema", text) for text in schema_descriptions(tool.input_schema)]
    texts += [(str(r.uri), r.description or "") for r in await client.list_resources()]
    texts += [(t.uri_template, t.description or "") for t in await client.list_resource_templates()]
    wrong = []
    for where, text in texts:
        for name in TOOL_NAME.findall(text):
            if name not in tools and name not in NOT_TOOLS:
                wrong.append(f"{where}: tool {name!r} is not served")
        for uri in URI.findall(text):
            if uri.startswith("content://") and not uri_matches(uri, resources, templates):
                wrong.append(f"{where}: resource {uri!r} is not served")
        for name in bare.findall(text):
            wrong.append(f"{where}: '{name}' is named without its namespace (content_{name})")
    assert not wrong, "\n".join(wrong)
