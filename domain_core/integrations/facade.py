"""The integrations context's only public surface: connectors, connections, syncs and webhooks.

Platform requests happen between units of work, never inside a transaction; they go through
:class:`~promptsales.domain_core.integrations.sessions.Sessions` (refresh before expiry, ``needs_reauth`` when
a platform refuses the credentials). Capabilities plug in per platform: sync engines and webhook handlers are
chosen in ``bootstrap``. Ads (Google Ads, Meta, TikTok) are used through :meth:`IntegrationsFacade.ads`, whose
:class:`PlatformAds` the campaigns context calls to create (paused), change and measure; its models are in ``dto``.
"""

import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from promptsales.domain_core.infrastructure.crypto import KeyRing, associated_data
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.ads_accounts import PlatformAds
from promptsales.domain_core.integrations.commands import (
    Connect,
    CreateEmailCampaign,
    Disconnect,
    SendEmailCampaign,
    SendMessage,
    StartSync,
)
from promptsales.domain_core.integrations.crm_push import CONSUMER as CRM_PUSH_CONSUMER_NAME
from promptsales.domain_core.integrations.crm_push import EVENT_TYPES as CRM_PUSH_EVENT_TYPES
from promptsales.domain_core.integrations.crm_push import CrmPush
from promptsales.domain_core.integrations.design_assets import DesignFile
from promptsales.domain_core.integrations.designs import Designs
from promptsales.domain_core.integrations.drivers import Driver, KeyCredentials, KeyedDriver
from promptsales.domain_core.integrations.dto import (
    AdAccountList,
    AuthorizationOutcome,
    ConnectionCheck,
    ConnectionView,
    ConnectorList,
    ConnectorView,
    DesignPage,
    EmailCampaignReport,
    EmailCampaignView,
    InboundRequest,
    MessageView,
    SupportTickets,
    SyncRunPage,
    SyncRunView,
    WebhookOutcome,
)
from promptsales.domain_core.integrations.email_campaigns import CopySource, EmailCampaigns
from promptsales.domain_core.integrations.messaging import Messaging
from promptsales.domain_core.integrations.model.ad_limits import AdLimits
from promptsales.domain_core.integrations.model.connectors import AuthKind, catalogue, get_connector
from promptsales.domain_core.integrations.model.errors import AuthExpired, ConnectorError
from promptsales.domain_core.integrations.model.pkce import PkcePair, new_state
from promptsales.domain_core.integrations.oauth.client import TokenSet
from promptsales.domain_core.integrations.sandbox import Sandbox
from promptsales.domain_core.integrations.service import connections, support_tickets, sync_runs
from promptsales.domain_core.integrations.sessions import Link, Sessions
from promptsales.domain_core.integrations.sync_engines import SEGMENT_REQUESTED, Progress, SyncEngine
from promptsales.domain_core.integrations.webhooks import Webhooks
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotEntitled, ValidationFailed
from promptsales.domain_core.shared.events import DomainEvent
from promptsales.domain_core.shared.pagination import clamp_page_size

LivePolicy = Callable[[Caller], Awaitable[bool]]

__all__ = ["CopySource", "IntegrationsFacade", "LivePolicy", "PlatformAds"]


