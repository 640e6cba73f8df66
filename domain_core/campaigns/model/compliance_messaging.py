"""Checks for owned messaging (email, SMS, WhatsApp): consent, required footer words and quiet hours."""

import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator

from promptsales.domain_core.campaigns.model.compliance_base import (
    CheckSpec,
    CountryCode,
    Hit,
    Params,
    Phrase,
    Registry,
    Scope,
    in_markets,
    listed,
    phrases_in,
)
from promptsales.domain_core.campaigns.model.compliance_facts import CampaignFacts, ConsentChannel


class ConsentParams(Params):
    """Messaging channels whose audience must have opted in, in the markets given (None: every market)."""

    channels: tuple[ConsentChannel, ...] = Field(min_length=1)
    markets: tuple[CountryCode, ...] | None = Field(default=None, min_length=1)


def _consent_scope(facts: CampaignFacts, params: ConsentParams) -> Iterator[tuple[ConsentChannel, tuple[str, ...]]]:
    for plan in facts.channels:
        countries = in_markets(params.markets, facts.channel_countries(plan))
        for consent_channel in params.channels:
            if plan.channel == consent_channel and countries:
                yield consent_channel, countries


def consent_granted(facts: CampaignFacts, params: ConsentParams) -> Iterator[Hit]:
    """Block a messaging channel whose audience has nobody with granted consent."""
    if facts.audience is None:  # audience.required reports it
        return
    for channel, countries in _consent_scope(facts, params):
        where = listed(countries)
        counts = facts.audience.consent.get(channel)
        if counts is None or counts.granted == 0:
            yield Hit(
                f"No member of segment {facts.audience.segment_id} has granted {channel} consent, which {channel} "
                f"messages in {where} require before sending.",
                f"Collect {channel} opt-ins (crm_update_contact records each person's consent) or remove the "
                f"{channel} channel.",
                channel=channel,
                subject=facts.audience.segment_id,
            )


def consent_partial(facts: CampaignFacts, params: ConsentParams) -> Iterator[Hit]:
    """Warn, with counts, that members without granted consent will be left out of a messaging send."""
    if facts.audience is None:
        return
    segment = facts.audience.segment_id
    for channel, countries in _consent_scope(facts, params):
        counts = facts.audience.consent.get(channel)
        if counts is None:
            yield Hit(
                f"Segment {segment} has no {channel} consent counts; sends go only to members who granted {channel} "
                "consent, which may be nobody.",
                f"Check the segment's {channel} consent in the CRM before activation.",
                channel=channel,
                subject=segment,
            )
        elif counts.without_consent:
            reached = f"{counts.granted} will" if counts.granted else "nobody will"
            yield Hit(
                f"{counts.without_consent} of {counts.granted + counts.without_consent} members of segment {segment} "
                f"will not get {channel} messages in {listed(countries)}: {counts.denied} refused and "
                f"{counts.unknown} never gave consent; {reached}.",
                f"Ask the others for {channel} consent to reach them; sends go only to those who opted in.",
                channel=channel,
                subject=segment,
            )


class AudienceParams(Params):
    """Channels that send to a CRM segment."""

    channels: tuple[ConsentChannel, ...] = Field(min_length=1)


def audience_named(facts: CampaignFacts, params: AudienceParams) -> Iterator[Hit]:
    """Block messaging channels when the campaign names no audience to send to."""
    if facts.audience is not None:
        return
    for channel in facts.channel_ids():
        if channel in params.channels:
            yield Hit(
                f"{channel} messages need an audience, and the campaign names none.",
                "Set the campaign's audience to a CRM segment (crm_list_segments lists them).",
                channel=channel,
            )


class WordGroup(Params):
    """Words of which at least one must appear in the copy; ``label`` names the group in messages."""

    label: Annotated[str, Field(min_length=1, max_length=80)]
    words: tuple[Phrase, ...] = Field(min_length=1)


class CopyMentionsParams(Scope):
    """Copy of the scoped channels must mention something from every group."""

    groups: tuple[WordGroup, ...] = Field(min_length=1)


def copy_mentions(facts: CampaignFacts, params: CopyMentionsParams) -> Iterator[Hit]:
    """Find creatives of the scoped channels and markets whose copy lacks a required group of words."""
    for plan in params.channels_in_scope(facts):
        if not params.countries_in_scope(facts.channel_countries(plan)):
            continue
        for creative in facts.creatives_of(plan):
            missing = [group.label for group in params.groups if not phrases_in(creative.text, group.words)]
            if missing:
                yield Hit(
                    f"The {plan.channel} creative {creative.asset_id} does not show {listed(missing)}.",
                    f"Add {listed(missing)} to the copy of {creative.asset_id} (content_rewrite_copy), or have a "
                    "reviewer confirm the sending tool adds them.",
                    channel=plan.channel,
                    subject=creative.asset_id,
                )


