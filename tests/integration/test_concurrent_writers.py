"""Concurrent writers on PostgreSQL: every tool that changes data, called 20 times at once, has one effect.

For each writing tool of the gateway (``read_only_hint`` false in tools/list) a scenario fires 20 (or 30)
concurrent calls through an in-memory client on a fresh tenant, with row-level security forced as in
production (the app role). Every scenario asserts: no internal error and no "database could not complete"
(a deadlock or serialization failure is retried inside the server), no refusal other than the documented
one for a duplicate natural key, and exactly one effect where the arguments describe one natural entity
(counted in the database as the owner, and through what the tools answered).

The scenario table is self-checking: the writing tools the gateway lists must equal the tools it covers,
so a writing tool added later fails here until it has a scenario.
"""

import asyncio
import base64
import io
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from mcp.types import CallToolResult
from PIL import Image

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.integrations.dto import InboundRequest
from promptsales.domain_core.integrations.zendesk.signatures import sign as zendesk_sign
from promptsales.domain_core.integrations.zendesk.simulator import ZendeskSimulator
from promptsales.domain_core.integrations.zendesk.webhooks import SANDBOX_WEBHOOK_SECRET
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import owner_connect, pg_url

pytestmark = pytest.mark.postgres

CALLS = 20
# What a failed call may never say: the masked internal error, or a race handed to the agent.
BROKEN = re.compile(
    r"internal error|\breference [0-9a-f]{6,}|database could not complete|kept aborting|collided with a concurrent|"
    r"traceback|error calling tool|sqlalchemy|psycopg",
    re.IGNORECASE,
)


# ------------------------------------------------------------------------------------------------ harness


@pytest.fixture(autouse=True)
def quiet_fastmcp_tracebacks() -> Iterator[None]:
    """fastmcp logs every refused call with a traceback; the refusals are what these tests expect."""
    logger = logging.getLogger("fastmcp.server.server")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(previous)


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


class Tenant:
    """A fresh tenant on the shared Postgres database, reached through the gateway of its own runtime."""

    def __init__(self, database: str, tenant: str, clients: dict[str, Client[Any]], runtimes: dict[str, Runtime]):
        self.database = database
        self.tenant = tenant
        self.clients = clients  # by actor
        self.runtimes = runtimes
        self.idempotent: dict[str, bool] = {}  # tools/list's idempotent_hint of each writing tool

    @property
    def client(self) -> Client[Any]:
        return self.clients["writer"]

    async def ok(self, tool: str, actor: str = "writer", **arguments: Any) -> dict[str, Any]:
        result = await self.clients[actor].call_tool_mcp(tool, arguments)
        assert not result.is_error, f"{tool} failed: {text_of(result)}"
        assert isinstance(result.structured_content, dict)
        return result.structured_content

    async def burst(self, tool: str, arguments: list[dict[str, Any]], actor: str = "writer") -> list[CallToolResult]:
        """All calls at once (one client, like one busy agent host)."""
        client = self.clients[actor]
        return list(await asyncio.gather(*(client.call_tool_mcp(tool, args) for args in arguments)))

    def scalar(self, statement: str, *params: Any) -> Any:
        """One value, read as the owner (outside RLS); ``statement`` filters by ``tenant_id = %s`` first."""
        with owner_connect(self.database) as connection:
            row = connection.execute(statement, (self.tenant, *params)).fetchone()
        assert row is not None
        return row[0]


@asynccontextmanager
async def tenant_on(
    database: str, data_dir: Path, actors: tuple[str, ...] = ("writer",), **overrides: Any
) -> AsyncIterator[Tenant]:
    """A new tenant whose ``actors`` (each with a runtime of its own) are connected to the gateway."""
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    runtimes: dict[str, Runtime] = {}
    clients: dict[str, Client[Any]] = {}
    async with AsyncExitStack() as stack:
        for actor in actors:
            values: dict[str, Any] = {
                "database_url": pg_url(database),
                "data_dir": data_dir / actor,
                "tenant": tenant,
                "actor": actor,
                "default_plan": "enterprise",
                "rate_limits_enabled": False,
                "entitlement_cache_seconds": 0,
                "content_text_provider": "local",
                "content_image_provider": "local",
                "openai_api_key": None,
                "anthropic_api_key": None,
                "redis_url": None,
                "database_pool_size": 30,
            }
            values.update(overrides)
            runtimes[actor] = Runtime(Settings(**values))
            clients[actor] = await stack.enter_async_context(Client(build_gateway(runtimes[actor])))
        yield Tenant(database, tenant, clients, runtimes)


@dataclass
class Outcome:
    """The burst's answers, split into successes and refusals."""

    results: list[CallToolResult]

    @property
    def successes(self) -> list[dict[str, Any]]:
        return [r.structured_content or {} for r in self.results if not r.is_error]

    @property
    def refusals(self) -> list[str]:
        return [text_of(r) for r in self.results if r.is_error]

    def check(self, allowed: re.Pattern[str] | None) -> None:
        """No broken answer; refusals only the documented ones (none when ``allowed`` is None)."""
        broken = [t for t in self.refusals if BROKEN.search(t)]
        assert not broken, f"{len(broken)} of {len(self.results)} calls broke:\n" + "\n".join(broken[:5])
        unexpected = [t for t in self.refusals if allowed is None or not allowed.search(t)]
        assert not unexpected, f"{len(unexpected)} of {len(self.results)} calls were refused:\n" + "\n".join(
            sorted(set(unexpected))[:5]
        )


@dataclass
class Scenario:
    """Concurrent calls of one writing tool and the one effect they must have."""

    name: str
    tool: str
    run: Callable[[Tenant], Awaitable[None]]
    # A second actor decides reviews: the one who generated an asset may not be allowed to approve it.
    actors: tuple[str, ...] = ("writer",)
    overrides: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ CRM


ALREADY_EXISTS = re.compile(r"already exists", re.IGNORECASE)


async def organizations_with_one_domain(t: Tenant) -> None:
    outcome = Outcome(
        await t.burst(
            "crm_create_organization", [{"name": f"Acme {n}", "domain": "acme.example"} for n in range(CALLS)]
        )
    )
    outcome.check(ALREADY_EXISTS)
    assert len(outcome.successes) == 1, f"{len(outcome.successes)} organizations created for one domain"
    assert t.scalar("SELECT count(*) FROM crm_organizations WHERE tenant_id = %s AND domain = %s", "acme.example") == 1


