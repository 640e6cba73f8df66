"""Channel-ready copy through the content tools: every format within spec, lint, rewrite, brand kits, quota."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from promptsales.domain_core.content.model.channel_specs import load_channel_specs
from promptsales.domain_core.content.model.text_measure import measure
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm

SPECS = load_channel_specs()
FORMATS = [(channel, fmt.format) for channel in SPECS.channels for fmt in SPECS.formats_of(channel)]
BRIEF = "Launch PromptSales Pro for B2B SaaS marketers: cut campaign setup time by 60%, 14-day free trial, book a demo"


@pytest.fixture
def content(client: Client) -> Crm:
    return Crm(client, prefix="content_")


def within_spec(channel: str, fmt: str, fields: dict[str, Any]) -> list[str]:
    """Fields over their hard limit as the platform counts them (empty: all fit)."""
    spec = SPECS.format(channel, fmt)
    over = []
    for name, value in fields.items():
        field = spec.fields[name]
        for item in value if isinstance(value, list) else [value]:
            if field.max_length is not None and measure(item, field.counting) > field.max_length:
                over.append(f"{name}: {item!r}")
    return over


@pytest.mark.parametrize(("channel", "fmt"), FORMATS)
async def test_every_format_gets_variants_within_its_spec_and_kept_as_drafts(
    content: Crm, channel: str, fmt: str
) -> None:
    result = await content.ok("generate_copy", brief=BRIEF, channel=channel, format=fmt, variants=2)
    assert (result["channel"], result["format"], result["usage"]["provider"]) == (channel, fmt, "local")
    assert len(result["variants"]) == 2
    for variant in result["variants"]:
        assert not within_spec(channel, fmt, variant["fields"])
        errors = [i for i in variant["lint"]["issues"] if i["severity"] == "error"]
        assert not [e for e in errors if e["code"] not in ("missing_field", "too_few_items", "too_short")], errors
        asset = await content.ok("get_asset", asset_id=variant["asset_id"])
        assert (asset["kind"], asset["status"], asset["channel"]) == ("copy", "draft", channel)
        assert asset["versions"][0]["body"]["fields"] == variant["fields"]


async def test_spanish_copy_and_sms_segments_are_reported(content: Crm) -> None:
    brief = "Oferta: 20% de descuento en PromptSales este fin de semana, prueba gratis de 14 días, regístrate"
    result = await content.ok("generate_copy", brief=brief, channel="sms", format="text", language="es", variants=3)
    for variant in result["variants"]:
        (length,) = [m for m in variant["lint"]["lengths"] if m["field"] == "text"]
        assert length["sms_encoding"] in ("GSM-7", "UCS-2") and length["sms_segments"] >= 1


async def test_check_copy_names_each_problem_and_rewrite_fixes_them(content: Crm) -> None:
    await content.ok(
        "set_brand_kit", name="Acme", banned_words=["cheap"], required_phrases=["Terms apply."], max_emoji=1
    )
    bad = {"text": "GUARANTEED best prices, cheap!!! 🎉🎉🎉"}
    checked = await content.ok("check_copy", copy=bad, channel="sms", format="text")
    codes = {issue["code"] for issue in checked["variant"]["lint"]["issues"]}
    assert checked["variant"]["lint"]["ok"] is False
    assert {"banned_word", "unsubstantiated_claim", "missing_required_phrase"} <= codes, codes
    fixed = await content.ok("rewrite_copy", copy=bad, channel="sms", format="text")
    text = fixed["variant"]["fields"]["text"]
    assert fixed["variant"]["lint"]["ok"] is True, fixed["variant"]["lint"]
    assert "cheap" not in text.lower() and "guaranteed" not in text.lower() and "Terms apply." in text
    assert fixed["changes"]


async def test_brand_kits_are_kept_versioned_and_readable_as_resources(client: Client, content: Crm) -> None:
    first = await content.ok("set_brand_kit", name="Acme", colors=["#1F4FFF"], voice="Plain and warm.")
    assert (first["is_default"], first["version"]) == (True, 1)
    second = await content.ok("set_brand_kit", name="Acme", colors=["#1F4FFF", "#FFB400"], voice="Plain and warm.")
    assert second["version"] == 2 and second["colors"] == ["#1F4FFF", "#FFB400"]
    other = await content.ok("set_brand_kit", name="Side brand", colors=["#000000"])
    assert other["is_default"] is False
    assert (await content.ok("get_brand_kit"))["name"] == "Acme"
    resource = json.loads((await client.read_resource("content://content/brand-kit"))[0].text)
    assert resource["version"] == 2
    named = json.loads((await client.read_resource("content://content/brand-kits/Side brand"))[0].text)
    assert named["id"] == other["id"]
    await content.rejects(
        "set_brand_kit",
        [
            ({"name": "X", "logo_png_base64": "bm90IGEgcG5n"}, "logo_png_base64"),
            ({"name": "X", "colors": ["blue"]}, "colors"),
        ],
    )
    assert "brand kit 'Nope' was not found" in await content.error("get_brand_kit", name="Nope")


async def test_unknown_channels_formats_and_bad_arguments_are_named(content: Crm) -> None:
    await content.rejects(
        "generate_copy",
        [
            ({"brief": BRIEF, "channel": "myspace", "format": "post"}, "channel"),
            ({"brief": BRIEF, "channel": "google_ads", "format": "banner"}, "format"),
            ({"brief": BRIEF, "channel": "x", "format": "post", "variants": 11}, "variants"),
            ({"brief": BRIEF, "channel": "x", "format": "post", "language": "fr"}, "language"),
        ],
    )


async def test_generations_count_against_the_plan_and_a_replay_counts_nothing(
    make_runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    plans = tmp_path / "plans.json"
    plans.write_text(json.dumps({"plans": [{"id": "free", "quotas": {"content_generations": 3}}]}))
    runtime = make_runtime(default_plan="free", plans_file=plans)
    async with Client(build_gateway(runtime)) as client:
        content, business = Crm(client, "content_"), Crm(client, "business_")
        first = await content.ok(
            "generate_copy", brief=BRIEF, channel="x", format="post", variants=2, idempotency_key="k"
        )
        assert (
            await content.ok("generate_copy", brief=BRIEF, channel="x", format="post", variants=2, idempotency_key="k")
            == first
        )
        text = await content.error("generate_copy", brief=BRIEF, channel="x", format="post", variants=2)
        assert "Quota 'content_generations' of the Free plan has 1 left (2 of 3 used) and this call needs 2" in text
        assert "It resets at" in text
        await content.ok("generate_copy", brief=BRIEF, channel="x", format="post", variants=1)
        usage = {q["quota"]: q for q in (await business.ok("get_usage"))["quotas"]}
        assert usage["content_generations"]["used"] == 3
        assert len((await content.ok("list_assets"))["items"]) == 3  # the refused call saved nothing
