"""Pure ASGI middleware: request metrics, the body size limit, JSON body checks and the last-resort 500."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message as MimeHeader
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaign_api.metrics import ApiMetrics

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "<unmatched>"  # unknown paths share one label value, so scanners cannot blow up the series
METHODS_WITH_BODY: Final = frozenset({"POST", "PUT", "PATCH"})
# no body of the contract nests deeper than 4; the margin is wide, the bound keeps parsing far from the recursion limit
MAX_JSON_DEPTH: Final = 32
SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89abcdefABCDEF]")


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
            template = route_template(scope)
            self.metrics.request_duration.labels(
                route=template, method=scope["method"], status_code=str(status)
            ).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's path template ("/campaigns/{campaign_id}"), or one label for every unknown path."""
    return str(getattr(scope.get("route"), "path_format", UNMATCHED_ROUTE))


@dataclass(slots=True)
class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with 413 before anything parses them."""

    app: ASGIApp
    max_bytes: int
    # uploads whose routes stream the body and enforce a limit of their own
    streamed_paths: frozenset[str] = frozenset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.streamed_paths:
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


class BodyRejected(Exception):
    """A request body refused before the app sees it: its status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def is_json_media_type(content_type: str) -> bool:
    """application/json, with or without parameters, or any application/*+json."""
    header = MimeHeader()
    header["content-type"] = content_type
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def reject_duplicate_keys(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """An object hook for json.loads: a key given twice is an error, not "the last one wins"."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise BodyRejected(400, "DUPLICATE_JSON_KEY", f"the key {key!r} appears twice in one object of the body")
        obj[key] = value
    return obj


def check_depth_and_strings(document: Any, strings: bool) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and, when `strings`, text (keys too) that is not Unicode."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        container, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise BodyRejected(400, "MALFORMED_JSON", f"the request body is nested deeper than {MAX_JSON_DEPTH}")
        if isinstance(container, dict):
            if strings:
                for key in container:
                    check_encodable(key)
            items = container.values()
        else:
            items = container
        # one pass over the items, pushing only containers: 100,000 ids cost a few milliseconds
        for item in items:
            if isinstance(item, dict | list):
                pending.append((item, depth + 1))
            elif strings and isinstance(item, str):
                check_encodable(item)


def check_encodable(text: str) -> None:
    """An escape like \\uD800 decodes to half a character, which no UTF-8 answer or text column can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyRejected(
            400, "MALFORMED_JSON", "the request body has a string with an unpaired surrogate escape (\\uD800-\\uDFFF)"
        ) from None


def check_json_body(content_type: str | None, body: bytes) -> None:
    """Raise BodyRejected unless the body is UTF-8 JSON without duplicate keys, unpaired surrogates or deep nesting.

    Syntax errors are left to the route, whose MALFORMED_JSON names the position. A body without a Content-Type
    is read as JSON, as it always was.
    """
    if content_type is not None and not is_json_media_type(content_type):
        raise BodyRejected(
            415, "UNSUPPORTED_MEDIA_TYPE", f"the request body must be application/json, not {content_type}"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRejected(
            400, "MALFORMED_JSON", f"the request body is not UTF-8: {exc.reason} at byte {exc.start}"
        ) from None
    try:
        document = json.loads(text, object_pairs_hook=reject_duplicate_keys)
    except RecursionError:
        raise BodyRejected(400, "MALFORMED_JSON", f"the request body is nested deeper than {MAX_JSON_DEPTH}") from None
    except ValueError:
        return
    if isinstance(document, dict | list):
        # strict UTF-8 decoding leaves one way to half a character: a \uD800-\uDFFF escape
        check_depth_and_strings(document, strings=SURROGATE_ESCAPE.search(text) is not None)
    elif isinstance(document, str):
        check_encodable(document)


# providers' callbacks post forms (Africa's Talking) or signed JSON whose raw bytes are checked by their own routes
PROVIDER_CALLBACKS: Final = "/providers/"


@dataclass(slots=True)
class JsonBodyMiddleware:
    """Check request bodies as JSON before any route parses them: media type (415), encoding, duplicate keys and
    depth (400). Runs inside the body size limit, so the body it reads is bounded."""

    app: ASGIApp
    # uploads (multipart) whose routes stream and check the body themselves
    streamed_paths: frozenset[str] = frozenset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in METHODS_WITH_BODY
            or scope["path"].startswith(PROVIDER_CALLBACKS)
            or scope["path"] in self.streamed_paths
        ):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        more = True
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if body:
            raw_type = dict(scope["headers"]).get(b"content-type")
            try:
                check_json_body(raw_type.decode("latin-1") if raw_type is not None else None, body)
            except BodyRejected as exc:
                await send_error(send, exc.status, exc.code, str(exc))
                return
        await self.app(scope, _replay(messages, receive), send)


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
