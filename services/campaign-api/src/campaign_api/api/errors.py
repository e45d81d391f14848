"""Every error leaves the API as {"error": {"code", "message"}}; each kind is mapped here, once."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from campaign_api.errors import (
    CampaignApiError,
    Conflict,
    DatabaseUnavailable,
    DependencyUnavailable,
    Forbidden,
    InvalidInput,
    NotFound,
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
}
CODE_BY_HTTP_STATUS: Final = {
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
MAX_LISTED_ERRORS: Final = 5


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The contract's error shape."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def describe_validation(errors: Sequence[Any]) -> str:
    """'body.channel: Input should be 'sms' or 'whatsapp'' for each error, the first few joined."""
    parts = []
    for error in errors[:MAX_LISTED_ERRORS]:
        location = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    if len(errors) > MAX_LISTED_ERRORS:
        parts.append(f"and {len(errors) - MAX_LISTED_ERRORS} more")
    return "; ".join(parts)


async def on_campaign_api_error(_: Request, exc: Exception) -> JSONResponse:
    """Our own errors: the status follows the kind, the code is the error's."""
    assert isinstance(exc, CampaignApiError)  # registered for CampaignApiError only
    status = next((s for kind, s in STATUS_BY_KIND.items() if isinstance(exc, kind)), 500)
    if status >= 500:
        log.warning("dependency unavailable", extra={"code": exc.code, "reason": str(exc)})
    return error_response(status, exc.code, str(exc), headers=exc.headers)


async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    """Bad input names the field; a body that is not JSON at all is its own case."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(
            400, "MALFORMED_JSON", "the request body is not valid JSON: " + describe_validation(errors)
        )
    return error_response(422, "VALIDATION_ERROR", describe_validation(errors))


async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
    """Routing errors (unknown route, wrong method) and any other HTTP status Starlette raises."""
    assert isinstance(exc, StarletteHTTPException)
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
