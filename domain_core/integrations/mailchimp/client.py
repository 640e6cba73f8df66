"""A thin Mailchimp Marketing API v3.0 client over :class:`ConnectorHttp` (audiences, members, tags, campaigns).

Wire shapes: shared/reference/platform_apis.md §6 (Mailchimp Marketing API v3.0):

* base ``https://{dc}.api.mailchimp.com/3.0``; ``dc`` is the suffix after the dash of the API key (``…-us6`` →
  ``us6``), so :func:`data_center` reads it and the ConnectorHttp of a client is built on it
  (:meth:`MailchimpClient.for_api_key`). Auth: HTTP Basic, any user name and the key as password (Bearer also
  accepted); an OAuth token's ``dc`` comes from ``GET https://login.mailchimp.com/oauth2/metadata``
  (:func:`read_oauth_metadata`);
* paging: ``count`` (≤1000) + ``offset``, ``total_items`` in the body (§6 "Pagination" [~]); every listing here is
  read to the end;
* member upsert: ``PUT /lists/{list_id}/members/{md5(lower(trim(email)))}`` with ``{email_address, status_if_new,
  status?, merge_fields}``: idempotent by construction (§6 "Upsert member"), so the policy retries it;
* tags: ``POST /lists/{id}/members/{hash}/tags`` ``{tags:[{name, status: active|inactive}]}`` → 204 (§6 "Tags"
  [~]): setting a tag's state twice is the same state, so it is declared an idempotent write;
* segments: ``GET /lists/{id}/segments?type=static`` → ``{segments:[{id, name, member_count, type}], total_items}``;
  a tag is a static segment, so a campaign reaches a tag's members with its id as ``saved_segment_id`` [~];
* campaigns: ``POST /campaigns`` ``{type:"regular", recipients:{list_id, segment_opts?:{saved_segment_id}},
  settings:{subject_line, title, from_name, reply_to, preview_text?}}``; ``PUT /campaigns/{id}/content``
  ``{html}``; ``POST /campaigns/{id}/actions/send`` → 204 and ``…/actions/schedule`` ``{schedule_time}`` (UTC,
  on :00/:15/:30/:45) → 204 (§6 "Campaign"). Mailchimp takes no idempotency key (connectors.json
  ``idempotency_header: null``, §6 matrix "PUT by MD5 hash"): a create, send or schedule is sent once, and a send
  that fails without an answer says it may have gone out;
* list webhooks: ``GET /lists/{id}/webhooks`` → ``{webhooks:[{id, url, events{…}, sources{user, admin, api}}]}``
  and ``POST /lists/{id}/webhooks`` ``{url, events:{subscribe, unsubscribe, profile, cleaned, upemail, campaign},
  sources:{user, admin, api}}`` (§6 "Webhooks" [~]); Mailchimp checks the URL with a GET before it keeps it;
* reports: ``GET /reports/{campaign_id}`` → ``{emails_sent, opens{…}, clicks{…}, bounces{…}, unsubscribed}``
  (§6 "Reports" [~]);
* errors: ``application/problem+json`` ``{type, title, status, detail, instance, errors?:[{field, message}]}``
  (§6 "Errors"), read by ConnectorHttp (``ErrorBody``); "Member Exists", "Forgotten Email Not Subscribed" and
  "Member In Compliance State" carry no ``errors`` array, so :meth:`MailchimpClient.upsert_member` names
  ``email_address`` itself. Concurrency (10 connections per key, 429 beyond, no rate headers, §6 "Rate limits")
  is met by the policy's backoff on 429.
"""

import base64
import hashlib
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Self

import httpx
from pydantic import Field

from promptsales.domain_core.integrations.http import AuthHeaders, ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import ConnectorError, PlatformDown, PlatformValidationError
from promptsales.domain_core.integrations.views import FrozenView
from promptsales.domain_core.shared.errors import ValidationFailed

