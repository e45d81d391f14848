"""Readiness: ask each dependency, answer with every dependency's state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

Check = Callable[[], Awaitable[None]]  # raises when the dependency does not answer


async def check_dependencies(checks: Mapping[str, Check], timeout_s: float = 2.0) -> tuple[bool, dict[str, str]]:
    """Run every check concurrently; return (all ok, {dependency: "ok" | "down: reason"})."""

    async def run(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout_s)
        except Exception as exc:  # any failure means "not ready", and the reason is reported
            return f"down: {type(exc).__name__}: {exc}"[:300]
        return "ok"

    names = list(checks)
    states = await asyncio.gather(*(run(checks[name]) for name in names))
    result = dict(zip(names, states, strict=True))
    return all(state == "ok" for state in states), result
