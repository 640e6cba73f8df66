"""Brand kits: a tenant's voice, colours, logo, fonts and the words its copy must or must not use."""

import base64
import binascii
import hashlib

from promptsales.domain_core.content import repository as repo
from promptsales.domain_core.content.commands import SetBrandKit
from promptsales.domain_core.content.dto import BrandKitView
from promptsales.domain_core.content.model.brand_rules import BrandRules
from promptsales.domain_core.content.service.uris import file_uri
from promptsales.domain_core.content.tables import BrandKitRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_LOGO_BYTES = 750_000


def decode_logo(logo_png_base64: str) -> bytes:
    """The logo's PNG bytes, or a ValidationFailed naming ``logo_png_base64``."""
    try:
        data = base64.b64decode(logo_png_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("logo_png_base64 is not valid base64.", field="logo_png_base64") from exc
    if not data.startswith(PNG_SIGNATURE):
        raise ValidationFailed("logo_png_base64 must be a PNG image.", field="logo_png_base64")
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed(f"The logo is larger than {MAX_LOGO_BYTES // 1000} KB.", field="logo_png_base64")
    return data


def brand_kit_view(record: BrandKitRecord) -> BrandKitView:
    """A stored kit as the facade returns it."""
    return BrandKitView(
        id=record.id,
        name=record.name,
        is_default=record.is_default,
        voice=record.voice,
        colors=list(record.colors),
        fonts=list(record.fonts),
        banned_words=list(record.banned_words),
        required_phrases=list(record.required_phrases),
        substantiated_claims=list(record.substantiated_claims),
        max_emoji=record.max_emoji,
        logo_uri=file_uri(record.logo_sha256) if record.logo_sha256 else None,
        version=record.version,
        updated_at=record.updated_at,
    )


def brand_rules(record: BrandKitRecord | None) -> BrandRules:
    """What copy lint checks from a kit (no kit: only the platform's and the claims rules)."""
    if record is None:
        return BrandRules()
    return BrandRules(
        banned_words=list(record.banned_words),
        required_phrases=list(record.required_phrases),
        substantiated_claims=list(record.substantiated_claims),
        max_emoji=record.max_emoji,
    )


async def find_brand_kit(uow: UnitOfWork, name: str | None, *, required: bool = False) -> BrandKitRecord | None:
    """The named kit (NotFound if missing), or the default one (None if the tenant has none)."""
    record = await repo.brand_kit(uow, name=name)
    if record is None and (name or required):
        raise brand_kit_not_found(name)
    return record


def brand_kit_not_found(name: str | None) -> NotFound:
    """A kit that does not exist, with where kits come from."""
    error = NotFound("brand kit", name or "default", field="brand_kit")
    error.hint = "content_get_brand_kit without a name reads the default kit; content_set_brand_kit creates one."
    return error


async def get_brand_kit(uow: UnitOfWork, *, name: str | None) -> BrandKitView:
    """The named kit, or the default one."""
    record = await find_brand_kit(uow, name, required=True)
    assert record is not None
    return brand_kit_view(record)


async def kit_with_logo(uow: UnitOfWork, *, name: str | None) -> tuple[BrandKitRecord | None, bytes | None]:
    """The named (or default) kit and its logo bytes, for creatives."""
    record = await find_brand_kit(uow, name)
    logo = None
    if record is not None and record.logo_sha256:
        blob = await repo.blob(uow, record.logo_sha256)
        logo = bytes(blob.data) if blob is not None else None
    return record, logo


async def set_brand_kit(uow: UnitOfWork, command: SetBrandKit) -> BrandKitView:
    """Create or replace the kit called ``command.name``; the first kit (or ``is_default``) becomes the default.

    Concurrent calls for one name are queued (``repo.serialize``): each replaces the kit in turn, none fails.
    """
    logo = decode_logo(command.logo_png_base64) if command.logo_png_base64 else None
    await repo.serialize(uow, "content_brand_kits")
    existing = await repo.brand_kits(uow)
    record = next((kit for kit in existing if kit.name == command.name), None)
    make_default = command.is_default or not existing or (record is not None and record.is_default)
    logo_sha = hashlib.sha256(logo).hexdigest() if logo else (record.logo_sha256 if record else None)
    if logo and logo_sha:
        await repo.store_blob(uow, sha256=logo_sha, mime_type="image/png", data=logo)
    before = brand_kit_view(record).model_dump(mode="json") if record else None
    if record is None:
        record = BrandKitRecord(
            id=new_id("bk"),
            tenant_id=uow.tenant_id,
            name=command.name,
            created_at=uow.now,
            updated_at=uow.now,
            colors=[],
            fonts=[],
            banned_words=[],
            required_phrases=[],
            substantiated_claims=[],
        )
    else:
        record.version += 1
    record.voice = command.voice or ""
    record.colors = list(command.colors or [])
    record.fonts = list(command.fonts or [])
    record.banned_words = sorted({w.strip() for w in command.banned_words or [] if w.strip()})
    record.required_phrases = list(dict.fromkeys(p.strip() for p in command.required_phrases or [] if p.strip()))
    record.substantiated_claims = list(
        dict.fromkeys(c.strip() for c in command.substantiated_claims or [] if c.strip())
    )
    record.max_emoji = command.max_emoji
    record.logo_sha256 = logo_sha
    record.updated_at = uow.now
    demoted = []
    if make_default:
        for other in existing:
            if other.is_default and other.id != record.id:
                other.is_default = False
                demoted.append(other)
    record.is_default = make_default
    await repo.save_brand_kits(uow, *demoted, record)
    view = brand_kit_view(record)
    uow.audit(
        "content.set_brand_kit",
        target_type="brand_kit",
        target_id=record.id,
        before=before,
        after=view.model_dump(mode="json"),
    )
    uow.emit("content.brand_kit_changed", {"brand_kit_id": record.id, "version": record.version})
    return view
