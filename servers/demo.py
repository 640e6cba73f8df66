"""``promptsales demo``: seed a realistic demo tenant through the facades, safely re-runnable.

Everything goes through :class:`CrmFacade` use cases, exactly as an agent's tool calls would, so the
audit trail, outbox events and lead classification are the real ones. The data are the fixed tables of
:mod:`promptsales.servers.demo_data`.

Re-running never duplicates anything, on two levels:

* before each step the seeder reads what is already there (a person's touch count, their timeline, their
  lead's qualification answers, the saved segments' names, an organization's domain) and skips what was
  done, so a re-run adds nothing, on any day and long after idempotency keys have expired;
* every mutating call also carries a deterministic idempotency key (``demo:<step>:<n>``), with times
  anchored to the start of the UTC day, so two runs racing on the same day send identical arguments under
  identical keys and each step still takes effect once.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from promptsales.domain_core.business.commands import GrantSubscription
from promptsales.domain_core.crm.commands import (
    AdvanceFlow,
    CaptureLead,
    CreateOrganization,
    CreateSegment,
    LogInteraction,
    StartFlow,
)
from promptsales.domain_core.crm.dto import (
    CaptureResult,
    ConsentGrant,
    ConsentInput,
    ContactSummary,
    Customer360,
    LeadView,
)
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.crm.model.identity import normalize_email, normalize_phone
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.integrations.commands import Connect, StartSync
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import Conflict
from promptsales.servers.demo_analytics import seed_analytics
from promptsales.servers.demo_campaigns import seed_campaigns
from promptsales.servers.demo_data import (
    FLOW_ID,
    FLOW_RUNS,
    INTERACTIONS,
    ORGANIZATIONS,
    PEOPLE,
    SEGMENTS,
    TOUCHES,
    DemoFlowRun,
    DemoInteraction,
    DemoPerson,
    DemoTouch,
)
from promptsales.servers.runtime import Runtime

ACTOR_ID = "demo-seeder"
_PEOPLE = {person.key: person for person in PEOPLE}
_ORGANIZATIONS = {organization.key: organization for organization in ORGANIZATIONS}
_TIMELINE_LIMIT = 50


@dataclass
class _PersonState:
    """What the tenant already holds for one demo person."""

    contact_id: str | None = None
    touches: int = 0
    qualification: dict[str, object] = field(default_factory=dict)
    interactions: set[tuple[str, str, str]] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What the demo dataset holds, and how many records this run added."""

    organizations: int
    leads: int
    touches: int
    channels: int
    interactions: int
    segments: int
    flow_runs: int
    added: int

    def summary(self) -> str:
        """One line for people, e.g. ``6 organizations, 18 leads (25 touches from 9 channels), ...``."""
        line = (
            f"{self.organizations} organizations, {self.leads} leads ({self.touches} touches from "
            f"{self.channels} channels), {self.interactions} interactions, {self.segments} segments, "
            f"{self.flow_runs} flow runs"
        )
        return line if self.added else f"{line} (already seeded; nothing added)"


def demo_caller(tenant: str) -> Caller:
    """The identity the seeder acts as: a system actor from the command line."""
    return Caller(tenant_id=tenant, actor_id=ACTOR_ID, actor_kind="system", source="cli")


def touch_time(today: date, days_ago: int, hour: int) -> datetime:
    """``days_ago`` days before the start of ``today`` (UTC), at ``hour``: always in the past."""
    if days_ago < 1 or not 0 <= hour <= 23:
        raise ValueError(f"demo times need days_ago >= 1 and an hour 0-23, got {days_ago}, {hour}")
    return datetime.combine(today, time(hour), tzinfo=UTC) - timedelta(days=days_ago)


DEMO_PLAN = "pro"
DEMO_TRIAL_DAYS = 30


async def seed_demo(settings: Settings, *, today: date | None = None) -> str:
    """Seed the demo tenant of ``settings`` and return a one-line summary (idempotent).

    ``today`` anchors the relative times of the dataset (default: the current UTC date); it cannot be
    in the future.
    """
    runtime = Runtime(settings)
    await runtime.start()
    try:
        caller = demo_caller(settings.tenant)
        # The demo shows the whole product: a 30-day Pro trial, granted once (no payment involved).
        if (await runtime.business.get_subscription(caller)).status == "none":
            await runtime.business.grant_subscription(
                caller,
                GrantSubscription(plan=DEMO_PLAN, status="trialing", days=DEMO_TRIAL_DAYS),
            )
        report = await seed_with(runtime.crm, caller, today=today)
        integrations = await seed_integrations(runtime, caller)
        campaigns = await seed_campaigns(runtime.campaigns, runtime.content, caller)
        analytics = await seed_analytics(
            runtime.analytics, runtime.campaigns, runtime.crm, caller, today=today or datetime.now(UTC).date()
        )
        await runtime.drain_events()  # journeys and conversions reach analytics before the server starts
    finally:
        await runtime.stop()
    return f"{report.summary()}; {integrations}; {campaigns}; {analytics}"


