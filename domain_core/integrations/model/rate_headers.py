"""Reading the platforms' rate-limit and usage headers into "how long to wait / how much is left" (pure).

Sources (shared/reference/platform_apis.md):
* ``Retry-After``: RFC 9110 §10.2.3, delay-seconds or an HTTP-date (Zendesk §11 sends seconds on 429).
* Meta §3: ``X-Business-Use-Case-Usage`` is JSON keyed by business / ad-account id, each a list of
  ``{type, call_count, total_cputime, total_time, estimated_time_to_regain_access (minutes), ...}`` with
  percentages 0-100; ``X-App-Usage`` / ``X-Ad-Account-Usage`` are one object ``{call_count, total_cputime,
  total_time}`` of percentages.
* Salesforce §10: ``Sforce-Limit-Info: api-usage=25/15000`` (used / daily allowance) [~].
* HubSpot §9: ``X-HubSpot-RateLimit-Daily`` / ``-Daily-Remaining`` and the interval variants
  ``X-HubSpot-RateLimit-Max`` / ``-Remaining`` / ``-Interval-Milliseconds`` (a rolling window).

Every parser is total: a malformed header yields None (it is ignored), never an exception, because a platform
changing a header must not break a request that otherwise succeeded.
"""

import email.utils
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# A wait longer than this (a day) is not believed: it is treated as "exhausted, no usable wait time".
MAX_BELIEVABLE_WAIT_S = 86_400.0


@dataclass(frozen=True, slots=True)
class RateSignal:
    """What a response's headers say about the platform's limits.

    ``wait_seconds``: how long the platform asks to wait before the next call (None: no hint).
    ``remaining``: the fraction (0..1) left of the tightest quota it reported (None: not reported).
    ``exhausted``: some quota is used up (a call now would be refused).
    """

    wait_seconds: float | None = None
    remaining: float | None = None
    exhausted: bool = False
    sources: tuple[str, ...] = ()

    def merge(self, other: "RateSignal") -> "RateSignal":
        """The stricter reading of both: the longer wait, the smaller remainder."""
        return RateSignal(
            wait_seconds=_max_opt(self.wait_seconds, other.wait_seconds),
            remaining=_min_opt(self.remaining, other.remaining),
            exhausted=self.exhausted or other.exhausted,
            sources=self.sources + other.sources,
        )


NO_SIGNAL = RateSignal()


