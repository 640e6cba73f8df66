"""Mailchimp audience webhooks for the core: URL-secret check, audience → tenant, unsubscribes into CRM consent.

Mailchimp signs nothing: authenticity is a secret in the webhook URL (``/webhooks/mailchimp?secret=…``). The
secret is not stored: it is derived from the deployment's key ring, per tenant and audience,
``<key id>.<base64url HMAC-SHA256(HMAC-SHA256(key, purpose), "mailchimp|tenant|list id")>``. The key id in the
secret says which key of the ring to check it with, so rotating ``PROMPTSALES_ENCRYPTION_KEYS`` keeps registered
URLs working until their key is removed from the ring (the next audience sync registers a URL under the active
key). The audience sync registers the URL on the audience and adds the route audience → tenant.

* ``GET`` (and ``HEAD``) answers 200: Mailchimp checks a URL that way before it keeps it (it changes nothing);
* ``POST``: the form body is parsed (400 when it is no Mailchimp event), its ``data[list_id]`` names the tenant
  (route kind ``account``, key ``mailchimp:<list id>``), and the secret must be that tenant's for that audience
  (403 otherwise, the same answer as an unknown audience);
* after the answer, ``unsubscribe`` and ``cleaned`` events revoke the contact's email consent in the CRM (source
  ``mailchimp``), under an idempotency key made of the event id, and the event is recorded once
  (:func:`apply_once`): a redelivered or concurrently repeated event changes consent once. The contact is the one
  the audience sync linked to that member, else the active contact with that address. Other events are recorded.
  Consent is revoked whatever the connection's state: an unsubscribe is honoured even after a disconnect.
"""

import base64
import hashlib
import hmac
from datetime import timedelta

from promptsales.domain_core.crm.commands import UpdateContact
from promptsales.domain_core.crm.dto import ConsentGrant, ConsentInput
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.crypto import KeyRing
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import InboundRequest, WebhookOutcome
from promptsales.domain_core.integrations.mailchimp.client import subscriber_hash
from promptsales.domain_core.integrations.mailchimp.webhooks import MailchimpEvent, parse_event, verify_url_secret
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.integrations.webhooks import Reception, apply_once, system_caller, tenant_of_account
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed

PLATFORM = "mailchimp"
MEMBER = "member"  # object type of an audience member in the external links (external id: "<list id>:<hash>")
WEBHOOK_PATH = "/webhooks/mailchimp"
SECRET_PURPOSE = b"promptsales/integrations/webhook-url-secret/v1"
REVOKING_EVENTS = ("unsubscribe", "cleaned")


def member_ref(list_id: str, email: str) -> str:
    """The external id of an audience member in the links table."""
    return f"{list_id}:{subscriber_hash(email)}"


def url_secret(keys: KeyRing, *, tenant_id: str, list_id: str, key_id: str | None = None) -> str:
    """The webhook URL secret of a tenant's audience under ``key_id`` (default: the ring's active key)."""
    kid = key_id or keys.active
    derived = hmac.new(keys.keys[kid], SECRET_PURPOSE, hashlib.sha256).digest()
    mac = hmac.new(derived, f"{PLATFORM}\x1f{tenant_id}\x1f{list_id}".encode(), hashlib.sha256).digest()
    return f"{kid}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def webhook_url(public_url: str, secret: str) -> str:
    """Where Mailchimp posts a tenant's audience events (the secret is URL-safe as it is)."""
    return f"{public_url.rstrip('/')}{WEBHOOK_PATH}?secret={secret}"


def secret_matches(keys: KeyRing, given: str | None, *, tenant_id: str, list_id: str) -> bool:
    """Whether ``given`` is the audience's secret under a key the ring still holds (constant-time compare)."""
    if not given or len(given) > 200:
        return False
    kid = given.partition(".")[0]
    if kid not in keys.keys:
        return False
    return verify_url_secret(url_secret(keys, tenant_id=tenant_id, list_id=list_id, key_id=kid), given)


