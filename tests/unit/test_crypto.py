"""AES-256-GCM sealing of stored secrets: binding, tamper evidence, rotation, safe errors."""

import stat
from pathlib import Path

import pytest

from promptsales.domain_core.infrastructure.crypto import (
    CryptoError,
    KeyRing,
    associated_data,
    generate_key,
)

SECRET = b"canary-client-secret-123"
AAD = associated_data("acme", "paypal")


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.parse(f"k1:{generate_key()},k2:{generate_key()}")


def test_round_trip_with_the_active_key(ring: KeyRing) -> None:
    sealed = ring.seal(SECRET, associated_data=AAD)
    assert sealed.startswith("v1.k2.")
    assert SECRET.decode() not in sealed
    assert ring.open(sealed, associated_data=AAD) == SECRET


def test_same_plaintext_seals_differently_each_time(ring: KeyRing) -> None:
    assert ring.seal(SECRET, associated_data=AAD) != ring.seal(SECRET, associated_data=AAD)


def test_value_moved_to_another_tenant_or_purpose_fails(ring: KeyRing) -> None:
    sealed = ring.seal(SECRET, associated_data=AAD)
    for other in (associated_data("globex", "paypal"), associated_data("acme", "google_ads")):
        with pytest.raises(CryptoError) as caught:
            ring.open(sealed, associated_data=other)
        assert SECRET.decode() not in str(caught.value)


def test_tampered_ciphertext_fails(ring: KeyRing) -> None:
    version, kid, nonce, body = ring.seal(SECRET, associated_data=AAD).split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(CryptoError):
        ring.open(".".join((version, kid, nonce, flipped)), associated_data=AAD)


def test_rotation_reseals_old_values_under_the_active_key() -> None:
    k1, k2 = generate_key(), generate_key()
    old_ring = KeyRing.parse(f"k1:{k1}")
    old = old_ring.seal(SECRET, associated_data=AAD)
    new_ring = KeyRing.parse(f"k1:{k1},k2:{k2}")
    assert new_ring.needs_rotation(old)
    rotated = new_ring.rotate(old, associated_data=AAD)
    assert rotated.startswith("v1.k2.") and not new_ring.needs_rotation(rotated)
    assert new_ring.open(rotated, associated_data=AAD) == SECRET
    with pytest.raises(CryptoError, match="'k2', which is not configured"):
        old_ring.open(rotated, associated_data=AAD)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no encryption keys"),
        ("k1", "key_id:base64key"),
        ("k1:c2hvcnQ", "must be 32 bytes"),
        ("bad id!:" + "A" * 43, "key id"),
    ],
)
def test_bad_key_configuration_is_explained(spec: str, message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        KeyRing.parse(spec)


def test_unknown_active_key() -> None:
    with pytest.raises(CryptoError, match="active key id 'k9'"):
        KeyRing.parse(f"k1:{generate_key()}", active="k9")


def test_keys_never_appear_in_repr(ring: KeyRing) -> None:
    for key in ring.keys.values():
        assert repr(key) not in repr(ring)


def test_local_key_file_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    first = KeyRing.load_or_create_local(tmp_path / "keys")
    mode = stat.S_IMODE((tmp_path / "keys" / "encryption.keys").stat().st_mode)
    assert mode == 0o600
    second = KeyRing.load_or_create_local(tmp_path / "keys")
    sealed = first.seal(SECRET, associated_data=AAD)
    assert second.open(sealed, associated_data=AAD) == SECRET


def test_garbage_is_not_a_sealed_value(ring: KeyRing) -> None:
    with pytest.raises(CryptoError, match="supported format"):
        ring.open("plain-text", associated_data=AAD)


def test_settings_build_the_key_ring(tmp_path: Path) -> None:
    from promptsales.domain_core.infrastructure.settings import Settings

    k1, k2 = generate_key(), generate_key()
    configured = Settings(data_dir=tmp_path, encryption_keys=f"old:{k1},new:{k2}", encryption_active_key="old")
    assert configured.key_ring().active == "old"
    assert k1 not in repr(configured) and k2 not in repr(configured)
    local = Settings(data_dir=tmp_path).key_ring()
    assert local.active == "local1" and (tmp_path / "keys" / "encryption.keys").exists()
