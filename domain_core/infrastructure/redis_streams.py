"""Redis Streams fan-out: the relay publishes committed events; consumer groups handle each once."""

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from promptsales.domain_core.infrastructure.background import BackgroundTask
from promptsales.domain_core.infrastructure.outbox import EventFilter, EventHandler, event_time, handle_once
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.events import DomainEvent

log = structlog.get_logger(__name__)

DEFAULT_STREAM = "promptsales:events"
DEFAULT_MAXLEN = 100_000
READ_COUNT = 100
Message = tuple[str, dict[str, str]]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def encode_event(event: DomainEvent) -> dict[str, str]:
    """The stream fields of one event."""
    return {
        "id": event.id,
        "type": event.type,
        "tenant_id": event.tenant_id,
        "occurred_at": event.occurred_at.isoformat(),
        "payload": json.dumps(event.payload, separators=(",", ":"), default=str),
    }


def decode_event(fields: dict[str, str]) -> DomainEvent:
    """Rebuild the event from its stream fields; raises ``KeyError``/``ValueError`` when malformed."""
    payload = json.loads(fields["payload"])
    if not isinstance(payload, dict):
        raise ValueError("payload is not a JSON object")
    return DomainEvent(
        id=fields["id"],
        type=fields["type"],
        tenant_id=fields["tenant_id"],
        payload=payload,
        occurred_at=event_time(fields["occurred_at"]),
    )


def _entries(raw: Iterable[Any]) -> list[Message]:
    """Normalise ``[(id, {field: value}), ...]`` (bytes or str); skips entries deleted from the stream."""
    messages: list[Message] = []
    for entry in raw or []:
        message_id, fields = entry[0], entry[1]
        if message_id is None or fields is None:
            continue
        messages.append((_text(message_id), {_text(k): _text(v) for k, v in fields.items()}))
    return messages


class RedisStreamPublisher:
    """``EventPublisher`` that appends events to a stream (approximately trimmed to ``maxlen``)."""

    def __init__(self, redis: Redis, *, stream: str = DEFAULT_STREAM, maxlen: int = DEFAULT_MAXLEN) -> None:
        self._redis = redis
        self.stream = stream
        self._maxlen = maxlen

    async def publish(self, events: list[DomainEvent]) -> None:
        """XADD every event in one round trip; raises (leaving the outbox rows pending) on failure."""
        if not events:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                fields: dict[FieldT, EncodableT] = {k: v for k, v in encode_event(event).items()}
                pipe.xadd(self.stream, fields, maxlen=self._maxlen, approximate=True)
            await pipe.execute()