@dataclass(frozen=True, slots=True)
class Granted:
    """Working credentials for a connection, and what the connection records with them."""

    mode: str
    auth_kind: str
    account_id: str | None
    account_label: str | None
    url_parts: dict[str, str]
    secret: dict[str, Any] = field(repr=False)
    expires_at: datetime | None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class IntegrationsFacade:
    """Use cases of the integrations context."""

    # The outbox events :meth:`on_crm_event` consumes, and its consumer name (the dedupe key).
    CRM_PUSH_CONSUMER = CRM_PUSH_CONSUMER_NAME
    CRM_PUSH_EVENTS = CRM_PUSH_EVENT_TYPES

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sessions: Sessions,
        keys: KeyRing,
        *,
        live_allowed: LivePolicy,
        default_mode: str,
        engines: Mapping[str, Mapping[str, SyncEngine]],
        webhooks: Webhooks,
        push: CrmPush,
        messaging: Messaging,
        email_campaigns: EmailCampaigns,
        ad_limits: AdLimits | None = None,
    ) -> None:
        self._uow = uow
        self._ad_limits = ad_limits or AdLimits()
        self._sessions = sessions
        self._keys = keys
        self._live_allowed = live_allowed
        self._default_mode = default_mode
        self._engines = engines
        self._webhooks = webhooks
        self._push = push
        self._designs = Designs(sessions)
        self._messaging = messaging
        self._email_campaigns = email_campaigns

    @property
    def sandbox(self) -> Sandbox:
        """The in-process simulators (sandbox mode; tests and the demo act on them as the platform would)."""
        return self._sessions.sandbox

    @property
    def sessions(self) -> Sessions:
        """Open connections, for this context's capability modules."""
        return self._sessions

    # ------------------------------------------------------------------------------------------ catalogue

    async def list_connectors(self, caller: Caller) -> ConnectorList:
        """Every connector, whether the plan allows live connections, and the tenant's connection to each."""
        live = await self._live_allowed(caller)

        async def work(uow: UnitOfWork) -> dict[str, ConnectionView]:
            return {r.platform: connections.view(r) for r in await repo.connections(uow)}

        linked = await self._uow.read(caller, work)
        items = [
            ConnectorView(
                platform=connector.id,
                name=connector.display_name,
                capabilities=sorted(c.value for c in connector.capabilities),
                auth=connector.auth_kind.value,
                available=connector.id in self._sessions.drivers,
                live_allowed=live,
                connection=linked.get(connector.id),
            )
            for _, connector in sorted(catalogue().items())
        ]
        return ConnectorList(items=items)

    # ------------------------------------------------------------------------------------------ connecting

    async def connect(self, caller: Caller, command: Connect, *, idempotency_key: str | None = None) -> ConnectionView:
        """Sandbox: connected at once. Live: an API key is checked and stored, or an OAuth authorization URL."""
        driver = self._sessions.driver(command.platform)
        mode = command.mode or self._default_mode
        if mode == "live" and not await self._live_allowed(caller):
            raise NotEntitled(
                "The tenant's plan includes sandbox connectors only.",
                hint="business_list_plans shows the plans with live connectors; sandbox mode works on every plan.",
            )
        if mode == "sandbox":
            return await self._connect_sandbox(caller, command, driver, idempotency_key)
        parts = (("subdomain", command.subdomain), ("phone_number_id", command.phone_number_id))
        url_parts = {name: value for name, value in parts if value}
        if command.api_key is not None:
            return await self._connect_api_key(caller, command, driver, url_parts, idempotency_key)
        if AuthKind.OAUTH2_PKCE not in driver.connector.auth_kinds:
            raise ValidationFailed(
                f"{driver.connector.display_name} connects with a key or token, not a browser authorization.",
                field="api_key",
                hint="Pass api_key (README: Integrations says where to create it).",
            )
        return await self._start_oauth(caller, command, url_parts, idempotency_key)

    async def _connect_sandbox(
        self, caller: Caller, command: Connect, driver: Driver, key: str | None
    ) -> ConnectionView:
        async def grant() -> Granted:
            account, tokens = self._sessions.sandbox.issue(command.platform, caller.tenant_id)
            return Granted(
                mode="sandbox",
                auth_kind=driver.connector.auth_kind.value,
                account_id=account.account_id,
                account_label=account.label,
                url_parts=dict(account.url_parts),
                secret={"access_token": tokens.access_token, "refresh_token": tokens.refresh_token},
                expires_at=tokens.expires_at,
            )

        return await self._store_grant(caller, command, key, grant)

    async def _connect_api_key(
        self, caller: Caller, command: Connect, driver: Driver, url_parts: dict[str, str], key: str | None
    ) -> ConnectionView:
        api_key = command.api_key
        assert api_key is not None
        # The account a key connection names: WhatsApp's number (proven by the probe reading it with the key), or
        # the account the platform's own address names (a Zendesk subdomain).
        account_id = command.phone_number_id or _named_account(driver, url_parts)

        async def grant() -> Granted:
            found = KeyCredentials(url_parts, {"access_token": api_key})
            if isinstance(driver, KeyedDriver):  # a key that names its data centre, or a credential to trade
                found = await driver.key_credentials(
                    api_key,
                    tenant_id=caller.tenant_id,
                    transport=self._sessions.live_transport,
                    now=self._sessions.clock(),
                )
            parts = {**url_parts, **found.url_parts}
            named = found.account_id or account_id  # a key that names its account (Twilio), proven by the probe
            link = Link(command.platform, "live", named, parts, found.secret, None)
            async with self._sessions.http(caller, link) as http:
                label = await driver.probe(http, named)
            return Granted(
                mode="live",
                auth_kind=AuthKind.API_KEY.value,
                account_id=named,
                account_label=label[:200],
                url_parts=parts,
                secret=found.secret,
                expires_at=found.expires_at,
            )

        return await self._store_grant(caller, command, key, grant)

    async def _store_grant(
        self, caller: Caller, command: Connect, key: str | None, grant: Callable[[], Awaitable[Granted]]
    ) -> ConnectionView:
        """Get the credentials (platform calls, before the key is held), then store them as the connection."""

        async def work(uow: UnitOfWork, granted: Granted) -> ConnectionView:
            return await connections.connected(
                uow,
                self._sessions.credentials,
                platform=command.platform,
                mode=granted.mode,
                auth_kind=granted.auth_kind,
                account_id=granted.account_id,
                account_label=granted.account_label,
                url_parts=granted.url_parts,
                secret=granted.secret,
                expires_at=granted.expires_at,
            )

        return await self._uow.mutate_paid(
            caller,
            action="integrations.connect",
            arguments=command,
            idempotency_key=key,
            prepare=grant,
            work=work,
            result_type=ConnectionView,
        )

    async def _start_oauth(
        self, caller: Caller, command: Connect, url_parts: dict[str, str], key: str | None
    ) -> ConnectionView:
        client = self._sessions.oauth(command.platform, "live", url_parts)
        state, pair = new_state(), PkcePair.generate()
        state_hash = _hash(state)
        sealed = self._keys.seal(
            pair.verifier.encode(), associated_data=associated_data(caller.tenant_id, "oauth:" + state_hash)
        )
        url = client.authorization_url(state=state, challenge=pair.challenge)

        async def work(uow: UnitOfWork) -> ConnectionView:
            record = await connections.start_authorization(
                uow,
                platform=command.platform,
                auth_kind=AuthKind.OAUTH2_PKCE.value,
                state_hash=state_hash,
                sealed_verifier=sealed,
                url_parts=url_parts,
            )
            return connections.view(record, authorization_url=url)

        return await self._uow.mutate(
            caller,
            action="integrations.connect",
            arguments=command,
            idempotency_key=key,
            work=work,
            result_type=ConnectionView,
        )

    async def complete_authorization(
        self, platform: str, *, state: str | None, code: str | None, error: str | None
    ) -> AuthorizationOutcome:
        """The platform sent the admin back: trade the code for tokens once, for the tenant that asked."""
        if platform not in self._sessions.drivers or not state or len(state) > 200:
            return AuthorizationOutcome(ok=False, platform=None, message="This authorization link is not valid.")
        state_hash = _hash(state)
        system = Caller(tenant_id="-", actor_id=f"{platform}-oauth", actor_kind="system", source="http")
        tenant = await self._uow.read(
            system, lambda uow: repo.route_tenant(uow, kind=connections.ROUTE_STATE, key=state_hash)
        )
        if tenant is None:
            return AuthorizationOutcome(ok=False, platform=platform, message="This authorization link is not valid.")
        caller = Caller(tenant_id=tenant, actor_id=f"{platform}-oauth", actor_kind="system", source="http")

        async def take(uow: UnitOfWork) -> tuple[str, dict[str, str]]:
            record = await connections.take_state(uow, state_hash)
            connection = await repo.connection(uow, platform)
            verifier = self._keys.open(
                record.sealed_verifier, associated_data=associated_data(tenant, "oauth:" + state_hash)
            ).decode()
            return verifier, dict(connection.url_parts if connection else {})

        try:
            verifier, url_parts = await self._take_state(caller, take)
        except ValidationFailed as exc:
            return AuthorizationOutcome(ok=False, platform=platform, message=str(exc))
        if error or not code:
            return AuthorizationOutcome(
                ok=False, platform=platform, message=f"The authorization was not granted ({(error or 'no code')[:80]})."
            )
        try:
            tokens = await self._sessions.oauth(platform, "live", url_parts).exchange(
                code=code[:2048], verifier=verifier, now=self._sessions.clock()
            )
        except ConnectorError as exc:
            return AuthorizationOutcome(ok=False, platform=platform, message=str(exc))
        driver = self._sessions.drivers[platform]
        account_id = _account_of(tokens) or _named_account(driver, url_parts)
        url_parts = {**url_parts, **_url_parts_of(tokens)}

        async def store(uow: UnitOfWork) -> ConnectionView:
            org = _salesforce_org(tokens)
            if platform == "salesforce" and org:  # Outbound Messages name the org: let them find this tenant
                await repo.add_route(uow, kind=connections.ROUTE_ACCOUNT, key=connections.account_route(platform, org))
            return await connections.connected(
                uow,
                self._sessions.credentials,
                platform=platform,
                mode="live",
                auth_kind=AuthKind.OAUTH2_PKCE.value,
                account_id=account_id,
                account_label=f"{driver.connector.display_name} {account_id or ''}".strip(),
                url_parts=url_parts,
                secret={"access_token": tokens.access_token, "refresh_token": tokens.refresh_token, **tokens.extra},
                expires_at=tokens.expires_at,
            )

        await self._uow.mutate(
            caller,
            action="integrations.authorize",
            arguments={"state": state_hash},
            idempotency_key=None,
            work=store,
            result_type=ConnectionView,
        )
        return AuthorizationOutcome(
            ok=True, platform=platform, message=f"{driver.connector.display_name} is connected."
        )

    async def _take_state(
        self, caller: Caller, take: Callable[[UnitOfWork], Awaitable[tuple[str, dict[str, str]]]]
    ) -> tuple[str, dict[str, str]]:
        holder: list[tuple[str, dict[str, str]]] = []

        async def work(uow: UnitOfWork) -> AuthorizationOutcome:
            holder.append(await take(uow))
            return AuthorizationOutcome(ok=True, platform=None, message="state taken")

        await self._uow.mutate(
            caller,
            action="integrations.take_state",
            arguments={},
            idempotency_key=None,
            work=work,
            result_type=AuthorizationOutcome,
        )
        return holder[-1]

    async def disconnect(
        self, caller: Caller, command: Disconnect, *, idempotency_key: str | None = None
    ) -> ConnectionView:
        """Forget the credentials of a platform (synced records stay)."""
        get_connector(command.platform)
        return await self._uow.mutate(
            caller,
            action="integrations.disconnect",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: connections.disconnect(uow, self._sessions.credentials, platform=command.platform),
            result_type=ConnectionView,
        )

    # ------------------------------------------------------------------------------------------ using

    async def test_connection(self, caller: Caller, platform: str) -> ConnectionCheck:
        """Call the platform once with the stored credentials and say whether it answered."""
        driver = self._sessions.driver(platform)
        started = time.monotonic()
        try:
            detail = await self._sessions.run(caller, platform, lambda http, link: driver.probe(http, link.account_id))
            ok, status = True, "connected"
        except AuthExpired as exc:
            detail, ok, status = str(exc), False, "needs_reauth"
        except ConnectorError as exc:
            detail, ok, status = str(exc), False, "connected"
        return ConnectionCheck(
            platform=platform,
            ok=ok,
            status=status,
            detail=detail[:500],
            latency_ms=int((time.monotonic() - started) * 1000),
        )

    def _engine(self, platform: str, capability: str | None) -> tuple[str, SyncEngine]:
        driver = self._sessions.driver(platform)
        engines = self._engines.get(platform, {})
        chosen = capability or next(iter(sorted(engines)), None)
        if chosen is None or chosen not in engines:
            offered = ", ".join(sorted(engines)) or "nothing (it is used through other tools)"
            raise ValidationFailed(
                f"{driver.connector.display_name} has no '{chosen}' sync.",
                field="capability",
                hint=f"{platform} syncs: {offered}.",
            )
        return chosen, engines[chosen]

    async def sync(self, caller: Caller, command: StartSync, *, progress: Progress | None = None) -> SyncRunView:
        """Run (or resume) a sync of one capability to its end; an interrupted run keeps its cursor."""
        capability, engine = self._engine(command.platform, command.capability)
        started: list[dict[str, Any]] = []

        async def begin(uow: UnitOfWork) -> SyncRunView:
            record, _ = await sync_runs.begin(uow, platform=command.platform, capability=capability, full=command.full)
            started.append(dict(record.cursor))
            return sync_runs.run_view(record)

        run = await self._uow.mutate(
            caller,
            action="integrations.start_sync",
            arguments=command,
            idempotency_key=None,
            work=begin,
            result_type=SyncRunView,
        )
        cursor = started[-1]
        if command.segment_id is not None:  # email_marketing: the CRM segment asked for (a resumed run has its own)
            cursor = {**cursor, SEGMENT_REQUESTED: command.segment_id}
        if cursor.get("done"):
            return await self._finish(caller, run.id, None)
        try:
            await self._sessions.run(
                caller,
                command.platform,
                lambda http, link: engine.run(caller, http=http, link=link, run=run, cursor=cursor, progress=progress),
            )
        except (ConnectorError, ValidationFailed) as exc:
            return await self._finish(caller, run.id, str(exc))
        return await self._finish(caller, run.id, None)

    async def _finish(self, caller: Caller, run_id: str, error: str | None) -> SyncRunView:
        return await self._uow.mutate(
            caller,
            action="integrations.finish_sync",
            arguments={"run": run_id},
            idempotency_key=None,
            work=lambda uow: sync_runs.finish(uow, run_id, error=error),
            result_type=SyncRunView,
        )

    async def get_sync_run(self, caller: Caller, *, run_id: str) -> SyncRunView:
        """One sync run."""
        return await self._uow.read(caller, lambda uow: sync_runs.get(uow, run_id))

    async def list_sync_runs(
        self, caller: Caller, *, platform: str | None, cursor: str | None, limit: int | None
    ) -> SyncRunPage:
        """Sync runs, newest first."""
        size = clamp_page_size(limit)
        return await self._uow.read(
            caller, lambda uow: sync_runs.page(uow, platform=platform, cursor=cursor, limit=size)
        )

    # ------------------------------------------------------------------------------------------ support tickets

    async def open_tickets(self, caller: Caller, *, contact_id: str) -> SupportTickets:
        """A CRM contact's open tickets on the connected help desks (as the support sync last saw them)."""
        return await self._uow.read(caller, lambda uow: support_tickets.open_tickets(uow, contact_id))

    async def tickets_section(self, uow: UnitOfWork, contact_id: str) -> dict[str, Any]:
        """The customer 360's ``support_tickets`` section (the CRM calls it inside its own read); empty (no section)
        when the contact has no open ticket."""
        tickets = await support_tickets.open_tickets(uow, contact_id)
        if not tickets.items:
            return {}
        return tickets.model_dump(mode="json", exclude={"contact_id"})

    # ------------------------------------------------------------------------------------------ ads

    def ads(self, caller: Caller, platform: str) -> PlatformAds:
        """One tenant's ads on a connected ad platform: create (always paused), change status / budget / bid under
        server-side ceilings, and read daily performance. Every call refreshes or flags the connection as needed."""
        return PlatformAds(self._uow, self._sessions, caller, platform, limits=self._ad_limits)

    async def ad_accounts(self, caller: Caller, platform: str) -> AdAccountList:
        """The ad accounts a connected ad platform can manage."""
        return AdAccountList(platform=platform, items=await self.ads(caller, platform).list_accounts())

    # ------------------------------------------------------------------------------------------ design assets

    async def list_designs(
        self, caller: Caller, *, platform: str, cursor: str | None, limit: int | None = None
    ) -> DesignPage:
        """A page of the tenant's designs on a connected design platform (Canva); ids for export_design."""
        return await self._designs.page(caller, platform=platform, cursor=cursor, limit=clamp_page_size(limit))

    async def push_brand_logo(self, caller: Caller, *, platform: str, png: bytes, name: str) -> str:
        """Upload a brand kit's logo to a connected design platform where its API allows (Canva: the user's
        uploads; no platform takes brand colours); the asset id there."""
        return await self._designs.push_logo(caller, platform=platform, png=png, name=name)

    async def export_design(self, caller: Caller, *, platform: str, design_id: str, format: str = "png") -> DesignFile:
        """A design as a checked PNG (first page) or PDF file, for the content library to import."""
        return await self._designs.export(caller, platform=platform, design_id=design_id, format=format)

    # ------------------------------------------------------------------------------------------ messaging

    async def send_message(
        self, caller: Caller, command: SendMessage, *, idempotency_key: str | None = None
    ) -> MessageView:
        """Send a WhatsApp template or in-window text, or an SMS, to a CRM contact who opted in to that channel (once
        per idempotency key)."""
        return await self._messaging.send(caller, command, idempotency_key=idempotency_key)

    async def get_message(self, caller: Caller, *, message_id: str) -> MessageView:
        """A message by its platform id (wamid, Twilio sid) or wm_ id, with its latest status."""
        return await self._messaging.message(caller, message_id)

    # ------------------------------------------------------------------------------------------ email campaigns

    def use_copy_source(self, source: CopySource) -> None:
        """Read approved email copy with ``source`` (the content facade's, wired by the composition root)."""
        self._email_campaigns.use_copy_source(source)

    async def create_email_campaign(
        self, caller: Caller, command: CreateEmailCampaign, *, idempotency_key: str | None = None
    ) -> EmailCampaignView:
        """An email campaign on the connected Mailchimp from an approved email copy asset, to the audience or a synced
        CRM segment: a draft, sent now or scheduled; once per idempotency key (never sent twice)."""
        return await self._email_campaigns.create(caller, command, idempotency_key=idempotency_key)

    async def send_email_campaign(
        self, caller: Caller, command: SendEmailCampaign, *, idempotency_key: str | None = None
    ) -> EmailCampaignView:
        """Send (or schedule) a draft email campaign; one already sent or scheduled is returned as it is."""
        return await self._email_campaigns.send(caller, command, idempotency_key=idempotency_key)

    async def email_campaign_report(self, caller: Caller, *, campaign_id: str) -> EmailCampaignReport:
        """A sent email campaign's numbers (sent, delivered, opens, clicks, bounces, unsubscribes and their rates), by
        PromptSales' id (ec_…) or the platform's."""
        return await self._email_campaigns.report(caller, campaign_id)

    # ------------------------------------------------------------------------------------------ webhooks

    async def handle_webhook(self, platform: str, request: InboundRequest) -> WebhookOutcome:
        """Verify a delivery and answer at once; each new event is applied after (redeliveries change nothing)."""
        return await self._webhooks.receive(platform, request)

    async def on_crm_event(self, uow: UnitOfWork, event: DomainEvent) -> None:
        """Outbox consumer: push a changed CRM contact to the connected CRM platforms (echoes of syncs skipped)."""
        await self._push.on_event(uow, event)

    async def drain(self) -> None:
        """Wait for the webhook work and CRM pushes already started (shutdown and tests)."""
        await self._webhooks.drain()
        await self._push.drain()


