"""The mock sender: configurable success probability and latency, seeded RNG, optional log of every send."""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dispatch_worker.domain import OutgoingMessage, SendOutcome


class LatencyKind(StrEnum):
    """Shapes of the simulated provider latency."""

    FIXED = "fixed"
    UNIFORM = "uniform"  # between 0 and twice the mean
    LOGNORMAL = "lognormal"  # a long right tail, like real providers; sigma 0.5


@dataclass(frozen=True, slots=True)
class Latency:
    """A latency distribution with a mean in milliseconds."""

    kind: LatencyKind = LatencyKind.LOGNORMAL
    mean_ms: float = 50.0

    def draw_s(self, rng: random.Random) -> float:
        """One latency in seconds."""
        if self.mean_ms <= 0:
            return 0.0
        if self.kind is LatencyKind.FIXED:
            return self.mean_ms / 1000
        if self.kind is LatencyKind.UNIFORM:
            return rng.uniform(0, 2 * self.mean_ms) / 1000
        sigma = 0.5
        mu = math.log(self.mean_ms) - sigma * sigma / 2  # so the distribution's mean is mean_ms
        return rng.lognormvariate(mu, sigma) / 1000


class MockSender:
    """Pretends to hand messages to a provider; succeeds with `success_probability`, else fails transiently."""

    provider = "mock"

    def __init__(
        self,
        rng: random.Random,
        success_probability: float = 0.92,
        latency: Latency | None = None,
        log_path: Path | None = None,
    ) -> None:
        """Inject the RNG (seeded in tests); `log_path` gets one line per attempt: "<id> ok|fail <unix time>"."""
        self.rng = rng
        self.success_probability = success_probability
        self.latency = latency or Latency()
        self._log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if log_path else None

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """Wait the drawn latency, then succeed or fail at random."""
        delay = self.latency.draw_s(self.rng)
        ok = self.rng.random() < self.success_probability
        if delay > 0:
            await asyncio.sleep(delay)
        if self._log_fd is not None:
            # one write per line in append mode: lines never interleave, and a SIGKILL loses none already written
            os.write(self._log_fd, f"{message.id} {'ok' if ok else 'fail'} {time.time():.6f}\n".encode())
        if ok:
            return SendOutcome.accepted()
        return SendOutcome.transient("mock provider: simulated delivery failure")

    async def close(self) -> None:
        """Close the send log."""
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
