"""The consumer loop: micro-batches from the JobQueue into the deliver use case, pausing on platform failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from dispatch_worker.domain import Job
from dispatch_worker.errors import PlatformUnavailable
from dispatch_worker.ports import JobQueue

log = logging.getLogger(__name__)


@dataclass
class PlatformBackoff:
    """Shared pause of every loop after a platform failure: doubles per failed pause, ends at the first success.

    Loops that fail together during one pause count as one failure, so the pause grows with the outage's length,
    not with the number of loops; the first batch that succeeds (the dependency is back) wakes every loop at once.
    """

    initial_s: float = 0.1
    max_s: float = 1.0
    current_s: float = 0.0
    resume_at: float = 0.0
    _resumed: asyncio.Event = field(default_factory=asyncio.Event)

    def failed(self, now: float) -> None:
        """Record a failure: pause every loop; a failure after the last pause ended doubles the next one."""
        if now >= self.resume_at:
            self.current_s = min(self.max_s, self.current_s * 2 if self.current_s else self.initial_s)
            self.resume_at = now + self.current_s
            self._resumed.clear()

    def succeeded(self) -> None:
        """Record a success: the platform is back, no loop waits any longer."""
        self.current_s, self.resume_at = 0.0, 0.0
        self._resumed.set()

    async def wait(self, stop: asyncio.Event) -> None:
        """Sleep until the pause ends, a batch succeeds, or `stop` is set."""
        delay = self.resume_at - asyncio.get_running_loop().time()
        if delay <= 0:
            return
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._resumed.wait())]
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


@dataclass
class Consumer:
    """Runs `concurrency` loops; each takes a micro-batch, delivers it, and on platform failure requeues it."""

    queue: JobQueue
    deliver: Callable[[Sequence[Job]], Awaitable[None]]
    batch_size: int = 64
    batch_wait_s: float = 0.005
    concurrency: int = 4
    backoff: PlatformBackoff = field(default_factory=PlatformBackoff)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Work batches until `stop` is set and the intake is drained."""
        await asyncio.gather(*(self._loop() for _ in range(self.concurrency)))

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.backoff.wait(self.stop)
            jobs = await self.queue.receive(self.batch_size, self.batch_wait_s)
            if not jobs:
                if self.stop.is_set():
                    return
                await asyncio.sleep(0)  # an adapter answering [] without waiting must not starve the event loop
                continue
            try:
                await self.deliver(jobs)
                self.backoff.succeeded()
            except PlatformUnavailable as exc:
                # not the messages' fault: requeue them untouched (no retry spent) and pause every loop
                log.warning("platform unavailable; pausing consumption", extra={"error": exc.code, "jobs": len(jobs)})
                await self._release(jobs)
                self.backoff.failed(loop.time())
            except Exception:
                # a bug or a lost broker channel must not ack anything: requeue, pause, try again
                log.exception("batch failed; requeued")
                await self._release(jobs)
                self.backoff.failed(loop.time())

    async def _release(self, jobs: Sequence[Job]) -> None:
        try:
            await self.queue.release(jobs)
        except Exception:
            # the channel is gone: the broker requeues every unacked delivery by itself
            log.warning("could not requeue jobs; the broker redelivers them", extra={"jobs": len(jobs)})
