"""Reusable setup fragments for the tasks: people, approved copy, planned/approved/live campaigns, experiments."""

from datetime import timedelta
from typing import Any

from fastmcp import Client

from evals.agents.spec import Hook, Step
from evals.agents.suite import Suite

REVIEWER = "reviewer-marta"
ANA: dict[str, Any] = {
    "email": "ana.garcia@northwind.example",
    "first_name": "Ana",
    "last_name": "García",
    "title": "VP Marketing",
    "company": "Northwind",
    "company_domain": "northwind.example",
    "industry": "Software",
    "employee_count": 800,
    "country": "ES",
}
LUIS: dict[str, Any] = {
    "email": "luis@tienda-pequena.example",
    "first_name": "Luis",
    "title": "Intern",
    "company": "Tienda Pequeña",
    "industry": "Retail",
    "employee_count": 3,
    "country": "MX",
}
BRIEF = "Contabilidad online para pymes: facturas en minutos, prueba gratis 30 días"
CAMPAIGN = "Contabilidad ES marzo"


def capture(save: str, person: dict[str, Any], source: str = "web_form", **extra: Any) -> Step:
    """crm_capture_lead of ``person``."""
    return Step("crm_capture_lead", {**person, "source_channel": source, **extra}, save=save)


def approved_copy(save: str, channel: str, fmt: str) -> tuple[Step, ...]:
    """One copy variant written by the agent, submitted, and approved by a reviewer; ``save`` holds the copy result."""
    asset = f"${save}.variants.0.asset_id"
    return (
        Step(
            "content_generate_copy",
            {"brief": BRIEF, "channel": channel, "format": fmt, "language": "es", "variants": 1},
            save=save,
        ),
        Step("content_submit_asset", {"asset_id": asset}),
        Step("content_approve_asset", {"asset_id": asset, "note": "On brand."}, actor=REVIEWER),
    )


def plan_args(start: str = "$dates.march_start", end: str = "$dates.march_end") -> dict[str, Any]:
    """The goal: 300 leads for accounting software in Spain, 15,000 EUR."""
    return {
        "name": CAMPAIGN,
        "objective": "leads",
        "product": "Accounting software for small businesses",
        "markets": [{"country": "ES", "languages": ["es"]}],
        "start_date": start,
        "end_date": end,
        "landing_url": "https://books.example/es/prueba",
        "budget": 15000,
        "currency": "EUR",
        "target_metric": "leads",
        "target_value": 300,
        "industry": "Software",
        "channels": ["google_search", "meta_facebook"],
    }


def planned_campaign(*, live_from_today: bool = False) -> tuple[Step, ...]:
    """Ad platforms connected and the campaign planned (``plan``), with approved copy attached to both channels."""
    window = ("$dates.today", "$dates.in_29_days") if live_from_today else ("$dates.march_start", "$dates.march_end")
    return (
        Step("integrations_connect", {"platform": "google_ads"}),
        Step("integrations_connect", {"platform": "meta_ads"}),
        Step("campaigns_plan_campaign", plan_args(*window), save="plan"),
        *approved_copy("search_copy", "google_ads", "rsa"),
        *approved_copy("feed_copy", "meta", "feed"),
        Step(
            "campaigns_update_campaign",
            {
                "campaign_id": "$plan.id",
                "channels": [
                    {"channel": "google_search", "creative_ids": ["$search_copy.variants.0.asset_id"]},
                    {"channel": "meta_facebook", "creative_ids": ["$feed_copy.variants.0.asset_id"]},
                ],
            },
        ),
    )


def approved_campaign(*, live_from_today: bool = False) -> tuple[Step, ...]:
    """The planned campaign submitted; compliance approves ordinary software ads at once."""
    return (
        *planned_campaign(live_from_today=live_from_today),
        Step("campaigns_submit_for_review", {"campaign_id": "$plan.id"}),
    )


def advance_sandbox(hours: float) -> Hook:
    """Let the sandbox ad platforms deliver for ``hours``."""

    async def hook(suite: Suite, client: Client[Any], saved: dict[str, Any]) -> None:
        suite.runtime.integrations.sandbox.advance(timedelta(hours=hours))

    return hook


def live_campaign() -> tuple[Step | Hook, ...]:
    """The campaign approved, activated from today and delivering for six hours."""
    return (
        *approved_campaign(live_from_today=True),
        Step("campaigns_preview_activation", {"campaign_id": "$plan.id"}, save="preview"),
        Step(
            "campaigns_activate_campaign",
            {"campaign_id": "$plan.id", "confirmation_token": "$preview.confirmation_token"},
            save="activation",
        ),
        advance_sandbox(6),
    )


EXPERIMENT: dict[str, Any] = {
    "name": "Subject line: question vs statement",
    "subject": "email",
    "variants": [{"key": "control", "description": "Statement"}, {"key": "question", "description": "Question"}],
    "primary_metric": "customer",
    "minimum_detectable_effect": 0.2,
    "baseline": 0.05,
    "units_per_day": 400,
}


def experiment() -> Step:
    """The running subject-line experiment (``exp``)."""
    return Step("campaigns_create_experiment", EXPERIMENT, save="exp")
