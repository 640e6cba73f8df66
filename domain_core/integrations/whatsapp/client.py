"""A thin WhatsApp Business Cloud API client over :class:`ConnectorHttp` (one business phone number).

Wire shapes: shared/reference/platform_apis.md §7 (WhatsApp, on Graph) and §3 (Graph errors, paging):

* base ``https://graph.facebook.com/v{N}.0``, ``Authorization: Bearer <system-user token>`` (carried by the
  ConnectorHttp's ``auth``); every body has ``"messaging_product":"whatsapp"``; phone numbers are E.164 digits;
* send: ``POST /{phone-number-id}/messages`` with ``{messaging_product, recipient_type:"individual", to, type:"text",
  text:{body (≤4096), preview_url}}`` or ``{…, type:"template", template:{name, language:{code}, components:[{type:
  "body", parameters:[{type:"text", text}]}]}}`` → ``{messaging_product, contacts:[{input, wa_id}], messages:[{id:
  "wamid.…"}]}`` (§7 "Send");
* mark read: the same endpoint with ``{messaging_product, status:"read", message_id}`` → ``{success:true}``
  [~ developers.facebook.com …/whatsapp/messages/mark-message-as-read; an unknown id answers code 131009];
* the number's profile: ``GET /{phone-number-id}?fields=id,display_phone_number,verified_name,quality_rating`` →
  those fields [~ developers.facebook.com …/whatsapp/business-management-api/manage-phone-numbers]: the cheapest read
  that proves the token reaches this number (the connection probe);
* templates: ``GET /{waba-id}/message_templates?limit=…&after=…`` → ``{data:[{id, name, language, status, category,
  components}], paging:{cursors:{before, after}, next?}}``; a page follows only while ``paging.next`` is there
  (§3 "Pagination") [~ template fields: …/whatsapp/templates/template-management].

Graph has no idempotency header (connectors.json ``idempotency_header: null``; §"Retry / idempotency" matrix), so a
send is posted once: a 5xx or timeout after sending raises :class:`PlatformDown` with ``may_have_applied`` (the
message may have gone out; dedupe on the ``wamid`` of its status webhooks). Reads are retried by the policy.

Errors are Graph's ``{error:{message:"(#<code>) <title>", type, code, error_data:{details}, fbtrace_id}}`` (§3,
§7). ConnectorHttp already turns 401/code 190 into AuthExpired and 429 / Graph throttling codes into RateLimited;
WhatsApp's own codes arrive as HTTP 400/404 [~], so :func:`classify` re-types them by code: the 24-hour window
(131047), undeliverable (131026), recipient not allowed (131030), template missing (132001) and parameter mismatch
(132000) become PlatformValidationError naming the request field; throughput (130429), spam (131048) and pair
(131056) limits become RateLimited (§7 "Other codes").
"""

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Self

import httpx
from pydantic import Field

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    ConnectorError,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.integrations.model.phones import normalise_recipient
from promptsales.domain_core.integrations.views import FrozenView

PRODUCT = "whatsapp"  # §7: every body needs "messaging_product":"whatsapp"
TEXT_MAX = 4096  # §7 Send / Text: text.body ≤ 4096
# A template's body is ≤ 1024 characters (content/model/channel_specs.json "whatsapp" template "body"), so no one
# parameter can be longer; the count bound is ours [~], far above what any approved template takes.
TEMPLATE_PARAMETER_MAX = 1024
TEMPLATE_PARAMETERS_MAX = 50
TEMPLATE_NAME_MAX = 512  # [~] Meta template names: lowercase letters, digits and underscores
TEMPLATE_PAGE_MAX = 100  # our bound on Graph's ``limit`` [~]

_GRAPH_ID = re.compile(r"[0-9]{1,32}")  # phone number ids and WABA ids are numeric Graph ids
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:_[A-Za-z]{2,4})?")  # en, en_US, pt_BR, zh_HK, fil [~]
_GRAPH_CODE = re.compile(r"^\(#(\d{1,9})\)")  # Graph's "(#<code>) <title>" message convention [~]

