"""Error responses declared in the OpenAPI document, per status, the links from a created object onwards, and the
answer of the hottest reads."""

from __future__ import annotations

from typing import Any, Final

from fastapi import Response
from pydantic import BaseModel

from campaign_api.api.schemas import ErrorResponse

# every operation that declares its errors needs an API key, so each can also answer these
AUTHENTICATED: Final = (401, 403, 429)


def declare(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses and the key's own (401, 403, 429), all in the error shape."""
    return {
        status: {"model": ErrorResponse, "description": DESCRIPTIONS[status]}
        for status in sorted({*statuses, *AUTHENTICATED})
    }


DESCRIPTIONS: Final = {
    400: "MALFORMED_JSON: the body is not UTF-8 JSON, or nests too deep / DUPLICATE_JSON_KEY: a key given twice",
    401: "UNAUTHENTICATED: no API key, or an unknown or revoked one (WWW-Authenticate: Bearer)",
    403: "FORBIDDEN: the API key lacks the scope this operation needs",
    404: "CAMPAIGN_NOT_FOUND / CUSTOMER_NOT_FOUND",
    409: "CAMPAIGN_NOT_SENDABLE / CAMPAIGN_NOT_EDITABLE / CAMPAIGN_NOT_CANCELLABLE / CUSTOMER_PHONE_EXISTS"
    " / CAMPAIGN_NOT_PAUSABLE / CAMPAIGN_NOT_RESUMABLE / CAMPAIGN_NOT_RETRYABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE: a body whose Content-Type is not application/json",
    422: "VALIDATION_ERROR (names the field) or a domain rule's own code",
    429: "RATE_LIMITED / RECIPIENT_QUOTA_EXCEEDED (Retry-After says when to try again)",
    503: "DATABASE_UNAVAILABLE / TEMPLATE_SERVICE_UNAVAILABLE",
}


def link(method: str, path: str, parameter: str) -> dict[str, Any]:
    """An OpenAPI link: call `method path` with `parameter` taken from the created object's id."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {
        "operationRef": f"#/paths/{pointer}/{method}",
        "parameters": {parameter: "$response.body#/id"},
    }


def created(description: str, links: dict[str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """The 201 answer with its links (what a client, or the stateful fuzzer, can do next with the new id)."""
    return {201: {"description": description, "links": links}}


CAMPAIGN_PATH: Final = "/campaigns/{campaign_id}"
CAMPAIGN_LINKS: Final = {
    "GetCampaign": link("get", CAMPAIGN_PATH, "campaign_id"),
    "UpdateCampaign": link("patch", CAMPAIGN_PATH, "campaign_id"),
    "SendCampaign": link("post", f"{CAMPAIGN_PATH}/send", "campaign_id"),
    "PreviewMessage": link("post", f"{CAMPAIGN_PATH}/personalized-preview", "campaign_id"),
    "CancelCampaign": link("post", f"{CAMPAIGN_PATH}/cancel", "campaign_id"),
}
CUSTOMER_LINKS: Final = {"GetCustomer": link("get", "/customers/{customer_id}", "customer_id")}


def json_of(body: BaseModel) -> Response:
    """A 200 with the body serialised by pydantic in one step. A route answering this declares its body with
    `response_model` (the OpenAPI document is the same); FastAPI then does not validate the returned model a second
    time against it, which cost the list and detail reads more than encoding them."""
    return Response(body.model_dump_json(), media_type="application/json")
