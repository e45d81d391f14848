"""One pooled httpx client per provider adapter: real timeouts, keep-alive connections, connect retries."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """How long a provider call may take, how many connections it keeps, how often a refused connect is retried."""

    timeout_s: float = 10.0
    connect_timeout_s: float = 2.0
    max_connections: int = 32
    # httpx retries only failures to connect (ConnectError, ConnectTimeout): the request never left, so a retry
    # cannot duplicate a message; a read timeout is never retried here (the message may have gone)
    connect_retries: int = 2


def pooled_client(limits: HttpLimits, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """An AsyncClient over a pooled transport; `transport` replaces the network in tests (an ASGI app)."""
    pool = httpx.Limits(max_connections=limits.max_connections, max_keepalive_connections=limits.max_connections)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(limits.timeout_s, connect=limits.connect_timeout_s),
        transport=transport or httpx.AsyncHTTPTransport(limits=pool, retries=limits.connect_retries),
        follow_redirects=False,
    )
