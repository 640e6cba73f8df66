"""HubSpot app webhooks: a batch of contact events, v3-signed; each event applies once, after the answer.

Shape: shared/reference/platform_apis.md §9 "App webhooks" [~]: a JSON array of events
``{eventId, subscriptionId, portalId, occurredAt, subscriptionType, objectId, propertyName?, propertyValue?}``,
``contact.creation`` / ``contact.propertyChange`` / ``contact.deletion``. The delivery only names the contact:
its current state is read from HubSpot and applied like a sync record.
"""

import json
from typing import Any

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import people_sync
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import InboundRequest, WebhookOutcome
from promptsales.domain_core.integrations.hubspot.driver import HubSpotSource
from promptsales.domain_core.integrations.hubspot.signatures import check_v3
from promptsales.domain_core.integrations.sessions import Sessions
from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict
from promptsales.domain_core.integrations.webhooks import (
    Reception,
    apply_once,
    connection_mode,
    system_caller,
    tenant_of_account,
)
from promptsales.domain_core.shared.caller import Caller

PLATFORM = "hubspot"
MAX_EVENTS = 100  # HubSpot batches up to 100 events per request [~]


def parse_events(body: bytes) -> list[dict[str, Any]] | None:
    """The events of one delivery (all from one portal); None when the body is not a HubSpot batch."""
    if len(body) > 1_000_000:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, list) or len(document) > MAX_EVENTS:
        return None
    for item in document:
        if not isinstance(item, dict):
            return None
        if not isinstance(item.get("eventId"), int | str) or not isinstance(item.get("portalId"), int | str):
            return None
        if len(str(item["eventId"])) > 120:
            return None
    portals = {str(event["portalId"]) for event in document}
    return document if len(portals) <= 1 else None


class HubSpotWebhooks:
    """Verifies HubSpot deliveries against the app secret of the portal's connection and applies contact events."""

    def __init__(self, uow: UnitOfWorkFactory, sessions: Sessions, crm: CrmFacade) -> None:
        self._uow = uow
        self._sessions = sessions
        self._crm = crm

    async def receive(self, request: InboundRequest) -> Reception:
        """Check the delivery; the events are applied after the answer."""
        if request.method != "POST":
            return Reception(WebhookOutcome(status_code=405, outcome="rejected: HubSpot posts its events"))
        events = parse_events(request.body)
        if events is None:
            return Reception(WebhookOutcome(status_code=400, outcome="rejected: not a HubSpot webhook batch"))
        if not events:
            return Reception(WebhookOutcome(status_code=200, outcome="nothing to apply"))
        portal = str(events[0]["portalId"])
        tenant = await tenant_of_account(self._uow, PLATFORM, portal)
        if tenant is None:
            return Reception(WebhookOutcome(status_code=401, outcome="rejected: unknown portal"))
        caller = system_caller(PLATFORM, tenant)
        mode = await connection_mode(self._uow, caller, PLATFORM, portal)
        app = self._sessions.app(PLATFORM, mode) if mode is not None else None
        if app is None:
            return Reception(WebhookOutcome(status_code=401, outcome="rejected: the portal is not connected"))
        verdict = check_v3(
            client_secret=app.client_secret,
            method=request.method,
            uri=request.url,
            body=request.body,
            signature=request.headers.get("x-hubspot-signature-v3"),
            timestamp=request.headers.get("x-hubspot-request-timestamp"),
            now=self._sessions.clock(),
        )
        if verdict is not SignatureVerdict.VALID:
            return Reception(WebhookOutcome(status_code=401, outcome=f"rejected: signature {verdict.value}"))

        async def apply_all() -> None:
            for event in events:
                await self._apply(caller, event)

        return Reception(WebhookOutcome(status_code=200, outcome=f"accepted {len(events)} event(s)"), apply_all)

    async def _apply(self, caller: Caller, event: dict[str, Any]) -> None:
        event_id, kind = str(event["eventId"]), str(event.get("subscriptionType", ""))
        object_id = str(event.get("objectId", ""))
        if not kind.startswith("contact.") or not (object_id.isascii() and object_id.isdigit()):
            await apply_once(self._uow, caller, platform=PLATFORM, event_id=event_id, event_type=kind)
            return
        person = None
        if kind != "contact.deletion":
            person = await self._sessions.run(
                caller, PLATFORM, lambda http, link: HubSpotSource(http).person(object_id)
            )

        async def current(u: UnitOfWork) -> Any:
            return (await repo.links(u, PLATFORM, people_sync.OBJECT_TYPE, [object_id])).get(object_id)

        link = await self._uow.read(caller, current)
        local_id = link.local_id if link is not None else None
        if person is not None:
            outcome = await people_sync.apply_person(self._crm, caller, platform=PLATFORM, person=person, link=link)
            local_id = outcome.local_id

        async def record(u: UnitOfWork) -> str:
            if local_id is None:
                return "nothing to link"
            await repo.put_link(
                u,
                platform=PLATFORM,
                object_type=people_sync.OBJECT_TYPE,
                external_id=object_id,
                local_id=local_id,
                remote_modified_at=person.modified_at if person else (link.remote_modified_at if link else None),
                fields=dict(person.fields()) if person else (dict(link.fields) if link else {}),
                deleted=person is None,
            )
            return "deleted in HubSpot" if person is None else "applied"

        await apply_once(self._uow, caller, platform=PLATFORM, event_id=event_id, event_type=kind, work=record)
