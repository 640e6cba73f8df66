"""Designs from design platforms (Canva, Adobe Express) kept in the library: one asset per design, a version per
changed export.

The asset is found by its target ``design:<platform>:<id>``. An export whose bytes equal the current version's
adds nothing; a changed one becomes the next version and sends the asset back to draft (it must be reviewed
again before a campaign may use it). Imports are not generations: they count no ``content_generations``.
"""

import hashlib

from promptsales.domain_core.content import repository as repo
from promptsales.domain_core.content.commands import ImportDesign
from promptsales.domain_core.content.dto import CreativeResult, ImportedDesign, Usage
from promptsales.domain_core.content.service import library
from promptsales.domain_core.content.tables import AssetRecord, AssetVersionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import UpstreamError
from promptsales.domain_core.shared.ids import new_id

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NO_MODEL = Usage(provider="import", model="none", input_tokens=0, output_tokens=0)


def target_of(command: ImportDesign) -> str:
    """Where an imported design's asset is found again."""
    return f"design:{command.platform}:{command.design_id}"


async def keep_design(uow: UnitOfWork, command: ImportDesign, design: ImportedDesign) -> CreativeResult:
    """Store the exported PNG as the design's asset (created, or its next version when the file changed)."""
    if design.mime_type != "image/png" or not design.data.startswith(PNG_MAGIC):
        raise UpstreamError(
            f"{command.platform} exported something other than a PNG for design {command.design_id}.",
            hint="Export the design as PNG on the platform and try again.",
        )
    sha = hashlib.sha256(design.data).hexdigest()
    body: dict[str, object] = {"source": command.platform, "design_id": command.design_id, "title": design.title}
    await repo.serialize(uow, target_of(command))  # one asset per design, even for concurrent imports
    record = await repo.asset_by_target(uow, kind="image", target=target_of(command))
    if record is None:
        await repo.store_blob(uow, sha256=sha, mime_type=design.mime_type, data=design.data)
        record = AssetRecord(
            id=new_id("as"),
            tenant_id=uow.tenant_id,
            kind="image",
            title=(command.title or design.title or command.design_id)[:200],
            channel=None,
            target=target_of(command),
            status="draft",
            current_version=1,
            brand_kit_id=None,
            created_by=uow.caller.actor_id,
            created_at=uow.now,
            updated_at=uow.now,
        )
        await repo.add_asset(uow, record, _version(uow, record, 1, sha, design, body))
        uow.audit("content.import_design", target_type="asset", target_id=record.id, after=body | {"version": 1})
        uow.emit("content.asset_created", {"asset_id": record.id, "kind": "image"})
    else:
        current = (await repo.current_versions(uow, [record]))[record.id]
        if current.blob_sha256 != sha:
            await repo.store_blob(uow, sha256=sha, mime_type=design.mime_type, data=design.data)
            before = {"version": record.current_version, "status": record.status}
            record.current_version += 1
            record.status, record.updated_at = "draft", uow.now
            await repo.add_asset(uow, record, _version(uow, record, record.current_version, sha, design, body))
            uow.audit(
                "content.import_design",
                target_type="asset",
                target_id=record.id,
                before=before,
                after={"version": record.current_version, "status": "draft"},
            )
            uow.emit("content.asset_updated", {"asset_id": record.id, "version": record.current_version})
    versions = await repo.versions(uow, record.id)
    return CreativeResult(
        asset=library.asset_view(record, versions),
        placement=target_of(command),
        width=design.width or 0,
        height=design.height or 0,
        mime_type=design.mime_type,
        bytes=len(design.data),
        usage=NO_MODEL,
    )


def _version(
    uow: UnitOfWork, record: AssetRecord, number: int, sha: str, design: ImportedDesign, body: dict[str, object]
) -> AssetVersionRecord:
    return AssetVersionRecord(
        tenant_id=uow.tenant_id,
        asset_id=record.id,
        version=number,
        body=dict(body),
        blob_sha256=sha,
        mime_type=design.mime_type,
        provider=NO_MODEL.provider,
        model=NO_MODEL.model,
        input_tokens=0,
        output_tokens=0,
        created_by=uow.caller.actor_id,
        created_at=uow.now,
    )
