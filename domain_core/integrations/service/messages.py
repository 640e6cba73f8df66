"""Messages in the database: who a platform's user is, the messages sent and received, and their statuses.

Two kinds of external link (``integrations_external_links``) carry it:

* ``contact``: a platform user id (the sender's E.164 digits) → the CRM contact, with when the person last
  wrote (the 24-hour customer-service window is counted from it);
* ``message``: a platform message id (WhatsApp: the wamid; Twilio: the SM… sid) → the message's own id (``wm_`` +
  a digest of the platform id, so every writer names the same row), with its direction, contact, CRM interaction
  and statuses.

Statuses may arrive before the send that caused them is recorded (the platform notifies while it answers) and in
any order (§7): the first writer creates the row, the other merges into it, and the furthest status wins (``read``
over ``failed`` over ``delivered`` over ``sent`` over ``accepted``).
"""

import hashlib
from datetime import datetime
from typing import Any, cast

from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import MessageStatus, MessageView
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import NotFound
from promptsales.domain_core.shared.ids import new_id

MESSAGE = "message"
CONTACT = "contact"
MAX_EXTERNAL_ID = 120  # integrations_external_links.external_id
_RANK = {"unconfirmed": 0, "accepted": 0, "received": 0, "sent": 1, "delivered": 2, "failed": 3, "read": 4}


def external_id(message_id: str) -> str:
    """The link key of a platform message id (ids longer than the column are kept as a digest)."""
    if len(message_id) <= MAX_EXTERNAL_ID:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


def local_id(message_id: str) -> str:
    """Our id of the message a platform id names (the same on every writer and replica)."""
    return "wm_" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


def furthest(current: str | None, new: str) -> str:
    """The status a message is in once ``new`` is known (statuses arrive in any order)."""
    if current is None:
        return new
    return new if _RANK.get(new, 0) > _RANK.get(current, 0) else current


def view(link: ExternalLinkRecord, platform: str) -> MessageView:
    """A message link as tools show it."""
    fields = link.fields
    at = fields.get("at")
    return MessageView(
        id=link.local_id,
        platform=platform,
        direction=fields.get("direction", "outbound"),
        contact_id=fields.get("contact_id"),
        kind=fields.get("kind", "text"),
        message_id=fields.get("message_id", link.external_id),
        status=cast(MessageStatus, fields.get("status", "accepted")),
        to=fields.get("to"),
        interaction_id=fields.get("interaction_id"),
        error=fields.get("error"),
        at=as_utc(datetime.fromisoformat(at)) if isinstance(at, str) else link.synced_at,
        segments=fields.get("segments"),
    )


async def _message_link(
    uow: UnitOfWork, platform: str, message_id: str, *, for_update: bool = False
) -> ExternalLinkRecord | None:
    key = external_id(message_id)
    return (await repo.links(uow, platform, MESSAGE, [key], for_update=for_update)).get(key)


async def _claim_message(uow: UnitOfWork, platform: str, message_id: str) -> dict[str, Any] | None:
    """Lock the message's row (created empty when new) and return what earlier writers stored (None: nothing)."""
    link, created = await repo.claim_link(
        uow, platform=platform, object_type=MESSAGE, external_id=external_id(message_id), local_id=local_id(message_id)
    )
    return None if created or not link.fields else dict(link.fields)


async def _put_message(
    uow: UnitOfWork, platform: str, message_id: str, fields: dict[str, Any], at: datetime | None
) -> ExternalLinkRecord:
    await repo.put_link(
        uow,
        platform=platform,
        object_type=MESSAGE,
        external_id=external_id(message_id),
        local_id=local_id(message_id),
        remote_modified_at=at,
        fields=fields,
    )
    link = await _message_link(uow, platform, message_id)
    assert link is not None
    return link


