"""Cross-context workflow playbooks as MCP prompts (registered on the gateway, so tool names are namespaced).

Each playbook names the tools to call, in order. A test checks every tool it names exists in the gateway.
"""

from datetime import date, timedelta
from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field

Channel = Literal["google_ads", "meta", "tiktok", "linkedin", "x", "email", "sms", "whatsapp", "push"]


def _is_day(text: str) -> bool:
    """Whether ``text`` is a YYYY-MM-DD date (the prompt still renders, naming the week loosely, when it is not)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def register(server: FastMCP) -> None:
    """Add the workflow prompts to the gateway."""

    @server.prompt(
        name="launch_campaign_for_goal",
        description="Take a business goal to a live campaign: plan, approved creatives, compliance, approval, "
        "activation.",
    )
    def launch_campaign_for_goal(
        goal: Annotated[
            str, Field(max_length=2000, description="The business goal, e.g. '40 demo requests from EU fintech in Q1'.")
        ],
        channels: Annotated[
            str, Field(max_length=300, description="Comma-separated channels, e.g. 'google_ads,linkedin,email'.")
        ],
        budget: Annotated[
            str | None, Field(max_length=100, description="Budget and currency, e.g. '5000 EUR'.")
        ] = None,
    ) -> str:
        wanted = [c.strip() for c in channels.split(",") if c.strip()]
        checks = ", ".join(f"'channel:{c}'" for c in wanted)
        return (
            f"Goal: {goal}. Channels: {', '.join(wanted)}." + (f" Budget: {budget}." if budget else "") + "\n"
            f"1. business_check_entitlement for {checks}; stop and explain the upgrade (business_start_checkout) if a "
            "channel is not included.\n"
            "2. campaigns_plan_campaign from the goal: objective, product, markets (countries and languages), "
            "dates, landing_url, the budget and currency, target_metric and target_value, these channels (and a "
            "CRM segment_id if the goal names an audience). Show the person the budget split, forecast and "
            "assumptions.\n"
            "3. For each channel of the plan: content_generate_copy (its main format, 3 variants; "
            "content_get_brand_kit for voice and disclaimers) and content_generate_image for visual placements; "
            "content_submit_asset for the chosen ones and ask a person to approve them (content_approve_asset).\n"
            "4. campaigns_update_campaign with channels=[{channel, creative_ids}] to attach the approved asset ids.\n"
            "5. campaigns_check_compliance; fix every blocking finding with campaigns_update_campaign and check "
            "again.\n"
            "6. campaigns_submit_for_review. If it went to in_review, a person with the campaigns:approve scope "
            "decides with campaigns_approve_campaign (never approve it yourself); on a rejection, apply the note and "
            "repeat 5-6.\n"
            "7. campaigns_preview_activation: show what will be created and the most it can spend per day and in "
            "total, and wait for the person's go-ahead.\n"
            "8. campaigns_activate_campaign with the preview's confirmation_token (a new preview if it expired).\n"
            "9. campaigns_get_campaign: report each platform object's id, status and tracking URL, and the next "
            "steps."
        )

    @server.prompt(name="write_ad_set", description="Write a channel-ready ad set: copy variants and creatives.")
    def write_ad_set(
        brief: Annotated[
            str, Field(max_length=4000, description="Product, audience, benefits, proof, offer, call to action.")
        ],
        channel: Annotated[Channel, Field(description="Where the ads run.")],
        format: Annotated[
            str, Field(max_length=40, description="The channel's format, e.g. rsa, feed, in_feed, post.")
        ],
        placement: Annotated[
            str | None, Field(max_length=60, description="Image placement, e.g. meta_feed_square.")
        ] = None,
        language: Annotated[Literal["en", "es"], Field(description="Language.")] = "en",
    ) -> str:
        image = (
            f"3. content_generate_image with placement '{placement}' for the strongest variant's message.\n"
            if placement
            else "3. (No image placement given: skip creatives, or pick one from content://content/channel-specs.)\n"
        )
        return (
            f"Write an ad set for {channel}/{format} in '{language}' from this brief:\n{brief}\n"
            f"1. content_generate_copy with channel '{channel}', format '{format}', language '{language}', "
            "variants 5.\n"
            "2. Read each variant's lint: for any error, content_rewrite_copy and keep the fixed copy; never ship copy "
            "whose lint has errors.\n"
            + image
            + "4. content_submit_asset for the 2-3 best variants (and the image), then list the asset ids with why "
            "each was chosen (lengths vs limits, hook, proof)."
        )

    @server.prompt(
        name="weekly_performance_report",
        description="Weekly report on campaign results, attribution, experiments, pipeline and plan usage.",
    )
    def weekly_performance_report(
        week_start: Annotated[str, Field(max_length=10, description="First day of the week, YYYY-MM-DD.")],
    ) -> str:
        start = date.fromisoformat(week_start) if _is_day(week_start) else None
        until = (start + timedelta(days=6)).isoformat() if start else "six days later"
        return (
            f"Write the weekly report for {week_start} to {until}.\n"
            f"1. campaigns_get_insights with since {week_start}, until {until}, breakdown 'channel' and chart 'trend': "
            "spend, leads, customers, CPL/CPA/ROAS, the change against the week before, each campaign's pacing and "
            "KPI targets, and the anomalies it names. Call it again with breakdown 'campaign' and chart 'funnel'. "
            "Show both charts.\n"
            "2. campaigns_compare_attribution_models for the last 90 days ending that week, conversion 'customer', "
            "with the models the plan allows (last_touch, linear, position_based; add markov and shapley if allowed): "
            "which channels each model credits, and where they disagree and why.\n"
            "3. campaigns_list_experiments (running and those finished that week) and campaigns_get_experiment_results "
            "for each: the verdict (ship, keep running and for how long, or stop), the lift with its interval, and "
            "any sample-ratio warning.\n"
            "4. crm_list_leads for leads created that week: counts by source channel and stage; the top 5 by score.\n"
            "5. business_get_usage: quotas near their limits (contacts, generations, activations).\n"
            "6. Report: headline numbers first, then what changed versus last week, anomalies and pacing risks, "
            "experiment decisions to take, and three recommended actions (budget moves between channels backed by "
            "CPL and attribution, creatives to refresh, experiments to start)."
        )

    @server.prompt(name="follow_up_sequence", description="Draft a follow-up sequence for one lead, in its context.")
    def follow_up_sequence(
        contact_id: Annotated[str, Field(max_length=40, description="The contact (ct_…) to follow up.")],
        steps: Annotated[int, Field(ge=1, le=6, description="How many touches.")] = 3,
        channel: Annotated[
            Literal["email", "sms", "whatsapp"], Field(description="Channel of the sequence.")
        ] = "email",
    ) -> str:
        fmt = {"email": "message", "sms": "text", "whatsapp": "template"}[channel]
        return (
            f"Draft a {steps}-step {channel} follow-up for contact {contact_id}.\n"
            "1. crm_get_customer_360 for the contact: leads, stage, score factors, consent, the timeline's intents and "
            "sentiment.\n"
            f"2. Stop if the contact has not consented to {channel} or the latest intent is unsubscribe; say so.\n"
            "3. content_summarize the recent interactions to ground the messages in what the person said.\n"
            f"4. For each step: content_generate_copy with channel '{channel}', format '{fmt}', a brief that names the "
            "person's need and the next step, then content_check_copy; space the steps over two weeks.\n"
            "5. crm_log_interaction is for real touches only: do not log drafts. Return the sequence with send days."
        )