async def contacts_with_one_email(t: Tenant) -> None:
    outcome = Outcome(await t.burst("crm_create_contact", [{"email": "Same@Example.com"}] * CALLS))
    outcome.check(ALREADY_EXISTS)
    assert len(outcome.successes) == 1, f"{len(outcome.successes)} contacts created for one email"
    assert t.scalar("SELECT count(*) FROM crm_contacts WHERE tenant_id = %s AND email = %s", "same@example.com") == 1


async def one_contact_updated(t: Tenant) -> None:
    contact = await t.ok("crm_create_contact", email="edit@example.com")
    titles = [f"Title {n}" for n in range(CALLS)]
    outcome = Outcome(
        await t.burst("crm_update_contact", [{"contact_id": contact["id"], "title": title} for title in titles])
    )
    outcome.check(None)
    final = await t.ok("crm_get_contact", contact_id=contact["id"])
    assert final["title"] in titles
    assert t.scalar("SELECT count(*) FROM crm_contacts WHERE tenant_id = %s") == 1


async def one_pair_merged(t: Tenant) -> None:
    survivor = await t.ok("crm_create_contact", email="keep@example.com")
    duplicate = await t.ok("crm_create_contact", email="dupe@example.com")
    pair = {"survivor_id": survivor["id"], "duplicate_id": duplicate["id"]}
    outcome = Outcome(await t.burst("crm_merge_contacts", [pair] * CALLS))
    outcome.check(re.compile(r"was merged into", re.IGNORECASE))
    assert len(outcome.successes) == 1, f"{len(outcome.successes)} merges of one pair succeeded"
    merged_into = t.scalar("SELECT merged_into_id FROM crm_contacts WHERE tenant_id = %s AND id = %s", duplicate["id"])
    assert merged_into == survivor["id"]


async def one_person_captured_twenty_times(t: Tenant) -> None:
    capture = {"source_channel": "web_form", "email": "ada@acme.example", "first_name": "Ada", "company": "Acme"}
    outcome = Outcome(await t.burst("crm_capture_lead", [capture] * CALLS))
    outcome.check(None)
    assert len({s["contact"]["id"] for s in outcome.successes}) == 1
    assert len({s["lead"]["id"] for s in outcome.successes}) == 1
    assert t.scalar("SELECT count(*) FROM crm_contacts WHERE tenant_id = %s AND email = %s", "ada@acme.example") == 1
    lead = await t.ok("crm_get_lead", lead_id=outcome.successes[0]["lead"]["id"])
    assert lead["touch_count"] == CALLS, f"{lead['touch_count']} touches recorded for {CALLS} captures"


async def people_of_one_company_captured(t: Tenant) -> None:
    captures = [
        {
            "source_channel": "web_form",
            "email": f"p{n}@acme.example",
            "company": "Acme",
            "company_domain": "acme.example",
        }
        for n in range(CALLS)
    ]
    outcome = Outcome(await t.burst("crm_capture_lead", captures))
    outcome.check(None)
    organizations = {s["contact"]["organization_id"] for s in outcome.successes}
    assert None not in organizations, "a person of a known company was captured without its organization"
    assert len(organizations) == 1, f"{len(organizations)} organizations for one company_domain"
    assert t.scalar("SELECT count(*) FROM crm_organizations WHERE tenant_id = %s AND domain = %s", "acme.example") == 1


async def lead(t: Tenant) -> dict[str, Any]:
    captured = await t.ok("crm_capture_lead", source_channel="web_form", email="lead@acme.example", title="CTO")
    return dict(captured["lead"])


async def one_lead_updated(t: Tenant) -> None:
    lead_id = (await lead(t))["id"]
    owners = [f"rep{n}@acme.example" for n in range(CALLS)]
    outcome = Outcome(await t.burst("crm_update_lead", [{"lead_id": lead_id, "owner": owner} for owner in owners]))
    outcome.check(None)
    assert (await t.ok("crm_get_lead", lead_id=lead_id))["owner"] in owners


async def one_lead_classified(t: Tenant) -> None:
    lead_id = (await lead(t))["id"]
    outcome = Outcome(await t.burst("crm_classify_lead", [{"lead_id": lead_id}] * CALLS))
    outcome.check(None)
    assert len({(s["score"], s["stage"]) for s in outcome.successes}) == 1, "one lead, several classifications"


async def scoring_rules_set(t: Tenant) -> None:
    values = [40 + n % 5 for n in range(CALLS)]
    outcome = Outcome(
        await t.burst("crm_set_scoring_rules", [{"overrides": {"stages": {"mql_min_score": v}}} for v in values])
    )
    outcome.check(None)
    assert t.scalar("SELECT count(*) FROM crm_scoring_rules WHERE tenant_id = %s") == 1


async def interactions_logged(t: Tenant) -> None:
    captured = await lead(t)
    calls = [
        {"contact_id": captured["contact_id"], "lead_id": captured["id"], "channel": "chat", "direction": "inbound",
         "summary": f"Question {n} about pricing"}
        for n in range(CALLS)
    ]  # fmt: skip
    outcome = Outcome(await t.burst("crm_log_interaction", calls))
    outcome.check(None)
    count = t.scalar(
        "SELECT count(*) FROM crm_interactions WHERE tenant_id = %s AND contact_id = %s", captured["contact_id"]
    )
    assert count == CALLS, f"{count} interactions stored for {CALLS} distinct ones"


async def segments_with_one_name(t: Tenant) -> None:
    rule = {"all": [{"field": "score", "op": "gte", "value": 10}]}
    outcome = Outcome(await t.burst("crm_create_segment", [{"name": "Hot leads", "rule": rule}] * CALLS))
    outcome.check(ALREADY_EXISTS)
    assert len(outcome.successes) == 1, f"{len(outcome.successes)} segments created with one name"
    assert t.scalar("SELECT count(*) FROM crm_segments WHERE tenant_id = %s AND name = %s", "Hot leads") == 1


