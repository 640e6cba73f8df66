"""Checks on what the campaign says: creatives approved and lint-clean, influencer posts disclosed."""

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from promptsales.domain_core.campaigns.model.compliance_base import (
    CheckSpec,
    CountryCode,
    Hit,
    NoParams,
    Params,
    Phrase,
    Registry,
    in_markets,
    listed,
    phrases_in,
)
from promptsales.domain_core.campaigns.model.compliance_facts import CampaignFacts


def creatives_approved(facts: CampaignFacts, params: NoParams) -> Iterator[Hit]:
    """Block creatives not approved in the content library, and creative ids the facts do not describe."""
    known = {creative.asset_id for creative in facts.creatives}
    for creative in facts.creatives:
        if not creative.approved:
            yield Hit(
                f"The {creative.channel} creative {creative.asset_id} is not approved in the content library.",
                f"Approve {creative.asset_id} (content_approve_asset) or replace it with an approved creative.",
                channel=creative.channel,
                subject=creative.asset_id,
            )
    for plan in facts.channels:
        for asset_id in plan.creative_ids:
            if asset_id not in known:
                yield Hit(
                    f"{plan.channel} names creative {asset_id}, which the content library did not describe, so its "
                    "approval cannot be checked.",
                    f"Check the id in {plan.channel}'s creative_ids (content_list_assets lists them).",
                    channel=plan.channel,
                    subject=asset_id,
                )


class LintParams(Params):
    """Which severity of the content context's copy lint this rule reports."""

    severity: Literal["error", "warning"]


def creative_lint(facts: CampaignFacts, params: LintParams) -> Iterator[Hit]:
    """Report the content lint's findings of one severity on each creative."""
    for creative in facts.creatives:
        for lint in creative.lint:
            if lint.severity == params.severity:
                yield Hit(
                    f"The {creative.channel} creative {creative.asset_id}: {lint.message} ({lint.code}).",
                    f"Rewrite {creative.asset_id} (content_rewrite_copy) until content_check_copy no longer reports "
                    f"{lint.code}.",
                    channel=creative.channel,
                    subject=creative.asset_id,
                )


class DisclosureParams(Params):
    """Markers of which an influencer post must carry one, for campaigns in the markets given (None: every one)."""

    markers: tuple[Phrase, ...] = Field(min_length=1)
    markets: tuple[CountryCode, ...] | None = Field(default=None, min_length=1)


def influencer_disclosure(facts: CampaignFacts, params: DisclosureParams) -> Iterator[Hit]:
    """Block influencer posts whose disclosure carries none of the markers the markets require."""
    countries = in_markets(params.markets, facts.countries())
    if not countries:
        return
    examples = listed((repr(marker) for marker in params.markers[:3]), last="or")
    for post in facts.influencers:
        if post.disclosure is None or not phrases_in(post.disclosure, params.markers):
            shown = "no disclosure" if post.disclosure is None else f"the disclosure {post.disclosure!r}"
            yield Hit(
                f"The influencer post by {post.handle} has {shown}; paid posts in {listed(countries)} must say they "
                f"are advertising, e.g. {examples}.",
                f"Set the disclosure of {post.handle}'s post to include {examples}, at the start of the caption.",
                channel="influencer",
                subject=post.handle,
            )


CHECKS: Registry = {
    "creatives_approved": CheckSpec(NoParams, creatives_approved),
    "creative_lint": CheckSpec(LintParams, creative_lint),
    "influencer_disclosure": CheckSpec(DisclosureParams, influencer_disclosure),
}
