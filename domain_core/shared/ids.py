"""Time-ordered, prefixed identifiers (ULID layout) so ids sort by creation time for keyset pagination."""

import os
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_state_lock = threading.Lock()
_last = 0


def _next_value() -> int:
    """48-bit milliseconds then 80 random bits; within one millisecond the value increases (monotonic ULID)."""
    global _last
    millis = time.time_ns() // 1_000_000
    candidate = millis << _RANDOM_BITS | int.from_bytes(os.urandom(10), "big")
    with _state_lock:
        if candidate <= _last:
            # Same (or an earlier, clock-stepped) millisecond: keep ids of this process strictly increasing.
            candidate = _last + 1
        _last = candidate
    return candidate


def new_id(prefix: str) -> str:
    """Return ``<prefix>_<26-char ULID>`` in Crockford base32."""
    value = _next_value()
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return f"{prefix}_{''.join(reversed(chars))}"