async def flows_started(t: Tenant) -> None:
    contact_id = (await lead(t))["contact_id"]
    start = {"flow_id": "bant-qualification", "contact_id": contact_id, "channel": "chat"}
    outcome = Outcome(await t.burst("crm_start_flow", [start] * CALLS))
    outcome.check(None)
    runs = {s["run_id"] for s in outcome.successes}
    stored = t.scalar("SELECT count(*) FROM crm_flow_runs WHERE tenant_id = %s AND contact_id = %s", contact_id)
    assert len(runs) == stored == CALLS  # every start is a conversation of its own


async def one_flow_advanced(t: Tenant) -> None:
    contact_id = (await lead(t))["contact_id"]
    run = await t.ok("crm_start_flow", flow_id="bant-qualification", contact_id=contact_id, channel="chat")
    outcome = Outcome(await t.burst("crm_advance_flow", [{"run_id": run["run_id"], "user_input": "1"}] * CALLS))
    outcome.check(re.compile(r"flow run '[^']+' is (completed|handed_off|done|finished)", re.IGNORECASE))
    transcript = t.scalar("SELECT transcript FROM crm_flow_runs WHERE tenant_id = %s AND id = %s", run["run_id"])
    answers = [entry for entry in transcript if entry.get("from") == "user"]
    assert len(answers) == len(outcome.successes), (
        f"{len(outcome.successes)} answers accepted, {len(answers)} in the transcript (lost updates)"
    )


async def one_file_imported(t: Tenant) -> None:
    rows = "".join(f"import{n}@acme.example,Person {n},Acme,acme.example\n" for n in range(5))
    csv_text = "email,first_name,company,company_domain\n" + rows
    outcome = Outcome(await t.burst("crm_import_leads", [{"csv_text": csv_text}] * CALLS))
    outcome.check(None)
    assert t.scalar("SELECT count(*) FROM crm_contacts WHERE tenant_id = %s AND email LIKE %s", "import%") == 5
    assert t.scalar("SELECT count(*) FROM crm_organizations WHERE tenant_id = %s AND domain = %s", "acme.example") == 1


# ------------------------------------------------------------------------------------------------ business


async def checkouts_started(t: Tenant) -> None:
    outcome = Outcome(await t.burst("business_start_checkout", [{"plan": "starter"}] * CALLS))
    outcome.check(None)
    pending = t.scalar("SELECT count(*) FROM business_checkouts WHERE tenant_id = %s AND status = 'pending'")
    assert pending == 1, f"{pending} checkouts left open; only the latest may stay open"


async def one_subscription_cancelled(t: Tenant) -> None:
    checkout = await t.ok("business_start_checkout", plan="starter")
    simulator = t.runtimes["writer"].paypal_simulator
    assert simulator is not None, "sandbox mode runs the in-process PayPal simulator"
    await simulator.approve(simulator.approval_token_for(checkout["approve_url"]))
    preview = await t.ok("business_cancel_subscription")
    confirm = {"confirmation_token": preview["confirmation_token"]}
    outcome = Outcome(await t.burst("business_cancel_subscription", [confirm] * CALLS))
    outcome.check(re.compile(r"no active subscription|already (been )?used|not valid|expired", re.IGNORECASE))
    assert len(outcome.successes) == 1, f"{len(outcome.successes)} cancellations of one subscription"
    assert (await t.ok("business_get_subscription"))["status"] == "canceled"


async def paypal_accounts_refused_in_sandbox(t: Tenant) -> None:
    # Storing a tenant's own PayPal app needs live mode and PayPal itself (the credentials are checked with
    # PayPal first); in sandbox mode every call is refused, which must stay a clean refusal under load.
    account = {"client_id": "app-1", "client_secret": "secret-1", "webhook_id": "WH1"}
    outcome = Outcome(await t.burst("business_set_paypal_account", [account] * CALLS))
    outcome.check(re.compile(r"sandbox mode", re.IGNORECASE))
    assert not outcome.successes
    assert t.scalar("SELECT count(*) FROM tenant_credentials WHERE tenant_id = %s") == 0


# ------------------------------------------------------------------------------------------------ content


async def brand_kits_with_one_name(t: Tenant) -> None:
    kits = [{"name": "Acme", "voice": f"Plain and friendly, version {n}."} for n in range(CALLS)]
    outcome = Outcome(await t.burst("content_set_brand_kit", kits))
    outcome.check(None)
    assert t.scalar("SELECT count(*) FROM content_brand_kits WHERE tenant_id = %s AND name = %s", "Acme") == 1
    assert t.scalar("SELECT count(*) FROM content_brand_kits WHERE tenant_id = %s AND is_default") == 1


async def generation_with_one_key(t: Tenant, tool: str, arguments: dict[str, Any]) -> None:
    call = {**arguments, "idempotency_key": f"once-{tool}"}
    outcome = Outcome(await t.burst(tool, [call] * CALLS))
    outcome.check(None)
    assets = t.scalar("SELECT count(*) FROM content_assets WHERE tenant_id = %s")
    first = outcome.successes[0]
    expected = len(first["variants"]) if "variants" in first else 1
    assert assets == expected, f"{assets} assets stored for one idempotency_key ({expected} expected)"


async def copy_generated_once(t: Tenant) -> None:
    brief = {"brief": "Spring launch of our CRM for small teams", "channel": "meta", "format": "feed", "variants": 2}
    await generation_with_one_key(t, "content_generate_copy", brief)


async def image_generated_once(t: Tenant) -> None:
    brief = {"brief": "Spring launch of our CRM", "placement": "meta_feed_square"}
    await generation_with_one_key(t, "content_generate_image", brief)


async def video_generated_once(t: Tenant) -> None:
    brief = {"brief": "Spring launch of our CRM", "placement": "meta_feed_video", "duration_seconds": 1.5}
    await generation_with_one_key(t, "content_generate_video", brief)


