"""Every workflow prompt renders, and every tool it tells the model to call exists in the gateway."""

import re

import pytest
from fastmcp import Client

from promptsales.domain_core.business.model.plans import QUOTA_NAMES

TOOL_NAME = re.compile(r"\b(?:crm|campaigns|business|content|integrations)_[a-z0-9_]+\b")
ARGUMENTS = {
    "crm_qualify_lead": {"email": "ann@example.com"},
    "launch_campaign_for_goal": {"goal": "40 demo requests from EU fintech", "channels": "google_ads, linkedin"},
    "write_ad_set": {"brief": "PromptSales Pro: 60% faster setup", "channel": "meta", "format": "feed"},
    "weekly_performance_report": {"week_start": "2026-11-30"},
    "follow_up_sequence": {"contact_id": "ct_01ABC", "steps": "2", "channel": "sms"},
}


async def test_every_prompt_is_covered_here(era_client: Client) -> None:
    assert {p.name for p in await era_client.list_prompts()} == set(ARGUMENTS)


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
async def test_a_prompt_renders_and_names_only_real_tools_in_order(era_client: Client, name: str) -> None:
    tools = {t.name for t in await era_client.list_tools()}
    rendered = await era_client.get_prompt(name, ARGUMENTS[name])
    text = rendered.messages[0].content.text
    named = [n for n in TOOL_NAME.findall(text) if n not in QUOTA_NAMES]
    assert len(named) >= 3, text
    assert set(named) <= tools, set(named) - tools
    assert re.search(r"^1\. ", text, re.MULTILINE), "steps are numbered"
    for value in ARGUMENTS[name].values():
        assert value.split(",")[0].strip() in text


async def test_the_launch_prompt_checks_each_channel_and_the_follow_up_respects_consent(era_client: Client) -> None:
    launch = await era_client.get_prompt("launch_campaign_for_goal", ARGUMENTS["launch_campaign_for_goal"])
    assert "'channel:google_ads', 'channel:linkedin'" in launch.messages[0].content.text
    follow = await era_client.get_prompt("follow_up_sequence", ARGUMENTS["follow_up_sequence"])
    text = follow.messages[0].content.text
    assert "consented to sms" in text and "format 'text'" in text


async def test_the_weekly_report_runs_on_insights_attribution_and_experiments(era_client: Client) -> None:
    rendered = await era_client.get_prompt("weekly_performance_report", {"week_start": "2026-11-30"})
    text = rendered.messages[0].content.text  # type: ignore[union-attr]
    for tool in (
        "campaigns_get_insights",
        "campaigns_compare_attribution_models",
        "campaigns_get_experiment_results",
    ):
        assert tool in text
    assert "until 2026-12-06" in text and "chart 'trend'" in text and "chart 'funnel'" in text