class RedisStreamConsumer:
    """One worker of a consumer group; the group's name is the dedupe key shared by all its workers."""

    def __init__(
        self,
        redis: Redis,
        uow_factory: UnitOfWorkFactory,
        *,
        consumer: str,
        event_types: set[str],
        handler: EventHandler,
        wants: EventFilter | None = None,
        stream: str = DEFAULT_STREAM,
        group: str | None = None,
        worker_name: str | None = None,
        claim_idle_ms: int = 30_000,
        block_ms: int = 1_000,
    ) -> None:
        self._redis = redis
        self._uow = uow_factory
        self.consumer = consumer
        self._types = frozenset(event_types)
        self._handler = handler
        self._wants = wants
        self.stream = stream
        self.group = group or consumer
        self.worker_name = worker_name or f"{socket.gethostname()}-{os.getpid()}"
        self._claim_idle_ms = claim_idle_ms
        self._block_ms = min(block_ms, 1_000)
        self._group_ready = False
        self._background = BackgroundTask(f"stream-consumer-{self.group}")

    async def ensure_group(self) -> None:
        """Create the consumer group (and the stream) if missing; a group that exists is kept."""
        try:
            await self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def start(self) -> None:
        """Run the consumer loop in the background."""
        self._background.start(self.run)

    async def stop(self) -> None:
        """Stop the loop; unacknowledged messages stay pending for this or another worker."""
        await self._background.stop()

    async def run(self) -> None:
        """Read, handle and acknowledge forever; reclaims messages of crashed workers periodically."""
        next_claim = 0.0
        claim_every = max(self._claim_idle_ms / 2000, 1.0)
        while True:
            try:
                if time.monotonic() >= next_claim:
                    await self._reclaim(limit=10 * READ_COUNT)
                    next_claim = time.monotonic() + claim_every
                await self._handle_all(await self._read_new(block_ms=self._block_ms))
            except Exception:
                # Redis unreachable or the group vanished: back off; pending messages are not lost.
                log.warning("stream_consumer_failed", stream=self.stream, group=self.group, exc_info=True)
                self._group_ready = False
                await asyncio.sleep(1.0)

    async def process_available(self, max_messages: int = 1_000) -> int:
        """Reclaim idle pending messages, then handle new ones (never blocks); returns how many were acked."""
        acked = await self._reclaim(limit=max_messages)
        read = 0
        while read < max_messages:
            messages = await self._read_new(block_ms=None, count=min(READ_COUNT, max_messages - read))
            if not messages:
                break
            read += len(messages)
            acked += await self._handle_all(messages)
        return acked

    async def _read_new(self, *, block_ms: int | None, count: int = READ_COUNT) -> list[Message]:
        if not self._group_ready:
            await self.ensure_group()
        try:
            response = await self._redis.xreadgroup(
                self.group, self.worker_name, {self.stream: ">"}, count=count, block=block_ms
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream (and its group) was deleted or Redis restarted empty: recreate and read again.
            await self.ensure_group()
            return []
        if not response:
            return []
        streams = response.items() if isinstance(response, dict) else response
        messages: list[Message] = []
        for _name, raw in streams:
            # RESP3 wraps each stream's entries in one more list.
            batch = raw[0] if raw and isinstance(raw[0], list) else raw
            messages.extend(_entries(batch))
        return messages

    async def _reclaim(self, *, limit: int) -> int:
        """XAUTOCLAIM messages idle over ``claim_idle_ms`` (e.g. of a crashed worker) and handle them."""
        if not self._group_ready:
            await self.ensure_group()
        acked, start, scanned = 0, "0-0", 0
        while scanned < limit:
            try:
                response = await self._redis.xautoclaim(
                    self.stream,
                    self.group,
                    self.worker_name,
                    min_idle_time=self._claim_idle_ms,
                    start_id=start,
                    count=min(READ_COUNT, limit - scanned),
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await self.ensure_group()
                return acked
            messages = _entries(response[1])
            scanned += max(len(messages), 1)
            acked += await self._handle_all(messages)
            start = _text(response[0])
            if start == "0-0":
                break
        return acked

    async def _handle_all(self, messages: list[Message]) -> int:
        acked = 0
        for message_id, fields in messages:
            if await self._handle(message_id, fields):
                await self._redis.xack(self.stream, self.group, message_id)
                acked += 1
        return acked

    async def _handle(self, message_id: str, fields: dict[str, str]) -> bool:
        """Whether the message may be acknowledged (handled, a duplicate, not of interest, or unreadable)."""
        try:
            event = decode_event(fields)
        except (KeyError, ValueError, TypeError):
            log.error("stream_message_malformed", stream=self.stream, message_id=message_id)
            return True
        if event.type not in self._types or (self._wants is not None and not self._wants(event)):
            return True
        try:
            await handle_once(self._uow, self.consumer, event, self._handler)
        except Exception:
            # Left unacknowledged: it stays pending and is reclaimed after claim_idle_ms.
            log.warning(
                "stream_event_handler_failed",
                consumer=self.consumer,
                event_id=event.id,
                event_type=event.type,
                message_id=message_id,
                exc_info=True,
            )
            return False
        return True
