"""Generation claims its idempotency key before it pays (issue 8 A4): a retried call with the same key returns
the stored result without calling the model or the renderer again and without counting the quota again, and
concurrent calls with one key render once."""

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from fastmcp import Client
from mcp.types import ImageContent

from promptsales.domain_core.content.render import image as image_render
from promptsales.domain_core.content.service import creatives
from tests.integration.llm_fakes import OPENAI_CHAT, LLMFake, openai_server_error
from tests.servers.conftest import Crm

OPENAI_KEY = "sk-test-openai-paid-0042"
BRIEF = "PromptSales Pro for B2B SaaS marketers: cut campaign setup time by 60%, book a demo"
VARIANTS = {"variants": [{"text": "Cut campaign setup by 60% with PromptSales Pro. Book a demo."}] * 2}


class Counted:
    """Wraps a renderer and counts its runs."""

    def __init__(self, render: Callable[..., Any]) -> None:
        self.render = render
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.render(*args, **kwargs)


@pytest.fixture
def content(client: Client) -> Crm:
    return Crm(client, prefix="content_")


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[LLMFake]:
    server = LLMFake(openai_key=OPENAI_KEY, anthropic_key="unused")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def image_renders(monkeypatch: pytest.MonkeyPatch) -> Counted:
    counted = Counted(image_render.render_image)
    monkeypatch.setattr(creatives, "render_image", counted)
    return counted


@pytest.fixture
def video_renders(monkeypatch: pytest.MonkeyPatch) -> Counted:
    counted = Counted(creatives.render_video)
    monkeypatch.setattr(creatives, "render_video", counted)
    return counted


async def generations_used(client: Client) -> int:
    usage = await Crm(client, prefix="business_").ok("get_usage")
    return int(next(q for q in usage["quotas"] if q["quota"] == "content_generations")["used"])


async def test_a_retried_copy_call_does_not_ask_the_model_again_or_count_again(
    client: Client, content: Crm, fake: LLMFake
) -> None:
    await content.ok("set_ai_provider", text_provider="openai", base_url=fake.openai_base_url, api_key=OPENAI_KEY)
    fake.json_text = json.dumps(VARIANTS)
    arguments = {"brief": BRIEF, "channel": "sms", "format": "text", "variants": 2, "idempotency_key": "copy-1"}
    first = await content.ok("generate_copy", **arguments)
    used = await generations_used(client)
    assert await content.ok("generate_copy", **arguments) == first
    assert len(fake.seen(OPENAI_CHAT)) == 1
    assert await generations_used(client) == used == 2
    other = await content.error("generate_copy", **{**arguments, "variants": 1})
    assert "idempotency_key" in other  # same key, other arguments: refused, not answered from the first call


async def test_a_failed_model_call_releases_the_key_for_a_retry(content: Crm, fake: LLMFake) -> None:
    await content.ok("set_ai_provider", text_provider="openai", base_url=fake.openai_base_url, api_key=OPENAI_KEY)
    fake.json_text = json.dumps(VARIANTS)
    fake.script(OPENAI_CHAT, *[openai_server_error()] * 3)
    arguments = {"brief": BRIEF, "channel": "sms", "format": "text", "variants": 2, "idempotency_key": "copy-2"}
    assert "openai failed to answer" in await content.error("generate_copy", **arguments)
    assert len((await content.ok("generate_copy", **arguments))["variants"]) == 2
    assert len(fake.seen(OPENAI_CHAT)) == 4


async def test_a_retried_image_call_returns_the_same_png_without_rendering_again(
    client: Client, content: Crm, image_renders: Counted
) -> None:
    arguments = {"brief": BRIEF, "placement": "meta_feed_square", "idempotency_key": "image-1"}
    first = await client.call_tool_mcp("content_generate_image", arguments)
    again = await client.call_tool_mcp("content_generate_image", arguments)
    assert not first.is_error and not again.is_error
    assert again.structured_content == first.structured_content
    pngs = [[b.data for b in r.content if isinstance(b, ImageContent)] for r in (first, again)]
    assert pngs[0] == pngs[1] and base64.b64decode(pngs[0][0]).startswith(b"\x89PNG")
    assert image_renders.calls == 1
    assert await generations_used(client) == 1


async def test_concurrent_image_calls_with_one_key_render_once(
    client: Client, content: Crm, image_renders: Counted
) -> None:
    arguments = {"brief": BRIEF, "placement": "meta_feed_square", "idempotency_key": "image-2"}
    results = await asyncio.gather(*(client.call_tool_mcp("content_generate_image", arguments) for _ in range(4)))
    assert not any(r.is_error for r in results), [r.content for r in results if r.is_error]
    assert len({(r.structured_content or {})["asset"]["id"] for r in results}) == 1
    assert image_renders.calls == 1
    assert len((await content.ok("list_assets"))["items"]) == 1


async def test_a_retried_video_call_does_not_encode_again(client: Client, content: Crm, video_renders: Counted) -> None:
    storyboard = [{"headline": "Campaigns in minutes", "seconds": 1}, {"headline": "Book a demo", "seconds": 1}]
    arguments = {
        "placement": "meta_story_video",
        "storyboard": storyboard,
        "duration_seconds": 2,
        "idempotency_key": "video-1",
    }
    first = await content.ok("generate_video", **arguments)
    assert await content.ok("generate_video", **arguments) == first
    assert video_renders.calls == 1
    assert await generations_used(client) == 1
