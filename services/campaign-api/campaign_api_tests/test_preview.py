"""POST /campaigns/{id}/personalized-preview against a real template-svc."""

from __future__ import annotations

import httpx
import pytest

from campaign_api_tests.factories import assert_error, create_campaign, create_customer

TEMPLATE = "Hi {first_name|there}, check out {preferred_product} in {location|your city}!"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"first_name": "Alice", "preferred_product": "Running Shoes", "location": "Nairobi"},
            "Hi Alice, check out Running Shoes in Nairobi!",
        ),
        (
            {"first_name": None, "preferred_product": "Yoga Mat", "location": None},
            "Hi there, check out Yoga Mat in your city!",
        ),
        ({"first_name": "Jürgen", "preferred_product": None, "location": "Kisumu"}, "Hi Jürgen, check out in Kisumu!"),
    ],
)
async def test_preview_renders_the_campaign_template_for_each_customer(
    client: httpx.AsyncClient, fields: dict[str, str | None], expected: str
) -> None:
    campaign = await create_campaign(client, base_template=TEMPLATE)
    customer = await create_customer(client, **fields)

    response = await client.post(
        f"/campaigns/{campaign['id']}/personalized-preview", json={"customer_id": customer["id"]}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rendered_message"] == expected
    assert body["used_template"] == TEMPLATE
    assert body["customer"] == {"id": customer["id"], "first_name": fields["first_name"]}
    assert body["facts"] == {"encoding": "GSM-7", "characters": len(expected), "segments": 1, "violations": []}


async def test_override_template_is_used_instead_of_the_base(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, base_template=TEMPLATE)
    customer = await create_customer(client, first_name="Wanjirũ")
    override = "Hi {first_name}, special offer just for you!"

    response = await client.post(
        f"/campaigns/{campaign['id']}/personalized-preview",
        json={"customer_id": customer["id"], "override_template": override},
    )

    body = response.json()
    assert body["rendered_message"] == "Hi Wanjirũ, special offer just for you!"
    assert body["used_template"] == override
    assert body["facts"]["encoding"] == "UCS-2"  # ũ is outside the GSM-7 table


async def test_invalid_override_template_is_422_naming_the_placeholder(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    response = await client.post(
        f"/campaigns/{campaign['id']}/personalized-preview",
        json={"customer_id": customer["id"], "override_template": "Hi {nickname}"},
    )
    message = assert_error(response, 422, "INVALID_TEMPLATE")
    assert "body.override_template" in message and "nickname" in message


async def test_unknown_campaign_or_customer_is_404(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    assert_error(
        await client.post("/campaigns/999999999/personalized-preview", json={"customer_id": customer["id"]}),
        404,
        "CAMPAIGN_NOT_FOUND",
    )
    assert_error(
        await client.post(f"/campaigns/{campaign['id']}/personalized-preview", json={"customer_id": 999999999}),
        404,
        "CUSTOMER_NOT_FOUND",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.customer_id"),
        ({"customer_id": "x"}, "body.customer_id"),
        ({"customer_id": 1, "override_template": ""}, "body.override_template"),
    ],
)
async def test_invalid_preview_bodies_are_422(client: httpx.AsyncClient, body: dict[str, object], field: str) -> None:
    campaign = await create_campaign(client)
    response = await client.post(f"/campaigns/{campaign['id']}/personalized-preview", json=body)
    assert field in assert_error(response, 422, "VALIDATION_ERROR")