async def review_step(t: Tenant, tool: str, *, start: str, end: str, actor: str, **extra: Any) -> None:
    """20 identical review decisions on one asset: one transition (all succeed where the tool says idempotent)."""
    generated = await t.ok("content_generate_copy", brief="Spring launch of our CRM", channel="meta", format="feed")
    asset_id = generated["variants"][0]["asset_id"]
    if start == "in_review":
        await t.ok("content_submit_asset", asset_id=asset_id)
    outcome = Outcome(await t.burst(tool, [{"asset_id": asset_id, **extra}] * CALLS, actor=actor))
    if t.idempotent[tool]:
        outcome.check(None)  # annotated idempotent: a repeat returns the same state instead of a refusal
    else:
        outcome.check(re.compile(rf"is {end}; it can become", re.IGNORECASE))
        assert len(outcome.successes) == 1, f"{len(outcome.successes)} transitions to {end}"
    assert (await t.ok("content_get_asset", asset_id=asset_id))["status"] == end
    audited = t.scalar(
        "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND target_id = %s AND action LIKE %s",
        asset_id,
        f"%{tool.removeprefix('content_')}",
    )
    assert audited == 1, f"{audited} audit entries for one {end} transition"


async def asset_submitted(t: Tenant) -> None:
    await review_step(t, "content_submit_asset", start="draft", end="in_review", actor="writer")


async def asset_approved(t: Tenant) -> None:
    await review_step(t, "content_approve_asset", start="in_review", end="approved", actor="reviewer")


async def asset_rejected(t: Tenant) -> None:
    await review_step(
        t, "content_reject_asset", start="in_review", end="rejected", actor="reviewer", note="Off-brand colours"
    )


async def ai_provider_set_on_a_fresh_tenant(t: Tenant) -> None:
    outcome = Outcome(await t.burst("content_set_ai_provider", [{"text_provider": "local"}] * 30))
    outcome.check(None)
    assert t.scalar("SELECT count(*) FROM content_ai_settings WHERE tenant_id = %s") == 1


# ------------------------------------------------------------------------------------------------ campaigns

# Two ad channels whose sandbox platforms the scenarios connect; copy approved by the reviewer goes on each.
CAMPAIGN_CHANNELS = {
    "google_search": ("google_ads", "google_ads", "rsa"),
    "meta_facebook": ("meta_ads", "meta", "feed"),
}
CAMPAIGN_ACTORS = ("writer", "reviewer")


def _burst_with_key(tool: str, arguments: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [{**arguments, "idempotency_key": key}] * CALLS


async def planned_campaign(t: Tenant, *, creatives: bool = True, today: bool = False) -> str:
    """A campaign planned from a goal (next March, or from ``today``), with approved copy on each channel."""
    year = datetime.now(UTC).year + 1
    start = datetime.now(UTC).date() if today else date(year, 3, 1)
    planned = await t.ok(
        "campaigns_plan_campaign",
        name="Spring accounting",
        objective="leads",
        product="Accounting software for small businesses",
        markets=[{"country": "ES", "languages": ["es"]}],
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=30)).isoformat(),
        landing_url="https://books.example/es",
        budget=6000,
        currency="EUR",
        channels=list(CAMPAIGN_CHANNELS),
    )
    if not creatives:
        return str(planned["id"])
    changes = []
    for channel, (platform, content_channel, fmt) in CAMPAIGN_CHANNELS.items():
        await t.ok("integrations_connect", platform=platform)
        written = await t.ok(
            "content_generate_copy", brief="Invoices in minutes, try it free", channel=content_channel, format=fmt
        )
        asset_id = written["variants"][0]["asset_id"]
        await t.ok("content_submit_asset", asset_id=asset_id)
        await t.ok("content_approve_asset", actor="reviewer", asset_id=asset_id, note="On brand.")
        changes.append({"channel": channel, "creative_ids": [asset_id]})
    await t.ok("campaigns_update_campaign", campaign_id=planned["id"], channels=changes)
    return str(planned["id"])


async def approved_campaign(t: Tenant, *, today: bool = False) -> str:
    campaign_id = await planned_campaign(t, today=today)
    submitted = await t.ok("campaigns_submit_for_review", campaign_id=campaign_id)
    if submitted["campaign"]["status"] == "in_review":
        await t.ok(
            "campaigns_approve_campaign", actor="reviewer", campaign_id=campaign_id, decision="approve", note="Ok"
        )
    return campaign_id


async def live_campaign(t: Tenant, *, today: bool = False) -> str:
    campaign_id = await approved_campaign(t, today=today)
    token = (await t.ok("campaigns_preview_activation", campaign_id=campaign_id))["confirmation_token"]
    await t.ok("campaigns_activate_campaign", campaign_id=campaign_id, confirmation_token=token)
    return campaign_id


def audited(t: Tenant, action: str, target_id: str) -> int:
    return int(
        t.scalar(
            "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action = %s AND target_id = %s", action, target_id
        )
    )


def transitions(t: Tenant, campaign_id: str, event: str) -> int:
    return int(
        t.scalar(
            "SELECT count(*) FROM campaigns_transitions WHERE tenant_id = %s AND campaign_id = %s AND event = %s",
            campaign_id,
            event,
        )
    )


def campaign_changes(t: Tenant, campaign_id: str) -> int:
    statement = "SELECT count(*) FROM campaigns_changes WHERE tenant_id = %s AND campaign_id = %s"
    return int(t.scalar(statement, campaign_id))


async def one_campaign_planned(t: Tenant) -> None:
    year = datetime.now(UTC).year + 1
    goal = {
        "name": "One plan",
        "objective": "leads",
        "product": "Accounting software",
        "markets": [{"country": "MX", "languages": ["es"]}],
        "start_date": f"{year}-03-01",
        "end_date": f"{year}-03-31",
        "landing_url": "https://books.example/mx",
        "budget": 3000,
        "currency": "EUR",
    }
    outcome = Outcome(await t.burst("campaigns_plan_campaign", _burst_with_key("plan", goal, "plan-march")))
    outcome.check(None)
    assert len({s["id"] for s in outcome.successes}) == 1
    assert t.scalar("SELECT count(*) FROM campaigns_campaigns WHERE tenant_id = %s") == 1


async def one_campaign_updated(t: Tenant) -> None:
    campaign_id = await planned_campaign(t, creatives=False)
    edit = {"campaign_id": campaign_id, "name": "Renamed once", "reason": "Clearer name"}
    outcome = Outcome(await t.burst("campaigns_update_campaign", _burst_with_key("update", edit, "rename-1")))
    outcome.check(None)
    assert len({s["version"] for s in outcome.successes}) == 1
    assert audited(t, "campaigns.update_campaign", campaign_id) == 1


