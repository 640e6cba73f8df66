"""What each scenario calls: tool names, per-call arguments (factories) and the rows seeded before measuring.

A factory maps (connection number, per-connection sequence number) to (tool, arguments); connection numbers are
unique within the process and sequences keep running across phases, so write keys never repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from loadgen import REQUEST_TIMEOUT_S, CallFactory, Endpoint, JsonObject, Protocol, ToolSession
from services import StartupError

FASTMCP_TOOL = "echo_lead"
READ_TOOL = "crm_get_lead"
WRITE_TOOL = "crm_capture_lead"
PLAN_TOOL = "campaigns_plan_campaign"
CAMPAIGN_READ_TOOL = "campaigns_get_campaign"
COPY_TOOL = "content_generate_copy"
# A brief like the copy tests' (tests/servers/test_content_copy.py); variants stay at the tool's default (3).
COPY_ARGUMENTS: JsonObject = {
    "brief": "Spring sale on CRM seats, 20% off for teams that sign up before April",
    "channel": "google_ads",
    "format": "rsa",
}
CAMPAIGN_LEAD_DAYS = 30  # planned campaigns start a month ahead and run for 30 days


def baseline_factory(_connection: int, sequence: int) -> tuple[str, JsonObject]:
    return READ_TOOL, {"lead_id": f"lead-{sequence % 50}"}


def fastmcp_factory(_connection: int, sequence: int) -> tuple[str, JsonObject]:
    return FASTMCP_TOOL, {"lead_id": f"lead-{sequence % 50}"}


def read_factory(lead_ids: Sequence[str]) -> CallFactory:
    def factory(connection: int, sequence: int) -> tuple[str, JsonObject]:
        return READ_TOOL, {"lead_id": lead_ids[(connection * 7 + sequence) % len(lead_ids)]}

    return factory


def write_arguments(email: str, first_name: str) -> JsonObject:
    return {
        "email": email,
        "source_channel": "web_form",
        "first_name": first_name,
        "utm": {"source": "google", "medium": "cpc", "campaign": "bench"},
    }


def write_factory(connection: int, sequence: int) -> tuple[str, JsonObject]:
    return WRITE_TOOL, write_arguments(f"bench-{connection}-{sequence}@example.com", "Bench")


def tenant_write_factory(connection: int, sequence: int) -> tuple[str, JsonObject]:
    """A new contact per call, as ``write``; the tenant is the connection's (its bearer token's)."""
    return WRITE_TOOL, write_arguments(f"tenants-{connection}-{sequence}@example.com", "Tenant")


def campaigns_factory(campaign_ids: Sequence[str]) -> CallFactory:
    def factory(connection: int, sequence: int) -> tuple[str, JsonObject]:
        return CAMPAIGN_READ_TOOL, {"campaign_id": campaign_ids[(connection + sequence) % len(campaign_ids)]}

    return factory


def copy_factory(_connection: int, _sequence: int) -> tuple[str, JsonObject]:
    return COPY_TOOL, COPY_ARGUMENTS


def _writes(_lead_ids: Sequence[str]) -> CallFactory:
    return write_factory


def _copies(_lead_ids: Sequence[str]) -> CallFactory:
    return copy_factory


# Each scenario's calls, given the ids of the seeded leads (profile_crm.py drives these).
SCENARIO_FACTORIES: dict[str, Callable[[Sequence[str]], CallFactory]] = {
    "read": read_factory,
    "write": _writes,
    "copy": _copies,
}


def plan_arguments(index: int, today: date) -> JsonObject:
    """A lead-generation goal for one market, like the campaigns tests' (tests/servers/test_campaigns_tools.py)."""
    start = today + timedelta(days=CAMPAIGN_LEAD_DAYS)
    return {
        "name": f"Bench campaign {index}",
        "objective": "leads",
        "product": "Accounting software for small businesses",
        "markets": [{"country": "ES", "languages": ["es"]}],
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=CAMPAIGN_LEAD_DAYS - 1)).isoformat(),
        "landing_url": "https://books.example/es/prueba",
        "budget": 15000,
        "currency": "EUR",
        "target_metric": "leads",
        "target_value": 300,
    }


async def call_each(
    endpoint: Endpoint, protocol: Protocol, calls: Sequence[tuple[str, JsonObject]]
) -> list[JsonObject]:
    """Make the calls one after another; their structured results, or StartupError at the first failure."""
    session = ToolSession(endpoint, protocol)
    results: list[JsonObject] = []
    try:
        for tool, arguments in calls:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                outcome = await session.call(tool, arguments)
            if not outcome.ok or outcome.result is None:
                raise StartupError(f"seeding with {tool} failed: {outcome.error}")
            results.append(outcome.result["structuredContent"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise StartupError(f"seeding failed: {type(exc).__name__}: {exc}") from exc
    finally:
        session.close()
    return results


async def seed_leads(endpoint: Endpoint, protocol: Protocol, count: int) -> list[str]:
    """Capture ``count`` leads and return their ids (so reads hit existing rows)."""
    calls = [(WRITE_TOOL, write_arguments(f"seed-{index}@example.com", "Seed")) for index in range(count)]
    try:
        return [str(result["lead"]["id"]) for result in await call_each(endpoint, protocol, calls)]
    except (KeyError, TypeError) as exc:
        raise StartupError(f"{WRITE_TOOL} answered without a lead id: {exc!r}") from exc


async def seed_campaigns(endpoint: Endpoint, protocol: Protocol, count: int) -> list[str]:
    """Plan ``count`` campaigns through the campaigns tools and return their ids."""
    today = date.today()
    calls = [(PLAN_TOOL, plan_arguments(index, today)) for index in range(count)]
    try:
        return [str(result["id"]) for result in await call_each(endpoint, protocol, calls)]
    except (KeyError, TypeError) as exc:
        raise StartupError(f"{PLAN_TOOL} answered without a campaign id: {exc!r}") from exc
