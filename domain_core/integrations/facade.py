"""The integrations context's only public surface: connectors, connections, syncs and webhooks.

Platform requests happen between units of work, never inside a transaction. A connection's credentials are
opened, refreshed shortly before they expire, and a platform that refuses them marks the connection
``needs_reauth`` (one clear error, no retry loop).
"""

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.crypto import KeyRing, associated_data
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations import people_sync
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.budget import PlatformBudget
from promptsales.domain_core.integrations.commands import Connect, Disconnect, StartSync
from promptsales.domain_core.integrations.drivers import Driver
from promptsales.domain_core.integrations.dto import (
    AuthorizationOutcome,
    ConnectionCheck,
    ConnectionView,
    ConnectorList,
    ConnectorView,
    SyncRunPage,
    SyncRunView,
    WebhookOutcome,
)
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.hubspot.signatures import check_v3
from promptsales.domain_core.integrations.model.connectors import AuthKind, Capability, catalogue, get_connector
from promptsales.domain_core.integrations.model.errors import AuthExpired, ConnectorError
from promptsales.domain_core.integrations.model.oauth_apps import OAUTH_ENDPOINTS
from promptsales.domain_core.integrations.model.pkce import PkcePair, new_state
from promptsales.domain_core.integrations.oauth.client import AppCredentials, OAuthClient, TokenSet
from promptsales.domain_core.integrations.sandbox import SANDBOX_APP, Sandbox
from promptsales.domain_core.integrations.service import connections, sync_runs
from promptsales.domain_core.integrations.webhook_signatures import SignatureVerdict
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotEntitled, NotFound, ValidationFailed
from promptsales.domain_core.shared.pagination import clamp_page_size

log = structlog.get_logger(__name__)

LivePolicy = Callable[[Caller], Awaitable[bool]]
Progress = Callable[[int, str], Awaitable[None]]
REFRESH_MARGIN = timedelta(minutes=5)
CALLBACK_PATH = "/oauth/callback/{platform}"
WEBHOOK_PATH = "/webhooks/{platform}"


