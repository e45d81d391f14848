"""Input the database cannot hold is refused at the edge: ids past bigint, page offsets past bigint, NUL characters,
integers spelled as strings or booleans, names too long as sent. Each answers 422 naming the field, and the OpenAPI
document declares the same bound."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from campaign_api_tests.factories import assert_error, create_campaign, create_customer

BIGINT_MAX = 2**63 - 1
PAST_BIGINT = 2**63


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    """The served OpenAPI document."""
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def component(document: dict[str, Any], name: str) -> dict[str, Any]:
    """One schema of components/schemas."""
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def query_parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    """The schema of one query parameter of GET path."""
    parameters = document["paths"][path]["get"]["parameters"]
    schema: dict[str, Any] = next(p["schema"] for p in parameters if p["name"] == name)
    return schema


@pytest.mark.parametrize("customer_id", [PAST_BIGINT, 2**64, 10**30])
async def test_send_with_an_id_past_bigint_is_422(client: httpx.AsyncClient, customer_id: int) -> None:
    campaign = await create_campaign(client)
    response = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer_id]})
    assert "body.customer_ids.0" in assert_error(response, 422, "VALIDATION_ERROR")


async def test_audience_with_an_id_past_bigint_is_422(client: httpx.AsyncClient) -> None:
    body = {"name": "n", "channel": "sms", "base_template": "Hi", "audience": {"customer_ids": [PAST_BIGINT]}}
    message = assert_error(await client.post("/campaigns", json=body), 422, "VALIDATION_ERROR")
    assert "body.audience.customer_ids.0" in message


async def test_preview_for_a_customer_id_past_bigint_is_422(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    response = await client.post(f"/campaigns/{campaign['id']}/personalized-preview", json={"customer_id": PAST_BIGINT})
    assert "body.customer_id" in assert_error(response, 422, "VALIDATION_ERROR")


async def test_the_largest_bigint_id_is_simply_unknown(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    response = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [BIGINT_MAX]})
    assert_error(response, 422, "UNKNOWN_CUSTOMERS")


@pytest.mark.parametrize("path", ["/campaigns", "/customers"])
@pytest.mark.parametrize("page", [BIGINT_MAX, PAST_BIGINT, 92233720368547759])
async def test_a_page_whose_offset_overflows_is_422(client: httpx.AsyncClient, path: str, page: int) -> None:
    response = await client.get(path, params={"page": page, "page_size": 100})
    assert "query.page" in assert_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("path", ["/campaigns", "/customers"])
async def test_the_last_allowed_page_is_an_empty_page(client: httpx.AsyncClient, path: str) -> None:
    document = await openapi(client)
    last = query_parameter(document, path, "page")["maximum"]
    response = await client.get(path, params={"page": last, "page_size": 100})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []


@pytest.mark.parametrize("path", ["/campaigns", "/customers"])
async def test_a_before_id_past_bigint_is_422(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, params={"before_id": PAST_BIGINT})
    assert "query.before_id" in assert_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("path", ["/campaigns/{}", "/campaigns/{}/cancel", "/campaigns/{}/send", "/customers/{}"])
async def test_a_path_id_past_bigint_is_422(client: httpx.AsyncClient, path: str) -> None:
    method = "GET" if path.count("/") == 2 else "POST"
    response = await client.request(method, path.format(PAST_BIGINT))
    assert "path." in assert_error(response, 422, "VALIDATION_ERROR")


async def test_the_schema_declares_the_bigint_bounds(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    send_ids = component(document, "SendRequest")["properties"]["customer_ids"]["items"]
    # exclusive, since a double cannot spell 2**63 - 1 (it would round up to 2**63)
    assert send_ids["exclusiveMaximum"] == PAST_BIGINT
    assert component(document, "PreviewRequest")["properties"]["customer_id"]["exclusiveMaximum"] == PAST_BIGINT
    for path in ("/campaigns", "/customers"):
        assert query_parameter(document, path, "page")["maximum"] * 100 <= BIGINT_MAX
        assert query_parameter(document, path, "before_id")["anyOf"][0]["exclusiveMaximum"] == PAST_BIGINT
    assert (
        document["paths"]["/campaigns/{campaign_id}"]["get"]["parameters"][0]["schema"]["exclusiveMaximum"]
        == PAST_BIGINT
    )


NUL = "\u0000"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": f"Sale{NUL}", "channel": "sms", "base_template": "Hi"}, "body.name"),
        ({"name": "Sale", "channel": "sms", "base_template": f"Hi{NUL}"}, "body.base_template"),
        (
            {"name": "Sale", "channel": "sms", "base_template": "Hi", "audience": {"segment": {"location": NUL}}},
            "body.audience.segment.location",
        ),
        (
            {
                "name": "Sale",
                "channel": "sms",
                "base_template": "Hi",
                "audience": {"segment": {"preferred_product": f"a{NUL}b"}},
            },
            "body.audience.segment.preferred_product",
        ),
    ],
)
async def test_nul_in_a_campaign_field_is_422_naming_it(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    message = assert_error(await client.post("/campaigns", json=body), 422, "VALIDATION_ERROR")
    assert field in message
    assert "NUL" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": f"{NUL}x"}, "body.name"),
        ({"base_template": f"Hi {NUL}"}, "body.base_template"),
        ({"audience": {"segment": {"location": f"Nairobi{NUL}"}}}, "body.audience.segment.location"),
    ],
)
async def test_nul_in_a_patch_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    campaign = await create_campaign(client)
    message = assert_error(await client.patch(f"/campaigns/{campaign['id']}", json=body), 422, "VALIDATION_ERROR")
    assert field in message


@pytest.mark.parametrize("field", ["first_name", "last_name", "location", "preferred_product"])
async def test_nul_in_a_customer_field_is_422_naming_it(client: httpx.AsyncClient, field: str) -> None:
    body = {"phone": "+254712000001", field: f"Ann{NUL}"}
    message = assert_error(await client.post("/customers", json=body), 422, "VALIDATION_ERROR")
    assert f"body.{field}" in message


async def test_a_phone_with_a_trailing_nul_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/customers", json={"phone": f"+254712000002{NUL}"})
    assert "body.phone" in assert_error(response, 422, "VALIDATION_ERROR")


async def test_nul_in_override_template_is_422_not_echoed(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    response = await client.post(
        f"/campaigns/{campaign['id']}/personalized-preview",
        json={"customer_id": customer["id"], "override_template": f"Hi{NUL}"},
    )
    assert "body.override_template" in assert_error(response, 422, "VALIDATION_ERROR")


async def test_the_schema_declares_text_without_nul(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    create = component(document, "CreateCampaignRequest")["properties"]
    for schema in (
        create["name"],
        create["base_template"],
        component(document, "CreateCustomerRequest")["properties"]["phone"],
    ):
        assert schema["pattern"] == "^[^\\x00]*$"


@pytest.mark.parametrize("bad_id", ["1", True, 1.5, "x"])
async def test_a_customer_id_must_be_a_json_integer(client: httpx.AsyncClient, bad_id: object) -> None:
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    send = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"], bad_id]})
    assert "body.customer_ids.1" in assert_error(send, 422, "VALIDATION_ERROR")
    preview = await client.post(f"/campaigns/{campaign['id']}/personalized-preview", json={"customer_id": bad_id})
    assert "body.customer_id" in assert_error(preview, 422, "VALIDATION_ERROR")


async def test_an_audience_id_must_be_a_json_integer(client: httpx.AsyncClient) -> None:
    body = {"name": "n", "channel": "sms", "base_template": "Hi", "audience": {"customer_ids": [True]}}
    message = assert_error(await client.post("/campaigns", json=body), 422, "VALIDATION_ERROR")
    assert "body.audience.customer_ids.0" in message


@pytest.mark.parametrize("name", ["x" * 200 + " ", " " + "x" * 200, "x" * 201])
async def test_a_name_over_200_characters_as_sent_is_422(client: httpx.AsyncClient, name: str) -> None:
    body = {"name": name, "channel": "sms", "base_template": "Hi"}
    assert "body.name" in assert_error(await client.post("/campaigns", json=body), 422, "VALIDATION_ERROR")
    campaign = await create_campaign(client)
    response = await client.patch(f"/campaigns/{campaign['id']}", json={"name": name})
    assert "body.name" in assert_error(response, 422, "VALIDATION_ERROR")


async def test_a_name_is_still_trimmed_once_its_length_is_checked(client: httpx.AsyncClient) -> None:
    created = await create_campaign(client, name="  " + "x" * 198)
    assert created["name"] == "x" * 198
