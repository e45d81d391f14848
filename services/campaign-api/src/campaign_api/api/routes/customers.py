"""/customers: thin handlers over the customer use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from campaign_api.api.contact_schemas import UpdateCustomerRequest
from campaign_api.api.deps import CustomersReader, CustomersWriter, use
from campaign_api.api.routes.responses import CUSTOMER_LINKS, created, declare
from campaign_api.api.schemas import (
    BIGINT_LIMIT,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    CreateCustomerRequest,
    CustomerBody,
    CustomerListBody,
    PaginationBody,
)
from campaign_api.domain import NewCustomer, PageRequest
from campaign_api.usecases.create_customer import CreateCustomer
from campaign_api.usecases.erase_customer import EraseCustomer
from campaign_api.usecases.get_customer import GetCustomer
from campaign_api.usecases.list_customers import ListCustomers
from campaign_api.usecases.update_customer import UpdateCustomer

router = APIRouter(prefix="/customers", tags=["customers"])


@router.post(
    "",
    status_code=201,
    responses=created("the customer", CUSTOMER_LINKS) | declare(400, 409, 413, 415, 422, 503),
)
async def create_customer(
    body: CreateCustomerRequest, caller: CustomersWriter, create: Annotated[CreateCustomer, use(CreateCustomer)]
) -> CustomerBody:
    """Create a customer; the phone is stored in E.164 (Kenya when written without a country code)."""
    customer = await create(
        caller,
        NewCustomer(
            phone=body.phone,
            first_name=body.first_name or None,
            last_name=body.last_name or None,
            location=body.location or None,
            preferred_product=body.preferred_product or None,
            time_zone=body.time_zone,
            attributes=body.attributes,
        ),
    )
    return CustomerBody.model_validate(customer)


@router.get("", responses=declare(422, 503))
async def list_customers(
    caller: CustomersReader,
    list_page: Annotated[ListCustomers, use(ListCustomers)],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="at most 100 (larger is rejected with 422)")
    ] = 20,
    before_id: Annotated[
        int | None, Query(ge=1, lt=BIGINT_LIMIT, description="keyset bound: only ids below it")
    ] = None,
) -> CustomerListBody:
    """Customers newest first (id DESC), paginated like campaigns."""
    result = await list_page(caller, PageRequest(page, page_size, before_id))
    return CustomerListBody(
        data=[CustomerBody.model_validate(c) for c in result.items], pagination=PaginationBody.of(result)
    )


@router.get("/{customer_id}", responses=declare(404, 422, 503))
async def get_customer(
    customer_id: Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)],
    caller: CustomersReader,
    get: Annotated[GetCustomer, use(GetCustomer)],
) -> CustomerBody:
    """One customer."""
    return CustomerBody.model_validate(await get(caller, customer_id))


# --- contacts: edit and erase ---


@router.patch("/{customer_id}", responses=declare(400, 404, 409, 413, 415, 422, 503))
async def update_customer(
    customer_id: Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)],
    body: UpdateCustomerRequest,
    caller: CustomersWriter,
    update: Annotated[UpdateCustomer, use(UpdateCustomer)],
) -> CustomerBody:
    """Change the fields given (null clears one) and merge the attributes given (null removes one)."""
    return CustomerBody.model_validate(await update(caller, customer_id, body.changes()))


@router.delete("/{customer_id}", status_code=204, responses=declare(404, 422, 503))
async def erase_customer(
    customer_id: Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)],
    caller: CustomersWriter,
    erase: Annotated[EraseCustomer, use(EraseCustomer)],
) -> Response:
    """Erase the person: phone, names and attributes removed, their messages' text redacted; campaign counts stay."""
    await erase(caller, customer_id)
    return Response(status_code=204)