async def one_campaign_submitted(t: Tenant) -> None:
    campaign_id = await planned_campaign(t)
    call = {"campaign_id": campaign_id}
    outcome = Outcome(await t.burst("campaigns_submit_for_review", _burst_with_key("submit", call, "submit-1")))
    outcome.check(None)
    assert len({s["campaign"]["status"] for s in outcome.successes}) == 1
    assert transitions(t, campaign_id, "submit") == 1


async def one_campaign_approved(t: Tenant) -> None:
    campaign_id = await planned_campaign(t)
    # A crypto product on paid ads needs the platforms' certification, which a person confirms.
    await t.ok("campaigns_update_campaign", campaign_id=campaign_id, product_category="crypto")
    submitted = await t.ok("campaigns_submit_for_review", campaign_id=campaign_id)
    assert submitted["campaign"]["status"] == "in_review", submitted["compliance"]
    call = {"campaign_id": campaign_id, "decision": "approve", "note": "Budget checked."}
    burst = _burst_with_key("approve", call, "approve-1")
    outcome = Outcome(await t.burst("campaigns_approve_campaign", burst, actor="reviewer"))
    outcome.check(None)
    assert {s["campaign"]["status"] for s in outcome.successes} == {"approved"}
    assert transitions(t, campaign_id, "approve") == 1


async def previews_of_one_campaign(t: Tenant) -> None:
    campaign_id = await approved_campaign(t)
    call = {"campaign_id": campaign_id}
    outcome = Outcome(await t.burst("campaigns_preview_activation", _burst_with_key("preview", call, "one-preview")))
    outcome.check(None)
    # One key, one preview: every caller gets the same token; none creates anything on a platform.
    assert len({s["confirmation_token"] for s in outcome.successes}) == 1
    assert t.scalar("SELECT count(*) FROM confirmation_tokens WHERE tenant_id = %s") == 1
    assert t.scalar("SELECT count(*) FROM campaigns_objects WHERE tenant_id = %s") == 0
    assert (await t.ok("campaigns_get_campaign", campaign_id=campaign_id))["status"] == "approved"


async def one_campaign_activated(t: Tenant) -> None:
    campaign_id = await approved_campaign(t)
    preview = await t.ok("campaigns_preview_activation", campaign_id=campaign_id)
    call = {"campaign_id": campaign_id, "confirmation_token": preview["confirmation_token"]}
    outcome = Outcome(await t.burst("campaigns_activate_campaign", _burst_with_key("activate", call, "go-live")))
    outcome.check(None)
    assert len({s["outcome"] for s in outcome.successes}) == 1
    created = t.scalar("SELECT count(*) FROM campaigns_objects WHERE tenant_id = %s AND platform_id IS NOT NULL")
    assert created == len([o for o in preview["objects"] if o["platform"]]), "each previewed object created once"
    again = await t.ok("campaigns_activate_campaign", **call, idempotency_key="go-live")
    assert again == outcome.successes[0], "a retry with the key replays the activation"
    assert (
        t.scalar("SELECT count(*) FROM campaigns_objects WHERE tenant_id = %s AND platform_id IS NOT NULL") == created
    )


async def status_changed_once(t: Tenant, tool: str, *, setup: tuple[str, ...] = ()) -> None:
    campaign_id = await live_campaign(t)
    for step in setup:
        await t.ok(step, campaign_id=campaign_id, reason="Setting up")
    before = campaign_changes(t, campaign_id)
    call = {"campaign_id": campaign_id, "reason": "Once only"}
    outcome = Outcome(await t.burst(tool, _burst_with_key(tool, call, f"{tool}-1")))
    outcome.check(None)
    assert len({s["change"]["id"] for s in outcome.successes}) == 1
    assert campaign_changes(t, campaign_id) == before + 1


async def one_campaign_paused(t: Tenant) -> None:
    await status_changed_once(t, "campaigns_pause_campaign")


async def one_campaign_resumed(t: Tenant) -> None:
    await status_changed_once(t, "campaigns_resume_campaign", setup=("campaigns_pause_campaign",))


async def one_campaign_ended(t: Tenant) -> None:
    await status_changed_once(t, "campaigns_end_campaign")


async def one_budget_change(t: Tenant) -> None:
    campaign_id = await live_campaign(t)
    shown = await t.ok("campaigns_get_campaign", campaign_id=campaign_id)
    before = next(float(c["daily_budget"]) for c in shown["channels"] if c["channel"] == "google_search")
    raised = round(before * 1.5, 2)  # within the step allowed without a confirmation (x2)
    call = {"campaign_id": campaign_id, "channel": "google_search", "daily_budget": raised, "reason": "More leads"}
    outcome = Outcome(await t.burst("campaigns_update_budget", _burst_with_key("budget", call, "budget-1")))
    outcome.check(None)
    assert len({s["change"]["id"] for s in outcome.successes}) == 1
    assert campaign_changes(t, campaign_id) == 1


async def one_rollback(t: Tenant) -> None:
    campaign_id = await live_campaign(t)
    paused = await t.ok("campaigns_pause_campaign", campaign_id=campaign_id, reason="Check")
    call = {"campaign_id": campaign_id, "change_id": paused["change"]["id"], "reason": "Undo the pause"}
    outcome = Outcome(await t.burst("campaigns_rollback_change", _burst_with_key("rollback", call, "undo-1")))
    outcome.check(None)
    assert len({s["change"]["id"] for s in outcome.successes}) == 1
    assert campaign_changes(t, campaign_id) == 2  # the pause and its one rollback
    assert (await t.ok("campaigns_get_campaign", campaign_id=campaign_id))["status"] == "active"


async def one_set_of_caps(t: Tenant) -> None:
    caps = {"currency": "EUR", "per_campaign": 20000, "per_day": 900}
    outcome = Outcome(await t.burst("campaigns_set_spend_caps", _burst_with_key("caps", caps, "caps-1")))
    outcome.check(None)
    assert t.scalar("SELECT count(*) FROM campaigns_spend_caps WHERE tenant_id = %s") == 1
    assert audited(t, "campaigns.set_spend_caps", t.tenant) == 1