async def seed_integrations(runtime: Runtime, caller: Caller) -> str:
    """A HubSpot sandbox connection with its companies, contacts and deals synced into the CRM (a re-run syncs
    only changes), and a Google Ads sandbox test customer for campaigns to run on."""
    listing = await runtime.integrations.list_connectors(caller)
    hubspot = next(item for item in listing.items if item.platform == "hubspot")
    if hubspot.connection is None or hubspot.connection.status != "connected":
        await runtime.integrations.connect(caller, Connect(platform="hubspot", mode="sandbox"))
    run = await runtime.integrations.sync(caller, StartSync(platform="hubspot"))
    google = next(item for item in listing.items if item.platform == "google_ads").connection
    if google is None or google.status != "connected":
        google = await runtime.integrations.connect(caller, Connect(platform="google_ads", mode="sandbox"))
    return (
        f"HubSpot sandbox connected, sync {run.status} ({run.created} records created, {run.updated} updated, "
        f"{run.skipped} unchanged), {google.account_label} connected"
    )


async def seed_with(crm: CrmFacade, caller: Caller, *, today: date | None = None) -> DemoReport:
    """Seed through an already started facade (used by :func:`seed_demo` and by tests)."""
    current = datetime.now(UTC).date()
    anchor = today or current
    if anchor > current:
        raise ValueError(f"today ({anchor}) cannot be in the future")
    seeder = _Seeder(crm, caller, anchor)
    await seeder.run()
    return DemoReport(
        organizations=len(ORGANIZATIONS),
        leads=len({touch.person for touch in TOUCHES}),
        touches=len(TOUCHES),
        channels=len({touch.source for touch in TOUCHES}),
        interactions=len(INTERACTIONS),
        segments=len(SEGMENTS),
        flow_runs=len(FLOW_RUNS),
        added=sum(seeder.added.values()),
    )