def _max_opt(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _min_opt(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _clamp01(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _believable(wait: float) -> float | None:
    return wait if 0.0 <= wait <= MAX_BELIEVABLE_WAIT_S else None


def parse_retry_after(value: str, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date), or None when unusable.

    A date in the past means "now" (0). ``now`` defaults to the current UTC time.
    """
    text = value.strip()
    if not text:
        return None
    if text.isascii() and (text.isdigit() or _is_decimal(text)):
        seconds = float(text)
        return _believable(seconds) if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        return None
    reference = now if now is not None else datetime.now(UTC)
    return _believable(max((moment - reference).total_seconds(), 0.0))


def _is_decimal(text: str) -> bool:
    head, dot, tail = text.partition(".")
    return bool(dot) and head.isdigit() and tail.isdigit()


def _meta_usage(entry: Mapping[str, Any], source: str) -> RateSignal | None:
    percents = [
        p for key in ("call_count", "total_cputime", "total_time") if (p := _number(entry.get(key))) is not None
    ]
    if not percents:
        return None
    used = max(percents) / 100.0
    minutes = _number(entry.get("estimated_time_to_regain_access"))
    wait = _believable(minutes * 60.0) if minutes is not None and minutes > 0 else None
    return RateSignal(
        wait_seconds=wait,
        remaining=_clamp01(1.0 - used),
        exhausted=used >= 1.0 or wait is not None,
        sources=(source,),
    )


def parse_meta_app_usage(value: str, *, source: str = "x-app-usage") -> RateSignal | None:
    """Meta ``X-App-Usage`` / ``X-Ad-Account-Usage``: one JSON object of percentages."""
    try:
        document = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    return _meta_usage(document, source)


def parse_meta_business_use_case_usage(value: str) -> RateSignal | None:
    """Meta ``X-Business-Use-Case-Usage``: ``{id: [{type, call_count, ..., estimated_time_to_regain_access}]}``.

    The strictest entry over every id and use-case type wins.
    """
    try:
        document = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    signal: RateSignal | None = None
    for entries in document.values():
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict):
                continue
            kind = entry.get("type")
            found = _meta_usage(
                entry, f"x-business-use-case-usage:{kind}" if isinstance(kind, str) else "x-business-use-case-usage"
            )
            if found is not None:
                signal = found if signal is None else signal.merge(found)
    return signal


def parse_sforce_limit_info(value: str) -> RateSignal | None:
    """Salesforce ``Sforce-Limit-Info: api-usage=25/15000``: the daily API allowance used so far."""
    for part in value.split(","):
        name, sep, usage = part.strip().partition("=")
        if not sep or name.strip().lower() != "api-usage":
            continue
        used_text, slash, limit_text = usage.strip().partition("/")
        used, limit = _number(used_text), _number(limit_text)
        if not slash or used is None or limit is None or limit <= 0 or used < 0:
            return None
        # The allowance is a rolling 24 h total: no wait time can be derived from it.
        return RateSignal(
            remaining=_clamp01(1.0 - used / limit), exhausted=used >= limit, sources=("sforce-limit-info",)
        )
    return None


def parse_hubspot_rate_limit(headers: Mapping[str, str]) -> RateSignal | None:
    """HubSpot's ``X-HubSpot-RateLimit-*`` headers (rolling interval window and daily allowance).

    When the interval window is used up the wait is the window length: HubSpot does not say when the window
    started, so waiting one full interval is the shortest wait that is certain to be enough.
    """
    signal: RateSignal | None = None
    limit = _number(headers.get("x-hubspot-ratelimit-max"))
    left = _number(headers.get("x-hubspot-ratelimit-remaining"))
    interval_ms = _number(headers.get("x-hubspot-ratelimit-interval-milliseconds"))
    if limit is not None and left is not None and limit > 0:
        exhausted = left <= 0
        wait = _believable(interval_ms / 1000.0) if exhausted and interval_ms is not None and interval_ms > 0 else None
        signal = RateSignal(
            wait_seconds=wait,
            remaining=_clamp01(left / limit),
            exhausted=exhausted,
            sources=("x-hubspot-ratelimit",),
        )
    daily = _number(headers.get("x-hubspot-ratelimit-daily"))
    daily_left = _number(headers.get("x-hubspot-ratelimit-daily-remaining"))
    if daily is not None and daily_left is not None and daily > 0:
        found = RateSignal(
            remaining=_clamp01(daily_left / daily),
            exhausted=daily_left <= 0,
            sources=("x-hubspot-ratelimit-daily",),
        )
        signal = found if signal is None else signal.merge(found)
    return signal


def read_rate_signal(headers: Mapping[str, str], *, now: Callable[[], datetime] | None = None) -> RateSignal:
    """Everything the headers say, merged to the strictest reading. ``headers`` must look names up in any case
    (httpx's ``Headers`` do; pass a dict with lower-case keys otherwise)."""
    signal = NO_SIGNAL
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        wait = parse_retry_after(retry_after, now=now() if now is not None else None)
        if wait is not None:
            signal = signal.merge(RateSignal(wait_seconds=wait, sources=("retry-after",)))
    parsers: tuple[tuple[str, Callable[[str], RateSignal | None]], ...] = (
        ("x-business-use-case-usage", parse_meta_business_use_case_usage),
        ("x-app-usage", lambda v: parse_meta_app_usage(v, source="x-app-usage")),
        ("x-ad-account-usage", lambda v: parse_meta_app_usage(v, source="x-ad-account-usage")),
        ("sforce-limit-info", parse_sforce_limit_info),
    )
    for name, parse in parsers:
        raw = headers.get(name)
        if raw is not None:
            found = parse(raw)
            if found is not None:
                signal = signal.merge(found)
    hubspot = parse_hubspot_rate_limit(headers)
    if hubspot is not None:
        signal = signal.merge(hubspot)
    return signal