# WhatsApp error codes (§7 "Other codes" and the Meta error-code tables [~]): the request field each one blames and
# what the user can do about it.
_VALIDATION: Mapping[int, tuple[str, str]] = {
    131047: (
        "type",
        "More than 24 hours have passed since the customer last wrote: free-form messages are refused. "
        "Send an approved template instead.",
    ),
    131026: (
        "to",
        "WhatsApp could not deliver to this number (not on WhatsApp, an old app, or terms not accepted). "
        "Reach the contact on another channel.",
    ),
    131030: (
        "to",
        "The business number may only message the recipients allowed in the Meta app dashboard (test numbers). "
        "Add the recipient there or use a production number.",
    ),
    132001: (
        "template.name",
        "No approved template has this name in this language; list the templates and pick an APPROVED one.",
    ),
    132000: (
        "template.components",
        "The number of body parameters does not match the template's placeholders.",
    ),
}
_THROTTLE_HINTS: Mapping[int, str] = {
    130429: "The business number's message throughput is used up; slow the sending down and retry shortly.",
    131048: "Sending is restricted for spam or quality reasons; check the number's quality rating in WhatsApp Manager.",
    131056: "Too many messages to this recipient in a short time; wait before messaging them again (others can be "
    "messaged now).",
}
_READ_FIELDS: Mapping[int, tuple[str, str]] = {
    131009: ("message_id", "Give the wamid of a message received in the last 30 days."),
}


def _graph_id(value: str, field: str) -> str:
    if not isinstance(value, str) or not _GRAPH_ID.fullmatch(value):
        raise ValueError(f"{field} must be the numeric id shown in the Meta app dashboard")
    return value


class SentMessage(FrozenView):
    """An accepted send: the ``wamid`` its status webhooks will carry, and the recipient's WhatsApp id."""

    message_id: str = Field(min_length=1)
    to: str
    wa_id: str | None = None
    message_status: str | None = None  # templates may answer "accepted" / "held_for_quality_assessment" [~]


class PhoneNumber(FrozenView):
    """The business phone number as WhatsApp shows it (the connection probe reads it)."""

    id: str
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None


class TemplateComponent(FrozenView):
    """One component of a template (HEADER, BODY, FOOTER, BUTTONS); ``text`` holds ``{{n}}`` placeholders."""

    type: str
    format: str | None = None
    text: str | None = None


