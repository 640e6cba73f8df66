"""What every platform simulator shares: injected faults, consumed in the order they were injected."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Fault:
    """Answer ``status`` to the next ``remaining`` matching requests.

    ``retry_after``: the wait the platform announces (a 429); ``after_apply``: the request's effect happens before
    the failure (the caller never learns it worked); ``where``: only requests at this page/cursor.
    """

    status: int
    remaining: int
    retry_after: int | None = None
    after_apply: bool = False
    where: str | None = None


class Faults:
    """A queue of injected failures (``fail_next``, ``fail_page``...)."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []

    def add(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        after_apply: bool = False,
        where: str | None = None,
    ) -> None:
        """Queue ``times`` failures answering ``status``."""
        self._queue.append(Fault(status, times, retry_after, after_apply, where))

    def take(self, matches: Callable[[Fault], bool] | None = None) -> Fault | None:
        """The next fault due for this request (spending one of its occurrences), or None.

        Without ``matches`` only faults for any request (no ``where``) apply.
        """
        for fault in self._queue:
            if fault.remaining <= 0:
                continue
            if not (matches(fault) if matches is not None else fault.where is None):
                continue
            fault.remaining -= 1
            return fault
        return None
