"""Contacts at scale: CSV imports and export, attribute declarations, saved segments (thin handlers)."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from campaign_api.api.contact_schemas import (
    AttributeBody,
    AttributeListBody,
    CreateSegmentRequest,
    CustomerImportBody,
    DeclareAttributeRequest,
    SavedSegmentBody,
    SavedSegmentListBody,
    SegmentCountBody,
)
from campaign_api.api.deps import CustomersReader, CustomersWriter, use
from campaign_api.api.routes.responses import declare
from campaign_api.api.schemas import BIGINT_LIMIT
from campaign_api.api.uploads import spooled_csv
from campaign_api.repositories.segments import SavedSegment, segment_json
from campaign_api.usecases.declare_attribute import DeclareAttribute, ListAttributes
from campaign_api.usecases.export_customers import ExportCustomers
from campaign_api.usecases.import_customers import ImportCustomers
from campaign_api.usecases.saved_segments import CountSegment, ListSegments, SaveSegment

router = APIRouter(tags=["contacts"])

CSV_UPLOAD: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "UTF-8 CSV; header row: phone, first_name, last_name, location,"
                            " preferred_product and any declared attribute, in any order (phone required)",
                        }
                    },
                }
            }
        },
    }
}


EXPORT_ANSWER: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {"text/csv": {}}, "description": "the CSV, streamed"}
}


@router.post(
    "/customers/imports",
    status_code=202,
    responses=declare(413, 422, 503),
    openapi_extra=CSV_UPLOAD,
)
async def import_customers(
    request: Request, caller: CustomersWriter, imports: Annotated[ImportCustomers, use(ImportCustomers)]
) -> CustomerImportBody:
    """Upload a CSV of customers; answers at once with the job, which merges the file by phone in the background."""
    upload, file_name = await spooled_csv(request, imports.limits.max_bytes)
    job = await imports.start(caller, upload, file_name)
    return CustomerImportBody.model_validate(job)


@router.get("/customers/imports/{import_id}", responses=declare(404, 422, 503))
async def get_customer_import(
    import_id: Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)],
    caller: CustomersReader,
    imports: Annotated[ImportCustomers, use(ImportCustomers)],
) -> CustomerImportBody:
    """An import's progress and outcome: rows read, imported, updated, rejected (with the first rejected rows)."""
    return CustomerImportBody.model_validate(await imports.get(caller, import_id))


@router.get(
    "/customers/export",
    response_class=StreamingResponse,
    responses=EXPORT_ANSWER | declare(503),
)
async def export_customers(
    caller: CustomersReader, export: Annotated[ExportCustomers, use(ExportCustomers)]
) -> StreamingResponse:
    """The account's customers as CSV, in the columns an import takes (attributes after the built-in fields)."""
    chunks = export(caller)
    return StreamingResponse(
        chunks, media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="customers.csv"'}
    )


@router.post("/customer-attributes", status_code=201, responses=declare(400, 409, 413, 415, 422, 503))
async def declare_attribute(
    body: DeclareAttributeRequest,
    caller: CustomersWriter,
    declare_one: Annotated[DeclareAttribute, use(DeclareAttribute)],
) -> AttributeBody:
    """Declare a custom attribute (text, number, boolean or date) customers may carry and templates may use."""
    return AttributeBody.model_validate(await declare_one(caller, body.name, body.type))


@router.get("/customer-attributes", responses=declare(503))
async def list_attributes(
    caller: CustomersReader, list_all: Annotated[ListAttributes, use(ListAttributes)]
) -> AttributeListBody:
    """The account's declared attributes, by name."""
    return AttributeListBody(data=[AttributeBody.model_validate(d) for d in await list_all(caller)])


def saved_body(saved: SavedSegment) -> SavedSegmentBody:
    return SavedSegmentBody(
        id=saved.id, name=saved.name, definition=segment_json(saved.segment), created_at=saved.created_at
    )


@router.post("/segments", status_code=201, responses=declare(400, 409, 413, 415, 422, 503))
async def save_segment(
    body: CreateSegmentRequest, caller: CustomersWriter, save: Annotated[SaveSegment, use(SaveSegment)]
) -> SavedSegmentBody:
    """Save a named audience (fields and attribute conditions), usable as a campaign's audience."""
    return saved_body(await save(caller, body.name, body.definition.to_domain()))


@router.get("/segments", responses=declare(503))
async def list_segments(
    caller: CustomersReader, list_recent: Annotated[ListSegments, use(ListSegments)]
) -> SavedSegmentListBody:
    """The account's saved segments, newest first (at most 100)."""
    return SavedSegmentListBody(data=[saved_body(saved) for saved in await list_recent(caller)])


@router.get("/segments/{segment_id}/count", responses=declare(404, 422, 503))
async def count_segment(
    segment_id: Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)],
    caller: CustomersReader,
    count: Annotated[CountSegment, use(CountSegment)],
) -> SegmentCountBody:
    """How many customers the segment has now, before a campaign is sent to it."""
    return SegmentCountBody(segment_id=segment_id, customers=await count(caller, segment_id))
