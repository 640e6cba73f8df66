"""The two-way sync's conflict rule (pure): field-level last-writer-wins, with the last synced values as provenance.

For each field the external record holds: if it still equals what was last synced, the external side did not
change it and nothing is written. If it changed there and the local value also moved away from what was last
synced, the side modified later wins (the local record's ``updated_at`` against the external ``modified_at``);
otherwise the external value is written. A field the external side cleared (null) never clears local data.
A record seen for the first time fills every field it has.
"""

from collections.abc import Mapping
from datetime import datetime


def fields_to_write(
    *,
    remote: Mapping[str, str | None],
    remote_modified_at: datetime,
    last_synced: Mapping[str, str | None] | None,
    local: Mapping[str, str | None] | None,
    local_updated_at: datetime | None,
) -> dict[str, str]:
    """The external values to write locally under the rule above."""
    if last_synced is None or local is None:
        return {name: value for name, value in remote.items() if value}
    chosen: dict[str, str] = {}
    for name, value in remote.items():
        if not value or value == last_synced.get(name):
            continue
        local_moved = name in local and local.get(name) != last_synced.get(name)
        if local_moved and local_updated_at is not None and local_updated_at > remote_modified_at:
            continue  # changed on both sides; ours is newer
        chosen[name] = value
    return chosen
