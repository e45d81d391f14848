"""POST /customers, GET /customers/{id}: phones normalised to E.164, one customer per phone."""

from __future__ import annotations

import httpx
import pytest

from campaign_api_tests.factories import assert_error, create_customer


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0712 345 670", "+254712345670"),
        ("+254 (0)722-345-671", "+254722345671"),
        ("254733345672", "+254733345672"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
async def test_phone_is_stored_in_e164(client: httpx.AsyncClient, written: str, stored: str) -> None:
    customer = await create_customer(client, phone=written, first_name="Wanjirũ", location=None)
    assert customer["phone"] == stored
    assert customer["first_name"] == "Wanjirũ"
    assert customer["location"] is None
    fetched = await client.get(f"/customers/{customer['id']}")
    assert fetched.json() == customer


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+254 12", "0712 34"])
async def test_invalid_phone_is_422(client: httpx.AsyncClient, phone: str) -> None:
    message = assert_error(await client.post("/customers", json={"phone": phone}), 422, "INVALID_PHONE")
    assert "body.phone" in message


async def test_same_phone_in_another_spelling_is_a_conflict(client: httpx.AsyncClient) -> None:
    await create_customer(client, phone="0700 111 222")
    response = await client.post("/customers", json={"phone": "+254700111222", "first_name": "Other"})
    message = assert_error(response, 409, "CUSTOMER_PHONE_EXISTS")
    assert "+254700111222" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.phone"),
        ({"phone": ""}, "body.phone"),
        ({"phone": "0712345678", "first_name": "x" * 201}, "body.first_name"),
    ],
)
async def test_invalid_customer_fields_are_named(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    message = assert_error(await client.post("/customers", json=body), 422, "VALIDATION_ERROR")
    assert field in message


async def test_unknown_customer_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/customers/987654321"), 404, "CUSTOMER_NOT_FOUND")


async def test_non_numeric_customer_id_is_422(client: httpx.AsyncClient) -> None:
    message = assert_error(await client.get("/customers/x1"), 422, "VALIDATION_ERROR")
    assert "path.customer_id" in message


async def test_malformed_customer_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/customers", content=b"{phone", headers={"content-type": "application/json"})
    assert_error(response, 400, "MALFORMED_JSON")