EXPERIMENT = {
    "name": "Subject line",
    "subject": "email",
    "variants": [{"key": "control"}, {"key": "question"}],
    "primary_metric": "customer",
    "minimum_detectable_effect": 0.2,
    "baseline": 0.05,
    "units_per_day": 200,
}


def experiments(t: Tenant) -> int:
    return int(t.scalar("SELECT count(*) FROM analytics_experiments WHERE tenant_id = %s"))


async def one_experiment_created(t: Tenant) -> None:
    outcome = Outcome(await t.burst("campaigns_create_experiment", _burst_with_key("exp", EXPERIMENT, "exp-1")))
    outcome.check(None)
    assert len({s["id"] for s in outcome.successes}) == 1 and experiments(t) == 1


async def one_contact_assigned(t: Tenant) -> None:
    experiment = await t.ok("campaigns_create_experiment", **EXPERIMENT)
    person = await t.ok("crm_capture_lead", source_channel="email", email="shown@ab.example")
    call = {"experiment_id": experiment["id"], "contact_id": person["contact"]["id"]}
    outcome = Outcome(await t.burst("campaigns_assign_variant", [call] * CALLS))
    outcome.check(None)
    assert len({s["variant"] for s in outcome.successes}) == 1
    assert t.scalar("SELECT count(*) FROM analytics_assignments WHERE tenant_id = %s") == 1


async def one_experiment_looked_at(t: Tenant) -> None:
    experiment = await t.ok("campaigns_create_experiment", **EXPERIMENT)
    for i in range(4):
        person = await t.ok("crm_capture_lead", source_channel="email", email=f"look{i}@ab.example")
        await t.ok("campaigns_assign_variant", experiment_id=experiment["id"], contact_id=person["contact"]["id"])
    outcome = Outcome(await t.burst("campaigns_get_experiment_results", [{"experiment_id": experiment["id"]}] * CALLS))
    outcome.check(None)
    assert len({json.dumps(s["primary"], sort_keys=True) for s in outcome.successes}) == 1  # one state, read alike
    assert experiments(t) == 1


async def one_experiment_ended(t: Tenant) -> None:
    experiment = await t.ok("campaigns_create_experiment", **EXPERIMENT)
    call = {"experiment_id": experiment["id"], "decision": "ship", "winner": "question", "reason": "Won"}
    outcome = Outcome(await t.burst("campaigns_end_experiment", _burst_with_key("end", call, "end-1")))
    outcome.check(None)
    assert {s["status"] for s in outcome.successes} == {"finished"}
    assert audited(t, "analytics.end_experiment", experiment["id"]) == 1


async def one_day_pulled(t: Tenant) -> None:
    campaign_id = await live_campaign(t, today=True)
    today = datetime.now(UTC).date().isoformat()
    call = {"campaign_ids": [campaign_id], "since": today, "until": today}
    outcome = Outcome(await t.burst("campaigns_refresh_performance", [call] * CALLS))
    outcome.check(None)
    ads = t.scalar("SELECT count(*) FROM campaigns_objects WHERE tenant_id = %s AND kind = 'ad'")
    assert ads >= 2 and t.scalar("SELECT count(*) FROM analytics_performance WHERE tenant_id = %s") == ads
    assert t.scalar("SELECT count(*) FROM analytics_pulls WHERE tenant_id = %s") == 1


# ------------------------------------------------------------------------------------------------ the table


async def one_design_imported(t: Tenant) -> None:
    await t.ok("integrations_connect", platform="canva")
    designs = (await t.ok("integrations_list_designs", platform="canva"))["items"]
    call = {"platform": "canva", "design_id": designs[0]["design_id"]}
    outcome = Outcome(await t.burst("content_import_design", [call] * CALLS))
    outcome.check(None)
    assert {s["asset"]["id"] for s in outcome.successes} == {outcome.successes[0]["asset"]["id"]}
    assert t.scalar("SELECT count(*) FROM content_assets WHERE tenant_id = %s") == 1
    assert t.scalar("SELECT count(*) FROM content_asset_versions WHERE tenant_id = %s") == 1


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (11, 95, 255)).save(out, format="PNG")
    return out.getvalue()


async def one_logo_pushed(t: Tenant) -> None:
    await t.ok("integrations_connect", platform="canva")
    logo = base64.b64encode(_png()).decode()
    await t.ok("content_set_brand_kit", name="Acme", voice="Plain.", logo_png_base64=logo)
    outcome = Outcome(await t.burst("content_push_brand_kit", [{"platform": "canva", "brand_kit": "Acme"}] * CALLS))
    outcome.check(None)
    assert len({s["logo_asset_id"] for s in outcome.successes}) == 1, "one upload for one logo"
    pushes = "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action = 'content.push_brand_kit'"
    assert t.scalar(pushes) == 1


async def one_platform_connected(t: Tenant) -> None:
    outcome = Outcome(await t.burst("integrations_connect", [{"platform": "hubspot"}] * CALLS))
    outcome.check(None)
    assert t.scalar("SELECT count(*) FROM integrations_connections WHERE tenant_id = %s") == 1
    assert t.scalar("SELECT count(*) FROM tenant_credentials WHERE tenant_id = %s") == 1
    assert {s["status"] for s in outcome.successes} == {"connected"}


async def one_platform_disconnected(t: Tenant) -> None:
    await t.ok("integrations_connect", platform="hubspot")
    outcome = Outcome(await t.burst("integrations_disconnect", [{"platform": "hubspot"}] * CALLS))
    outcome.check(None)
    assert t.scalar("SELECT count(*) FROM tenant_credentials WHERE tenant_id = %s") == 0
    assert t.scalar("SELECT status FROM integrations_connections WHERE tenant_id = %s") == "disconnected"


