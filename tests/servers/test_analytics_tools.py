"""Analytics through the gateway on SQLite in sandbox: a live campaign's platform results joined with the leads its
links brought (and the deal one of them won), re-pulled without double counting, drawn as a chart, attributed under
several models, gated by plan; experiments designed, assigned, read and ended; and the errors users would meet."""

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastmcp import Client, FastMCP

from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm
from tests.servers.test_campaigns_tools import approved_copy, plan, tools

TODAY = datetime.now(UTC).date()


async def live_campaign(client: Client, runtime: Runtime) -> dict[str, Any]:
    """A Google Search + Facebook campaign flying from today, approved by compliance and activated."""
    integrations, content, campaigns = (tools(client, p) for p in ("integrations_", "content_", "campaigns_"))
    for platform in ("google_ads", "meta_ads"):
        await integrations.ok("connect", platform=platform)
    planned = await plan(campaigns, start_date=TODAY.isoformat(), end_date=(TODAY + timedelta(days=29)).isoformat())
    creatives = {
        "google_search": await approved_copy(content, runtime, "google_ads", "rsa"),
        "meta_facebook": await approved_copy(content, runtime, "meta", "feed"),
    }
    changes = [{"channel": channel, "creative_ids": [asset]} for channel, asset in creatives.items()]
    await campaigns.ok("update_campaign", campaign_id=planned["id"], channels=changes)
    await campaigns.ok("submit_for_review", campaign_id=planned["id"])
    preview = await campaigns.ok("preview_activation", campaign_id=planned["id"])
    activated = await campaigns.ok(
        "activate_campaign", campaign_id=planned["id"], confirmation_token=preview["confirmation_token"]
    )
    assert activated["outcome"] == "active", activated
    return await campaigns.ok("get_campaign", campaign_id=planned["id"])


def link_utm(campaign: dict[str, Any], channel: str) -> dict[str, str]:
    """The UTM parameters of the campaign's ad link on ``channel``."""
    url = next(o["tracking_url"] for o in campaign["objects"] if o["kind"] == "ad" and o["channel"] == channel)
    return {key.removeprefix("utm_"): value for key, value in parse_qsl(urlsplit(url).query)}


async def test_insights_join_platform_results_with_the_crm_and_a_repull_never_double_counts(
    client: Client, runtime: Runtime
) -> None:
    campaigns, crm = tools(client, "campaigns_"), tools(client, "crm_")
    campaign = await live_campaign(client, runtime)
    runtime.integrations.sandbox.advance(timedelta(hours=6))  # the ads deliver for a few hours

    search, facebook = link_utm(campaign, "google_search"), link_utm(campaign, "meta_facebook")
    won = await crm.ok("capture_lead", email="lucia@pyme.example", source_channel="ads_platform", utm=search)
    await crm.ok("capture_lead", email="pablo@pyme.example", source_channel="ads_platform", utm=facebook)
    await crm.ok("capture_lead", email="nadie@pyme.example", source_channel="web_form")  # not through a link
    await crm.ok("update_lead", lead_id=won["lead"]["id"], stage="customer", deal_value="1200.00", deal_currency="EUR")
    await runtime.drain_events()

    first = await campaigns.ok("get_insights", since=TODAY.isoformat(), until=TODAY.isoformat())
    totals = first["totals"]
    assert (totals["leads"], totals["customers"], float(totals["revenue"])) == (2, 1, 1200.0)
    assert first["currency"] == "EUR" and first["breakdown"] == "channel"
    by_channel = {row["key"]: row for row in first["rows"]}
    assert set(by_channel) == {"google_search", "meta_facebook"}
    assert by_channel["google_search"]["totals"]["customers"] == 1
    assert totals["impressions"] > 0 and float(totals["spend"]) > 0
    assert first["metrics"]["cpl"] == pytest.approx(float(totals["spend"]) / 2, abs=0.01)
    assert first["metrics"]["roas"] == pytest.approx(1200 / float(totals["spend"]), abs=0.01)
    (check,) = first["campaigns"]
    assert check["campaign_id"] == campaign["id"] and check["pacing"]["status"] in {
        "on_track",
        "underspending",
        "overspending",
    }
    assert any(target["metric"] == "leads" for target in check["targets"])
    assert first["freshness"][0]["last_pulled_at"] and first["freshness"][0]["through_day"] == TODAY.isoformat()

    # The same day pulled again replaces its rows: the figures stay, nothing is added twice.
    pulled = await campaigns.ok("refresh_performance", since=TODAY.isoformat(), until=TODAY.isoformat())
    assert pulled["campaigns"][0]["rows"] >= 2 and not pulled["campaigns"][0]["errors"]
    again = await campaigns.ok("get_insights", since=TODAY.isoformat(), until=TODAY.isoformat())
    assert again["totals"] == totals

    # A lead captured now shows on the next call.
    await crm.ok("capture_lead", email="otra@pyme.example", source_channel="ads_platform", utm=facebook)
    await runtime.drain_events()
    later = await campaigns.ok("get_insights", since=TODAY.isoformat(), until=TODAY.isoformat(), breakdown="none")
    assert later["totals"]["leads"] == 3 and later["rows"] == []

    drawn = await campaigns.raw("get_insights", {"since": TODAY.isoformat(), "chart": "funnel"})
    assert not drawn.is_error
    image = next(block for block in drawn.content if block.type == "image")
    assert image.mime_type == "image/png" and base64.b64decode(image.data).startswith(b"\x89PNG\r\n\x1a\n")
    assert drawn.structured_content is not None and drawn.structured_content["totals"]["leads"] == 3


