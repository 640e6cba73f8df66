"""Property test: no argument a client can send makes a CRM tool fail with an internal error.

For every tool in tools/list, hypothesis sends (a) arbitrary JSON objects — random and real keys, wrong types,
huge strings, nested junk, unicode and emoji, nulls — and (b) arguments built from the tool's own input schema
with one field corrupted. Every answer must be a success or a clean, actionable tool error, never an internal
error or a leak of internals, and the server must keep answering.
"""

import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fastmcp import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime

LEAK_MARKERS = ("Internal error", "Traceback", "sqlalchemy", "SELECT", "psycopg", "Error calling tool")
# FUZZ_EXAMPLES=2000 runs a deeper search locally; the default keeps the module well under a minute.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# ------------------------------------------------------------------------------------------ strategies

TRICKY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\u202e\u200b",
        "😀🚀👩‍💻",
        "Ünïcödé ñ 日本語 العربية",
        "'; DROP TABLE crm_contacts; --",
        "%_\\",
        "{first_name}",
        "null",
        "NaN",
        "-1",
        "1e309",
        "2999-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "ct_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "ld_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "+14155550123",
        "a@b.co",
        "email\na@b.co",
        'email,phone\n,\n"',
    ]
)
HUGE_TEXT = st.builds(
    lambda piece, times: piece * times, st.sampled_from(["x", "é", "😀", "a,", "\n"]), st.integers(1_000, 300_000)
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    TRICKY_TEXT,
)
JUNK = st.recursive(
    st.one_of(SCALARS, HUGE_TEXT),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), TRICKY_TEXT), inner, max_size=4),
    ),
    max_leaves=12,
)


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
    return schema


def from_schema(schema: dict[str, Any], root: dict[str, Any], ids: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """A value that (mostly) satisfies ``schema``; ids matching a known pattern are often real records."""
    schema = resolve(schema, root)
    if "anyOf" in schema:
        return st.one_of([from_schema(branch, root, ids) for branch in schema["anyOf"]])
    if isinstance(schema.get("type"), list):  # a nullable field published as type: [X, "null"]
        kinds = schema["type"]
        return st.one_of([st.none() if k == "null" else from_schema({**schema, "type": k}, root, ids) for k in kinds])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -1000), schema.get("maximum", 1000))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6), allow_nan=False)
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.datetimes().map(lambda moment: moment.isoformat())
        pattern = schema.get("pattern")
        if pattern:
            prefix = pattern.removeprefix("^").split("_", 1)[0]
            generated = st.from_regex(re.compile(pattern), fullmatch=True)
            known = ids.get(prefix)
            return st.one_of(st.sampled_from(known), generated) if known else generated
        low = schema.get("minLength", 0)
        return st.text(min_size=low, max_size=max(low, min(schema.get("maxLength", 40), 40)))
    if kind == "array":
        items = from_schema(schema.get("items", {}), root, ids)
        return st.lists(items, max_size=min(schema.get("maxItems", 3), 3))
    if kind == "object" and "properties" in schema:
        return object_from_schema(schema, root, ids)
    if kind == "object":
        return st.dictionaries(st.text(max_size=12), JUNK, max_size=3)
    return JUNK


def object_from_schema(
    schema: dict[str, Any], root: dict[str, Any], ids: dict[str, list[str]]
) -> st.SearchStrategy[Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: from_schema(prop, root, ids) for name, prop in properties.items() if name in required},
        optional={name: from_schema(prop, root, ids) for name, prop in properties.items() if name not in required},
    )


@st.composite
def corrupted(draw: st.DrawFn, schema: dict[str, Any], ids: dict[str, list[str]]) -> dict[str, Any]:
    """Schema-valid arguments with exactly one thing wrong."""
    arguments = dict(draw(object_from_schema(schema, schema, ids)))
    names = sorted(schema.get("properties", {}))
    how = draw(st.sampled_from(["junk", "huge", "null", "drop", "extra", "nested"]))
    target = draw(st.sampled_from(names)) if names else "anything"
    if how == "junk":
        arguments[target] = draw(JUNK)
    elif how == "huge":
        arguments[target] = draw(HUGE_TEXT)
    elif how == "null":
        arguments[target] = None
    elif how == "drop":
        arguments.pop(draw(st.sampled_from(sorted(schema.get("required", [])) or [target])), None)
    elif how == "extra":
        arguments[draw(st.text(min_size=1, max_size=20).filter(lambda key: key not in names))] = draw(JUNK)
    else:
        arguments[target] = {"all": [draw(JUNK)], "field": draw(JUNK), "op": draw(JUNK), "value": draw(JUNK)}
    return arguments


