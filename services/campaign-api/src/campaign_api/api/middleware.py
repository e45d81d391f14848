"""Pure ASGI middleware: request metrics, the body size limit and the last-resort 500."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaign_api.metrics import ApiMetrics

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "<unmatched>"  # unknown paths share one label value, so scanners cannot blow up the series


def error_bytes(code: str, message: str) -> bytes:
    """The contract's error shape, encoded."""
    return json.dumps({"error": {"code": code, "message": message}}).encode()


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    """Answer with a JSON error."""
    body = error_bytes(code, message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass(slots=True)
class RequestMetricsMiddleware:
    """Observe every request's duration by route template, method and status code."""

    app: ASGIApp
    metrics: ApiMetrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", UNMATCHED_ROUTE)
            self.metrics.request_duration.labels(
                route=template, method=scope["method"], status_code=str(status)
            ).observe(time.perf_counter() - started)


@dataclass(slots=True)
class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with 413 before anything parses them."""

    app: ASGIApp
    max_bytes: int

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, 413, "PAYLOAD_TOO_LARGE", self.too_large())
            return
        # a body without a Content-Length (chunked) is read here, up to the limit, then handed on
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_error(send, 413, "PAYLOAD_TOO_LARGE", self.too_large())
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(
            scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}], receive), send
        )

    def too_large(self) -> str:
        """The 413 message."""
        return f"request body exceeds {self.max_bytes} bytes"


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive that yields the buffered messages, then defers to the real one (for disconnects)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


@dataclass(slots=True)
class UnexpectedErrorMiddleware:
    """Turn any exception nothing else handled into a 500 INTERNAL_ERROR without a stack trace; log it."""

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            log.exception("unexpected error", extra={"method": scope.get("method"), "path": scope.get("path")})
            if not started:
                await send_error(send, 500, "INTERNAL_ERROR", "an unexpected error occurred; it has been logged")