async def test_attribution_credits_the_journeys_under_each_model(client: Client, runtime: Runtime) -> None:
    campaigns, crm = tools(client, "campaigns_"), tools(client, "crm_")
    # Three people: search then email (converts), email alone (converts), a Facebook click id that does not.
    await crm.ok(
        "capture_lead", email="a@x.example", source_channel="web_form", occurred_at=Crm.ago(days=3),
        landing_page="https://books.example/?gclid=abc",
    )  # fmt: skip
    second = await crm.ok("capture_lead", email="a@x.example", source_channel="email", occurred_at=Crm.ago(days=1))
    alone = await crm.ok("capture_lead", email="b@x.example", source_channel="email", occurred_at=Crm.ago(days=2))
    await crm.ok(
        "capture_lead", email="c@x.example", source_channel="web_form", landing_page="https://books.example/?fbclid=z"
    )
    for lead in (second, alone):
        await crm.ok("update_lead", lead_id=lead["lead"]["id"], stage="customer", deal_value=100, deal_currency="EUR")
    await runtime.drain_events()

    view = await campaigns.ok(
        "get_attribution", models=["first_touch", "last_touch", "linear", "markov", "shapley"], conversion="customer"
    )
    assert (view["journeys"], view["conversions"], float(view["value"])) == (3, 2, 200.0)
    credit = {
        m["model"]: {c["channel"]: c["conversions"] for c in m["credits"] if c["conversions"]} for m in view["models"]
    }
    assert credit["first_touch"] == {"google_ads": 1.0, "email": 1.0}
    assert credit["last_touch"] == {"email": 2.0}
    assert credit["linear"] == {"google_ads": 0.5, "email": 1.5}
    for model in ("markov", "shapley"):
        assert sum(credit[model].values()) == pytest.approx(2.0)

    compared = await campaigns.ok("compare_attribution_models", models=["first_touch", "last_touch"])
    top = compared["disagreements"][0]
    assert top["channel"] in {"google_ads", "email"} and top["spread"] > 0 and top["explanation"]

    await campaigns.rejects(
        "get_attribution",
        [
            ({"models": []}, "models"),
            ({"models": ["magic"]}, "models"),
            ({"models": ["linear"], "lookback_days": 0}, "lookback_days"),
            ({"models": ["linear"], "since": "2026-13-01"}, "since"),
            ({"models": ["linear"], "markov_order": 4}, "markov_order"),
            ({"models": ["linear"], "conversion": "customer", "since": "2020-01-01", "until": "2020-01-31"}, "since"),
        ],
    )


async def test_plans_gate_data_driven_models_and_experiments(make_runtime: Any) -> None:
    runtime = make_runtime(default_plan="starter")
    async with Client(build_gateway(runtime), mode="auto") as client:
        campaigns = tools(client, "campaigns_")
        refused = await campaigns.error("get_attribution", models=["last_touch", "markov"])
        assert "markov" in refused and "Starter" in refused
        refused = await campaigns.error("get_attribution", models=["time_decay"])
        assert "time_decay" in refused
        listed = {tool.name for tool in await client.list_tools()}
        assert "campaigns_get_attribution" in listed and "campaigns_create_experiment" not in listed