def arbitrary(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Any JSON object, keyed by the tool's real parameter names or by random ones."""
    names = sorted(schema.get("properties", {})) or ["x"]
    return st.dictionaries(st.one_of(st.sampled_from(names), st.text(max_size=16)), JUNK, max_size=6)


# ------------------------------------------------------------------------------------------ the server


class Target:
    """One client on a gateway with a little data, shared by every example of the module."""

    def __init__(self, client: Client, runtime: Runtime, logs: list[dict[str, Any]]) -> None:
        self.client = client
        self.runtime = runtime
        self.logs = logs
        self.schemas: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, list[str]] = {}

    async def setup(self) -> None:
        self.schemas = {t.name: t.input_schema for t in await self.client.list_tools()}
        lead = await self.client.call_tool(
            "crm_capture_lead", {"source_channel": "web_form", "email": "seed@example.com", "company": "Seed"}
        )
        segment = await self.client.call_tool(
            "crm_create_segment", {"name": "seed", "rule": {"all": [{"field": "score", "op": "gte", "value": 0}]}}
        )
        contact_id = lead.structured_content["contact"]["id"]
        run = await self.client.call_tool(
            "crm_start_flow", {"flow_id": "bant-qualification", "contact_id": contact_id, "channel": "chat"}
        )
        campaign = await self.client.call_tool(
            "campaigns_plan_campaign",
            {
                "name": "seed",
                "objective": "traffic",
                "product": "Seed product",
                "markets": [{"country": "US"}],
                "start_date": "2030-03-01",
                "end_date": "2030-03-31",
                "landing_url": "https://seed.example/",
                "budget": 2000,
            },
        )
        self.ids = {
            "cp": [campaign.structured_content["id"]],
            "ct": [contact_id],
            "ld": [lead.structured_content["lead"]["id"]],
            "org": [lead.structured_content["contact"]["organization_id"]],
            "seg": [segment.structured_content["id"]],
            "run": [run.structured_content["run_id"]],
        }

    async def check(self, tool: str, arguments: dict[str, Any]) -> None:
        failures_before = sum(1 for entry in self.logs if entry["event"] == "tool_failed")
        result = await self.client.call_tool_mcp(tool, arguments)
        shown = json.dumps(arguments, default=str)[:300]
        if result.is_error:
            text = result.content[0].text if result.content else ""
            assert text.strip(), f"{tool} gave an empty error for {shown}"
            leaked = [marker for marker in LEAK_MARKERS if marker.lower() in text.lower()]
            assert not leaked, f"{tool} leaked {leaked} for {shown}: {text[:500]}"
        else:
            assert isinstance(result.structured_content, dict), f"{tool} returned no structured content for {shown}"
        failures = sum(1 for entry in self.logs if entry["event"] == "tool_failed")
        assert failures == failures_before, f"{tool} failed internally for {shown}"
        alive = await self.client.call_tool_mcp("crm_list_flows", {})
        assert not alive.is_error, f"the server stopped answering after {tool} {shown}"


@pytest_asyncio.fixture(scope="module")
async def target(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> AsyncIterator[Target]:
    """A gateway on its own database for the whole module (building one per example would dominate the run)."""
    folder = tmp_path_factory.mktemp("fuzz-db")
    shutil.copyfile(migrated_template, folder / "promptsales.db")
    runtime = Runtime(
        Settings(
            data_dir=folder,
            database_url=None,
            redis_url=None,
            tenant="acme",
            auto_migrate=False,
            default_plan="enterprise",  # every tool listed and callable, so every tool is fuzzed
        )
    )
    with capture_logs() as logs:  # the server's log entries, checked for internal failures
        async with Client(build_gateway(runtime)) as client:
            fuzz = Target(client, runtime, logs)
            await fuzz.setup()
            yield fuzz


# ------------------------------------------------------------------------------------------ properties


async def test_every_tool_is_fuzzed(target) -> None:
    assert len(target.schemas) >= 30  # taken from tools/list, so a new tool is fuzzed without edits here
    contexts = {name.split("_", 1)[0] for name in target.schemas}
    assert contexts == {"crm", "campaigns", "business", "content", "integrations"}


@FUZZ
@given(data=st.data())
async def test_arbitrary_json_objects_never_cause_an_internal_error(target, data) -> None:
    tool = data.draw(st.sampled_from(sorted(target.schemas)), label="tool")
    arguments = data.draw(arbitrary(target.schemas[tool]), label="arguments")
    await target.check(tool, arguments)


@FUZZ
@given(data=st.data())
async def test_schema_arguments_with_one_corrupted_field_never_cause_an_internal_error(target, data) -> None:
    tool = data.draw(st.sampled_from(sorted(target.schemas)), label="tool")
    arguments = data.draw(corrupted(target.schemas[tool], target.ids), label="arguments")
    await target.check(tool, arguments)


@settings(max_examples=max(EXAMPLES // 2, 1), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_schema_valid_arguments_never_cause_an_internal_error(target, data) -> None:
    tool = data.draw(st.sampled_from(sorted(target.schemas)), label="tool")
    schema = target.schemas[tool]
    arguments = data.draw(object_from_schema(schema, schema, target.ids), label="arguments")
    await target.check(tool, arguments)


async def test_the_server_still_answers_after_the_fuzzing(target) -> None:
    page = await target.client.call_tool("crm_search_contacts", {"query": "seed@example.com"})
    assert page.structured_content["items"][0]["email"] == "seed@example.com"
    assert not [entry for entry in target.logs if entry["event"] == "tool_failed"]
