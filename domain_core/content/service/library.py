"""The content library: assets with versions, and review (draft → in_review → approved / rejected).

Review separates duties: whoever generated an asset cannot approve it (another actor must), and a decision
that is already in force is answered as it stands, without a second audit entry or event.
"""

import hashlib
from datetime import datetime
from typing import Any

from promptsales.domain_core.content import repository as repo
from promptsales.domain_core.content.commands import DecideAsset
from promptsales.domain_core.content.dto import ApprovedCopy, AssetPage, AssetVersionView, AssetView, Usage
from promptsales.domain_core.content.service.uris import asset_uri, file_uri
from promptsales.domain_core.content.tables import AssetRecord, AssetVersionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import ComplianceBlocked, Conflict, NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import clamp_page_size, decode_cursor, encode_cursor

LIST_SCOPE = "content.assets"
# Which decision may follow which state.
TRANSITIONS: dict[str, tuple[str, ...]] = {"submit": ("draft",), "approve": ("in_review",), "reject": ("in_review",)}
OUTCOME = {"submit": "in_review", "approve": "approved", "reject": "rejected"}
LOOKUP = "content_list_assets"


def version_view(record: AssetVersionRecord) -> AssetVersionView:
    """A stored version as the facade returns it."""
    return AssetVersionView(
        version=record.version,
        body=dict(record.body),
        file_uri=file_uri(record.blob_sha256) if record.blob_sha256 else None,
        mime_type=record.mime_type,
        provider=record.provider,
        model=record.model,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        created_by=record.created_by,
        created_at=record.created_at,
    )


def asset_view(record: AssetRecord, versions: list[AssetVersionRecord] | None = None) -> AssetView:
    """A stored asset (with its versions when given) as the facade returns it."""
    current = next((v for v in versions or [] if v.version == record.current_version), None)
    return AssetView(
        id=record.id,
        kind=record.kind,
        title=record.title,
        channel=record.channel,
        target=record.target,
        status=record.status,
        current_version=record.current_version,
        uri=asset_uri(record.id),
        file_uri=file_uri(current.blob_sha256) if current is not None and current.blob_sha256 else None,
        brand_kit_id=record.brand_kit_id,
        created_by=record.created_by,
        decided_by=record.decided_by,
        decided_at=record.decided_at,
        decision_note=record.decision_note,
        created_at=record.created_at,
        updated_at=record.updated_at,
        versions=[version_view(v) for v in versions or []],
    )


async def create_asset(
    uow: UnitOfWork,
    *,
    kind: str,
    title: str,
    channel: str | None,
    target: str | None,
    brand_kit_id: str | None,
    body: dict[str, Any],
    usage: Usage,
    blob: tuple[bytes, str] | None = None,
) -> AssetView:
    """A new draft asset with its first version (file bytes stored once by hash); counts one generation."""
    sha = None
    if blob is not None:
        data, mime = blob
        sha = hashlib.sha256(data).hexdigest()
        await repo.store_blob(uow, sha256=sha, mime_type=mime, data=data)
    record = AssetRecord(
        id=new_id("as"),
        tenant_id=uow.tenant_id,
        kind=kind,
        title=title[:200] or kind,
        channel=channel,
        target=target,
        status="draft",
        current_version=1,
        brand_kit_id=brand_kit_id,
        created_by=uow.caller.actor_id,
        created_at=uow.now,
        updated_at=uow.now,
    )
    version = AssetVersionRecord(
        tenant_id=uow.tenant_id,
        asset_id=record.id,
        version=1,
        body=body,
        blob_sha256=sha,
        mime_type=blob[1] if blob else None,
        provider=usage.provider,
        model=usage.model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        created_by=uow.caller.actor_id,
        created_at=uow.now,
    )
    await repo.add_asset(uow, record, version)
    uow.meter("content_generations")
    uow.audit(
        "content.create_asset", target_type="asset", target_id=record.id, after={"kind": kind, "title": record.title}
    )
    uow.emit("content.asset_created", {"asset_id": record.id, "kind": kind})
    return asset_view(record, [version])


