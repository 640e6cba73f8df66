"""Per-tenant model providers through the tools: OpenAI and Anthropic (real SDKs against a loopback fake),
the MCP client's own model (sampling), and CRM interactions analysed on the way in."""

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from fastmcp import Client

from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.integration.llm_fakes import ANTHROPIC_MESSAGES, OPENAI_CHAT, LLMFake, openai_insufficient_quota
from tests.servers.conftest import Crm

OPENAI_KEY = "sk-test-openai-canary-0042"
ANTHROPIC_KEY = "sk-ant-test-canary-0042"
BRIEF = "PromptSales Pro for B2B SaaS marketers: cut campaign setup time by 60%, book a demo"
VARIANTS = {"variants": [{"text": "Cut campaign setup by 60% with PromptSales Pro. Book a demo: ps.example/demo"}] * 2}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[LLMFake]:
    server = LLMFake(openai_key=OPENAI_KEY, anthropic_key=ANTHROPIC_KEY)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def content(client: Client) -> Crm:
    return Crm(client, prefix="content_")


async def test_an_openai_tenant_writes_through_the_real_sdk_and_its_key_stays_sealed(
    content: Crm, client: Client, fake: LLMFake
) -> None:
    settings = await content.ok(
        "set_ai_provider",
        text_provider="openai",
        text_model="gpt-4.1-mini",
        base_url=fake.openai_base_url,
        api_key=OPENAI_KEY,
    )
    assert (settings["text_provider"], settings["api_key_stored"]) == ("openai", True)
    assert OPENAI_KEY not in json.dumps(settings) and OPENAI_KEY not in json.dumps(await content.ok("get_ai_settings"))
    fake.json_text = json.dumps(VARIANTS)
    result = await content.ok("generate_copy", brief=BRIEF, channel="sms", format="text", variants=2)
    assert result["usage"] == {"provider": "openai", "model": "gpt-4.1-mini", "input_tokens": 42, "output_tokens": 7}
    assert [v["fields"]["text"] for v in result["variants"]] == [VARIANTS["variants"][0]["text"]] * 2
    (request,) = fake.seen(OPENAI_CHAT)
    assert request.json["response_format"]["type"] == "json_schema"
    assert "60%" in request.json["messages"][-1]["content"]  # the brief reached the model
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"


async def test_a_model_quota_error_is_named_and_nothing_is_saved_or_counted(content: Crm, fake: LLMFake) -> None:
    await content.ok("set_ai_provider", text_provider="openai", base_url=fake.openai_base_url, api_key=OPENAI_KEY)
    fake.script(OPENAI_CHAT, openai_insufficient_quota())
    text = await content.error("generate_copy", brief=BRIEF, channel="sms", format="text")
    assert "billing" in text.lower() and OPENAI_KEY not in text
    assert len(fake.seen(OPENAI_CHAT)) == 1  # not retried
    assert (await content.ok("list_assets"))["items"] == []


async def test_an_anthropic_tenant_classifies_with_claude(content: Crm, fake: LLMFake) -> None:
    await content.ok(
        "set_ai_provider", text_provider="anthropic", base_url=fake.anthropic_base_url, api_key=ANTHROPIC_KEY
    )
    fake.json_text = json.dumps(
        {
            "intent": "pricing",
            "intent_confidence": 0.9,
            "sentiment": "positive",
            "sentiment_score": 0.6,
            "topic": None,
            "evidence": ["send me pricing"],
        }
    )
    result = await content.ok("classify_text", text="Hi, please send me pricing, we love the demo!")
    assert (result["intent"], result["sentiment"], result["usage"]["provider"]) == ("pricing", "positive", "anthropic")
    assert result["evidence"] == ["send me pricing"]
    assert fake.seen(ANTHROPIC_MESSAGES)


