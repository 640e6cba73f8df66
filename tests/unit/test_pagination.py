"""Opaque cursors: round trip, bound to their listing and filters, clear errors when tampered."""

import pytest

from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import MAX_PAGE_SIZE, clamp_page_size, decode_cursor, encode_cursor


def test_cursor_round_trip() -> None:
    cursor = encode_cursor("leads", {"stage": "mql"}, ["ld_X", 5])
    assert decode_cursor(cursor, "leads", {"stage": "mql"}) == ["ld_X", 5]


def test_no_cursor_means_first_page() -> None:
    assert decode_cursor(None, "leads", {}) is None


def test_cursor_from_other_filters_is_rejected() -> None:
    cursor = encode_cursor("leads", {"stage": "mql"}, ["ld_X"])
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(cursor, "leads", {"stage": "sql"})
    assert caught.value.field == "cursor"
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor, "contacts", {"stage": "mql"})


@pytest.mark.parametrize("garbage", ["%%%", "abc", "eyJ4IjogMX0"])
def test_garbage_cursor(garbage: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(garbage, "leads", {})
    assert "cursor" in caught.value.message


def test_page_size_cap() -> None:
    assert clamp_page_size(None) == 20
    assert clamp_page_size(10_000) == MAX_PAGE_SIZE
    with pytest.raises(ValidationFailed):
        clamp_page_size(0)


def test_ids_sort_by_creation_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    ids = []
    for millis in (1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000):
        monkeypatch.setattr(time, "time_ns", lambda m=millis: m * 1_000_000)
        ids.append(new_id("ld"))
    assert all(i.startswith("ld_") and len(i) == 29 for i in ids)
    assert ids == sorted(ids)


def test_ids_of_one_process_are_strictly_increasing() -> None:
    ids = [new_id("int") for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
