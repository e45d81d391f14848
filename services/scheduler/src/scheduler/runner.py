"""The tick loop: tick, wait the poll interval (jittered), repeat until asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from scheduler.domain import TickReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TickLoop:
    """Runs ticks one after another; a stop request lets the tick in hand finish, then returns."""

    tick: Callable[[], Awaitable[TickReport]]
    interval_s: float
    jitter: float = 0.1  # fraction of the interval, drawn each time
    rng: random.Random = field(default_factory=random.Random)

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until stop is set; the current tick is never cut short, so no send is abandoned midway."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                # a scheduler bug must not end polling; the stalled last-tick gauge alerts on a repeat
                log.exception("tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.next_delay_s())
        log.info("scheduler stopped")

    def next_delay_s(self) -> float:
        """The poll interval, spread by the jitter so replicas drift apart."""
        return self.interval_s * (1.0 + self.rng.uniform(-self.jitter, self.jitter))