async def test_the_sampling_provider_asks_the_clients_own_model(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    asked: list[str] = []

    async def answer(messages: list[Any], params: Any, context: Any) -> str:
        asked.append(messages[0].content.text)
        return json.dumps(VARIANTS)

    gateway = build_gateway(runtime)
    async with Client(gateway, sampling_handler=answer) as client:
        content = Crm(client, prefix="content_")
        await content.ok("set_ai_provider", text_provider="sampling")
        result = await content.ok("generate_copy", brief=BRIEF, channel="sms", format="text", variants=2)
        assert result["usage"]["provider"] == "sampling"
        assert len(result["variants"]) == 2 and result["variants"][0]["asset_id"]
        assert asked and "60%" in asked[0]
    async with Client(gateway, mode="legacy") as legacy:
        text = await Crm(legacy, prefix="content_").error("generate_copy", brief=BRIEF, channel="sms", format="text")
        assert "2026-07-28" in text and "content_set_ai_provider" in text


async def test_logged_interactions_carry_intent_and_sentiment_into_the_leads_engagement(crm: Crm) -> None:
    captured = await crm.strong_lead("ana@acme.example")
    contact_id = captured["contact"]["id"]
    before = {f["factor"]: f for f in captured["lead"]["classification"]["factors"]}
    assert before["signals"]["points"] == 0
    logged = await crm.ok(
        "log_interaction",
        contact_id=contact_id,
        channel="email",
        direction="inbound",
        summary="We love what we saw. Can we book a demo next week? Please also send pricing for 20 seats.",
    )
    assert logged["intent"] in ("demo_request", "pricing", "purchase", "scheduling")
    assert logged["sentiment"] == "positive" and logged["sentiment_score"] > 0
    view = await crm.ok("classify_lead", lead_id=captured["lead"]["id"])
    signals = next(f for f in view["factors"] if f["factor"] == "signals")
    assert signals["points"] > 0 and logged["intent"] in signals["reason"]
    unhappy = await crm.ok(
        "log_interaction",
        contact_id=contact_id,
        channel="email",
        direction="inbound",
        summary="This is terrible and not working. Please unsubscribe me and stop emailing.",
    )
    assert unhappy["sentiment"] == "negative"
    view = await crm.ok("classify_lead", lead_id=captured["lead"]["id"])
    assert next(f for f in view["factors"] if f["factor"] == "signals")["points"] < 0


async def test_an_openai_image_tenant_gets_the_model_picture_cropped_to_the_placement(
    client: Client, content: Crm, fake: LLMFake
) -> None:
    import base64
    import io

    from mcp.types import ImageContent
    from PIL import Image

    await content.ok(
        "set_ai_provider",
        text_provider="local",
        image_provider="openai",
        base_url=fake.openai_base_url,
        api_key=OPENAI_KEY,
    )
    result = await client.call_tool_mcp("content_generate_image", {"brief": BRIEF, "placement": "meta_feed_portrait"})
    assert not result.is_error, result.content
    (block,) = [b for b in result.content if isinstance(b, ImageContent)]
    assert Image.open(io.BytesIO(base64.b64decode(block.data))).size == (1080, 1350)
    assert result.structured_content["usage"]["provider"] == "openai"
    assert fake.seen("openai.images")


async def test_a_models_choice_among_the_schemas_options_is_kept_and_anything_else_dropped(
    content: Crm, fake: LLMFake
) -> None:
    await content.ok("set_ai_provider", text_provider="openai", base_url=fake.openai_base_url, api_key=OPENAI_KEY)
    schema = {
        "type": "object",
        "properties": {
            "budget": {"type": "string", "enum": ["under_10k", "10k_50k", "over_50k"]},
            "timeline": {"type": "string", "enum": ["this_quarter", "later"]},
            "company": {"type": "string"},
        },
    }
    fake.text = json.dumps({"budget": "over_50k", "timeline": "next_year", "company": "Initech"})
    result = await content.ok("extract_fields", text="We can spend about eighty grand on this.", schema=schema)
    # The option is kept though it is not verbatim; an invented option and an unstated company are not.
    assert result["values"] == {"budget": "over_50k"}
