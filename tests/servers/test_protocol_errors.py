"""Protocol-level answers through the gateway, on both protocol eras where the era could matter.

* prompts/get with an argument that does not convert, or text no backend can store, and resources/read of a
  URI that names nothing are JSON-RPC -32602 (invalid params) with a clean message, not -32603;
* NUL and lone surrogates in any string argument of any tool are refused before the tool runs, naming the
  field path (top level, nested object, list item, idempotency_key);
* one request id per call: the internal-error reference, the audit entry of what the call committed and the
  ``tool_failed`` log line carry the same id;
* the scopes advertised as ``scopes_supported`` cover every scope a served tool needs;
* every string in every tool's input schema is bounded so that a valid call fits the HTTP body limit.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastmcp import Client
from fastmcp.exceptions import McpError
from mcp.types import ErrorData
from sqlmodel import col, select
from structlog.testing import capture_logs

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.settings import CONTEXTS
from promptsales.domain_core.infrastructure.tables import AuditEntryRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.body_limit import MAX_BODY_BYTES
from promptsales.servers.runtime import Runtime
from promptsales.servers.scopes import supported_scopes
from tests.servers.conftest import LEAK_MARKERS

INVALID_PARAMS = -32602
# What pydantic and fastmcp put in their own messages; none of it helps an agent fix its call.
PYDANTIC_INTERNALS = (
    "typing.Annotated",
    "FieldInfo",
    "validation error for",
    "errors.pydantic.dev",
    "input_value",
    "Could not convert",
    "pydantic",
)
INTERNAL = re.compile(r"^Internal error while running crm_capture_lead\. Reference (?P<ref>[0-9a-f]{16})\. ")
NUL = "\u0000"
LONE_SURROGATE = "\ud800"
PROBLEM = {NUL: "NUL character", LONE_SURROGATE: "lone surrogate"}
# Room left in a body for the JSON-RPC envelope and every other argument of a call.
ENVELOPE_BYTES = 65_536
UTF8_MAX_BYTES = 4  # the widest a character can be in a UTF-8 body
# String formats whose valid values are short by definition (an ISO timestamp is under 40 characters).
SHORT_FORMATS = {"date-time": 64, "date": 16, "time": 32}
_UNBOUNDED_WIDTH = 1_000_000


def _invalid_params(caught: pytest.ExceptionInfo[McpError]) -> ErrorData:
    """The JSON-RPC error of a refused request, checked to be invalid params with a clean message."""
    error = caught.value.error
    assert error.code == INVALID_PARAMS, error
    leaked = [marker for marker in (*PYDANTIC_INTERNALS, *LEAK_MARKERS) if marker.lower() in error.message.lower()]
    assert not leaked, f"message leaks {leaked}: {error.message}"
    return error


# --------------------------------------------------------------------------------------------- prompts


@pytest.mark.parametrize(
    ("prompt", "arguments", "argument"),
    [
        ("follow_up_sequence", {"contact_id": "ct_01ABC", "steps": "abc"}, "steps"),
        ("follow_up_sequence", {"contact_id": "ct_01ABC", "steps": "9"}, "steps"),
        ("follow_up_sequence", {"contact_id": "ct_01ABC", "channel": "fax"}, "channel"),
        ("write_ad_set", {"brief": "PromptSales Pro", "channel": "nope", "format": "feed"}, "channel"),
        (
            "write_ad_set",
            {"brief": "PromptSales Pro", "channel": "meta", "format": "feed", "language": "xx"},
            "language",
        ),
    ],
)
async def test_a_prompt_argument_that_does_not_convert_is_invalid_params(
    era_client: Client, prompt: str, arguments: dict[str, str], argument: str
) -> None:
    with pytest.raises(McpError) as caught:
        await era_client.get_prompt(prompt, arguments)
    error = _invalid_params(caught)
    assert f"'{argument}'" in error.message and prompt in error.message, error.message


async def test_a_prompt_argument_error_says_what_the_argument_accepts(client: Client) -> None:
    """The reason is about the value the agent sent, not about the JSON parsing fastmcp falls back to."""
    with pytest.raises(McpError) as steps:
        await client.get_prompt("follow_up_sequence", {"contact_id": "ct_01ABC", "steps": "abc"})
    with pytest.raises(McpError) as channel:
        await client.get_prompt("write_ad_set", {"brief": "PromptSales Pro", "channel": "nope", "format": "feed"})
    steps_message, channel_message = _invalid_params(steps).message, _invalid_params(channel).message
    assert "integer" in steps_message and "JSON" not in steps_message, steps_message
    assert "google_ads" in channel_message and "JSON" not in channel_message, channel_message


@pytest.mark.parametrize("bad", [NUL, LONE_SURROGATE], ids=["nul", "lone-surrogate"])
async def test_unstorable_text_in_a_prompt_argument_is_invalid_params(era_client: Client, bad: str) -> None:
    arguments = {"brief": f"PromptSales{bad} Pro", "channel": "meta", "format": "feed"}
    with pytest.raises(McpError) as caught:
        await era_client.get_prompt("write_ad_set", arguments)
    error = _invalid_params(caught)
    assert "write_ad_set" in error.message and "brief" in error.message and PROBLEM[bad] in error.message


# --------------------------------------------------------------------------------------------- resources


@pytest.mark.parametrize(
    ("uri", "not_found"),
    [
        ("crm://crm/flows/nope", "flow 'nope' was not found"),
        ("content://content/assets/zzz", "asset 'zzz' was not found"),
        ("content://content/brand-kits/nope", "brand kit 'nope' was not found"),
        ("crm://crm/no-such-resource", "Resource not found"),
    ],
)
async def test_reading_a_resource_that_names_nothing_is_invalid_params(
    era_client: Client, uri: str, not_found: str
) -> None:
    with pytest.raises(McpError) as caught:
        await era_client.read_resource(uri)
    assert not_found in _invalid_params(caught).message


# --------------------------------------------------------------------------------------------- A3: text


def _lead(**extra: Any) -> dict[str, Any]:
    return {"source_channel": "web_form", "email": "ann@example.com", **extra}


def _copy(**extra: Any) -> dict[str, Any]:
    return {"brief": "PromptSales Pro: set up in a day", "channel": "x", "format": "post", **extra}


UNSTORABLE_CASES = [
    ("crm_capture_lead", lambda bad: _lead(first_name=f"Ann{bad}"), "first_name"),
    ("crm_capture_lead", lambda bad: _lead(utm={"source": f"news{bad}letter"}), "utm.source"),
    ("crm_capture_lead", lambda bad: _lead(tags=["vip", f"q4{bad}"]), "tags.1"),
    ("crm_capture_lead", lambda bad: _lead(idempotency_key=f"retry-{bad}"), "idempotency_key"),
    ("content_generate_copy", lambda bad: _copy(brief=f"PromptSales{bad} Pro: set up in a day"), "brief"),
    ("content_generate_copy", lambda bad: _copy(idempotency_key=f"copy-{bad}"), "idempotency_key"),
    ("content_set_brand_kit", lambda bad: {"name": "acme", "banned_words": ["cheap", f"free{bad}"]}, "banned_words.1"),
    ("business_check_entitlement", lambda bad: {"feature": f"channel:{bad}google_ads"}, "feature"),
]


@pytest.mark.parametrize("bad", [NUL, LONE_SURROGATE], ids=["nul", "lone-surrogate"])
async def test_unstorable_text_in_any_argument_is_refused_naming_the_field(era_client: Client, bad: str) -> None:
    wrong = []
    for tool, arguments, field in UNSTORABLE_CASES:
        result = await era_client.call_tool_mcp(tool, arguments(bad))
        text = result.content[0].text if result.content else ""
        expected = f"Invalid arguments for {tool}: {field} contains"
        if not result.is_error or expected not in text or PROBLEM[bad] not in text or "Internal error" in text:
            wrong.append(f"{tool} {field}: is_error={result.is_error} {text[:300]}")
    assert not wrong, "\n".join(wrong)
    # Refused before any tool ran: nothing was written.
    contacts = await era_client.call_tool_mcp("crm_search_contacts", {})
    assert contacts.structured_content is not None and contacts.structured_content["items"] == []
    kits = await era_client.call_tool_mcp("content_get_brand_kit", {"name": "acme"})
    assert kits.is_error and "not found" in kits.content[0].text


# --------------------------------------------------------------------------------------------- A8: one id


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """Log entries with the context-bound fields merged in, as the configured pipeline does."""
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as entries:
        yield entries


async def _audit_request_ids(runtime: Runtime) -> list[str | None]:
    async def read(uow: UnitOfWork) -> list[str | None]:
        rows = await uow.session.execute(select(AuditEntryRecord.request_id).order_by(col(AuditEntryRecord.seq)))
        return list(rows.scalars())

    return await runtime.uow.read(Caller(tenant_id=runtime.settings.tenant, actor_id="check"), read)


async def test_one_request_id_links_the_error_reference_the_audit_entry_and_the_log(
    era_client: Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, logs: list[dict[str, Any]]
) -> None:
    original = CrmFacade.capture_lead

    async def commit_then_fail(self: CrmFacade, *args: Any, **kwargs: Any) -> Any:
        await original(self, *args, **kwargs)
        raise RuntimeError("the reply could not be sent")  # after the commit, as a serialisation failure would

    monkeypatch.setattr(CrmFacade, "capture_lead", commit_then_fail)
    result = await era_client.call_tool_mcp("crm_capture_lead", _lead(company="Acme"))
    assert result.is_error
    match = INTERNAL.match(result.content[0].text)
    assert match, result.content[0].text
    reference = match["ref"]

    written = await _audit_request_ids(runtime)
    assert written, "the capture committed before the failure, so it was audited"
    assert set(written) == {reference}
    failures = [entry for entry in logs if entry["event"] == "tool_failed"]
    assert [entry["request_id"] for entry in failures] == [reference]

    # The next call gets an id of its own.
    monkeypatch.undo()
    assert not (await era_client.call_tool_mcp("crm_capture_lead", _lead(email="bob@example.com"))).is_error
    later = (await _audit_request_ids(runtime))[len(written) :]
    assert later and None not in later and reference not in later and len(set(later)) == 1


# --------------------------------------------------------------------------------------------- scopes


async def test_the_advertised_scopes_cover_every_served_tool(client: Client, runtime: Runtime) -> None:
    assert set(runtime.settings.toolsets) == set(CONTEXTS)  # the full gateway
    tools = {tool.name for tool in await client.list_tools()}
    assert set(runtime.tool_scopes) == tools
    needed = {scope for scopes in runtime.tool_scopes.values() for scope in scopes}
    assert needed, "every tool needs a scope"
    assert needed <= set(supported_scopes()), sorted(needed - set(supported_scopes()))


# --------------------------------------------------------------------------------------------- schema bounds


def _string_schemas(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema of a string in ``node`` (properties, array items, map values and keys, $defs, anyOf...)."""
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "string" or (isinstance(kind, list) and "string" in kind) or path.endswith("/propertyNames"):
            yield path, node
        for key, child in node.items():
            yield from _string_schemas(child, f"{path}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _string_schemas(child, f"{path}[{index}]")


def _pattern_width(pattern: str) -> int | None:
    """The longest string an anchored pattern matches, or None when unanchored or unbounded."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        return None
    # re's own parser knows each pattern's width (sre_parse, private since 3.11 but stable).
    _, longest = re._parser.parse(pattern).getwidth()  # type: ignore[attr-defined]
    return int(longest) if longest < _UNBOUNDED_WIDTH else None


def _longest(schema: dict[str, Any]) -> int | None:
    """The most characters a valid value may have, or None when the schema does not bound it."""
    if "maxLength" in schema:
        return int(schema["maxLength"])
    choices = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if choices is not None:
        return max(len(str(choice)) for choice in choices)
    if schema.get("format") in SHORT_FORMATS:
        return SHORT_FORMATS[schema["format"]]
    if "pattern" in schema:
        return _pattern_width(schema["pattern"])
    return None


async def test_every_tool_string_is_bounded_to_fit_the_http_body_limit(client: Client) -> None:
    most = (MAX_BODY_BYTES - ENVELOPE_BYTES) // UTF8_MAX_BYTES
    offenders = []
    checked = 0
    for tool in await client.list_tools():
        for path, schema in _string_schemas(tool.input_schema, ""):
            checked += 1
            longest = _longest(schema)
            if longest is None:
                offenders.append(f"{tool.name} {path}: no maxLength")
            elif longest > most:
                worst = longest * UTF8_MAX_BYTES + ENVELOPE_BYTES
                offenders.append(f"{tool.name} {path}: maxLength {longest} (up to {worst} bytes > {MAX_BODY_BYTES})")
    assert checked > 100
    assert not offenders, "\n".join(offenders)


async def test_every_prompt_text_argument_is_bounded(client: Client) -> None:
    """Prompt arguments are text the server renders; an unbounded one is a free amplifier."""
    gateway_prompts = {prompt.name for prompt in await client.list_prompts()}
    too_long = "x" * 5000
    for name in sorted(gateway_prompts):
        prompt = next(p for p in await client.list_prompts() if p.name == name)
        for argument in prompt.arguments or []:
            values = {a.name: "1" for a in prompt.arguments or [] if a.required}
            values[argument.name] = too_long
            with pytest.raises(McpError) as refused:
                await client.get_prompt(name, values)
            assert _invalid_params(refused).code == -32602, (name, argument.name)


def _free_form_objects(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Object-typed schemas with no declared properties (free-form JSON), with their paths."""
    kinds = schema.get("type")
    is_object = kinds == "object" or (isinstance(kinds, list) and "object" in kinds)  # type: [object, null]
    if is_object and "properties" not in schema and path:
        yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from _free_form_objects(sub, f"{path}.{name}" if path else name)
    for sub in schema.get("anyOf") or []:
        yield from _free_form_objects(sub, path)


async def test_free_form_json_arguments_are_bounded_as_a_whole(client: Client) -> None:
    tools = await client.list_tools()
    found = {(tool.name, path): schema for tool in tools for path, schema in _free_form_objects(tool.input_schema, "")}
    assert ("crm_create_contact", "attributes") in found and ("content_extract_fields", "schema") in found
    unbounded = sorted(f"{tool}.{path}" for (tool, path), schema in found.items() if "maxProperties" not in schema)
    assert not unbounded, f"free-form objects without maxProperties: {unbounded}"

    big = await client.call_tool_mcp(
        "crm_create_contact", {"email": "big@example.com", "attributes": {"notes": "x" * 70_000}}
    )
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(10):
        deep = {"level": deep}
    nested = await client.call_tool_mcp("crm_create_contact", {"email": "deep@example.com", "attributes": deep})
    for refused, reason in ((big, "bytes as JSON"), (nested, "nests deeper")):
        assert refused.is_error
        text = refused.content[0].text
        assert "attributes" in text and reason in text, text
        assert "Internal error" not in text