def asset_not_found(asset_id: str) -> NotFound:
    """An asset that does not exist for this tenant."""
    return NotFound("asset", asset_id, field="asset_id", lookup=LOOKUP)


async def get_asset(uow: UnitOfWork, asset_id: str) -> AssetView:
    """An asset with every version."""
    record = await repo.asset(uow, asset_id)
    if record is None:
        raise asset_not_found(asset_id)
    return asset_view(record, await repo.versions(uow, asset_id))


async def current_file(uow: UnitOfWork, asset_id: str) -> bytes:
    """The file bytes of an asset's current version (images and videos)."""
    record = await repo.asset(uow, asset_id)
    version = (await repo.current_versions(uow, [record])).get(asset_id) if record is not None else None
    blob = await repo.blob(uow, version.blob_sha256) if version is not None and version.blob_sha256 else None
    if blob is None:
        raise asset_not_found(asset_id)
    return bytes(blob.data)


async def file_with_type(uow: UnitOfWork, sha256: str) -> tuple[bytes, str]:
    """A stored file's bytes and MIME type."""
    blob = await repo.blob(uow, sha256)
    if blob is None:
        error = NotFound("file", sha256, field="sha256")
        error.hint = (
            "Files are listed as file_uri on assets (content_get_asset) and brand kits (content_get_brand_kit)."
        )
        raise error
    return bytes(blob.data), blob.mime_type


async def list_assets(
    uow: UnitOfWork, *, kind: str | None, status: str | None, channel: str | None, cursor: str | None, limit: int | None
) -> AssetPage:
    """Assets newest first (current version only), filtered."""
    filters = {"kind": kind, "status": status, "channel": channel}
    size = clamp_page_size(limit)
    position = decode_cursor(cursor, LIST_SCOPE, filters)
    try:
        after = (datetime.fromisoformat(str(position[0])), str(position[1])) if position else None
    except (ValueError, IndexError) as exc:
        raise ValidationFailed(
            "cursor is not valid.", field="cursor", hint="Pass next_cursor exactly as returned."
        ) from exc
    rows = await repo.list_assets(uow, kind=kind, status=status, channel=channel, after=after, limit=size + 1)
    page = rows[:size]
    next_cursor = (
        encode_cursor(LIST_SCOPE, filters, [page[-1].created_at.isoformat(), page[-1].id]) if len(rows) > size else None
    )
    current = await repo.current_versions(uow, page)
    items = [
        asset_view(record, [current[record.id]] if record.id in current else []).model_copy(update={"versions": []})
        for record in page
    ]
    return AssetPage(items=items, next_cursor=next_cursor)


def may_decide(record: AssetRecord, decision: str, actor_id: str, *, allow_self_approval: bool) -> str | None:
    """Why ``actor_id`` may not take ``decision`` on the asset (None: it may): its generator cannot approve it."""
    if decision == "approve" and record.created_by == actor_id and not allow_self_approval:
        return (
            f"Asset '{record.id}' was generated by {actor_id}; another person or agent must approve it "
            "(separation of duties)."
        )
    return None