class _Seeder:
    """One seeding pass: organizations, touches, interactions, flow runs, then segments."""

    def __init__(self, crm: CrmFacade, caller: Caller, today: date) -> None:
        self.crm = crm
        self.caller = caller
        self.today = today
        self.added: Counter[str] = Counter()
        self.people: dict[str, _PersonState] = {}

    async def run(self) -> None:
        await self._organizations()
        for person in PEOPLE:
            self.people[person.key] = await self._load_state(person)
        await self._touches()
        await self._interactions()
        for run in FLOW_RUNS:
            await self._flow_run(run)
        await self._segments()

    async def _organizations(self) -> None:
        for number, organization in enumerate(ORGANIZATIONS, start=1):
            try:
                command = CreateOrganization(
                    name=organization.name,
                    domain=organization.domain,
                    industry=organization.industry,
                    employee_count=organization.employee_count,
                    country=organization.country,
                    region=organization.region,
                )
                await self.crm.create_organization(self.caller, command, idempotency_key=f"demo:organization:{number}")
            except Conflict:
                # The domain is taken: an earlier run whose key has expired created it. (A replayed key
                # returns normally instead, so organizations are left out of ``added``.)
                continue

    async def _load_state(self, person: DemoPerson) -> _PersonState:
        """Find the person by email, then phone, and read their lead and timeline."""
        contact = await self._find_contact(person)
        if contact is None:
            return _PersonState()
        view = await self.crm.get_customer_360(
            self.caller,
            contact_id=contact.id,
            timeline_cursor=None,
            timeline_limit=_TIMELINE_LIMIT,
        )
        return _state_from(view)

    async def _find_contact(self, person: DemoPerson) -> ContactSummary | None:
        wanted: list[tuple[str, str]] = []
        if person.email:
            wanted.append(("email", normalize_email(person.email)))
        if person.phone:
            wanted.append(("phone", normalize_phone(person.phone, country=person.country)))
        for kind, value in wanted:
            page = await self.crm.search_contacts(self.caller, text=value, filters={}, cursor=None, limit=20)
            for item in page.items:
                if (item.email if kind == "email" else item.phone) == value:
                    return item
        return None

    async def _touches(self) -> None:
        seen: Counter[str] = Counter()
        for number, touch in enumerate(TOUCHES, start=1):
            seen[touch.person] += 1
            state = self.people[touch.person]
            if state.touches >= seen[touch.person]:
                continue
            result = await self._capture(touch, f"demo:lead:{number}")
            state.contact_id = result.contact.id
            state.touches = result.lead.touch_count
            self.added["touches"] += 1

    async def _capture(self, touch: DemoTouch, key: str) -> CaptureResult:
        person = _PEOPLE[touch.person]
        organization = _ORGANIZATIONS[person.organization] if person.organization else None
        at = touch_time(self.today, touch.days_ago, touch.hour)
        grants = {
            channel: ConsentGrant(granted=granted, source=touch.source, at=at) for channel, granted in touch.consent
        }
        command = CaptureLead(
            email=person.email if touch.identity in ("email", "both") else None,
            phone=person.phone if touch.identity in ("phone", "both") else None,
            first_name=person.first_name,
            last_name=person.last_name,
            title=person.title,
            company=organization.name if organization else None,
            company_domain=organization.domain if organization else None,
            industry=organization.industry if organization else None,
            employee_count=organization.employee_count if organization else None,
            country=person.country,
            region=person.region,
            source_channel=touch.source,
            campaign_ref=touch.campaign_ref,
            utm=touch.utm,
            referrer=touch.referrer,
            landing_page=touch.landing_page,
            occurred_at=at,
            consent=ConsentInput(**grants) if grants else None,
            owner=None,
            subscribed_only=touch.subscribed_only,
        )
        return await self.crm.capture_lead(self.caller, command, idempotency_key=key)

    async def _interactions(self) -> None:
        for number, interaction in enumerate(INTERACTIONS, start=1):
            state = self.people[interaction.person]
            signature = (
                interaction.channel,
                interaction.direction,
                interaction.summary,
            )
            if signature in state.interactions:
                continue
            await self._log(
                interaction,
                _contact_id(state, interaction.person),
                f"demo:interaction:{number}",
            )
            state.interactions.add(signature)
            self.added["interactions"] += 1

    async def _log(self, interaction: DemoInteraction, contact_id: str, key: str) -> None:
        command = LogInteraction(
            contact_id=contact_id,
            channel=interaction.channel,
            direction=interaction.direction,
            summary=interaction.summary,
            transcript=None,
            occurred_at=touch_time(self.today, interaction.days_ago, interaction.hour),
            lead_id=None,
        )
        await self.crm.log_interaction(self.caller, command, idempotency_key=key)

    async def _flow_run(self, run: DemoFlowRun) -> None:
        state = self.people[run.person]
        if run.last_field in state.qualification:
            return
        started = await self.crm.start_flow(
            self.caller,
            StartFlow(
                flow_id=FLOW_ID,
                contact_id=_contact_id(state, run.person),
                channel=run.channel,
            ),
            idempotency_key=f"demo:flow:{run.key}:start",
        )
        for number, answer in enumerate(run.answers, start=1):
            turn = await self.crm.advance_flow(
                self.caller,
                AdvanceFlow(run_id=started.run_id, user_input=answer),
                idempotency_key=f"demo:flow:{run.key}:answer:{number}",
            )
            state.qualification.update(turn.captured)
        self.added["flow_runs"] += 1

    async def _segments(self) -> None:
        existing = {segment.name for segment in (await self.crm.list_segments(self.caller)).items}
        for number, segment in enumerate(SEGMENTS, start=1):
            if segment.name in existing:
                continue
            command = CreateSegment(
                name=segment.name,
                description=segment.description,
                rule=dict(segment.rule),
            )
            await self.crm.create_segment(self.caller, command, idempotency_key=f"demo:segment:{number}")
            self.added["segments"] += 1


def _state_from(view: Customer360) -> _PersonState:
    lead: LeadView | None = view.leads[0] if view.leads else None
    return _PersonState(
        contact_id=view.contact.id,
        touches=lead.touch_count if lead else 0,
        qualification=dict(lead.qualification) if lead else {},
        interactions={(item.channel, item.direction, item.summary or "") for item in view.timeline},
    )


def _contact_id(state: _PersonState, person: str) -> str:
    if state.contact_id is None:
        raise RuntimeError(f"demo person '{person}' has no contact; the demo tables must capture them first")
    return state.contact_id