def _named_account(driver: Driver, url_parts: Mapping[str, str]) -> str | None:
    """The account a platform's own address names (a Zendesk subdomain), which the credentials were just proven
    on; webhooks find the tenant by it. None where the address names no account (a claimed id is never trusted)."""
    subdomain = url_parts.get("subdomain")
    return subdomain.lower() if subdomain and "subdomain" in driver.connector.url_placeholders() else None


def _url_parts_of(tokens: TokenSet) -> dict[str, str]:
    """Where the account's API lives, when the token grant says (Salesforce ``instance_url``)."""
    value = tokens.extra.get("instance_url")
    return {"instance_url": str(value)[:300]} if value else {}


def _salesforce_org(tokens: TokenSet) -> str | None:
    """The org id in a Salesforce grant's identity URL (``https://login.salesforce.com/id/<org>/<user>``, §10)."""
    identity = tokens.extra.get("id")
    if not isinstance(identity, str):
        return None
    parts = urlsplit(identity).path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "id" and parts[1].isalnum() and len(parts[1]) in (15, 18):
        return parts[1]
    return None


def _account_of(tokens: TokenSet) -> str | None:
    """The platform account a token grant names, where it names one (HubSpot hub_id, Salesforce org host, TikTok's
    first granted advertiser)."""
    advertisers = tokens.extra.get("advertiser_ids")
    if isinstance(advertisers, list) and advertisers:
        return str(advertisers[0])[:120]
    for name in ("hub_id", "instance_url"):
        value = tokens.extra.get(name)
        if value:
            return str(value)[:120] if name == "hub_id" else urlsplit(str(value)).netloc[:120]
    return None
