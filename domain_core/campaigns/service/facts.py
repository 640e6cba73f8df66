"""Compliance facts: what the rules need to know about a campaign, gathered from this context and the others.

The campaign, its caps and live commitments come from this context; the audience's size and consent from the CRM;
each creative's approval and its copy lint (claims included) from the content library; the plan's channels and the
activations left from business. Then the pure rule engine decides. Anything that cannot be read fails closed: the
campaign is reported blocked with the reason, never passed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from promptsales.domain_core.business.facade import BusinessFacade
from promptsales.domain_core.campaigns.model.channels import channel_catalogue
from promptsales.domain_core.campaigns.model.compliance import (
    AudienceFacts,
    CampaignFacts,
    ComplianceReport,
    ConsentCounts,
    CreativeFacts,
    InfluencerFacts,
    LintFact,
    PlanFacts,
    SpendCaps,
    SpendFacts,
    evaluate,
)
from promptsales.domain_core.campaigns.model.lifecycle import Status
from promptsales.domain_core.campaigns.repository import spend_caps
from promptsales.domain_core.campaigns.service import caps, views
from promptsales.domain_core.campaigns.service.campaigns import load
from promptsales.domain_core.campaigns.tables import CampaignRecord
from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError

CONSENT_CHANNELS = ("email", "sms", "whatsapp")


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A compliance report and the campaign state it was made for."""

    report: ComplianceReport
    status: Status
    version: int
    recipients: Mapping[str, int]  # consenting audience members per owned channel id
    list_members: int | None  # segment members a customer list holds (email consent granted)


@dataclass(frozen=True, slots=True)
class _Stored:
    record: CampaignRecord
    spend: SpendFacts


def copy_text(fields: Mapping[str, Any]) -> str:
    """A copy's fields as one text (lists joined), for rules that look for words."""
    parts: list[str] = []
    for value in fields.values():
        parts += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return "\n".join(parts)


class FactsReader:
    """Gathers a campaign's compliance facts and evaluates them."""

    def __init__(
        self, uow: UnitOfWorkFactory, *, crm: CrmFacade, content: ContentFacade, business: BusinessFacade
    ) -> None:
        self._uow = uow
        self._crm = crm
        self._content = content
        self._business = business

    async def _stored(self, caller: Caller, campaign_id: str) -> _Stored:
        async def work(uow: UnitOfWork) -> _Stored:
            record = await load(uow, campaign_id)
            found = await spend_caps(uow)
            daily, month = await caps.committed(uow, excluding=record.id)
            spend = SpendFacts(
                caps=SpendCaps(
                    per_campaign=found.per_campaign if found else None,
                    per_day=found.per_day if found else None,
                    per_month=found.per_month if found else None,
                ),
                campaign_total=record.budget_total or Decimal(0),
                campaign_daily=record.budget_daily or Decimal(0),
                tenant_daily_committed=daily,
                tenant_month_committed=month,
                currency=record.currency,
            )
            return _Stored(record=record, spend=spend)

        return await self._uow.read(caller, work)

    async def audience(self, caller: Caller, segment_id: str | None) -> AudienceFacts | None:
        """The segment's size and its members' consent per channel."""
        if segment_id is None:
            return None
        segment = next((s for s in (await self._crm.list_segments(caller)).items if s.id == segment_id), None)
        if segment is None:
            return AudienceFacts(segment_id=segment_id, size=0, consent={})
        size = (await self._crm.preview_segment(caller, rule=None, segment_id=segment_id)).count
        consent: dict[str, ConsentCounts] = {}
        for channel in CONSENT_CHANNELS:
            counts = {}
            for status in ("granted", "revoked"):
                rule = {"all": [segment.rule, {"field": f"consent.{channel}", "op": "eq", "value": status}]}
                counts[status] = (await self._crm.preview_segment(caller, rule=rule, segment_id=None)).count
            consent[channel] = ConsentCounts(
                granted=counts["granted"],
                denied=counts["revoked"],
                unknown=max(0, size - counts["granted"] - counts["revoked"]),
            )
        return AudienceFacts(segment_id=segment_id, size=size, consent=consent)

    async def _creatives(self, caller: Caller, record: CampaignRecord) -> list[CreativeFacts]:
        catalogue = channel_catalogue()
        plans = views.channels_of(record)
        ids = sorted({asset for plan in plans for asset in plan.creative_ids})
        approved = await self._content.approved_assets(caller, ids) if ids else {}
        found: list[CreativeFacts] = []
        for plan in plans:
            spec = catalogue[plan.channel]
            for asset_id in plan.creative_ids:
                lint: list[LintFact] = []
                text = ""
                if approved.get(asset_id) and spec.content_channel is not None:
                    try:
                        copy = await self._content.approved_copy(caller, asset_id)
                        text = copy_text(copy.fields)
                        if copy.format is not None:
                            checked = await self._content.check_copy(
                                caller, copy_fields=dict(copy.fields), channel=copy.channel, format=copy.format
                            )
                            lint = [
                                LintFact(code=i.code, severity=i.severity, message=i.message)
                                for i in checked.variant.lint.issues
                            ]
                    except DomainError as error:  # not copy (an image), or copy for another channel
                        lint = [LintFact(code="creative_unusable", severity="error", message=error.public_message())]
                found.append(
                    CreativeFacts(
                        asset_id=asset_id,
                        channel=plan.channel,
                        approved=bool(approved.get(asset_id)),
                        lint=tuple(lint),
                        text=text,
                    )
                )
        return found

    async def _plan(self, caller: Caller) -> PlanFacts:
        standing = await self._business.standing(caller)
        usage = await self._business.get_usage(caller)
        left = next((q.remaining for q in usage.quotas if q.quota == "activations"), None)
        return PlanFacts(allowed_channels=frozenset(standing.plan.channels), activations_left=left)

    async def evaluate(self, caller: Caller, campaign_id: str) -> Evaluated:
        """The compliance report for the campaign as it stands."""
        stored = await self._stored(caller, campaign_id)
        record = stored.record
        audience = await self.audience(caller, record.segment_id)
        facts = CampaignFacts(
            objective=cast(Any, record.objective),
            channels=tuple(views.channels_of(record)),
            markets=tuple(views.markets_of(record)),
            schedule=views.schedule_of(record),
            special_ad_category=cast(Any, record.special_ad_category),
            product_category=cast(Any, record.product_category),
            audience=audience,
            creatives=tuple(await self._creatives(caller, record)),
            influencers=tuple(
                InfluencerFacts(handle=i.handle, brief=i.brief, disclosure=i.disclosure)
                for i in views.influencers_of(record)
            ),
            spend=stored.spend,
            plan=await self._plan(caller),
        )
        catalogue = channel_catalogue()
        recipients = {
            plan.channel: audience.consent[consent].granted
            for plan in facts.channels
            if (consent := catalogue[plan.channel].consent_channel) and audience and consent in audience.consent
        }
        return Evaluated(
            report=evaluate(facts),
            status=cast(Status, record.status),
            version=record.version,
            recipients=recipients,
            list_members=audience.consent["email"].granted if audience and "email" in audience.consent else None,
        )