async def one_sync_at_a_time(t: Tenant) -> None:
    await t.ok("integrations_connect", platform="hubspot")
    outcome = Outcome(await t.burst("integrations_sync", [{"platform": "hubspot"}] * CALLS))
    # Runs that overlap one still running are refused with the run to follow; none may break or duplicate.
    outcome.check(re.compile(r"already running \(run sr_"))
    assert outcome.successes, "at least one sync ran"
    assert t.scalar("SELECT count(*) FROM crm_contacts WHERE tenant_id = %s") == 5
    assert (
        t.scalar("SELECT count(*) FROM integrations_external_links WHERE tenant_id = %s AND object_type = 'contact'")
        == 5
    )


async def one_support_sync_at_a_time(t: Tenant) -> None:
    subdomain = (await t.ok("integrations_connect", platform="zendesk"))["account_id"]
    outcome = Outcome(await t.burst("integrations_sync", [{"platform": "zendesk"}] * CALLS))
    outcome.check(re.compile(r"already running \(run sr_"))
    assert outcome.successes, "at least one sync ran"
    # Three requesters, nine comments: each a contact / an interaction once, linked once (3 + 4 tickets + 9).
    assert t.scalar("SELECT count(*) FROM crm_contacts WHERE tenant_id = %s") == 3
    assert t.scalar("SELECT count(*) FROM crm_interactions WHERE tenant_id = %s") == 9
    assert t.scalar("SELECT count(*) FROM integrations_external_links WHERE tenant_id = %s") == 16
    ana = t.scalar(
        "SELECT id FROM crm_contacts WHERE tenant_id = %s AND email = %s", "ana.garcia@acme-demo.example.com"
    )
    view = await t.ok("crm_get_customer_360", contact_id=ana)
    assert view["sections"]["support_tickets"]["open_count"] == 2
    # One signed ticket event delivered twenty times at once applies once.
    runtime = t.runtimes["writer"]
    simulator = runtime.integrations.sandbox.simulator("zendesk")
    assert isinstance(simulator, ZendeskSimulator)
    simulator.add_comment(subdomain, 1, "Any news?", author_email="ana.garcia@acme-demo.example.com")
    body = json.dumps(simulator.ticket_event(subdomain, 1)).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "x-zendesk-webhook-signature": zendesk_sign(secret=SANDBOX_WEBHOOK_SECRET, body=body, timestamp=stamp),
        "x-zendesk-webhook-signature-timestamp": stamp,
    }
    delivery = InboundRequest(
        method="POST", url="http://x/webhooks/zendesk", headers=headers, query={"subdomain": subdomain}, body=body
    )
    answers = await asyncio.gather(*(runtime.integrations.handle_webhook("zendesk", delivery) for _ in range(CALLS)))
    await runtime.integrations.drain()
    assert {a.status_code for a in answers} == {200}
    assert t.scalar("SELECT count(*) FROM crm_interactions WHERE tenant_id = %s") == 10
    assert t.scalar("SELECT count(*) FROM integrations_webhook_receipts WHERE tenant_id = %s") == 1


async def one_segment_synced_to_an_audience(t: Tenant) -> None:
    await t.ok("integrations_connect", platform="mailchimp")
    consent = {"email": {"granted": True, "source": "web_form"}}
    for number in range(3):
        await t.ok("crm_create_contact", email=f"reader{number}@example.com", country="DE", consent=consent)
    rule = {"all": [{"field": "country", "op": "eq", "value": "DE"}]}
    segment = await t.ok("crm_create_segment", name="Newsletter", rule=rule)
    arguments = {"platform": "mailchimp", "capability": "email_marketing", "segment_id": segment["id"]}
    outcome = Outcome(await t.burst("integrations_sync", [arguments] * CALLS))
    outcome.check(re.compile(r"already running \(run sr_"))
    assert {s["status"] for s in outcome.successes} == {"succeeded"}
    assert sum(s["created"] for s in outcome.successes) == 3
    assert t.scalar("SELECT count(*) FROM integrations_external_links WHERE tenant_id = %s") == 3
    runtime = t.runtimes["writer"]
    simulator = runtime.integrations.sandbox.simulator("mailchimp")
    account = t.scalar("SELECT account_id FROM integrations_connections WHERE tenant_id = %s")
    audience = simulator.audience(account, simulator.default_audience(account))  # type: ignore[attr-defined]
    assert len(audience.members) == 3 and len(audience.webhooks) == 1
    # The same unsubscribe delivered 20 times at once (Mailchimp retries) changes consent once.
    posted: list[bytes] = []

    async def capture(headers: Any, body: bytes) -> int:
        posted.append(body)
        return 200

    simulator.deliver = capture  # type: ignore[attr-defined]
    await simulator.user_unsubscribes(account, audience.id, "reader0@example.com")  # type: ignore[attr-defined]
    url = audience.webhooks[0]["url"]
    request = InboundRequest(
        method="POST", url=url, headers={}, query={"secret": url.split("secret=", 1)[1]}, body=posted[0]
    )
    answers = await asyncio.gather(*(runtime.integrations.handle_webhook("mailchimp", request) for _ in range(CALLS)))
    await runtime.integrations.drain()
    assert {a.status_code for a in answers} == {200}
    assert t.scalar("SELECT count(*) FROM crm_consent_events WHERE tenant_id = %s AND source = 'mailchimp'") == 1
    assert t.scalar("SELECT count(*) FROM integrations_webhook_receipts WHERE tenant_id = %s") == 1


async def one_message_sent_for_one_key(t: Tenant) -> None:
    await t.ok("integrations_connect", platform="whatsapp")
    consent = {"whatsapp": {"granted": True, "source": "web_form"}}
    contact = await t.ok("crm_create_contact", first_name="Ana", phone="+14155550100", consent=consent)
    call = {"contact_id": contact["id"], "template_name": "hello_world", "idempotency_key": "welcome-ana"}
    outcome = Outcome(await t.burst("integrations_send_message", [call] * CALLS))
    outcome.check(None)
    assert len({s["message_id"] for s in outcome.successes}) == 1
    simulator: Any = t.runtimes["writer"].integrations.sandbox.simulator("whatsapp")
    assert sum(len(account.sent) for account in simulator._accounts.values()) == 1
    outbound = "SELECT count(*) FROM crm_interactions WHERE tenant_id = %s AND channel = 'whatsapp'"
    assert t.scalar(outbound + " AND direction = 'outbound'") == 1
    await t.runtimes["writer"].integrations.drain()  # its status webhooks land on the one message row
    links = "SELECT count(*) FROM integrations_external_links WHERE tenant_id = %s AND object_type = 'message'"
    assert t.scalar(links) == 1


