"""The access log: one JSON line per request, written through the service's JSON logging.

It names the route template, never the raw path or the query string, and never reads a body: ids, phones and names
stay out of the log (GET /customers/+254712345678 logs as /customers/{customer_id}).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaign_api.api.middleware import route_template

log = logging.getLogger("campaign_api.access")


@dataclass(slots=True)
class AccessLogMiddleware:
    """Log method, route template, status and duration of every HTTP request once it has been answered."""

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )
