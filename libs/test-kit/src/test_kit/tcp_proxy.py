"""A TCP proxy on 127.0.0.1 that failure tests cut and restore, to make a server look unreachable without stopping it.

Shared by the tests of the outbox relay (broker cut) and of the worker (database cut).
"""

from __future__ import annotations

import asyncio
import contextlib


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 that can cut every connection and refuse new ones, then let traffic through again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        """Forward to target_host:target_port once start() has bound a local port."""
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.open = True
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen on a free local port (then in `port`)."""
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        if not self.open:
            # cut while the upstream connection was being made: it must not outlive the cut
            up_writer.transport.abort()
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    def cut(self) -> None:
        """Drop every connection and refuse new ones: the broker looks unreachable."""
        self.open = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        """Let connections through again."""
        self.open = True

    async def close(self) -> None:
        """Cut everything and stop listening."""
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
