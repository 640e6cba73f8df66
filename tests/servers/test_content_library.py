"""The content library: review flow, who decided, filters and pages, and the facade other contexts rely on."""

import pytest
from fastmcp import Client

from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm

BRIEF = "PromptSales Pro: cut campaign setup time by 60%, book a demo"


@pytest.fixture
def content(client: Client) -> Crm:
    return Crm(client, prefix="content_")


async def drafts(content: Crm, n: int, channel: str = "x", fmt: str = "post") -> list[str]:
    result = await content.ok("generate_copy", brief=BRIEF, channel=channel, format=fmt, variants=n)
    return [v["asset_id"] for v in result["variants"]]


async def test_assets_move_through_review_and_the_decider_is_recorded(content: Crm, runtime: Runtime) -> None:
    approved, rejected = await drafts(content, 2)
    assert (await content.ok("submit_asset", asset_id=approved))["status"] == "in_review"
    done = await content.ok("approve_asset", asset_id=approved, note="Clear and within limits.")
    assert (done["status"], done["decided_by"], done["decision_note"]) == (
        "approved",
        "local-agent",
        "Clear and within limits.",
    )
    assert done["decided_at"] is not None
    await content.ok("submit_asset", asset_id=rejected)
    assert "note" in await content.error("reject_asset", asset_id=rejected)  # a rejection says why
    no = await content.ok("reject_asset", asset_id=rejected, note="Off brand.")
    assert no["status"] == "rejected"
    caller = Caller(tenant_id=runtime.settings.tenant, actor_id="campaigns")
    assert await runtime.content.approved_assets(caller, [approved, rejected, "as_01NOSUCHASSET0000000000000"]) == {
        approved: True,
        rejected: False,
        "as_01NOSUCHASSET0000000000000": False,
    }


async def test_out_of_order_decisions_are_refused_with_the_state_named(content: Crm) -> None:
    (asset,) = await drafts(content, 1)
    text = await content.error("approve_asset", asset_id=asset)
    assert "is draft" in text and "in_review" in text
    await content.ok("submit_asset", asset_id=asset)
    assert "is in_review" in await content.error("submit_asset", asset_id=asset)
    await content.ok("approve_asset", asset_id=asset)
    assert "is approved" in await content.error("reject_asset", asset_id=asset, note="too late")
    assert "was not found" in await content.error("get_asset", asset_id="as_01NOSUCHASSET0000000000000")


async def test_the_library_lists_newest_first_with_filters_and_cursors(content: Crm) -> None:
    x_posts = await drafts(content, 3)
    sms = await drafts(content, 2, channel="sms", fmt="text")
    await content.ok("submit_asset", asset_id=sms[0])
    everything = await content.ok("list_assets", limit=100)
    assert [a["id"] for a in everything["items"]] == list(reversed(x_posts + sms))
    assert [a["id"] for a in (await content.ok("list_assets", channel="sms"))["items"]] == list(reversed(sms))
    assert [a["id"] for a in (await content.ok("list_assets", status="in_review"))["items"]] == [sms[0]]
    first = await content.ok("list_assets", limit=2)
    second = await content.ok("list_assets", limit=2, cursor=first["next_cursor"])
    third = await content.ok("list_assets", limit=2, cursor=second["next_cursor"])
    assert [a["id"] for page in (first, second, third) for a in page["items"]] == [a["id"] for a in everything["items"]]
    assert third["next_cursor"] is None
    assert "cursor" in await content.error("list_assets", channel="x", cursor=first["next_cursor"])


async def test_every_mutating_content_tool_takes_an_idempotency_key(client: Client) -> None:
    tools = [t for t in await client.list_tools() if t.name.startswith("content_")]
    mutating = {t.name for t in tools if not t.annotations.read_only_hint}
    assert mutating == {
        "content_generate_copy",
        "content_generate_image",
        "content_generate_video",
        "content_set_brand_kit",
        "content_submit_asset",
        "content_approve_asset",
        "content_reject_asset",
        "content_set_ai_provider",
    }
    for tool in tools:
        if tool.name in mutating:
            assert "idempotency_key" in tool.input_schema["properties"], tool.name