async def record_sent(
    uow: UnitOfWork,
    *,
    platform: str,
    message_id: str | None,
    contact_id: str,
    kind: str,
    to: str,
    interaction_id: str | None,
    details: dict[str, Any],
) -> MessageView:
    """Keep a message the platform accepted (``message_id`` None: it did not answer, the send is unconfirmed)."""
    if message_id is None:
        result = MessageView(
            id=new_id("wm"),
            platform=platform,
            direction="outbound",
            contact_id=contact_id,
            kind=cast(Any, kind),
            message_id=None,
            status="unconfirmed",
            to=to,
            interaction_id=interaction_id,
            error=f"{platform} did not confirm the send; it may have gone out.",
            at=uow.now,
        )
        target = result.id
    else:
        early = await _claim_message(uow, platform, message_id) or {}  # statuses that arrived before the answer
        fields = {
            **early,
            "direction": "outbound",
            "message_id": message_id,
            "contact_id": contact_id,
            "kind": kind,
            "to": to,
            "interaction_id": interaction_id,
            "status": furthest(early.get("status"), "accepted"),
            "statuses": dict(early.get("statuses") or {}),
            "at": uow.now.isoformat(),
            **details,
        }
        result = view(await _put_message(uow, platform, message_id, fields, uow.now), platform)
        target = result.id
    uow.audit(
        "integrations.send_message",
        target_type="message",
        target_id=target,
        changes={"platform": platform, "contact_id": contact_id, "kind": kind, "status": result.status},
    )
    uow.emit(
        "integrations.message_sent",
        {"platform": platform, "message": target, "contact_id": contact_id, "status": result.status},
    )
    return result


async def record_status(
    uow: UnitOfWork,
    *,
    platform: str,
    message_id: str,
    status: str,
    at: datetime,
    error: str | None,
) -> str:
    """Apply one status webhook to its message (a status before the send's record starts the row)."""
    existing = await _claim_message(uow, platform, message_id)
    fields: dict[str, Any] = existing if existing is not None else {"direction": "outbound", "message_id": message_id}
    statuses: dict[str, Any] = dict(fields.get("statuses") or {})
    statuses[status] = at.isoformat()
    fields["statuses"] = statuses
    fields["status"] = furthest(fields.get("status"), status)
    if status == "failed" and error:
        fields["error"] = error[:300]
    await _put_message(uow, platform, message_id, fields, at)
    if existing is None:
        return f"{status} recorded before the send"
    return f"{status} recorded"


async def record_inbound(
    uow: UnitOfWork,
    *,
    platform: str,
    message_id: str,
    sender: str,
    contact_id: str,
    interaction_id: str | None,
    kind: str,
    at: datetime,
) -> str:
    """Keep a received message and when its sender last wrote (it opens the 24-hour window)."""
    await _put_message(
        uow,
        platform,
        message_id,
        {
            "direction": "inbound",
            "message_id": message_id,
            "contact_id": contact_id,
            "kind": kind,
            "status": "received",
            "interaction_id": interaction_id,
            "from": sender,
            "at": at.isoformat(),
        },
        at,
    )
    current = (await repo.links(uow, platform, CONTACT, [sender], for_update=True)).get(sender)
    last = _when(current.fields.get("last_inbound_at")) if current is not None else None
    await repo.put_link(
        uow,
        platform=platform,
        object_type=CONTACT,
        external_id=sender,
        local_id=contact_id,
        remote_modified_at=max(at, last) if last is not None else at,
        fields={"last_inbound_at": (max(at, last) if last is not None else at).isoformat()},
    )
    return "received"


async def contact_of(uow: UnitOfWork, platform: str, sender: str) -> str | None:
    """The CRM contact a platform user was last seen as (None: never)."""
    link = (await repo.links(uow, platform, CONTACT, [sender])).get(sender)
    return link.local_id if link is not None and link.deleted_at is None else None


async def last_inbound(uow: UnitOfWork, platform: str, *, contact_id: str, sender: str) -> datetime | None:
    """When the contact last wrote from ``sender`` (None: never, or from another number)."""
    link = await repo.link_of_local(uow, platform, CONTACT, contact_id)
    if link is None or link.external_id != sender:
        return None
    return _when(link.fields.get("last_inbound_at"))


async def seen(uow: UnitOfWork, platform: str, message_id: str) -> bool:
    """Whether a received message was already applied."""
    return await _message_link(uow, platform, message_id) is not None


async def message(uow: UnitOfWork, platform: str, message_id: str) -> MessageView:
    """One message by its platform id (wamid, Twilio sid) or our id (wm_…)."""
    link = await _message_link(uow, platform, message_id)
    if link is None and message_id.startswith("wm_"):
        link = await repo.link_of_local(uow, platform, MESSAGE, message_id)
    if link is None:
        raise NotFound("message", message_id[:120], field="message_id")
    return view(link, platform)


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None
