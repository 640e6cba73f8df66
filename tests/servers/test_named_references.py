"""Every tool, prompt and resource the server names in text a client reads exists under exactly that name.

An agent follows names literally: a description saying "run classify_lead" or "read content://channel-specs"
sends it to a tool or resource the gateway does not have. This collects every text the gateway emits:
instructions; tool, parameter and output descriptions; resource, template and prompt descriptions; rendered
prompts; resource contents; and the answers to a representative set of calls (successes and errors: unknown
ids, invalid arguments, unknown tools and resources, plan and quota refusals, rate limits). Every token shaped
like a namespaced tool name (``crm_capture_lead``), an unprefixed tool name (``capture_lead``) or a resource
URI (``content://...``) must be one the client sees in tools/list, prompts/list, resources/list or the
resource templates.
"""

import json
import random
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastmcp import Client

from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.e2e.fuzz_arguments import ArgumentFuzzer, Pools

CONTEXTS = ("crm", "campaigns", "content", "business", "integrations")
PREFIXED = re.compile(r"\b(?:crm|campaigns|business|content|integrations)_[a-z0-9]+(?:_[a-z0-9]+)+\b")
URI = re.compile(r"\b(?:crm|business|content)://[^\s'\"`<>()\[\],;]+")
PROMPT_SAMPLES: dict[str, list[str]] = {
    "goal": ["40 demo requests from EU fintech in Q1"],
    "channels": ["google_ads,linkedin,email"],
    "budget": ["5000 EUR"],
    "brief": ["Our CRM for small teams: 20% off this spring, try it free."],
    "channel": ["meta", "email", "chat"],
    "format": ["feed", "text"],
    "placement": ["meta_feed_square"],
    "language": ["en"],
    "week_start": ["2026-03-02"],
    "steps": ["3"],
    "email": ["ada@acme.example"],
}


