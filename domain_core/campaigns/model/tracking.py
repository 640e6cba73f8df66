"""Tracking links: the UTM parameters every activated object's links carry, and reading them back from a lead.

``utm_campaign`` is the campaign id, ``utm_source``/``utm_medium`` name the channel (its catalogue values) and
``utm_content`` the ad, email or influencer, so a lead CRM capture records with these parameters is attributed to
the campaign, the channel and the ad without guessing.
"""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from promptsales.domain_core.shared.dto import Dto

CAMPAIGN_ID = re.compile(r"^cp_[0-9A-Za-z]{10,36}$")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


class TrackingRef(Dto):
    """What a lead's UTM parameters say about where it came from."""

    campaign_id: str
    source: str | None = None
    medium: str | None = None
    content: str | None = None


def parameters(*, campaign_id: str, source: str, medium: str, content: str | None) -> dict[str, str]:
    """The UTM parameters of one tracked link."""
    found = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign_id}
    if content:
        found["utm_content"] = content[:200]
    return found


def tracked_url(landing_url: str, utm: dict[str, str]) -> str:
    """``landing_url`` with ``utm`` set (other query parameters and the fragment are kept; old UTM values replaced)."""
    parts = urlsplit(landing_url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in UTM_KEYS]
    return urlunsplit(parts._replace(query=urlencode([*kept, *utm.items()])))


def template(landing_url: str) -> str:
    """The tracking template shown to people: the landing page with placeholders for the channel and the ad."""
    return (
        tracked_url(
            landing_url,
            {
                "utm_source": "{source}",
                "utm_medium": "{medium}",
                "utm_campaign": "{campaign_id}",
                "utm_content": "{ad}",
            },
        )
        .replace("%7B", "{")
        .replace("%7D", "}")
    )


def read_back(utm: dict[str, str]) -> TrackingRef | None:
    """The campaign a lead's UTM parameters (``campaign``, ``source``… as CRM stores them) name, if any."""
    campaign = (utm.get("campaign") or "").strip()
    if not CAMPAIGN_ID.match(campaign):
        return None
    return TrackingRef(
        campaign_id=campaign, source=utm.get("source"), medium=utm.get("medium"), content=utm.get("content")
    )
