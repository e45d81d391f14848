"""Error responses declared in the OpenAPI document, per status."""

from __future__ import annotations

from typing import Any, Final

from campaign_api.api.schemas import ErrorResponse


def declare(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, all in the error shape."""
    return {status: {"model": ErrorResponse, "description": DESCRIPTIONS[status]} for status in statuses}


DESCRIPTIONS: Final = {
    400: "MALFORMED_JSON: the body is not UTF-8 JSON, or nests too deep / DUPLICATE_JSON_KEY: a key given twice",
    404: "CAMPAIGN_NOT_FOUND / CUSTOMER_NOT_FOUND",
    409: "CAMPAIGN_NOT_SENDABLE / CAMPAIGN_NOT_EDITABLE / CAMPAIGN_NOT_CANCELLABLE / CUSTOMER_PHONE_EXISTS",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE: a body whose Content-Type is not application/json",
    422: "VALIDATION_ERROR (names the field) or a domain rule's own code",
    503: "DATABASE_UNAVAILABLE / TEMPLATE_SERVICE_UNAVAILABLE",
}
