"""A cancellable background task owned by a component (relay, stream consumer)."""

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class BackgroundTask:
    """Starts a coroutine once and cancels it on stop, waiting until it has finished."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``loop()`` in the background (no-op when already running)."""
        if self._task is None:
            self._task = asyncio.create_task(loop(), name=self._name)

    async def stop(self) -> None:
        """Cancel the task and wait for it to unwind."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
