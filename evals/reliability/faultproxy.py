"""A small asyncio TCP proxy that injects faults between the gateway replicas and Postgres or Redis.

Three switches, flipped while it runs: ``latency_s`` delays every chunk forwarded in either direction,
``drop_all()`` cuts every open connection (both sides see the socket close), and ``refusing`` makes new
connections close at once, as a partitioned or crashed server looks to a client whose TCP connect still
lands on the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib

CHUNK_BYTES = 65_536


class FaultProxy:
    """Forwards ``listen_port`` on 127.0.0.1 to ``target_port``; faults are attributes you set."""

    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1", listen_port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.listen_port = listen_port
        self.latency_s = 0.0
        self.refusing = False
        self.accepted = 0
        self.refused = 0
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def open_links(self) -> int:
        return len(self._links)

    async def start(self) -> int:
        """Listen; returns the port (chosen by the OS when ``listen_port`` was 0)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        self.listen_port = int(self._server.sockets[0].getsockname()[1])
        return self.listen_port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_all()
        # Let every link's task see its sockets closed and end, so none is left for the loop to cancel.
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def drop_all(self) -> int:
        """Abort every open connection on both sides; returns how many were cut."""
        links = list(self._links)
        for client, upstream in links:
            client.transport.abort()
            upstream.transport.abort()
        self._links.clear()
        return len(links)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        if self.refusing:
            self.refused += 1
            client_writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.refused += 1
            client_writer.transport.abort()
            return
        self.accepted += 1
        link = (client_writer, upstream_writer)
        self._links.add(link)
        try:
            await asyncio.gather(
                self._pump(client_reader, upstream_writer),
                self._pump(upstream_reader, client_writer),
            )
        finally:
            self._links.discard(link)
            client_writer.transport.abort()
            upstream_writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Either side closing (or being aborted by drop_all) ends both directions of the link.
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ConnectionError):
            while data := await reader.read(CHUNK_BYTES):
                if self.latency_s > 0:
                    await asyncio.sleep(self.latency_s)
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