SCENARIOS = [
    Scenario("one experiment created", "campaigns_create_experiment", one_experiment_created),
    Scenario("one contact assigned", "campaigns_assign_variant", one_contact_assigned),
    Scenario("one experiment looked at", "campaigns_get_experiment_results", one_experiment_looked_at),
    Scenario("one experiment ended", "campaigns_end_experiment", one_experiment_ended),
    Scenario("one day pulled", "campaigns_refresh_performance", one_day_pulled, actors=CAMPAIGN_ACTORS),
    Scenario("organizations with one domain", "crm_create_organization", organizations_with_one_domain),
    Scenario("contacts with one email", "crm_create_contact", contacts_with_one_email),
    Scenario("one contact updated", "crm_update_contact", one_contact_updated),
    Scenario("one pair merged", "crm_merge_contacts", one_pair_merged),
    Scenario("one person captured twenty times", "crm_capture_lead", one_person_captured_twenty_times),
    Scenario("people of one company captured", "crm_capture_lead", people_of_one_company_captured),
    Scenario("one lead updated", "crm_update_lead", one_lead_updated),
    Scenario("one lead classified", "crm_classify_lead", one_lead_classified),
    Scenario("scoring rules set", "crm_set_scoring_rules", scoring_rules_set),
    Scenario("interactions logged", "crm_log_interaction", interactions_logged),
    Scenario("segments with one name", "crm_create_segment", segments_with_one_name),
    Scenario("flows started", "crm_start_flow", flows_started),
    Scenario("one flow advanced", "crm_advance_flow", one_flow_advanced),
    Scenario("one file imported", "crm_import_leads", one_file_imported),
    Scenario("checkouts started", "business_start_checkout", checkouts_started),
    Scenario("one subscription cancelled", "business_cancel_subscription", one_subscription_cancelled),
    Scenario("PayPal accounts refused in sandbox", "business_set_paypal_account", paypal_accounts_refused_in_sandbox),
    Scenario("brand kits with one name", "content_set_brand_kit", brand_kits_with_one_name),
    Scenario("copy generated once", "content_generate_copy", copy_generated_once),
    Scenario("one design imported", "content_import_design", one_design_imported),
    Scenario("one logo pushed", "content_push_brand_kit", one_logo_pushed),
    Scenario("one platform connected", "integrations_connect", one_platform_connected),
    Scenario("one platform disconnected", "integrations_disconnect", one_platform_disconnected),
    Scenario("one sync at a time", "integrations_sync", one_sync_at_a_time),
    Scenario("one support sync at a time", "integrations_sync", one_support_sync_at_a_time),
    Scenario("one segment synced to an audience", "integrations_sync", one_segment_synced_to_an_audience),
    Scenario("one message sent for one key", "integrations_send_message", one_message_sent_for_one_key),
    Scenario("image generated once", "content_generate_image", image_generated_once),
    Scenario("video generated once", "content_generate_video", video_generated_once),
    Scenario("asset submitted", "content_submit_asset", asset_submitted),
    Scenario("asset approved", "content_approve_asset", asset_approved, actors=("writer", "reviewer")),
    Scenario("asset rejected", "content_reject_asset", asset_rejected, actors=("writer", "reviewer")),
    Scenario("AI provider set on a fresh tenant", "content_set_ai_provider", ai_provider_set_on_a_fresh_tenant),
    Scenario("one campaign planned", "campaigns_plan_campaign", one_campaign_planned),
    Scenario("one campaign updated", "campaigns_update_campaign", one_campaign_updated),
    Scenario("one campaign submitted", "campaigns_submit_for_review", one_campaign_submitted, actors=CAMPAIGN_ACTORS),
    Scenario("one campaign approved", "campaigns_approve_campaign", one_campaign_approved, actors=CAMPAIGN_ACTORS),
    Scenario("previews of one campaign", "campaigns_preview_activation", previews_of_one_campaign, CAMPAIGN_ACTORS),
    Scenario("one campaign activated", "campaigns_activate_campaign", one_campaign_activated, CAMPAIGN_ACTORS),
    Scenario("one campaign paused", "campaigns_pause_campaign", one_campaign_paused, CAMPAIGN_ACTORS),
    Scenario("one campaign resumed", "campaigns_resume_campaign", one_campaign_resumed, CAMPAIGN_ACTORS),
    Scenario("one campaign ended", "campaigns_end_campaign", one_campaign_ended, CAMPAIGN_ACTORS),
    Scenario("one budget change", "campaigns_update_budget", one_budget_change, CAMPAIGN_ACTORS),
    Scenario("one rollback", "campaigns_rollback_change", one_rollback, CAMPAIGN_ACTORS),
    Scenario("one set of spend caps", "campaigns_set_spend_caps", one_set_of_caps),
]


@pytest.fixture(scope="module")
async def writing_tools(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bool]:
    """The tools the gateway lists as writing (read_only_hint false), with their idempotent_hint."""
    async with tenant_on(pg_database, tmp_path_factory.mktemp("listing")) as t:
        tools = await t.client.list_tools()
    writers = {
        tool.name: bool(tool.annotations and tool.annotations.idempotent_hint)
        for tool in tools
        if tool.annotations is None or tool.annotations.read_only_hint is not True
    }
    return writers


def test_every_writing_tool_has_a_scenario(writing_tools: dict[str, bool]) -> None:
    covered = {scenario.tool for scenario in SCENARIOS}
    assert set(writing_tools) == covered, {
        "writing tools without a scenario": sorted(set(writing_tools) - covered),
        "scenarios of tools not listed": sorted(covered - set(writing_tools)),
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name.replace(" ", "_") for s in SCENARIOS])
async def test_concurrent_calls_have_one_effect(
    scenario: Scenario, writing_tools: dict[str, bool], pg_database: str, tmp_path: Path
) -> None:
    assert scenario.tool in writing_tools
    async with tenant_on(pg_database, tmp_path, scenario.actors, **scenario.overrides) as t:
        t.idempotent = writing_tools
        await scenario.run(t)