PAGE_SIZE_MAX = 1000  # §6 Pagination: count default 10, max 1000 [~]
SUBJECT_MAX = 150  # subject line length Mailchimp accepts [~]
TAG_NAME_MAX = 100  # [~]
# §6 Auth: OAuth 2 authorization code, then the metadata endpoint gives the account's dc and api_endpoint.
OAUTH_AUTHORIZE_URL = "https://login.mailchimp.com/oauth2/authorize"
OAUTH_TOKEN_URL = "https://login.mailchimp.com/oauth2/token"  # noqa: S105  # a URL, not a secret
OAUTH_METADATA_URL = "https://login.mailchimp.com/oauth2/metadata"

MemberStatus = Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional"]
NewMemberStatus = Literal["subscribed", "unsubscribed", "pending", "transactional"]

# An API key is 32 hex digits, a dash and the data centre (``…-us21``) [~ key format, §6]. The dc alone is
# letters then digits; keeping it that narrow means it can only ever name a ``*.api.mailchimp.com`` host.
_API_KEY = re.compile(r"[0-9a-fA-F]{32}-([a-z]{2,4}[0-9]{1,3})")
_DC = re.compile(r"[a-z]{2,4}[0-9]{1,3}")
_API_KEY_MAX = 100
# Audience, campaign and member ids go into paths: only URL-safe id characters, so none can change the path.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MERGE_TAG = re.compile(r"[A-Z0-9_]{1,50}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
EMAIL_MAX = 254

# Mailchimp's refusals of an address that carry no ``errors`` array (§6 "Errors" [~]), recognised by the
# sentence of their ``detail`` (ErrorBody keeps the detail, not the title), each with what the user can do.
_EMAIL_REFUSALS: tuple[tuple[str, str], ...] = (
    (
        "already a list member",  # "Member Exists"
        "Another member of this audience already has that address; update that member instead.",
    ),
    (
        "permanently deleted",  # "Forgotten Email Not Subscribed" (GDPR erasure)
        "The address was erased on request and cannot be re-imported; the person must sign up again through a "
        "Mailchimp form.",
    ),
    (
        "compliance state",  # "Member In Compliance State" (unsubscribed, bounced or under review)
        "Mailchimp will not re-subscribe this address through the API; upsert it with status 'pending' so the "
        "person confirms by email.",
    ),
)


# --- pure helpers ------------------------------------------------------------------------------------------------


def data_center(api_key: str) -> str:
    """The data centre of an API key (``…-us21`` → ``us21``); ValidationFailed naming ``api_key`` otherwise.

    The key itself never appears in the error.
    """
    key = api_key.strip() if isinstance(api_key, str) else ""
    match = _API_KEY.fullmatch(key) if len(key) <= _API_KEY_MAX else None
    if match is None:
        raise ValidationFailed(
            "api_key is not a Mailchimp API key: expected 32 hex characters, a dash and the data centre "
            "(like '…-us21').",
            field="api_key",
            hint="Copy the whole key from Mailchimp (Profile → Extras → API keys), including its '-usNN' ending.",
        )
    return match.group(1)


def validate_dc(dc: str) -> str:
    """``dc`` when it is a Mailchimp data centre name (``us21``); ValidationFailed naming ``dc`` otherwise."""
    if not isinstance(dc, str) or not _DC.fullmatch(dc):
        raise ValidationFailed(
            "dc is not a Mailchimp data centre: expected letters then digits, like 'us21'.",
            field="dc",
            hint="Take it from the end of the API key or from the OAuth metadata endpoint.",
        )
    return dc


def mailchimp_base_url(dc: str) -> str:
    """``https://{dc}.api.mailchimp.com/3.0`` for a valid data centre."""
    return get_connector("mailchimp").live_url(dc=validate_dc(dc))


def subscriber_hash(email: str) -> str:
    """The member id Mailchimp derives from an address: lowercase hex MD5 of the trimmed, lower-cased email (§6)."""
    # MD5 is Mailchimp's id scheme here, not a security measure.
    return hashlib.md5(email.strip().lower().encode("utf-8"), usedforsecurity=False).hexdigest()