class Texts:
    """Everything the server said, by where it came from."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, source: str, value: Any, echoes: tuple[str, ...] = ()) -> None:
        """Record every string inside ``value`` (JSON walked, keys too), minus ``echoes``: what we sent that
        the answer may repeat (a deliberately wrong name is not the server naming it)."""
        if isinstance(value, str):
            for echo in echoes:
                value = value.replace(echo, "")
            if value:
                self.items.append((source, value))
        elif isinstance(value, dict):
            for key, item in value.items():
                self.add(source, key, echoes)
                self.add(source, item, echoes)
        elif isinstance(value, list | tuple):
            for item in value:
                self.add(source, item, echoes)


class Catalogue:
    """The names a client can use, exactly as it sees them."""

    def __init__(self, tools: set[str], prompts: set[str], resources: set[str], templates: set[str]) -> None:
        self.tools = tools
        self.prompts = prompts
        self.resources = resources
        self.templates = templates
        self.template_patterns = [
            re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$") for t in templates
        ]
        self.bare = {name.split("_", 1)[1]: name for name in tools if name.count("_") >= 2}
        self.bare_pattern = re.compile(r"(?<![\w/.:-])(" + "|".join(map(re.escape, sorted(self.bare))) + r")(?![\w-])")

    def offenders(self, text: str) -> list[str]:
        """The names in ``text`` that the client cannot find."""
        found = []
        for name in PREFIXED.findall(text):
            if name not in self.tools and name not in self.prompts:
                found.append(name)
        for match in self.bare_pattern.finditer(text):
            found.append(f"{match.group(1)} (unprefixed; the client sees {self.bare[match.group(1)]})")
        for raw in URI.findall(text):
            uri = raw.rstrip(".:!?'")
            if uri in self.resources or uri in self.templates:
                continue
            if not any(pattern.match(uri) for pattern in self.template_patterns):
                found.append(uri)
        return found


async def catalogue_of(client: Client[Any]) -> Catalogue:
    tools = {tool.name for tool in await client.list_tools()}
    prompts = {prompt.name for prompt in await client.list_prompts()}
    resources = {str(resource.uri) for resource in await client.list_resources()}
    templates = {template.uri_template for template in await client.list_resource_templates()}
    return Catalogue(tools, prompts, resources, templates)


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


# ------------------------------------------------------------------------------------------- collecting


async def listings(client: Client[Any], texts: Texts) -> None:
    """Instructions and every description in the listings (input and output schemas included)."""
    texts.add("instructions", client.instructions)
    for tool in await client.list_tools():
        texts.add(f"tools/list {tool.name}", [tool.title, tool.description, tool.input_schema, tool.output_schema])
    for resource in await client.list_resources():
        texts.add(f"resources/list {resource.uri}", [resource.name, resource.title, resource.description])
    for template in await client.list_resource_templates():
        texts.add(f"templates {template.uri_template}", [template.name, template.title, template.description])
    for prompt in await client.list_prompts():
        arguments = [[a.name, a.description] for a in prompt.arguments or []]
        texts.add(f"prompts/list {prompt.name}", [prompt.title, prompt.description, arguments])


async def prompts_rendered(client: Client[Any], texts: Texts, contact_id: str) -> None:
    """Each prompt rendered with plausible arguments (each channel tried), and without its arguments."""
    samples = {**PROMPT_SAMPLES, "contact_id": [contact_id]}
    for prompt in await client.list_prompts():
        for channel in samples["channel"]:
            arguments = {
                a.name: (channel if a.name == "channel" else samples.get(a.name, ["sample"])[0])
                for a in prompt.arguments or []
            }
            await _render(client, texts, prompt.name, arguments)
        await _render(client, texts, prompt.name, {})


async def _render(client: Client[Any], texts: Texts, name: str, arguments: dict[str, str]) -> None:
    try:
        rendered = await client.get_prompt_mcp(name, arguments)
    except Exception as exc:  # prompt errors arrive as raised MCP errors
        texts.add(f"prompts/get {name} error", str(exc))
        return
    for message in rendered.messages:
        texts.add(f"prompts/get {name}", getattr(message.content, "text", ""))


async def resources_read(client: Client[Any], texts: Texts, asset_id: str) -> None:
    """Static resources, templates with real and made-up values, and an unknown URI."""
    uris = [str(resource.uri) for resource in await client.list_resources()]
    for template in await client.list_resource_templates():
        for value in ("bant-qualification", asset_id, "0" * 64, "no-such-thing"):
            uris.append(re.sub(r"\{[^}]+\}", value, template.uri_template))
    uris += ["crm://crm/no-such-resource", "content://content/assets/as_00000000000000000000000000"]
    for uri in uris:
        try:
            read = await client.read_resource_mcp(uri)
        except Exception as exc:
            texts.add(f"resources/read {uri} error", str(exc), echoes=(uri,))
            continue
        for content in read.contents:
            texts.add(f"resources/read {uri}", getattr(content, "text", ""))


async def calls(client: Client[Any], texts: Texts, ids: dict[str, list[str]]) -> None:
    """Every tool: no arguments, schema-valid arguments with made-up ids, real ids, and a wrong type."""
    rng = random.Random(8)
    known = ArgumentFuzzer(rng, Pools(ids=ids, pool_share=0.9))
    made_up = ArgumentFuzzer(rng, Pools())
    for tool in await client.list_tools():
        schema = tool.input_schema
        attempts = [
            {},
            made_up.valid_arguments(schema, optional_share=0.0),
            known.valid_arguments(schema, optional_share=0.0),
            made_up.case(tool.name, schema, "wrong_type").arguments,
            made_up.case(tool.name, schema, "extra").arguments,
        ]
        for arguments in attempts:
            result = await client.call_tool_mcp(tool.name, arguments)
            texts.add(f"tools/call {tool.name}{' error' if result.is_error else ''}", text_of(result))
    result = await client.call_tool_mcp("capture_lead", {"source_channel": "web_form"})
    texts.add("tools/call unknown tool", text_of(result), echoes=("'capture_lead'",))


async def seeded(client: Client[Any]) -> tuple[dict[str, list[str]], str, str]:
    """A contact, lead, organization, segment, flow run and asset to aim calls at."""
    ids: dict[str, list[str]] = defaultdict(list)

    async def ok(tool: str, **arguments: Any) -> dict[str, Any]:
        result = await client.call_tool_mcp(tool, arguments)
        assert not result.is_error, f"{tool}: {text_of(result)}"
        for match in re.finditer(r"\b(ct|ld|org|seg|run|as|cp)_[0-9A-Z]{26}\b", json.dumps(result.structured_content)):
            ids[match.group(1)].append(match.group(0))
        return result.structured_content or {}

    captured = await ok(
        "crm_capture_lead", source_channel="web_form", email="ada@acme.example", company="Acme", title="CTO"
    )
    contact_id = captured["contact"]["id"]
    await ok("crm_create_segment", name="Hot", rule={"all": [{"field": "score", "op": "gte", "value": 10}]})
    await ok("crm_start_flow", flow_id="bant-qualification", contact_id=contact_id, channel="chat")
    copy = await ok("content_generate_copy", brief="Spring launch of our CRM", channel="meta", format="feed")
    await ok(
        "campaigns_plan_campaign",
        name="Spring launch",
        objective="traffic",
        product="Our CRM for small teams",
        markets=[{"country": "US"}],
        start_date="2030-03-01",
        end_date="2030-03-31",
        landing_url="https://crm.example/spring",
        budget=2000,
    )
    return dict(ids), contact_id, copy["variants"][0]["asset_id"]


async def refusals(make_runtime: Callable[..., Runtime], tmp_path: Path, texts: Texts) -> None:
    """Plan, quota and rate refusals on a tiny Free plan, and what check_entitlement says about features."""
    plans = tmp_path / "tiny-plans.json"
    quotas = {"contacts": 1, "content_generations": 1, "seats": 1, "tool_calls_per_minute": 12}
    plans.write_text(json.dumps({"plans": [{"id": "free", "quotas": quotas}]}))
    runtime = make_runtime(default_plan="free", plans_file=plans, rate_limits_enabled=True)
    async with Client(build_gateway(runtime)) as client:
        listed = {tool.name for tool in await client.list_tools()}
        texts.add("tools/list (free plan)", sorted(listed))
        attempts: list[tuple[str, dict[str, Any]]] = [
            ("crm_create_contact", {"email": "one@acme.example"}),
            ("crm_create_contact", {"email": "two@acme.example"}),
            ("content_generate_copy", {"brief": "Spring launch of our CRM", "channel": "meta", "format": "feed"}),
            ("content_generate_copy", {"brief": "Spring launch of our CRM", "channel": "meta", "format": "feed"}),
            ("crm_import_leads", {"csv_text": "email\nx@acme.example\n"}),
            ("crm_set_scoring_rules", {"overrides": {}}),
            ("business_cancel_subscription", {}),
            ("business_start_checkout", {"plan": "free"}),
            ("business_start_checkout", {"plan": "platinum"}),
        ]
        features = ["crm_import_leads", "contacts", "content_generations", "channel:google_ads", "context:content"]
        attempts += [("business_check_entitlement", {"feature": feature}) for feature in features]
        attempts += [("business_check_entitlement", {"feature": "connectors:live"})] * 30  # past the rate limit
        for tool, arguments in attempts:
            result = await client.call_tool_mcp(tool, arguments)
            texts.add(f"tools/call {tool} (free plan){' error' if result.is_error else ''}", text_of(result))


# ------------------------------------------------------------------------------------------------- test


async def test_every_name_in_server_text_exists_as_the_client_sees_it(
    client: Client[Any], make_runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    catalogue = await catalogue_of(client)
    assert {name.split("_", 1)[0] for name in catalogue.tools} == set(CONTEXTS), "the gateway lists every context"
    texts = Texts()
    ids, contact_id, asset_id = await seeded(client)
    await listings(client, texts)
    await prompts_rendered(client, texts, contact_id)
    await resources_read(client, texts, asset_id)
    await calls(client, texts, ids)
    await refusals(make_runtime, tmp_path, texts)

    assert len(texts.items) > 500, "the collection found too little text to mean anything"
    errors = " ".join(text for source, text in texts.items if source.endswith("error"))
    for refusal in ("Quota '", "is not part of the Free plan", "Rate limit", "was not found", "Invalid arguments"):
        assert refusal in errors, f"no {refusal!r} refusal was triggered: the probes no longer reach it"
    offenders: dict[str, set[str]] = defaultdict(set)
    context: dict[str, str] = {}
    for source, text in texts.items:
        for name in catalogue.offenders(text):
            offenders[name].add(source)
            token = name.split(" ", 1)[0]
            at = text.find(token)
            context.setdefault(name, " ".join(text[max(0, at - 70) : at + len(token) + 50].split()))
    report = "\n".join(
        f"{name}: in {len(sources)} place(s), e.g. {', '.join(sorted(sources)[:4])}\n    …{context[name]}…"
        for name, sources in sorted(offenders.items())
    )
    assert not offenders, f"{len(offenders)} names a client cannot find:\n{report}"


def test_the_scanner_flags_what_a_client_cannot_find() -> None:
    """The scanner itself: unknown and unprefixed names and wrong URIs are flagged; real ones are not."""
    catalogue = Catalogue(
        tools={"crm_capture_lead", "crm_classify_lead", "content_get_asset"},
        prompts={"crm_qualify_lead"},
        resources={"content://content/channel-specs"},
        templates={"content://content/assets/{asset_id}"},
    )
    text = (
        "Run classify_lead, then crm_capture_lead or crm_get_organization; see content://channel-specs and "
        "content://content/channel-specs. Read content://content/assets/as_01ABC. Try crm_qualify_lead. "
        "Quota content_generations is used up."
    )
    assert sorted(catalogue.offenders(text)) == sorted(
        [
            "classify_lead (unprefixed; the client sees crm_classify_lead)",
            "crm_get_organization",
            "content://channel-specs",
        ]
    )