async def decide(uow: UnitOfWork, command: DecideAsset) -> AssetView:
    """Move an asset through review, recording who decided and why (rejection needs a reason).

    Repeating the decision that put the asset in its current state changes nothing and returns it as it is.
    """
    decision, asset_id, note = command.decision, command.asset_id, command.note
    record = await repo.asset(uow, asset_id, lock=True)
    if record is None:
        raise asset_not_found(asset_id)
    if record.status == OUTCOME[decision]:
        return asset_view(record, await repo.versions(uow, asset_id))
    if record.status not in TRANSITIONS[decision]:
        allowed = " or ".join(TRANSITIONS[decision])
        raise Conflict(
            f"Asset '{asset_id}' is {record.status}; it can become {OUTCOME[decision]} only from {allowed}.",
            field="asset_id",
            hint="content_get_asset shows its state; submit drafts with content_submit_asset first.",
        )
    settings = await repo.ai_settings(uow)
    allow_self_approval = settings is not None and settings.allow_self_approval
    refusal = may_decide(record, decision, uow.caller.actor_id, allow_self_approval=allow_self_approval)
    if refusal is not None:
        raise ComplianceBlocked(
            refusal, hint="Ask a reviewer to call content_approve_asset with their own credentials."
        )
    if decision == "reject" and not (note and note.strip()):
        raise ValidationFailed("Say why the asset is rejected.", field="note")
    before = record.status
    record.status = OUTCOME[decision]
    if decision in ("approve", "reject"):
        record.decided_by, record.decided_at, record.decision_note = uow.caller.actor_id, uow.now, note
    record.updated_at = uow.now
    await repo.save_asset(uow, record)
    uow.audit(
        f"content.{decision}_asset",
        target_type="asset",
        target_id=record.id,
        before={"status": before},
        after={"status": record.status, "note": note},
    )
    uow.emit(f"content.asset_{record.status}", {"asset_id": record.id, "decided_by": uow.caller.actor_id})
    return asset_view(record, await repo.versions(uow, asset_id))


async def approved(uow: UnitOfWork, asset_ids: list[str]) -> dict[str, bool]:
    """Whether each asset is approved (unknown ids: False), for other contexts' checks."""
    statuses = {record.id: record.status for record in await repo.assets(uow, asset_ids)}
    return {asset_id: statuses.get(asset_id) == "approved" for asset_id in asset_ids}


# Why an asset that is not approved cannot go out yet, and what makes it approved.
_STATE_WORDS = {"draft": "still a draft", "in_review": "in review", "rejected": "rejected"}
_NOT_APPROVED_HINT = {
    "draft": "Submit it (content_submit_asset); then another person or agent approves it (content_approve_asset).",
    "in_review": "A reviewer approves it with content_approve_asset (not the agent that generated it).",
    "rejected": "It was rejected; generate new copy (content_generate_copy), submit it and have it approved.",
}


async def approved_copy(uow: UnitOfWork, asset_id: str, *, channel: str | None) -> ApprovedCopy:
    """An approved copy asset's current fields (for ``channel`` when given), or an error saying what stands in the
    way: not copy, copy for another channel, or not approved (ComplianceBlocked: only approved copy goes out)."""
    record = await repo.asset(uow, asset_id)
    if record is None:
        raise asset_not_found(asset_id)
    if record.kind != "copy":
        raise ValidationFailed(
            f"Asset '{asset_id}' is {record.kind}, not copy.",
            field="asset_id",
            hint="content_list_assets kind=copy lists the copy assets.",
        )
    if channel is not None and record.channel != channel:
        raise ValidationFailed(
            f"Asset '{asset_id}' is copy for {record.channel or 'no channel'}, not for {channel}.",
            field="asset_id",
            hint=f"Use copy written for {channel} (content_generate_copy channel={channel}; content_list_assets "
            f"kind=copy channel={channel} lists it).",
        )
    if record.status != "approved":
        raise ComplianceBlocked(
            f"Asset '{asset_id}' is {_STATE_WORDS.get(record.status, record.status)}; only approved copy is sent.",
            field="asset_id",
            hint=_NOT_APPROVED_HINT.get(record.status),
        )
    version = (await repo.current_versions(uow, [record])).get(asset_id)
    body = dict(version.body) if version is not None else {}
    raw = body.get("fields")
    fields: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kit = next((k for k in await repo.brand_kits(uow) if k.id == record.brand_kit_id), None)
    return ApprovedCopy(
        asset_id=record.id,
        version=record.current_version,
        title=record.title,
        channel=record.channel or "",
        format=record.target,
        language=str(body.get("language") or "en"),
        fields={
            str(name): value if isinstance(value, str) else [str(item) for item in value]
            for name, value in fields.items()
            if isinstance(value, str) or (isinstance(value, list) and all(isinstance(i, str) for i in value))
        },
        brand_kit_id=record.brand_kit_id,
        accent_color=kit.colors[0] if kit is not None and kit.colors else None,
    )