def basic_auth(api_key: str) -> AuthHeaders:
    """ConnectorHttp ``auth`` for an API key: HTTP Basic with any user name and the key as password (§6)."""
    data_center(api_key)
    value = "Basic " + base64.b64encode(f"promptsales:{api_key.strip()}".encode()).decode("ascii")

    async def headers() -> Mapping[str, str]:
        return {"Authorization": value}

    return headers


def bearer_auth(access_token: str) -> AuthHeaders:
    """ConnectorHttp ``auth`` for an OAuth access token (``Authorization: Bearer``; §6 "Bearer also accepted")."""
    if not access_token or not access_token.strip():
        raise ValidationFailed("access_token is empty.", field="access_token")
    value = f"Bearer {access_token.strip()}"

    async def headers() -> Mapping[str, str]:
        return {"Authorization": value}

    return headers


class OAuthMetadata(FrozenView):
    """What ``GET https://login.mailchimp.com/oauth2/metadata`` says of a token's account (§6 Auth)."""

    dc: str
    api_endpoint: str
    accountname: str | None = None
    login_url: str | None = None


def read_oauth_metadata(document: Any) -> OAuthMetadata:
    """The metadata answer checked: a valid ``dc`` whose ``api_endpoint`` is that data centre's API host.

    ValidationFailed naming the field otherwise, so a token's answer can never point requests at another host.
    """
    if not isinstance(document, dict):
        raise ValidationFailed("Mailchimp's OAuth metadata answer is not an object.", field="metadata")
    dc = validate_dc(str(document.get("dc") or ""))
    endpoint = str(document.get("api_endpoint") or "").rstrip("/")
    if endpoint != f"https://{dc}.api.mailchimp.com":
        raise ValidationFailed(
            "api_endpoint in Mailchimp's OAuth metadata does not match its data centre.", field="api_endpoint"
        )
    return OAuthMetadata(
        dc=dc,
        api_endpoint=endpoint,
        accountname=_text(document.get("accountname")),
        login_url=_text(document.get("login_url")),
    )