class SendingHoursParams(Scope):
    """Sends must fall between ``start_hour`` and ``end_hour`` in each of the recipients' time zones."""

    start_hour: Annotated[int, Field(ge=0, le=23)]
    end_hour: Annotated[int, Field(ge=1, le=24)]
    recipient_time_zones: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> "SendingHoursParams":
        if self.end_hour <= self.start_hour:
            raise ValueError("end_hour must be after start_hour")
        for zone in self.recipient_time_zones:
            if _zone(zone) is None:  # an unknown zone fails here, at load
                raise ValueError(f"unknown time zone '{zone}'")
        return self


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _offset_hours(zone: ZoneInfo, day: date) -> float:
    offset = datetime.combine(day, time(12), zone).utcoffset() or timedelta(0)
    return offset.total_seconds() / 3600


def _allowed_hours(campaign_zone: ZoneInfo, facts: CampaignFacts, params: SendingHoursParams) -> list[tuple[int, int]]:
    """Whole-hour spans of the campaign's clock (0-24) inside the window in every recipient zone on every flight day.

    The window seen from the campaign's clock may cross its midnight (Madrid sees 8:00-21:00 in the US as 19:00 to
    03:00), so it can come back as two spans.
    """
    zones = [ZoneInfo(name) for name in params.recipient_time_zones]
    earliest, latest = -math.inf, math.inf
    for index in range(facts.schedule.days):
        day = facts.schedule.start_date + timedelta(days=index)
        campaign_offset = _offset_hours(campaign_zone, day)
        for zone in zones:
            ahead = campaign_offset - _offset_hours(zone, day)  # campaign clock minus recipient clock
            earliest = max(earliest, params.start_hour + ahead)
            latest = min(latest, params.end_hour + ahead)
    spans = []
    for shift in (-24, 0, 24):
        low, high = math.ceil(max(0.0, earliest + shift)), math.floor(min(24.0, latest + shift))
        if low < high:
            spans.append((low, high))
    return spans


def _spans(spans: list[tuple[int, int]]) -> str:
    return listed((f"{low:02d}:00-{high:02d}:00" for low, high in spans), last="or")


def sending_hours(facts: CampaignFacts, params: SendingHoursParams) -> Iterator[Hit]:
    """Block scoped channels unless dayparting keeps every send inside the window in all recipient zones."""
    for plan in params.channels_in_scope(facts):
        countries = params.countries_in_scope(facts.channel_countries(plan))
        if not countries:
            continue
        window = f"{params.start_hour:02d}:00-{params.end_hour:02d}:00 recipients' local time in {listed(countries)}"
        zone = facts.schedule.time_zone
        campaign_zone = _zone(zone)
        if campaign_zone is None:
            yield Hit(
                f"{plan.channel} sends must stay within {window}, and the schedule's time zone '{zone}' is unknown, "
                "so its hours cannot be checked.",
                "Set schedule.time_zone to an IANA zone such as America/New_York.",
                channel=plan.channel,
            )
            continue
        spans = _allowed_hours(campaign_zone, facts, params)
        if not spans:
            yield Hit(
                f"No whole hour of {zone} falls within {window} in every recipient time zone.",
                "Set schedule.time_zone to one of the recipients' zones and daypart within the window.",
                channel=plan.channel,
            )
            continue
        fix = (
            f"Set schedule.dayparting so sends run {_spans(spans)} {zone} only (that is within "
            f"{params.start_hour:02d}:00-{params.end_hour:02d}:00 in every recipient time zone)."
        )
        if not facts.schedule.dayparting:
            yield Hit(
                f"{plan.channel} sends have no dayparting, so they may go out outside {window}.", fix, plan.channel
            )
            continue
        for part in facts.schedule.dayparting:
            if not any(low <= part.start_hour and part.end_hour <= high for low, high in spans):
                yield Hit(
                    f"{plan.channel} dayparting {part.start_hour:02d}:00-{part.end_hour:02d}:00 {zone} sends outside "
                    f"{window}.",
                    fix,
                    channel=plan.channel,
                    subject=f"{part.start_hour:02d}:00-{part.end_hour:02d}:00",
                )


CHECKS: Registry = {
    "consent_granted": CheckSpec(ConsentParams, consent_granted),
    "consent_partial": CheckSpec(ConsentParams, consent_partial),
    "audience_named": CheckSpec(AudienceParams, audience_named),
    "copy_mentions": CheckSpec(CopyMentionsParams, copy_mentions),
    "sending_hours": CheckSpec(SendingHoursParams, sending_hours),
}
