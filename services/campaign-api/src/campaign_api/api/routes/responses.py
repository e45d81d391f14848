"""Error responses declared in the OpenAPI document, per status."""

from __future__ import annotations

from typing import Any, Final

from campaign_api.api.schemas import ErrorResponse


def declare(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, all in the error shape."""
    return {status: {"model": ErrorResponse, "description": DESCRIPTIONS[status]} for status in sorted(statuses)}


DESCRIPTIONS: Final = {
    400: "MALFORMED_JSON: the body is not JSON",
    401: "UNAUTHENTICATED: no API key, or an unknown or revoked one (WWW-Authenticate: Bearer)",
    403: "FORBIDDEN: the API key lacks the scope this operation needs",
    404: "CAMPAIGN_NOT_FOUND / CUSTOMER_NOT_FOUND",
    409: "CAMPAIGN_NOT_SENDABLE / CAMPAIGN_NOT_EDITABLE / CAMPAIGN_NOT_CANCELLABLE / CUSTOMER_PHONE_EXISTS",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED / RECIPIENT_QUOTA_EXCEEDED (Retry-After says when to try again)",
    422: "VALIDATION_ERROR (names the field) or a domain rule's own code",
    503: "DATABASE_UNAVAILABLE / TEMPLATE_SERVICE_UNAVAILABLE",
}
