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
    """Takes micro-batches from the queue and works up to `concurrency` of them at once, each in its own task.

    The intake never waits for a batch to finish: a batch whose last message waits on a slow provider holds one of
    the `concurrency` places and that message's prefetch slot, while its other messages are recorded and acked and
    new batches keep coming. On a platform failure a batch's unacked jobs go back to the queue and intake pauses.
    """

    queue: JobQueue
    deliver: Callable[[Sequence[Job]], Awaitable[None]]
    batch_size: int = 64
    batch_wait_s: float = 0.005
    concurrency: int = 16
    backoff: PlatformBackoff = field(default_factory=PlatformBackoff)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Work batches until `stop` is set and the intake is drained; then wait for the batches in hand."""
        places = asyncio.Semaphore(self.concurrency)
        working: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            working.discard(task)
            places.release()

        try:
            while True:
                await self.backoff.wait(self.stop)
                await places.acquire()
                jobs = await self.queue.receive(self.batch_size, self.batch_wait_s)
                if not jobs:
                    places.release()
                    if self.stop.is_set():
                        return
                    await asyncio.sleep(0)  # an adapter answering [] without waiting must not starve the event loop
                    continue
                task = asyncio.create_task(self._work(jobs))
                working.add(task)
                task.add_done_callback(finished)
        finally:
            if working:
                await asyncio.gather(*working, return_exceptions=True)

    async def _work(self, jobs: Sequence[Job]) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self.deliver(jobs)
            self.backoff.succeeded()
        except PlatformUnavailable as exc:
            # not the messages' fault: requeue them untouched (no retry spent) and pause the intake
            log.warning("platform unavailable; pausing consumption", extra={"error": exc.code, "jobs": len(jobs)})
            await self._release(jobs)
            self.backoff.failed(loop.time())
        except Exception:
            # a bug or a lost broker channel must not ack anything more: requeue, pause, try again
            log.exception("batch failed; requeued")
            await self._release(jobs)
            self.backoff.failed(loop.time())

    async def _release(self, jobs: Sequence[Job]) -> None:
        # jobs the batch already acked are no longer held: releasing them is a no-op
        try:
            await self.queue.release(jobs)
        except Exception:
            # the channel is gone: the broker requeues every unacked delivery by itself
            log.warning("could not requeue jobs; the broker redelivers them", extra={"jobs": len(jobs)})
