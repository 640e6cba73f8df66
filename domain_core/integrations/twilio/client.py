"""A thin Twilio Programmable Messaging client over :class:`ConnectorHttp` (one account).

Wire shapes: shared/reference/platform_apis.md §8 (API version 2010-04-01):

* base ``https://api.twilio.com/2010-04-01``, HTTP Basic ``AccountSid:AuthToken`` (carried by the ConnectorHttp's
  ``auth``);
* send: ``POST /Accounts/{AccountSid}/Messages.json``, form-encoded ``To`` (E.164), ``From`` or
  ``MessagingServiceSid``, ``Body`` (≤ 1600 characters), ``StatusCallback`` → 201 ``{sid:"SM…", status, to, from,
  body, num_segments, price, error_code, error_message, date_created, uri}``;
* the account: ``GET /Accounts/{AccountSid}.json`` → ``{sid, friendly_name, status}`` [~ twilio.com/docs/iam/api/
  account]: the cheapest read that proves the credentials (the connection probe);
* errors ``{code, message, more_info, status}``: 21610 = the recipient answered STOP to this sender (re-typed to a
  refusal naming ``To``); 20429 = too many concurrent requests, never processed (RateLimited, safe to send again).

Messages create takes no idempotency key (§8), so a send is posted once: a 5xx or timeout after posting raises
:class:`PlatformDown` with ``may_have_applied`` (the message may have gone out; it is never resent here).
"""

import re
from typing import Any

from pydantic import Field

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.errors import (
    ConnectorError,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.integrations.model.phones import normalise_recipient
from promptsales.domain_core.integrations.twilio.webhooks import ACCOUNT_SID
from promptsales.domain_core.integrations.views import FrozenView

BODY_MAX = 1600  # §8 Send: Body ≤ 1600 characters
OPTED_OUT = "21610"  # §8 Opt-out: sending to a number that answered STOP
TOO_MANY_REQUESTS = "20429"  # §8 Rate limits: never processed, always safe to retry
_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_OPTED_OUT_HINT = (
    "The person answered STOP to this sender, so Twilio refuses to message them; they can text START to subscribe "
    "again. Record their choice in the CRM (consent.sms)."
)
_CONCURRENCY_HINT = "Twilio refused the request before processing it (too many at once); nothing was sent, send again."


def e164(raw: str, *, field: str = "To") -> str:
    """``raw`` as Twilio's E.164 form (``+`` and digits)."""
    return "+" + normalise_recipient(raw, field=field)


def is_service_sid(sender: str) -> bool:
    """Whether ``sender`` names a Messaging Service (MG…) rather than a number."""
    return bool(_SERVICE_SID.fullmatch(sender))


class SentSms(FrozenView):
    """An accepted send: its ``sid`` (status callbacks carry it) and the segments Twilio counts for billing."""

    sid: str = Field(min_length=1)
    status: str | None = None
    to: str
    num_segments: int | None = None


class Account(FrozenView):
    """The Twilio account as it describes itself (the connection probe reads it)."""

    sid: str
    friendly_name: str | None = None
    status: str | None = None


class TwilioClient:
    """SMS sends and the account read for one Twilio account."""

    def __init__(self, http: ConnectorHttp, account_sid: str) -> None:
        if not ACCOUNT_SID.fullmatch(account_sid or ""):
            raise ValueError("account_sid: AC followed by 32 hexadecimal characters (Twilio Console → Account Info)")
        self._http = http
        self.account_sid = account_sid

    async def send_sms(self, to: str, body: str, *, sender: str, status_callback: str | None = None) -> SentSms:
        """Send ``body`` to ``to`` from ``sender`` (a number, or a Messaging Service sid MG…)."""
        recipient = e164(to)
        if not isinstance(body, str) or not body.strip():
            raise ValueError("Body: the message text is empty")
        if len(body) > BODY_MAX:
            raise ValueError(f"Body: at most {BODY_MAX} characters (got {len(body)})")
        form = {"To": recipient, "Body": body}
        if is_service_sid(sender):
            form["MessagingServiceSid"] = sender
        else:
            form["From"] = e164(sender, field="From")
        if status_callback is not None:
            form["StatusCallback"] = status_callback
        try:
            response = await self._http.request("POST", f"/Accounts/{self.account_sid}/Messages.json", form=form)
        except ConnectorError as exc:
            raise _typed(exc) from None
        document = _object(response.json(), "a send")
        sid = document.get("sid")
        if not isinstance(sid, str) or not sid:
            raise ValueError("Twilio accepted the send but returned no message sid")
        status = document.get("status")
        segments = _count(document.get("num_segments"))
        return SentSms(sid=sid, status=status if isinstance(status, str) else None, to=recipient, num_segments=segments)

    async def account(self) -> Account:
        """The account's name and status."""
        response = await self._http.request("GET", f"/Accounts/{self.account_sid}.json")
        document = _object(response.json(), "an account")
        if not isinstance(document.get("sid"), str):
            raise ValueError("Twilio answered an account without its sid")
        return Account.model_validate({k: document.get(k) for k in ("sid", "friendly_name", "status")})


def _typed(error: ConnectorError) -> ConnectorError:
    """``error`` re-typed by Twilio's code: opted-out recipients and concurrency limits say what they mean; a 5xx
    to the send is one that may have gone out (it is never sent again)."""
    if isinstance(error, PlatformDown):
        if error.may_have_applied:
            return error
        unconfirmed = PlatformDown(
            platform=error.platform,
            status=error.status,
            detail=error.detail,
            attempts=error.attempts,
            deadline_hit=error.deadline_hit,
            may_have_applied=True,
        )
        unconfirmed.platform_code = error.platform_code
        return unconfirmed
    if error.platform_code == OPTED_OUT:
        refused = PlatformValidationError(
            platform=error.platform, platform_field="To", status=error.status, detail=error.detail
        )
        refused.hint = _OPTED_OUT_HINT
        refused.platform_code = error.platform_code
        return refused
    if isinstance(error, RateLimited) and error.platform_code == TOO_MANY_REQUESTS:
        error.hint = _CONCURRENCY_HINT
    return error


def _object(document: Any, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ValueError(f"Twilio answered {what} with something other than an object")
    return document


def _count(value: Any) -> int | None:
    # Twilio gives num_segments as a string ("1") [~]; a number is taken too.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