async def test_an_email_experiment_is_sized_assigned_read_and_ended(client: Client, runtime: Runtime) -> None:
    campaigns, crm = tools(client, "campaigns_"), tools(client, "crm_")
    experiment = await campaigns.ok(
        "create_experiment",
        name="Subject line: question vs statement",
        subject="email",
        variants=[{"key": "control", "description": "Statement"}, {"key": "question", "description": "Question"}],
        primary_metric="customer",
        guardrails=["mql"],
        minimum_detectable_effect=0.2,
        baseline=0.05,
        units_per_day=400,
    )
    design = experiment["design"]
    assert design["needed_per_arm"] > 1000 and design["days_needed"] == pytest.approx(
        2 * design["needed_per_arm"] / 400, abs=1
    )

    shown: dict[str, str] = {}
    for i in range(40):
        person = await crm.ok("capture_lead", email=f"p{i}@ab.example", source_channel="email")
        contact = person["contact"]["id"]
        assigned = await campaigns.ok("assign_variant", experiment_id=experiment["id"], contact_id=contact)
        repeat = await campaigns.ok("assign_variant", experiment_id=experiment["id"], contact_id=contact)
        assert repeat["variant"] == assigned["variant"]
        shown[person["lead"]["id"]] = assigned["variant"]
    assert set(shown.values()) == {"control", "question"}
    for lead_id in list(shown)[:6]:
        await crm.ok("update_lead", lead_id=lead_id, stage="customer")
    await runtime.drain_events()

    results = await campaigns.ok("get_experiment_results", experiment_id=experiment["id"])
    (primary,) = results["primary"]
    arms = {arm["variant"]: arm for arm in primary["arms"]}
    assert sum(arm["units"] for arm in arms.values()) == 40
    assert sum(arm["successes"] for arm in arms.values()) == 6
    assert results["sample_ratio"]["mismatch"] is False
    assert results["verdict"]["action"] == "keep_running" and results["verdict"]["days_left"] > 0
    assert 0 <= primary["adjusted_p_value"] <= 1 and primary["bayes"]["prob_variant_better"] >= 0

    ended = await campaigns.ok(
        "end_experiment", experiment_id=experiment["id"], decision="stop", reason="Subject lines tie"
    )
    assert ended["status"] == "finished" and ended["decision"]["decision"] == "stop"
    someone = (await crm.ok("capture_lead", email="late@ab.example", source_channel="email"))["contact"]["id"]
    late = await campaigns.error("assign_variant", experiment_id=experiment["id"], contact_id=someone)
    assert "finished" in late
    nobody = await campaigns.error("assign_variant", experiment_id=experiment["id"], contact_id="ct_NOBODY")
    assert "ct_NOBODY" in nobody
    listed = await campaigns.ok("list_experiments", status="finished")
    assert [item["id"] for item in listed["items"]] == [experiment["id"]]


async def test_experiments_refuse_designs_that_cannot_be_read(crm: Crm, client: Client) -> None:
    campaigns = tools(client, "campaigns_")
    base: dict[str, Any] = {
        "name": "Test",
        "subject": "email",
        "variants": [{"key": "a"}, {"key": "b"}],
        "primary_metric": "customer",
        "minimum_detectable_effect": 0.1,
        "baseline": 0.05,
        "units_per_day": 100,
    }
    await campaigns.rejects(
        "create_experiment",
        [
            ({**base, "variants": [{"key": "a"}]}, "variants"),
            ({**base, "variants": [{"key": "a"}, {"key": "a"}]}, "variants"),
            ({**base, "primary_metric": "ctr"}, "primary_metric"),
            ({**base, "subject": "ad"}, "ctr"),
            ({**base, "subject": "ad", "primary_metric": "ctr"}, "ad_id"),
            ({**base, "primary_metric": "revenue"}, "baseline_sd"),
            ({**base, "baseline": 1.5}, "baseline"),
            ({**base, "guardrails": ["customer"]}, "guardrails"),
            ({**base, "name": "x" * 201}, "name"),
            ({**base, "variants": [{"key": "a\x00"}, {"key": "b"}]}, "key"),
            ({**base, "units_per_day": "many"}, "units_per_day"),
            ({**base, "campaign_id": "cp_missing"}, "cp_missing"),
        ],
    )
    await campaigns.rejects(
        "get_experiment_results",
        [({"experiment_id": "exp_missing"}, "exp_missing"), ({"experiment_id": "x"}, "experiment_id")],
    )


async def test_insights_refuse_bad_windows_and_cursors(crm: Crm, client: Client) -> None:
    campaigns = tools(client, "campaigns_")
    empty = await campaigns.ok("get_insights")
    assert empty["totals"]["leads"] == 0 and empty["campaigns"] == [] and empty["notes"]
    await campaigns.rejects(
        "get_insights",
        [
            ({"since": "2026-05-02", "until": "2026-05-01"}, "since"),
            ({"since": "2024-01-01", "until": "2026-01-01"}, "until"),
            ({"campaign_ids": ["cp_1\x00"]}, "campaign_ids"),
            ({"campaign_ids": ["cp_x"] * 21}, "campaign_ids"),
            ({"breakdown": "planet"}, "breakdown"),
            ({"cursor": "not-a-cursor"}, "cursor"),
            ({"limit": 0}, "limit"),
            ({"chart": "pie"}, "chart"),
            ({"campaign_ids": ["cp_unknown"]}, "cp_unknown"),
        ],
    )
    await campaigns.rejects("refresh_performance", [({"campaign_ids": ["cp_nope"]}, "cp_nope")])


def test_runtime_exposes_analytics_only_once_started(make_runtime: Any, gateway: FastMCP) -> None:
    with pytest.raises(RuntimeError):
        _ = make_runtime().analytics