def _id(value: str, field: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValidationFailed(f"{field} is not a Mailchimp id (letters, digits, '_' or '-').", field=field)
    return value


def _email(value: str, field: str = "email_address") -> str:
    email = value.strip() if isinstance(value, str) else ""
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise ValidationFailed(f"{field} is not an email address.", field=field)
    return email


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _sub(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The object under ``key``, or an empty one when it is missing or not an object."""
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _object(document: Any, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ValueError(f"Mailchimp answered {what} with something other than an object")
    return document


# --- views -------------------------------------------------------------------------------------------------------


class Audience(FrozenView):
    """One audience (Mailchimp "list")."""

    id: str
    name: str
    member_count: int = 0
    unsubscribe_count: int = 0
    cleaned_count: int = 0

    @classmethod
    def read(cls, document: Any) -> "Audience":
        """The view of one ``/lists`` item."""
        doc = _object(document, "an audience")
        stats = _sub(doc, "stats")
        return cls(
            id=str(doc.get("id")),
            name=str(doc.get("name") or ""),
            member_count=_int(stats.get("member_count")),
            unsubscribe_count=_int(stats.get("unsubscribe_count")),
            cleaned_count=_int(stats.get("cleaned_count")),
        )


class Member(FrozenView):
    """One audience member; ``id`` is its subscriber hash."""

    id: str
    email_address: str
    status: str
    list_id: str | None = None
    merge_fields: Mapping[str, Any] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()
    last_changed: datetime | None = None

    @classmethod
    def read(cls, document: Any) -> "Member":
        """The view of one member document."""
        doc = _object(document, "a member")
        merge = doc.get("merge_fields")
        tags = doc.get("tags")
        return cls(
            id=str(doc.get("id")),
            email_address=str(doc.get("email_address") or ""),
            status=str(doc.get("status") or ""),
            list_id=_text(doc.get("list_id")),
            merge_fields=dict(merge) if isinstance(merge, dict) else {},
            tags=tuple(
                str(t["name"])
                for t in (tags if isinstance(tags, list) else [])
                if isinstance(t, dict) and t.get("name")
            ),
            last_changed=_moment(doc.get("last_changed")),
        )


class MemberUpsert(FrozenView):
    """A member to create or update: the address, the status if it is new (and optionally now), merge fields."""

    email_address: str = Field(min_length=3, max_length=EMAIL_MAX)
    status_if_new: NewMemberStatus = "subscribed"
    status: NewMemberStatus | None = None
    merge_fields: Mapping[str, str | int | float] = Field(default_factory=dict)
    language: str | None = Field(default=None, max_length=10)
    vip: bool | None = None

    def wire(self) -> dict[str, Any]:
        """The PUT body (§6 Upsert member); merge tags are Mailchimp's upper-case names (FNAME, LNAME, …)."""
        for tag in self.merge_fields:
            if not _MERGE_TAG.fullmatch(tag):
                raise ValidationFailed(
                    f"merge_fields key {tag[:60]!r} is not a Mailchimp merge tag (upper-case letters, digits, '_').",
                    field=f"merge_fields.{tag[:60]}",
                )
        body: dict[str, Any] = {"email_address": _email(self.email_address), "status_if_new": self.status_if_new}
        if self.status is not None:
            body["status"] = self.status
        if self.merge_fields:
            body["merge_fields"] = dict(self.merge_fields)
        if self.language is not None:
            body["language"] = self.language
        if self.vip is not None:
            body["vip"] = self.vip
        return body


class Segment(FrozenView):
    """A saved (static) segment of an audience; a tag is one too (``type`` static)."""

    id: int
    name: str
    member_count: int = 0
    type: str | None = None

    @classmethod
    def read(cls, document: Any) -> "Segment":
        """The view of one ``/lists/{id}/segments`` item."""
        doc = _object(document, "a segment")
        return cls(
            id=_int(doc.get("id")),
            name=str(doc.get("name") or ""),
            member_count=_int(doc.get("member_count")),
            type=_text(doc.get("type")),
        )


class ListWebhook(FrozenView):
    """A webhook registered on an audience: where Mailchimp posts, which events and from which sources."""

    id: str
    url: str = Field(repr=False)  # may carry the receiver's URL secret
    events: Mapping[str, bool] = Field(default_factory=dict)
    sources: Mapping[str, bool] = Field(default_factory=dict)

    @classmethod
    def read(cls, document: Any) -> "ListWebhook":
        """The view of one ``/lists/{id}/webhooks`` item."""
        doc = _object(document, "a webhook")
        events, sources = _sub(doc, "events"), _sub(doc, "sources")
        return cls(
            id=str(doc.get("id")),
            url=str(doc.get("url") or ""),
            events={str(k): bool(v) for k, v in events.items()},
            sources={str(k): bool(v) for k, v in sources.items()},
        )


class NewCampaign(FrozenView):
    """A regular email campaign to create for an audience (optionally one saved segment of it)."""

    list_id: str
    subject_line: str = Field(min_length=1, max_length=SUBJECT_MAX)
    from_name: str = Field(min_length=1, max_length=100)
    reply_to: str = Field(min_length=3, max_length=EMAIL_MAX)
    title: str | None = Field(default=None, max_length=100)
    preview_text: str | None = Field(default=None, max_length=150)
    segment_id: int | None = Field(default=None, ge=1)

    def wire(self) -> dict[str, Any]:
        """The POST /campaigns body (§6 Campaign)."""
        recipients: dict[str, Any] = {"list_id": _id(self.list_id, "list_id")}
        if self.segment_id is not None:
            recipients["segment_opts"] = {"saved_segment_id": self.segment_id}
        settings: dict[str, Any] = {
            "subject_line": self.subject_line,
            "from_name": self.from_name,
            "reply_to": _email(self.reply_to, "reply_to"),
            "title": self.title or self.subject_line,
        }
        if self.preview_text:
            settings["preview_text"] = self.preview_text
        return {"type": "regular", "recipients": recipients, "settings": settings}


class Campaign(FrozenView):
    """One campaign: ``status`` is save, paused, schedule, sending or sent."""

    id: str
    web_id: int | None = None
    type: str | None = None
    status: str
    list_id: str | None = None
    segment_id: int | None = None
    subject_line: str | None = None
    title: str | None = None
    emails_sent: int = 0
    send_time: datetime | None = None

    @classmethod
    def read(cls, document: Any) -> "Campaign":
        """The view of one campaign document."""
        doc = _object(document, "a campaign")
        recipients = _sub(doc, "recipients")
        settings = _sub(doc, "settings")
        segment = _sub(recipients, "segment_opts")
        saved = segment.get("saved_segment_id")
        return cls(
            id=str(doc.get("id")),
            web_id=doc.get("web_id") if isinstance(doc.get("web_id"), int) else None,
            type=_text(doc.get("type")),
            status=str(doc.get("status") or ""),
            list_id=_text(recipients.get("list_id")),
            segment_id=saved if isinstance(saved, int) and not isinstance(saved, bool) else None,
            subject_line=_text(settings.get("subject_line")),
            title=_text(settings.get("title")),
            emails_sent=_int(doc.get("emails_sent")),
            send_time=_moment(doc.get("send_time")),
        )


class CampaignReport(FrozenView):
    """A sent campaign's numbers (rates are fractions 0-1, as Mailchimp gives them [~])."""

    id: str
    emails_sent: int
    unique_opens: int = 0
    opens_total: int = 0
    open_rate: float = 0.0
    unique_clicks: int = 0
    clicks_total: int = 0
    click_rate: float = 0.0
    hard_bounces: int = 0
    soft_bounces: int = 0
    unsubscribed: int = 0
    abuse_reports: int = 0
    send_time: datetime | None = None

    @classmethod
    def read(cls, document: Any) -> "CampaignReport":
        """The view of a ``/reports/{id}`` answer."""
        doc = _object(document, "a report")
        opens = _sub(doc, "opens")
        clicks = _sub(doc, "clicks")
        bounces = _sub(doc, "bounces")
        return cls(
            id=str(doc.get("id")),
            emails_sent=_int(doc.get("emails_sent")),
            unique_opens=_int(opens.get("unique_opens")),
            opens_total=_int(opens.get("opens_total")),
            open_rate=_float(opens.get("open_rate")),
            unique_clicks=_int(clicks.get("unique_clicks")),
            clicks_total=_int(clicks.get("clicks_total")),
            click_rate=_float(clicks.get("click_rate")),
            hard_bounces=_int(bounces.get("hard_bounces")),
            soft_bounces=_int(bounces.get("soft_bounces")),
            unsubscribed=_int(doc.get("unsubscribed")),
            abuse_reports=_int(doc.get("abuse_reports")),
            send_time=_moment(doc.get("send_time")),
        )


def _blame_email(error: PlatformValidationError) -> PlatformValidationError:
    """Mailchimp's address refusals name no field: name ``email_address`` and say what to do."""
    detail = (error.detail or "").lower()
    if error.platform_field is not None:
        return error
    for phrase, hint in _EMAIL_REFUSALS:
        if phrase in detail:
            named = PlatformValidationError(
                platform=error.platform,
                platform_field="email_address",
                status=error.status,
                detail=error.detail,
                attempts=error.attempts,
            )
            named.hint = hint
            return named
    return error


def _may_have_applied(error: PlatformDown) -> PlatformDown:
    """A write sent once that failed without a usable answer (a 5xx may come after the write): it may be applied."""
    if error.may_have_applied:
        return error
    return PlatformDown(
        platform=error.platform,
        status=error.status,
        detail=error.detail,
        attempts=error.attempts,
        deadline_hit=error.deadline_hit,
        may_have_applied=True,
    )


# --- client ------------------------------------------------------------------------------------------------------


class MailchimpClient:
    """Audiences, members, tags, segments, campaigns and reports of one Mailchimp account (auth in the
    ConnectorHttp)."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._http = http

    @classmethod
    def for_api_key(cls, api_key: str, *, tenant_id: str, base_url: str | None = None, **http_options: Any) -> Self:
        """A client on the key's data centre (or ``base_url``: the sandbox); ``http_options`` go to ConnectorHttp.

        ValidationFailed naming ``api_key`` when the key is not one.
        """
        dc = data_center(api_key)
        secrets = (api_key.strip(), *http_options.pop("secrets", ()))
        http = ConnectorHttp(
            get_connector("mailchimp"),
            base_url=base_url or mailchimp_base_url(dc),
            tenant_id=tenant_id,
            auth=basic_auth(api_key),
            secrets=secrets,
            **http_options,
        )
        return cls(http)

    @classmethod
    def for_oauth(
        cls, access_token: str, dc: str, *, tenant_id: str, base_url: str | None = None, **http_options: Any
    ) -> Self:
        """A client for an OAuth token on data centre ``dc`` (from :func:`read_oauth_metadata`)."""
        secrets = (access_token.strip(), *http_options.pop("secrets", ()))
        http = ConnectorHttp(
            get_connector("mailchimp"),
            base_url=base_url or mailchimp_base_url(dc),
            tenant_id=tenant_id,
            auth=bearer_auth(access_token),
            secrets=secrets,
            **http_options,
        )
        return cls(http)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _once(self, method: str, path: str, body: Any) -> httpx.Response:
        """A write Mailchimp cannot dedupe, sent exactly once: a failure without a usable answer says the write may
        have been applied, and an address refusal names ``email_address``."""
        try:
            return await self._http.request(method, path, json_body=body)
        except PlatformDown as error:
            raise _may_have_applied(error) from None
        except PlatformValidationError as error:
            raise _blame_email(error) from None

    # --- account -------------------------------------------------------------------------------------------------

    async def ping(self) -> str:
        """``GET /ping``: the API's health sentence when the credentials work (AuthExpired when they do not)."""
        response = await self._http.request("GET", "/ping")
        return str(_object(response.json(), "a ping").get("health_status") or "")

    # --- paging --------------------------------------------------------------------------------------------------

    async def _pages(
        self, path: str, key: str, params: Mapping[str, str], count: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a ``count``/``offset`` listing, until ``total_items`` or an empty page."""
        if not 1 <= count <= PAGE_SIZE_MAX:
            raise ValueError(f"count must be 1-{PAGE_SIZE_MAX}")
        offset = 0
        while True:
            response = await self._http.request(
                "GET", path, params={**params, "count": str(count), "offset": str(offset)}
            )
            document = _object(response.json(), "a page")
            items = [item for item in document.get(key) or [] if isinstance(item, dict)]
            if items:
                yield items
            offset += len(items)
            total = document.get("total_items")
            # An empty page ends the listing even if total_items moved (members can leave while it is read).
            if not items or not isinstance(total, int) or offset >= total:
                return

    async def audiences(self, *, count: int = PAGE_SIZE_MAX) -> list[Audience]:
        """Every audience of the account (``GET /lists``, paged to the end)."""
        found: list[Audience] = []
        async for page in self._pages("/lists", "lists", {}, count):
            found.extend(Audience.read(item) for item in page)
        return found

    async def members(
        self,
        list_id: str,
        *,
        since_last_changed: datetime | None = None,
        status: MemberStatus | None = None,
        count: int = PAGE_SIZE_MAX,
    ) -> list[Member]:
        """Every member of an audience, optionally only those changed after ``since_last_changed`` (aware)."""
        params: dict[str, str] = {}
        if since_last_changed is not None:
            if since_last_changed.tzinfo is None:
                raise ValidationFailed("since_last_changed must be timezone-aware.", field="since_last_changed")
            params["since_last_changed"] = since_last_changed.astimezone(UTC).isoformat(timespec="seconds")
        if status is not None:
            params["status"] = status
        found: list[Member] = []
        async for page in self._pages(f"/lists/{_id(list_id, 'list_id')}/members", "members", params, count):
            found.extend(Member.read(item) for item in page)
        return found

    # --- members -------------------------------------------------------------------------------------------------

    def _member_path(self, list_id: str, email: str) -> str:
        return f"/lists/{_id(list_id, 'list_id')}/members/{subscriber_hash(_email(email))}"

    async def member(self, list_id: str, email: str) -> Member:
        """One member by address."""
        response = await self._http.request("GET", self._member_path(list_id, email))
        return Member.read(response.json())

    async def upsert_member(self, list_id: str, member: MemberUpsert) -> Member:
        """Create or update the member with this address (PUT by subscriber hash: repeating it changes nothing).

        Refused addresses (already taken, erased, in a compliance state) raise PlatformValidationError on
        ``email_address``; an invalid merge field raises it on that merge tag.
        """
        body = member.wire()
        try:
            response = await self._http.request("PUT", self._member_path(list_id, member.email_address), json_body=body)
        except PlatformValidationError as error:
            raise _blame_email(error) from None
        return Member.read(response.json())

    async def unsubscribe(self, list_id: str, email: str) -> Member:
        """Set a member's status to unsubscribed (setting a status twice is one state: safe to retry)."""
        response = await self._http.request(
            "PATCH", self._member_path(list_id, email), json_body={"status": "unsubscribed"}, idempotent_write=True
        )
        return Member.read(response.json())

    async def archive_member(self, list_id: str, email: str) -> None:
        """Archive a member (``DELETE``: it leaves the audience, its history is kept; §6 statuses "archived").

        A DELETE is retried; a 404 on a retry means an earlier attempt archived it and only its answer was lost.
        """
        try:
            await self._http.request("DELETE", self._member_path(list_id, email))
        except ConnectorError as error:
            if error.status == 404 and error.attempts > 1:
                return
            raise

    async def change_email(self, list_id: str, email: str, new_email: str) -> Member:
        """Move a member to a new address. Sent once: if the answer is lost, the old address may already be gone.

        An address another member has raises PlatformValidationError on ``email_address``.
        """
        response = await self._once("PATCH", self._member_path(list_id, email), {"email_address": _email(new_email)})
        return Member.read(response.json())

    async def set_tags(
        self, list_id: str, email: str, *, active: Iterable[str] = (), inactive: Iterable[str] = ()
    ) -> None:
        """Add the ``active`` tags to a member and remove the ``inactive`` ones (other tags stay)."""
        tags = [{"name": name, "status": "active"} for name in active]
        tags += [{"name": name, "status": "inactive"} for name in inactive]
        if not tags:
            raise ValidationFailed("set_tags needs at least one tag to add or remove.", field="tags")
        for tag in tags:
            if not tag["name"].strip() or len(tag["name"]) > TAG_NAME_MAX:
                raise ValidationFailed(f"a tag name is 1-{TAG_NAME_MAX} characters.", field="tags")
        await self._http.request(
            "POST", self._member_path(list_id, email) + "/tags", json_body={"tags": tags}, idempotent_write=True
        )

    async def create_static_segment(self, list_id: str, name: str, emails: Iterable[str]) -> Segment:
        """A saved segment of exactly these members (§6 Segments ``static_segment`` [~]). Sent once (a POST)."""
        addresses = [_email(e, "emails") for e in emails]
        if not name.strip() or len(name) > 100:
            raise ValidationFailed("a segment name is 1-100 characters.", field="name")
        response = await self._once(
            "POST", f"/lists/{_id(list_id, 'list_id')}/segments", {"name": name, "static_segment": addresses}
        )
        segment = Segment.read(response.json())
        return segment if segment.name else segment.model_copy(update={"name": name})

    async def static_segments(self, list_id: str, *, count: int = PAGE_SIZE_MAX) -> list[Segment]:
        """Every static segment of an audience, tags included (``GET /lists/{id}/segments?type=static``: Mailchimp
        keeps a tag as a static segment, whose id a campaign's ``segment_opts.saved_segment_id`` takes [~])."""
        found: list[Segment] = []
        path = f"/lists/{_id(list_id, 'list_id')}/segments"
        async for page in self._pages(path, "segments", {"type": "static"}, count):
            found.extend(Segment.read(item) for item in page)
        return found

    # --- webhooks ------------------------------------------------------------------------------------------------

    async def webhooks(self, list_id: str) -> list[ListWebhook]:
        """The webhooks registered on an audience."""
        response = await self._http.request("GET", f"/lists/{_id(list_id, 'list_id')}/webhooks")
        items = _object(response.json(), "a webhook list").get("webhooks") or []
        return [ListWebhook.read(item) for item in items if isinstance(item, dict)]

    async def add_webhook(
        self, list_id: str, url: str, *, events: Iterable[str], sources: Iterable[str] = ("user", "admin")
    ) -> ListWebhook:
        """Register ``url`` for ``events`` from ``sources`` (sent once: a POST; check :meth:`webhooks` first)."""
        if not url.startswith("https://") and not url.startswith("http://"):
            raise ValidationFailed("url must be an http(s) address Mailchimp can reach.", field="url")
        wanted, origins = set(events), set(sources)
        body = {
            "url": url,
            "events": {
                name: name in wanted
                for name in ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
            },
            "sources": {name: name in origins for name in ("user", "admin", "api")},
        }
        response = await self._once("POST", f"/lists/{_id(list_id, 'list_id')}/webhooks", body)
        return ListWebhook.read(response.json())

    # --- campaigns -----------------------------------------------------------------------------------------------

    async def create_campaign(self, campaign: NewCampaign) -> Campaign:
        """Create a regular campaign in status ``save``. Sent once: Mailchimp takes no idempotency key."""
        response = await self._once("POST", "/campaigns", campaign.wire())
        return Campaign.read(response.json())

    async def campaign(self, campaign_id: str) -> Campaign:
        """One campaign (its ``status`` tells whether a send went out)."""
        response = await self._http.request("GET", f"/campaigns/{_id(campaign_id, 'campaign_id')}")
        return Campaign.read(response.json())

    async def set_content(self, campaign_id: str, html: str) -> None:
        """Set a campaign's HTML (a PUT: safe to retry)."""
        if not html.strip():
            raise ValidationFailed("html is empty.", field="html")
        await self._http.request(
            "PUT", f"/campaigns/{_id(campaign_id, 'campaign_id')}/content", json_body={"html": html}
        )

    async def send_campaign(self, campaign_id: str) -> None:
        """Send a campaign now. Never retried: a failure without an answer says it may have been sent, and
        :meth:`campaign` tells."""
        await self._once("POST", f"/campaigns/{_id(campaign_id, 'campaign_id')}/actions/send", None)

    async def schedule_campaign(self, campaign_id: str, at: datetime) -> None:
        """Schedule a campaign at ``at`` (aware; on a quarter hour, §6). Never retried, like a send."""
        if at.tzinfo is None:
            raise ValidationFailed("schedule_time must be timezone-aware.", field="schedule_time")
        moment = at.astimezone(UTC)
        if moment.minute % 15 or moment.second or moment.microsecond:
            raise ValidationFailed(
                "schedule_time must fall on :00, :15, :30 or :45 (whole minutes).", field="schedule_time"
            )
        await self._once(
            "POST",
            f"/campaigns/{_id(campaign_id, 'campaign_id')}/actions/schedule",
            {"schedule_time": moment.isoformat(timespec="seconds")},
        )

    async def report(self, campaign_id: str) -> CampaignReport:
        """A sent campaign's report (``GET /reports/{id}``)."""
        response = await self._http.request("GET", f"/reports/{_id(campaign_id, 'campaign_id')}")
        return CampaignReport.read(response.json())
