"""Every error leaves the API as {"error": {"code", "message"}}; each kind is mapped here, once."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from campaign_api.api.schemas import NO_NUL
from campaign_api.errors import (
    CampaignApiError,
    Conflict,
    DatabaseUnavailable,
    DependencyUnavailable,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RecipientQuotaExceeded,
    Unauthenticated,
)

log = logging.getLogger(__name__)

STATUS_BY_KIND: Final[dict[type[CampaignApiError], int]] = {
    Unauthenticated: 401,
    Forbidden: 403,
    RateLimited: 429,
    RecipientQuotaExceeded: 429,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    DependencyUnavailable: 503,
    PayloadTooLarge: 413,
}
CODE_BY_HTTP_STATUS: Final = {
    400: "MALFORMED_JSON",  # FastAPI's "error parsing the body": a body json.loads could not read
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
MAX_LISTED_ERRORS: Final = 5
HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The contract's error shape."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def describe_validation(errors: Sequence[Any]) -> str:
    """'body.channel: Input should be 'sms' or 'whatsapp'' for each error, the first few joined."""
    parts = []
    for error in errors[:MAX_LISTED_ERRORS]:
        location = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{location}: {error_text(error)}")
    if len(errors) > MAX_LISTED_ERRORS:
        parts.append(f"and {len(errors) - MAX_LISTED_ERRORS} more")
    return "; ".join(parts)


def error_text(error: Mapping[str, Any]) -> str:
    """pydantic's message, except for the NUL pattern, whose regex would not tell a client what is wrong."""
    if error.get("type") == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == NO_NUL:
        return "must not contain NUL (U+0000) characters"
    return str(error.get("msg", "invalid"))


async def on_campaign_api_error(_: Request, exc: Exception) -> JSONResponse:
    """Our own errors: the status follows the kind, the code is the error's."""
    assert isinstance(exc, CampaignApiError)  # registered for CampaignApiError only
    status = next((s for kind, s in STATUS_BY_KIND.items() if isinstance(exc, kind)), 500)
    if status >= 500:
        log.warning("dependency unavailable", extra={"code": exc.code, "reason": str(exc)})
    return error_response(status, exc.code, str(exc), headers=exc.headers)


@functools.lru_cache(maxsize=64)
def path_pattern(template: str) -> re.Pattern[str]:
    """A path template such as /campaigns/{campaign_id} as a regex: one segment where each parameter is."""
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))


def allowed_methods(request: Request) -> tuple[set[str], bool]:
    """The methods the OpenAPI document gives this path, and whether a path without parameters matched.

    A literal path wins over a templated one: /campaigns/due is the due list, never campaign "due". HEAD comes with
    GET, as Starlette serves it.
    """
    literal: set[str] = set()
    templated: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if path_pattern(template).fullmatch(request.scope["path"]):
            methods = {method.upper() for method in operations if method in HTTP_METHODS}
            (templated if "{" in template else literal).update(methods)
    methods = literal or templated
    if "GET" in methods:
        methods.add("HEAD")
    return methods, bool(literal)


def method_not_allowed(methods: set[str]) -> JSONResponse:
    """405 with an Allow header naming every method the path has."""
    return error_response(
        405, "METHOD_NOT_ALLOWED", "method not allowed on this route", headers={"Allow": ", ".join(sorted(methods))}
    )


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Bad input names the field; a body that is not JSON at all is its own case."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(tuple(error.get("loc", ()))[:1] == ("path",) for error in errors):
        # PATCH /campaigns/due reached PATCH /campaigns/{campaign_id} only because no literal route has PATCH
        methods, is_literal = allowed_methods(request)
        if is_literal and request.method not in methods:
            return method_not_allowed(methods)
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(
            400, "MALFORMED_JSON", "the request body is not valid JSON: " + describe_validation(errors)
        )
    return error_response(422, "VALIDATION_ERROR", describe_validation(errors))


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Routing errors (unknown route, wrong method) and any other HTTP status Starlette raises."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        # Starlette's Allow names the first route that matched the path; the path may have several
        methods, _ = allowed_methods(request)
        if methods:
            return method_not_allowed(methods)
    code = CODE_BY_HTTP_STATUS.get(exc.status_code, HTTPStatus(exc.status_code).phrase.upper().replace(" ", "_"))
    message = {404: "no such route", 405: "method not allowed on this route"}.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def on_database_error(_: Request, exc: Exception) -> JSONResponse:
    """A database that refuses, times out or drops the connection is unavailable, not a bug."""
    log.warning("database unavailable", extra={"reason": f"{type(exc).__name__}: {exc}"[:300]})
    unavailable = DatabaseUnavailable()
    return error_response(503, unavailable.code, str(unavailable))


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on the app (the catch-all for unexpected exceptions is a middleware)."""
    app.add_exception_handler(CampaignApiError, on_campaign_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(psycopg.OperationalError, on_database_error)
