"""Where a lead came from, as its links say: UTM parameters read back from the landing page when not given apart,
and the campaign reference taken from ``utm_campaign`` when none is named (campaign tracking links put the
campaign's id there, so a lead is attributed without the capturing agent copying it)."""

from urllib.parse import parse_qsl, urlsplit

UTM_PARTS = ("source", "medium", "campaign", "term", "content")
MAX_PART = 200  # Utm's field bounds
MAX_CAMPAIGN_REF = 120


def utm_from_url(url: str | None) -> dict[str, str]:
    """The utm_* parameters of a URL's query (empty values and unknown keys ignored)."""
    if not url:
        return {}
    try:
        query = parse_qsl(urlsplit(url).query, keep_blank_values=False)
    except ValueError:
        return {}
    found: dict[str, str] = {}
    for key, value in query:
        part = key.removeprefix("utm_")
        if key.startswith("utm_") and part in UTM_PARTS and part not in found and value.strip():
            found[part] = value.strip()[:MAX_PART]
    return found


def campaign_ref_from(campaign_ref: str | None, utm: dict[str, str]) -> str | None:
    """The campaign reference given, else the UTM campaign (bounded as the column is)."""
    if campaign_ref:
        return campaign_ref
    campaign = utm.get("campaign")
    return campaign[:MAX_CAMPAIGN_REF] if campaign else None