class MailchimpWebhooks:
    """Verifies Mailchimp deliveries by their URL secret and turns unsubscribes into CRM consent."""

    def __init__(self, uow: UnitOfWorkFactory, keys: KeyRing, crm: CrmFacade) -> None:
        self._uow = uow
        self._keys = keys
        self._crm = crm

    async def receive(self, request: InboundRequest) -> Reception:
        """Answer the delivery; the event is applied after the answer."""
        method = request.method.upper()
        if method in ("GET", "HEAD"):
            return Reception(WebhookOutcome(status_code=200, outcome="url validation", body="ok"))
        if method != "POST":
            return Reception(WebhookOutcome(status_code=405, outcome="rejected: Mailchimp posts its events"))
        try:
            event = parse_event(request.body)
        except ValidationFailed as exc:
            return Reception(WebhookOutcome(status_code=400, outcome=f"rejected: {exc.field or 'body'} is invalid"))
        tenant = await tenant_of_account(self._uow, PLATFORM, event.list_id)
        given = request.query.get("secret")
        if tenant is None or not secret_matches(self._keys, given, tenant_id=tenant, list_id=event.list_id):
            return Reception(WebhookOutcome(status_code=403, outcome="rejected: unknown audience or wrong secret"))
        caller = system_caller(PLATFORM, tenant)

        async def apply() -> None:
            await self._apply(caller, event)

        return Reception(WebhookOutcome(status_code=200, outcome=f"accepted {event.type}"), apply)

    async def _apply(self, caller: Caller, event: MailchimpEvent) -> None:
        if event.type not in REVOKING_EVENTS or not event.email:
            await apply_once(self._uow, caller, platform=PLATFORM, event_id=event.id, event_type=event.type)
            return
        email = event.email
        ref = member_ref(event.list_id, email)

        async def linked(u: UnitOfWork) -> ExternalLinkRecord | None:
            return (await repo.links(u, PLATFORM, MEMBER, [ref])).get(ref)

        link = await self._uow.read(caller, linked)
        contact_id = link.local_id if link is not None else await self._contact_by_email(caller, email)
        outcome = "no CRM contact has this address"
        if contact_id is not None:
            outcome = await self._revoke(caller, contact_id, event)

        async def record(u: UnitOfWork) -> str:
            current = (await repo.links(u, PLATFORM, MEMBER, [ref])).get(ref)
            if current is not None:  # the next audience sync knows the member left
                await repo.put_link(
                    u,
                    platform=PLATFORM,
                    object_type=MEMBER,
                    external_id=ref,
                    local_id=current.local_id,
                    remote_modified_at=event.fired_at,
                    fields={**current.fields, "status": "unsubscribed" if event.type == "unsubscribe" else "cleaned"},
                )
            return outcome

        await apply_once(self._uow, caller, platform=PLATFORM, event_id=event.id, event_type=event.type, work=record)

    async def _contact_by_email(self, caller: Caller, email: str) -> str | None:
        wanted = email.strip().lower()
        page = await self._crm.search_contacts(caller, text=wanted, filters={}, cursor=None, limit=20)
        return next((c.id for c in page.items if (c.email or "").lower() == wanted), None)

    async def _revoke(self, caller: Caller, contact_id: str, event: MailchimpEvent) -> str:
        try:
            contact = await self._crm.get_contact(caller, contact_id=contact_id)
            if contact.merged_into_id is not None:  # merged since the sync: the survivor holds the consent now
                contact = await self._crm.get_contact(caller, contact_id=contact.merged_into_id)
        except NotFound:
            return "the linked CRM contact no longer exists"
        current = contact.consent.email
        if current.status == "revoked":
            return "email consent was already revoked"
        at = event.fired_at
        if current.recorded_at is not None:
            # Mailchimp's time has whole seconds: consent given in a later second came after this event and stands.
            if current.recorded_at >= at + timedelta(seconds=1):
                return "email consent was given again after this event"
            at = max(at, current.recorded_at + timedelta(microseconds=1))
        command = UpdateContact(
            contact_id=contact.id, consent=ConsentInput(email=ConsentGrant(granted=False, source=PLATFORM, at=at))
        )
        await self._crm.update_contact(caller, command, idempotency_key=f"{PLATFORM}:webhook:{event.id}")
        return f"email consent revoked ({event.type}{', ' + event.reason if event.reason else ''})"[:120]
