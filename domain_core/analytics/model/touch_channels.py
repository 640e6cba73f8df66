"""The channel a journey step stands for, read from how the person arrived: a campaign link, an ad click id, UTM
parameters, a referrer, or the CRM source channel."""

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

DIRECT = "direct"

# Click ids ad platforms append to the landing page URL when auto-tagging is on (gclid: Google Ads auto-tagging;
# fbclid: Meta; ttclid: TikTok; li_fat_id: LinkedIn). A click id proves an ad click even without UTM parameters.
CLICK_IDS = {"gclid": "google_ads", "gbraid": "google_ads", "wbraid": "google_ads", "fbclid": "meta",
             "ttclid": "tiktok", "li_fat_id": "linkedin"}  # fmt: skip
PAID_MEDIUMS = frozenset({"cpc", "ppc", "paid", "paidsearch", "paid_search", "paid_social", "paidsocial", "display",
                          "cpm", "banner"})  # fmt: skip
# CRM source channels that are their own channel in a journey; web forms without a referrer or UTM are direct.
OWN_CHANNELS = frozenset({"email", "sms", "whatsapp", "chat", "voice", "event", "import", "ads_platform"})


def _clean(value: object) -> str:
    return value.strip().lower()[:60] if isinstance(value, str) else ""


def click_channel(landing_page: str | None) -> str | None:
    """The ad platform whose click id the landing page URL carries, if any."""
    if not landing_page:
        return None
    try:
        query = urlsplit(landing_page[:2048]).query
    except ValueError:
        return None
    for key, _ in parse_qsl(query, keep_blank_values=False):
        if key.lower() in CLICK_IDS:
            return CLICK_IDS[key.lower()]
    return None


CHANNEL_MAX = 32


def touch_channel(
    *,
    campaign_channel: str | None,
    utm: Mapping[str, object],
    landing_page: str | None,
    referrer: str | None,
    source_channel: str | None,
) -> str:
    """One channel name per step: the campaign's channel when a campaign link names it, else the ad platform of a
    click id, else paid/organic by UTM medium, else referral, else the CRM source (web forms alone are direct)."""
    return _derive(campaign_channel, utm, landing_page, referrer, source_channel)[:CHANNEL_MAX]


def _derive(
    campaign_channel: str | None,
    utm: Mapping[str, object],
    landing_page: str | None,
    referrer: str | None,
    source_channel: str | None,
) -> str:
    if campaign_channel:
        return campaign_channel
    clicked = click_channel(landing_page)
    if clicked:
        return clicked
    source, medium = _clean(utm.get("source")), _clean(utm.get("medium"))
    if medium in PAID_MEDIUMS:
        return f"paid_{source}" if source else "paid_other"
    if medium == "email":
        return "email"
    if medium in ("social", "organic_social"):
        return "organic_social"
    if medium == "organic":
        return "organic_search"
    if medium or source:
        return f"{medium or 'referral'}_{source}" if source else medium
    if referrer:
        return "referral"
    channel = _clean(source_channel)
    return channel if channel in OWN_CHANNELS else DIRECT