class MessageTemplate(FrozenView):
    """One message template of the WhatsApp Business Account; only APPROVED ones can be sent."""

    id: str
    name: str
    language: str
    status: str
    category: str | None = None
    components: tuple[TemplateComponent, ...] = ()

    @property
    def body_parameter_count(self) -> int:
        """How many ``{{n}}``/``{{name}}`` placeholders the BODY holds (the parameters a send must give)."""
        body = next((c for c in self.components if c.type.upper() == "BODY"), None)
        if body is None or not body.text:
            return 0
        return len(set(re.findall(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", body.text)))


class TemplatePage(FrozenView):
    """One page of templates; ``next_after`` is the cursor of the next page (None on the last)."""

    templates: tuple[MessageTemplate, ...]
    next_after: str | None = None


def graph_code(error: ConnectorError) -> int | None:
    """The Graph error code of a refused request: the body's ``code`` kept by ConnectorHttp, else the ``(#<code>)``
    prefix of its message (None if neither)."""
    if error.platform_code is not None and error.platform_code.isdigit():
        return int(error.platform_code)
    match = _GRAPH_CODE.match(error.detail or "")
    return int(match.group(1)) if match else None


def classify(error: ConnectorError, *, fields: Mapping[int, tuple[str, str]] = _VALIDATION) -> ConnectorError:
    """``error`` re-typed by its WhatsApp code (see the module doc); errors already precise enough are kept."""
    if isinstance(error, AuthExpired | PermissionMissing | PlatformDown):
        return error
    code = graph_code(error)
    if code is None:
        return error
    if code in _THROTTLE_HINTS:
        limited = (
            error
            if isinstance(error, RateLimited)
            else RateLimited(
                platform=error.platform,
                retry_after_seconds=None,
                status=error.status,
                detail=error.detail,
                attempts=error.attempts,
            )
        )
        # Keep the policy's "Retry in N s" when the platform gave a wait; say which limit it was either way.
        waited = f" {limited.hint}" if limited.retry_after_seconds is not None and limited.hint else ""
        limited.hint = _THROTTLE_HINTS[code] + waited
        return limited
    if code in fields:
        field, hint = fields[code]
        refused = PlatformValidationError(
            platform=error.platform,
            platform_field=field,
            status=error.status,
            detail=error.detail,
            attempts=error.attempts,
        )
        refused.hint = hint
        return refused
    return error


def _object(document: Any, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ValueError(f"WhatsApp answered {what} with something other than an object")
    return document


class WhatsAppClient:
    """Template and text sends, read receipts and template listing for one business phone number."""

    def __init__(self, http: ConnectorHttp, phone_number_id: str) -> None:
        self._http = http
        self.phone_number_id = _graph_id(phone_number_id, "phone_number_id")

    @classmethod
    def for_phone_number(
        cls, phone_number_id: str, *, tenant_id: str, base_url: str | None = None, **http_options: Any
    ) -> Self:
        """A client on Graph (``base_url`` defaults to the live URL; sandbox mode passes the simulator's)."""
        connector = get_connector("whatsapp")
        http = ConnectorHttp(connector, base_url=base_url or connector.live_url(), tenant_id=tenant_id, **http_options)
        return cls(http, phone_number_id)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- sends ---------------------------------------------------------------------------------------------------

    async def send_text(self, to: str, text: str, *, preview_url: bool = False) -> SentMessage:
        """A free-form text; allowed only within 24 h of the customer's last message (else code 131047)."""
        recipient = normalise_recipient(to)
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text: the message text is empty")
        if len(text) > TEXT_MAX:
            raise ValueError(f"text: at most {TEXT_MAX} characters (got {len(text)})")
        body = {
            "messaging_product": PRODUCT,
            "recipient_type": "individual",
            "to": recipient,
            "type": "text",
            "text": {"body": text, "preview_url": preview_url},
        }
        return await self._send(body, recipient)

    async def send_template(
        self, to: str, name: str, language: str, body_parameters: Sequence[str] = ()
    ) -> SentMessage:
        """An approved template (the only kind allowed outside the 24 h window) with its BODY ``{{n}}`` values."""
        recipient = normalise_recipient(to)
        if not isinstance(name, str) or not _TEMPLATE_NAME.fullmatch(name):
            raise ValueError(
                f"template.name: lowercase letters, digits and underscores, 1-{TEMPLATE_NAME_MAX} characters"
            )
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
            raise ValueError("template.language: a language code such as 'en' or 'en_US'")
        if isinstance(body_parameters, str) or len(body_parameters) > TEMPLATE_PARAMETERS_MAX:
            raise ValueError(f"template.body_parameters: a list of at most {TEMPLATE_PARAMETERS_MAX} texts")
        for i, value in enumerate(body_parameters):
            if not isinstance(value, str) or not value.strip() or len(value) > TEMPLATE_PARAMETER_MAX:
                raise ValueError(
                    f"template.body_parameters[{i}]: a non-empty text of at most {TEMPLATE_PARAMETER_MAX} characters"
                )
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if body_parameters:
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": value} for value in body_parameters]}
            ]
        body = {
            "messaging_product": PRODUCT,
            "recipient_type": "individual",
            "to": recipient,
            "type": "template",
            "template": template,
        }
        return await self._send(body, recipient)

    async def mark_read(self, message_id: str) -> None:
        """Mark a received message (and the earlier ones of the conversation) read: blue ticks for the user."""
        if not isinstance(message_id, str) or not message_id.strip() or len(message_id) > 512:
            raise ValueError("message_id: the wamid of a received message")
        body = {"messaging_product": PRODUCT, "status": "read", "message_id": message_id}
        document = _object((await self._post(body, fields=_READ_FIELDS)).json(), "a read receipt")
        if document.get("success") is not True:
            raise ValueError("WhatsApp did not confirm the read receipt")

    async def _send(self, body: Mapping[str, Any], recipient: str) -> SentMessage:
        document = _object((await self._post(body, fields=_VALIDATION)).json(), "a send")
        messages = document.get("messages")
        first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        message_id = first.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise ValueError("WhatsApp accepted the send but returned no message id")
        contacts = document.get("contacts")
        contact = contacts[0] if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict) else {}
        wa_id = contact.get("wa_id")
        status = first.get("message_status")
        return SentMessage(
            message_id=message_id,
            to=recipient,
            wa_id=wa_id if isinstance(wa_id, str) else None,
            message_status=status if isinstance(status, str) else None,
        )

    async def _post(self, body: Mapping[str, Any], *, fields: Mapping[int, tuple[str, str]]) -> httpx.Response:
        try:
            return await self._http.request("POST", f"/{self.phone_number_id}/messages", json_body=dict(body))
        except PlatformDown as exc:
            if exc.may_have_applied:
                raise
            # The policy sends this POST once (no idempotency header on Graph); a 5xx answer to it does not say the
            # message was not sent, so the caller must check before sending it again.
            raise PlatformDown(
                platform=exc.platform,
                status=exc.status,
                detail=exc.detail,
                attempts=exc.attempts,
                deadline_hit=exc.deadline_hit,
                may_have_applied=True,
            ) from None
        except ConnectorError as exc:
            typed = classify(exc, fields=fields)
            if typed is exc:
                raise
            raise typed from None

    # --- the number ------------------------------------------------------------------------------------------------

    async def phone_number(self) -> PhoneNumber:
        """The number's display form, verified business name and quality rating."""
        params = {"fields": "id,display_phone_number,verified_name,quality_rating"}
        try:
            response = await self._http.request("GET", f"/{self.phone_number_id}", params=params)
        except ConnectorError as exc:
            typed = classify(exc)
            if typed is exc:
                raise
            raise typed from None
        document = _object(response.json(), "a phone number")
        if not isinstance(document.get("id"), str):
            raise ValueError("WhatsApp answered a phone number without its id")
        return PhoneNumber.model_validate(document)

    # --- templates -----------------------------------------------------------------------------------------------

    async def templates_page(
        self, waba_id: str, *, after: str | None = None, limit: int = 25, status: str | None = None
    ) -> TemplatePage:
        """One page of the WhatsApp Business Account's templates (optionally only those with ``status``)."""
        waba = _graph_id(waba_id, "waba_id")
        if not 1 <= limit <= TEMPLATE_PAGE_MAX:
            raise ValueError(f"limit must be 1-{TEMPLATE_PAGE_MAX}")
        params = {"limit": str(limit), "fields": "id,name,language,status,category,components"}
        if after is not None:
            if not after or len(after) > 1024:
                raise ValueError("after: the paging.cursors.after of the previous page")
            params["after"] = after
        if status is not None:
            if not re.fullmatch(r"[A-Z_]{1,32}", status):
                raise ValueError("status: a template status such as APPROVED, PENDING or REJECTED")
            params["status"] = status
        try:
            response = await self._http.request("GET", f"/{waba}/message_templates", params=params)
        except ConnectorError as exc:
            typed = classify(exc)
            if typed is exc:
                raise
            raise typed from None
        document = _object(response.json(), "a template listing")
        data = document.get("data")
        if not isinstance(data, list):
            raise ValueError("WhatsApp answered a template listing without a data list")
        paging = document.get("paging")
        paging = paging if isinstance(paging, dict) else {}
        cursors = paging.get("cursors")
        next_after = cursors.get("after") if isinstance(cursors, dict) else None
        # Graph keeps cursors on the last page too; only a ``next`` link says there is more (§3 "follow paging.next").
        has_next = isinstance(paging.get("next"), str) and bool(paging.get("next"))
        return TemplatePage(
            templates=tuple(MessageTemplate.model_validate(item) for item in data if isinstance(item, dict)),
            next_after=next_after if has_next and isinstance(next_after, str) and next_after else None,
        )

    async def template_pages(
        self, waba_id: str, *, after: str | None = None, limit: int = 25, status: str | None = None
    ) -> AsyncIterator[TemplatePage]:
        """Every page to the end. To resume after a failure, pass the last ``next_after`` seen."""
        page = await self.templates_page(waba_id, after=after, limit=limit, status=status)
        yield page
        seen = {after}
        while page.next_after is not None and page.next_after not in seen:
            seen.add(page.next_after)
            page = await self.templates_page(waba_id, after=page.next_after, limit=limit, status=status)
            yield page

    async def templates(self, waba_id: str, *, status: str | None = None, limit: int = 100) -> list[MessageTemplate]:
        """Every template of the WhatsApp Business Account (optionally only those with ``status``)."""
        found: list[MessageTemplate] = []
        async for page in self.template_pages(waba_id, status=status, limit=limit):
            found.extend(page.templates)
        return found