@dataclass(frozen=True, slots=True)
class _Link:
    """An open connection: what its requests need (the secret never leaves this object)."""

    platform: str
    mode: str
    status: str
    account_id: str | None
    url_parts: Mapping[str, str]
    secret: dict[str, Any] = field(repr=False)
    expires_at: datetime | None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class IntegrationsFacade:
    """Use cases of the integrations context."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        credentials: CredentialStore,
        keys: KeyRing,
        *,
        drivers: Mapping[str, Driver],
        sandbox: Sandbox,
        crm: CrmFacade,
        live_allowed: LivePolicy,
        default_mode: str,
        public_url: str,
        apps: Mapping[str, AppCredentials],
        budget: PlatformBudget | None = None,
        live_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        self._uow = uow
        self._credentials = credentials
        self._keys = keys
        self._drivers = drivers
        self.sandbox = sandbox
        self._crm = crm
        self._live_allowed = live_allowed
        self._default_mode = default_mode
        self._public_url = public_url.rstrip("/")
        self._apps = apps
        self._budget = budget
        self._live_transport = live_transport
        self._clock = clock
        self._webhook_tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------------------------------ catalogue

    def _driver(self, platform: str) -> Driver:
        get_connector(platform)  # NotFound listing the valid platforms
        driver = self._drivers.get(platform)
        if driver is None:
            raise ValidationFailed(
                f"{get_connector(platform).display_name} is catalogued but cannot be connected in this version yet.",
                field="platform",
                hint=f"Connectable now: {', '.join(sorted(self._drivers))}.",
            )
        return driver

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
                available=connector.id in self._drivers,
                live_allowed=live,
                connection=linked.get(connector.id),
            )
            for _, connector in sorted(catalogue().items())
        ]
        return ConnectorList(items=items)

    # ------------------------------------------------------------------------------------------ connecting

    def redirect_uri(self, platform: str) -> str:
        """Where a platform sends the admin back after approving (register it in the platform's app)."""
        return self._public_url + CALLBACK_PATH.format(platform=platform)

    def _oauth(self, platform: str, mode: str, url_parts: Mapping[str, str]) -> OAuthClient:
        endpoints = OAUTH_ENDPOINTS.get(platform)
        if endpoints is None:
            raise ValidationFailed(f"{platform} takes no OAuth authorization here.", field="platform")
        transport: httpx.AsyncBaseTransport | None
        if mode == "sandbox":
            app, transport = SANDBOX_APP, self.sandbox.oauth_transport(platform)
            sandbox_endpoints = type(endpoints)(
                authorize_url=endpoints.authorize_url,
                token_url=f"https://{platform}-oauth.sandbox.promptsales.invalid/oauth/token",
                scopes=endpoints.scopes,
                pkce=endpoints.pkce,
            )
            endpoints = sandbox_endpoints
        else:
            found = self._apps.get(platform)
            if found is None:
                raise ValidationFailed(
                    f"This deployment has no {platform} app registered for live connections.",
                    field="platform",
                    hint=f"Set PROMPTSALES_INTEGRATIONS_APPS with a '{platform}' entry (README: Integrations).",
                )
            app, transport = found, self._live_transport
        return OAuthClient(
            get_connector(platform),
            endpoints,
            app,
            redirect_uri=self.redirect_uri(platform),
            url_parts=url_parts,
            transport=transport,
        )

    async def connect(self, caller: Caller, command: Connect, *, idempotency_key: str | None = None) -> ConnectionView:
        """Sandbox: connected at once. Live: an API key is checked and stored, or an OAuth authorization URL."""
        driver = self._driver(command.platform)
        mode = command.mode or self._default_mode
        if mode == "live" and not await self._live_allowed(caller):
            raise NotEntitled(
                "The tenant's plan includes sandbox connectors only.",
                hint="business_list_plans shows the plans with live connectors; sandbox mode works on every plan.",
            )
        if mode == "sandbox":
            return await self._connect_sandbox(caller, command, driver, idempotency_key)
        url_parts = {"subdomain": command.subdomain} if command.subdomain else {}
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
        async def prepare() -> tuple[Any, TokenSet]:
            return self.sandbox.issue(command.platform, caller.tenant_id)

        async def work(uow: UnitOfWork, issued: tuple[Any, TokenSet]) -> ConnectionView:
            account, tokens = issued
            return await connections.connected(
                uow,
                self._credentials,
                platform=command.platform,
                mode="sandbox",
                auth_kind=driver.connector.auth_kind.value,
                account_id=account.account_id,
                account_label=account.label,
                url_parts=dict(account.url_parts),
                secret={"access_token": tokens.access_token, "refresh_token": tokens.refresh_token},
                expires_at=tokens.expires_at,
            )

        return await self._uow.mutate_paid(
            caller,
            action="integrations.connect",
            arguments=command,
            idempotency_key=key,
            prepare=prepare,
            work=work,
            result_type=ConnectionView,
        )

    async def _connect_api_key(
        self, caller: Caller, command: Connect, driver: Driver, url_parts: dict[str, str], key: str | None
    ) -> ConnectionView:
        assert command.api_key is not None
        secret = {"access_token": command.api_key}

        async def prepare() -> str:
            link = _Link(command.platform, "live", "connected", None, url_parts, secret, None)
            async with self._http(caller, link) as http:
                return await driver.probe(http, None)

        async def work(uow: UnitOfWork, label: str) -> ConnectionView:
            return await connections.connected(
                uow,
                self._credentials,
                platform=command.platform,
                mode="live",
                auth_kind=AuthKind.API_KEY.value,
                account_id=None,
                account_label=label[:200],
                url_parts=url_parts,
                secret=secret,
                expires_at=None,
            )

        return await self._uow.mutate_paid(
            caller,
            action="integrations.connect",
            arguments=command,
            idempotency_key=key,
            prepare=prepare,
            work=work,
            result_type=ConnectionView,
        )

    async def _start_oauth(
        self, caller: Caller, command: Connect, url_parts: dict[str, str], key: str | None
    ) -> ConnectionView:
        client = self._oauth(command.platform, "live", url_parts)
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
        if platform not in self._drivers or not state or len(state) > 200:
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
            tokens = await self._oauth(platform, "live", url_parts).exchange(
                code=code[:2048], verifier=verifier, now=self._clock()
            )
        except ConnectorError as exc:
            return AuthorizationOutcome(ok=False, platform=platform, message=str(exc))
        driver = self._drivers[platform]
        account_id = _account_of(tokens)

        async def store(uow: UnitOfWork) -> ConnectionView:
            return await connections.connected(
                uow,
                self._credentials,
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
            work=lambda uow: connections.disconnect(uow, self._credentials, platform=command.platform),
            result_type=ConnectionView,
        )

    # ------------------------------------------------------------------------------------------ sessions

    async def _open(self, caller: Caller, platform: str) -> _Link:
        async def work(uow: UnitOfWork) -> _Link:
            record = await sync_runs.usable_connection(uow, platform)
            secret = await self._credentials.get(uow, connections.credential_name(platform))
            if secret is None:
                raise NotFound("connection", platform, field="platform")
            return _Link(
                platform,
                record.mode,
                record.status,
                record.account_id,
                dict(record.url_parts),
                secret,
                record.token_expires_at,
            )

        link = await self._uow.read(caller, work)
        if link.mode == "sandbox":
            self.sandbox.recognise(
                platform, caller.tenant_id, link.secret["access_token"], link.secret.get("refresh_token")
            )
        if (
            link.expires_at is not None
            and link.secret.get("refresh_token")
            and (link.expires_at - self._clock() < REFRESH_MARGIN)
        ):
            link = await self._refresh(caller, link)
        return link

    async def _refresh(self, caller: Caller, link: _Link) -> _Link:
        client = self._oauth(link.platform, link.mode, link.url_parts)
        try:
            tokens = await client.refresh(refresh_token=link.secret["refresh_token"], now=self._clock())
        except AuthExpired as exc:
            await self._needs_reauth(caller, link.platform, exc)
            raise
        secret = {**link.secret, "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}
        await self._uow.mutate(
            caller,
            action="integrations.refresh",
            arguments={"platform": link.platform},
            idempotency_key=None,
            work=lambda uow: self._store_refreshed(uow, link.platform, secret, tokens.expires_at),
            result_type=AuthorizationOutcome,
        )
        return _Link(link.platform, link.mode, link.status, link.account_id, link.url_parts, secret, tokens.expires_at)

    async def _store_refreshed(
        self, uow: UnitOfWork, platform: str, secret: dict[str, Any], expires_at: datetime | None
    ) -> AuthorizationOutcome:
        await connections.refreshed(uow, self._credentials, platform=platform, secret=secret, expires_at=expires_at)
        return AuthorizationOutcome(ok=True, platform=platform, message="refreshed")

    async def _needs_reauth(self, caller: Caller, platform: str, error: AuthExpired) -> None:
        reason = error.detail or "the platform refused the stored credentials"
        await self._uow.mutate(
            caller,
            action="integrations.needs_reauth",
            arguments={"platform": platform},
            idempotency_key=None,
            work=lambda uow: connections.needs_reauth(uow, platform=platform, reason=reason),
            result_type=ConnectionView,
        )

    def _http(self, caller: Caller, link: _Link) -> ConnectorHttp:
        driver = self._drivers[link.platform]
        sandbox = link.mode == "sandbox"

        async def auth() -> Mapping[str, str]:
            return driver.auth_headers(link.secret)

        return ConnectorHttp(
            driver.connector,
            base_url=driver.sandbox_base_url(link.url_parts) if sandbox else driver.live_base_url(link.url_parts),
            tenant_id=caller.tenant_id,
            auth=auth,
            budget=self._budget,
            transport=self.sandbox.transport(link.platform) if sandbox else self._live_transport,
            secrets=[str(v) for v in link.secret.values() if isinstance(v, str)],
        )

    async def _with_platform(
        self, caller: Caller, platform: str, work: Callable[[ConnectorHttp, _Link], Awaitable[Any]]
    ) -> Any:
        """Run ``work`` with a session; a refused token is refreshed once, else the connection needs_reauth."""
        link = await self._open(caller, platform)
        for attempt in (1, 2):
            async with self._http(caller, link) as http:
                try:
                    return await work(http, link)
                except AuthExpired as exc:
                    if attempt == 1 and link.secret.get("refresh_token"):
                        link = await self._refresh(caller, link)
                        continue
                    await self._needs_reauth(caller, platform, exc)
                    raise
        raise AssertionError("unreachable")

    async def test_connection(self, caller: Caller, platform: str) -> ConnectionCheck:
        """Call the platform once with the stored credentials and say whether it answered."""
        driver = self._driver(platform)
        started = time.monotonic()
        try:
            detail = await self._with_platform(caller, platform, lambda http, link: driver.probe(http, link.account_id))
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

    # ------------------------------------------------------------------------------------------ syncs

    async def sync(self, caller: Caller, command: StartSync, *, progress: Progress | None = None) -> SyncRunView:
        """Run (or resume) a sync of one capability to its end; interrupted runs keep their cursor."""
        driver = self._driver(command.platform)
        capabilities = {c.value for c in driver.connector.capabilities}
        capability = command.capability or sorted(capabilities)[0]
        if capability not in capabilities or capability != Capability.CRM_SYNC.value:
            raise ValidationFailed(
                f"{driver.connector.display_name} has no '{capability}' sync here.",
                field="capability",
                hint=f"{command.platform} syncs: crm_sync"
                if Capability.CRM_SYNC.value in capabilities
                else f"{command.platform} has no sync capability in this version.",
            )
        source_of = getattr(driver, "source", None)
        if source_of is None:
            raise ValidationFailed(f"{command.platform} has no CRM sync in this version.", field="platform")

        async def begin(uow: UnitOfWork) -> tuple[SyncRunView, dict[str, Any]]:
            record, _ = await sync_runs.begin(uow, platform=command.platform, capability=capability, full=command.full)
            return sync_runs.run_view(record), dict(record.cursor)

        holder: list[tuple[SyncRunView, dict[str, Any]]] = []

        async def start(uow: UnitOfWork) -> SyncRunView:
            holder.append(await begin(uow))
            return holder[-1][0]

        run = await self._uow.mutate(
            caller,
            action="integrations.start_sync",
            arguments=command,
            idempotency_key=None,
            work=start,
            result_type=SyncRunView,
        )
        resume_at = holder[-1][1]
        if resume_at.get("done"):
            return await self._finish(caller, run.id, None)
        try:
            run = await self._with_platform(
                caller,
                command.platform,
                lambda http, link: people_sync.run_people_sync(
                    self._uow,
                    self._crm,
                    caller,
                    platform=command.platform,
                    source=source_of(http),
                    run=run,
                    cursor=resume_at.get("after"),
                    since=run.incremental_since,
                    progress=progress,
                ),
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

    # ------------------------------------------------------------------------------------------ webhooks

    async def handle_webhook(
        self, platform: str, *, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> WebhookOutcome:
        """Verify a delivery, answer at once, and apply each new event after (redeliveries change nothing)."""
        if platform != "hubspot":
            return WebhookOutcome(status_code=404, outcome=f"rejected: no webhooks for '{platform[:40]}'")
        events = hubspot_events(body)
        if events is None:
            return WebhookOutcome(status_code=400, outcome="rejected: not a HubSpot webhook batch")
        if not events:
            return WebhookOutcome(status_code=200, outcome="nothing to apply")
        portal = str(events[0]["portalId"])
        system = Caller(tenant_id="-", actor_id="hubspot", actor_kind="system", source="webhook")
        key = connections.account_route(platform, portal)
        tenant = await self._uow.read(
            system, lambda uow: repo.route_tenant(uow, kind=connections.ROUTE_ACCOUNT, key=key)
        )
        if tenant is None:
            return WebhookOutcome(status_code=401, outcome="rejected: unknown portal")
        caller = Caller(tenant_id=tenant, actor_id="hubspot", actor_kind="system", source="webhook")

        async def mode_of(uow: UnitOfWork) -> str | None:
            record = await repo.connection(uow, platform)
            return record.mode if record is not None and record.account_id == portal else None

        mode = await self._uow.read(caller, mode_of)
        app = SANDBOX_APP if mode == "sandbox" else self._apps.get(platform)
        if mode is None or app is None:
            return WebhookOutcome(status_code=401, outcome="rejected: the portal is not connected")
        lowered = {k.lower(): v for k, v in headers.items()}
        verdict = check_v3(
            client_secret=app.client_secret,
            method=method,
            uri=url,
            body=body,
            signature=lowered.get("x-hubspot-signature-v3"),
            timestamp=lowered.get("x-hubspot-request-timestamp"),
            now=self._clock(),
        )
        if verdict is not SignatureVerdict.VALID:
            log.warning("integrations.webhook_refused", platform=platform, verdict=verdict.value)
            return WebhookOutcome(status_code=401, outcome=f"rejected: signature {verdict.value}")
        task = asyncio.create_task(self._apply_hubspot_events(caller, portal, events))
        self._webhook_tasks.add(task)
        task.add_done_callback(self._webhook_tasks.discard)
        return WebhookOutcome(status_code=200, outcome=f"accepted {len(events)} event(s)")

    async def drain_webhooks(self) -> None:
        """Wait for the webhook work already accepted (shutdown and tests)."""
        while self._webhook_tasks:
            await asyncio.gather(*list(self._webhook_tasks), return_exceptions=True)

    async def _apply_hubspot_events(self, caller: Caller, portal: str, events: list[dict[str, Any]]) -> None:
        for event in events:
            try:
                await self._apply_hubspot_event(caller, event)
            except Exception:  # one bad event must not stop the others; it is logged, the platform retries
                log.exception(
                    "integrations.webhook_apply_failed", platform="hubspot", event_id=str(event.get("eventId"))
                )

    async def _apply_hubspot_event(self, caller: Caller, event: dict[str, Any]) -> None:
        event_id, kind = str(event["eventId"]), str(event.get("subscriptionType", ""))
        object_id = str(event.get("objectId", ""))
        if not kind.startswith("contact.") or not object_id.isdigit():
            await self._receipt(caller, event_id, kind, "ignored: not a contact event")
            return
        if kind == "contact.deletion":
            person = None
        else:
            driver = self._drivers["hubspot"]
            person = await self._with_platform(
                caller,
                "hubspot",
                lambda http, link: driver.source(http).person(object_id),  # type: ignore[attr-defined]
            )

        async def links(uow: UnitOfWork) -> Any:
            return (await repo.links(uow, "hubspot", people_sync.OBJECT_TYPE, [object_id])).get(object_id)

        link = await self._uow.read(caller, links)
        outcome = None
        if person is not None:
            outcome = await people_sync.apply_person(self._crm, caller, platform="hubspot", person=person, link=link)

        async def commit(uow: UnitOfWork) -> WebhookOutcome:
            first = await repo.first_receipt(
                uow, platform="hubspot", event_id=event_id, event_type=kind[:80], outcome="applied"
            )
            if not first:
                return WebhookOutcome(status_code=200, outcome="duplicate")
            if person is not None and outcome is not None and outcome.local_id is not None:
                await repo.put_link(
                    uow,
                    platform="hubspot",
                    object_type=people_sync.OBJECT_TYPE,
                    external_id=object_id,
                    local_id=outcome.local_id,
                    remote_modified_at=person.modified_at,
                    fields=person.fields(),
                )
            elif person is None and link is not None:
                await repo.put_link(
                    uow,
                    platform="hubspot",
                    object_type=people_sync.OBJECT_TYPE,
                    external_id=object_id,
                    local_id=link.local_id,
                    remote_modified_at=link.remote_modified_at,
                    fields=link.fields,
                    deleted=True,
                )
            uow.audit(
                "integrations.webhook",
                target_type="hubspot_event",
                target_id=event_id[:40],
                changes={"type": kind, "object_id": object_id},
            )
            return WebhookOutcome(status_code=200, outcome="applied")

        await self._uow.mutate(
            caller,
            action="integrations.webhook",
            arguments={"event": event_id},
            idempotency_key=None,
            work=commit,
            result_type=WebhookOutcome,
        )

    async def _receipt(self, caller: Caller, event_id: str, kind: str, outcome: str) -> None:
        async def work(uow: UnitOfWork) -> WebhookOutcome:
            await repo.first_receipt(uow, platform="hubspot", event_id=event_id, event_type=kind[:80], outcome=outcome)
            return WebhookOutcome(status_code=200, outcome=outcome)

        await self._uow.mutate(
            caller,
            action="integrations.webhook",
            arguments={"event": event_id},
            idempotency_key=None,
            work=work,
            result_type=WebhookOutcome,
        )


def hubspot_events(body: bytes) -> list[dict[str, Any]] | None:
    """A HubSpot webhook batch: a JSON array of events with eventId, portalId (§9 [~]); None when it is not one."""
    if len(body) > 1_000_000:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, list) or len(document) > 100:
        return None
    events = []
    for item in document:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("eventId"), int | str)
            or not isinstance(item.get("portalId"), int | str)
        ):
            return None
        if len(str(item["eventId"])) > 120:
            return None
        events.append(item)
    portals = {str(e["portalId"]) for e in events}
    return events if len(portals) <= 1 else None


def _account_of(tokens: TokenSet) -> str | None:
    """The platform account a token grant names, where it names one (HubSpot hub_id, Salesforce org URL)."""
    for name in ("hub_id", "instance_url"):
        value = tokens.extra.get(name)
        if value:
            return str(value)[:120] if name == "hub_id" else urlsplit(str(value)).netloc[:120]
    return None
