"""The connection lifecycle in the database: connect, authorize, refresh, needs_reauth, disconnect."""

from datetime import datetime, timedelta
from typing import Any

from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.integrations import repository as repo
from promptsales.domain_core.integrations.dto import ConnectionView
from promptsales.domain_core.integrations.tables import ConnectionRecord, OAuthStateRecord
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id

STATE_TTL = timedelta(minutes=10)
ROUTE_STATE = "oauth_state"
ROUTE_ACCOUNT = "account"


def credential_name(platform: str) -> str:
    """Where a platform's credentials are sealed in the shared credential store."""
    return f"integrations.{platform}"


def account_route(platform: str, account_id: str) -> str:
    """The route key of a platform account (webhooks name it)."""
    return f"{platform}:{account_id}"


def view(record: ConnectionRecord, *, authorization_url: str | None = None) -> ConnectionView:
    """The connection as tools show it."""
    return ConnectionView(
        id=record.id,
        platform=record.platform,
        mode=record.mode,
        status=record.status,
        account_id=record.account_id,
        account_label=record.account_label,
        connected_at=record.connected_at,
        token_expires_at=record.token_expires_at,
        last_error=record.last_error,
        authorization_url=authorization_url,
    )


async def _upsert(uow: UnitOfWork, platform: str, *, mode: str, auth_kind: str) -> ConnectionRecord:
    record = await repo.connection(uow, platform, for_update=True)
    if record is None:
        record = await repo.insert_connection(
            uow,
            ConnectionRecord(
                id=new_id("cn"),
                tenant_id=uow.tenant_id,
                platform=platform,
                mode=mode,
                status="pending",
                auth_kind=auth_kind,
                created_at=uow.now,
                updated_at=uow.now,
            ),
        )
    return record


async def connected(
    uow: UnitOfWork,
    credentials: CredentialStore,
    *,
    platform: str,
    mode: str,
    auth_kind: str,
    account_id: str | None,
    account_label: str | None,
    url_parts: dict[str, str],
    secret: dict[str, Any],
    expires_at: datetime | None,
) -> ConnectionView:
    """Store working credentials and mark the connection connected (a reconnect replaces the old ones)."""
    record = await _upsert(uow, platform, mode=mode, auth_kind=auth_kind)
    before = {"status": record.status, "mode": record.mode, "account_id": record.account_id}
    await credentials.put(uow, credential_name(platform), secret, label=f"{platform} {mode}")
    if record.mode != mode or record.account_id != account_id:
        record.watermarks = {}  # another account: the next sync starts from the beginning
    record.mode, record.auth_kind, record.status = mode, auth_kind, "connected"
    record.account_id, record.account_label, record.url_parts = account_id, account_label, url_parts
    record.token_expires_at, record.last_error = expires_at, None
    record.connected_at = record.updated_at = uow.now
    await repo.save(uow, record)
    if account_id:
        await repo.add_route(uow, kind=ROUTE_ACCOUNT, key=account_route(platform, account_id))
    after = {"status": "connected", "mode": mode, "account_id": account_id}
    uow.audit("integrations.connect", target_type="connection", target_id=record.id, before=before, after=after)
    uow.emit("integrations.connected", {"platform": platform, "mode": mode, "connection_id": record.id})
    return view(record)


async def start_authorization(
    uow: UnitOfWork, *, platform: str, auth_kind: str, state_hash: str, sealed_verifier: str, url_parts: dict[str, str]
) -> ConnectionRecord:
    """Remember an authorization the tenant's admin has to approve (single use, 10 minutes)."""
    record = await _upsert(uow, platform, mode="live", auth_kind=auth_kind)
    if record.status != "connected":
        record.status, record.mode, record.url_parts, record.updated_at = "pending", "live", url_parts, uow.now
        await repo.save(uow, record)
    await repo.add_state(
        uow,
        OAuthStateRecord(
            state_hash=state_hash,
            tenant_id=uow.tenant_id,
            platform=platform,
            connection_id=record.id,
            actor_id=uow.caller.actor_id,
            sealed_verifier=sealed_verifier,
            expires_at=uow.now + STATE_TTL,
            created_at=uow.now,
        ),
    )
    await repo.add_route(uow, kind=ROUTE_STATE, key=state_hash)
    uow.audit(
        "integrations.start_authorization", target_type="connection", target_id=record.id, changes={"mode": "live"}
    )
    return record


async def take_state(uow: UnitOfWork, state_hash: str) -> OAuthStateRecord:
    """Use an authorization's state once; ValidationFailed when it is unknown, used or expired."""
    record = await repo.take_state(uow, state_hash)
    if record is None:
        raise ValidationFailed(
            "This authorization link is unknown, already used or older than 10 minutes.",
            field="state",
            hint="Start again with integrations_connect.",
        )
    return record


async def needs_reauth(uow: UnitOfWork, *, platform: str, reason: str) -> ConnectionView:
    """The platform refused the stored credentials: stop using them until the tenant reconnects."""
    record = await repo.connection(uow, platform, for_update=True)
    if record is None:
        raise NotFound("connection", platform, field="platform")
    if record.status != "needs_reauth":
        record.status, record.last_error, record.updated_at = "needs_reauth", reason[:500], uow.now
        await repo.save(uow, record)
        uow.audit(
            "integrations.needs_reauth", target_type="connection", target_id=record.id, changes={"reason": reason}
        )
        uow.emit("integrations.needs_reauth", {"platform": platform, "connection_id": record.id})
    return view(record)


async def refreshed(
    uow: UnitOfWork, credentials: CredentialStore, *, platform: str, secret: dict[str, Any], expires_at: datetime | None
) -> None:
    """Keep refreshed tokens (the old refresh token may be spent: this write must not be lost)."""
    record = await repo.connection(uow, platform, for_update=True)
    if record is None or record.status == "disconnected":
        return
    await credentials.put(uow, credential_name(platform), secret, label=f"{platform} {record.mode}")
    record.token_expires_at, record.updated_at = expires_at, uow.now
    await repo.save(uow, record)


async def disconnect(uow: UnitOfWork, credentials: CredentialStore, *, platform: str) -> ConnectionView:
    """Forget the credentials; the connection stays listed as disconnected (synced data stays in the CRM)."""
    record = await repo.connection(uow, platform, for_update=True)
    if record is None:
        error = NotFound("connection", platform, field="platform")
        error.hint = "integrations_list_connectors shows the tenant's connections."
        raise error
    await credentials.delete(uow, credential_name(platform))
    before = {"status": record.status}
    record.status, record.token_expires_at, record.last_error, record.updated_at = "disconnected", None, None, uow.now
    await repo.save(uow, record)
    uow.audit(
        "integrations.disconnect",
        target_type="connection",
        target_id=record.id,
        before=before,
        after={"status": "disconnected"},
    )
    uow.emit("integrations.disconnected", {"platform": platform, "connection_id": record.id})
    return view(record)
