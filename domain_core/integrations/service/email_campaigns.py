"""Email campaigns in the database: one ``email_campaign`` link per campaign, our ``ec_`` id ↔ the platform's id.

The link's fields hold the campaign as the facade shows it (:class:`EmailCampaignView`), so the report and later
sends find the platform's id, audience and state without asking the platform. A create the platform never answered
has no platform id: its link is keyed ``unconfirmed:<ec id>`` (the create is never repeated).

Our id is derived from the caller's idempotency key and the request's digest, so every try of one request names the
same campaign: a try that failed after the platform created the campaign left its link, and the next try continues
that campaign instead of creating a second one. Audit entries: the create when the link first appears, and each
send or schedule asked of the platform (answered or not).
"""

import hashlib
from typing import Any

from promptsales.domain_core.infrastructure import idempotency
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import EmailCampaignView
from promptsales.domain_core.integrations.tables import ExternalLinkRecord
from promptsales.domain_core.shared.ids import new_id

EMAIL_CAMPAIGN = "email_campaign"
UNCONFIRMED = "unconfirmed:"
LOCAL_PREFIX = "ec_"
_RANK = {"draft": 0, "unconfirmed": 1, "scheduled": 2, "sent": 3}


def local_id(idempotency_key: str | None, arguments: dict[str, Any]) -> str:
    """Our id of the campaign a request makes: the same for every try of one request (key + arguments), new without
    a key."""
    if not idempotency_key:
        return new_id("ec")
    digest = hashlib.sha256(f"{idempotency_key}\n{idempotency.request_hash(arguments)}".encode()).hexdigest()
    return LOCAL_PREFIX + digest[:26].upper()


def view(link: ExternalLinkRecord) -> EmailCampaignView:
    """A campaign link as the facade shows it."""
    return EmailCampaignView.model_validate(link.fields)


async def find(uow: UnitOfWork, platform: str, ref: str) -> ExternalLinkRecord | None:
    """The campaign named by our id (``ec_…``) or by the platform's id; None when this tenant has no such campaign."""
    if ref.startswith(LOCAL_PREFIX):
        found = await repo.link_of_local(uow, platform, EMAIL_CAMPAIGN, ref)
        if found is not None:
            return found
    if ref.startswith(UNCONFIRMED):
        return None
    return (await repo.links(uow, platform, EMAIL_CAMPAIGN, [ref])).get(ref)


def _merged(previous: EmailCampaignView | None, campaign: EmailCampaignView) -> EmailCampaignView:
    """The campaign as recorded after ``campaign``: its status never moves back (concurrent sends of one draft record
    in any order), and send times already known are kept."""
    if previous is None:
        return campaign
    status = campaign.status if _RANK[campaign.status] >= _RANK[previous.status] else previous.status
    return campaign.model_copy(
        update={
            "status": status,
            "sent_at": campaign.sent_at or previous.sent_at,
            "send_at": campaign.send_at or previous.send_at,
            "error": campaign.error if status == campaign.status else previous.error,
        }
    )


async def record(uow: UnitOfWork, campaign: EmailCampaignView, *, asked: bool) -> EmailCampaignView:
    """Keep the campaign's state; audit its creation (its first record) and each send or schedule this call asked of
    the platform (``asked``: answered, or unconfirmed). Returns the campaign as recorded."""
    external = campaign.campaign_id or UNCONFIRMED + campaign.id
    await repo.links(uow, campaign.platform, EMAIL_CAMPAIGN, [external], for_update=True)  # one writer at a time
    before = await repo.link_of_local(uow, campaign.platform, EMAIL_CAMPAIGN, campaign.id)
    previous = view(before) if before is not None else None
    campaign = _merged(previous, campaign)
    await repo.put_link(
        uow,
        platform=campaign.platform,
        object_type=EMAIL_CAMPAIGN,
        external_id=external,
        local_id=campaign.id,
        remote_modified_at=uow.now,
        fields=campaign.model_dump(mode="json"),
    )
    summary = {
        "platform": campaign.platform,
        "campaign_id": campaign.campaign_id,
        "asset_id": campaign.asset_id,
        "asset_version": campaign.asset_version,
        "list_id": campaign.list_id,
        "segment_id": campaign.segment_id,
        "status": campaign.status,
    }
    if previous is None:
        uow.audit(
            "integrations.create_email_campaign", target_type=EMAIL_CAMPAIGN, target_id=campaign.id, changes=summary
        )
    if campaign.campaign_id is not None and asked:
        when = campaign.send_at.isoformat() if campaign.send_at is not None else None
        uow.audit(
            "integrations.send_email_campaign",
            target_type=EMAIL_CAMPAIGN,
            target_id=campaign.id,
            changes={**summary, "send_at": when, "error": campaign.error},
        )
        uow.emit(
            "integrations.email_campaign_sent",
            {
                "platform": campaign.platform,
                "email_campaign": campaign.id,
                "campaign_id": campaign.campaign_id,
                "status": campaign.status,
                "asset_id": campaign.asset_id,
                "segment_id": campaign.segment_id,
                "send_at": when,
            },
        )
    return campaign
