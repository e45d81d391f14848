"""The HTTP edge: bodies that are not plain UTF-8 JSON objects, media types, methods, and constraints the schema
declares exactly as the API enforces them."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from campaign_api.api.schemas import NOT_WHITESPACE

from campaign_api_tests.factories import assert_error, create_campaign

JSON = {"content-type": "application/json"}
CAMPAIGN = b'{"name": "n", "channel": "sms", "base_template": "Hi"}'


async def test_a_duplicate_key_is_400_naming_it(client: httpx.AsyncClient) -> None:
    body = b'{"name": "first", "name": "second", "channel": "sms", "base_template": "Hi"}'
    response = await client.post("/campaigns", content=body, headers=JSON)
    assert "'name'" in assert_error(response, 400, "DUPLICATE_JSON_KEY")


async def test_a_duplicate_key_in_a_nested_object_is_400(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    body = b'{"audience": {"segment": {"location": "a", "location": "b"}}}'
    response = await client.patch(f"/campaigns/{campaign['id']}", content=body, headers=JSON)
    assert "'location'" in assert_error(response, 400, "DUPLICATE_JSON_KEY")


async def test_a_deeply_nested_body_is_400_malformed_json(client: httpx.AsyncClient) -> None:
    body = b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await client.post("/campaigns", content=body, headers=JSON)
    assert "nested" in assert_error(response, 400, "MALFORMED_JSON")


async def test_nesting_past_32_levels_is_400_malformed_json(client: httpx.AsyncClient) -> None:
    body = b'{"name": "n", "channel": "sms", "base_template": "Hi", "x": ' + b"[" * 40 + b"]" * 40 + b"}"
    response = await client.post("/campaigns", content=body, headers=JSON)
    assert "nested deeper than 32" in assert_error(response, 400, "MALFORMED_JSON")


async def test_an_unpaired_surrogate_deep_in_a_list_is_400(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    body = b'{"audience": {"segment": {"location": ["ok", "\\uDFFF"]}}}'
    response = await client.patch(f"/campaigns/{campaign['id']}", content=body, headers=JSON)
    assert "surrogate" in assert_error(response, 400, "MALFORMED_JSON")


async def test_moderate_nesting_is_still_a_validation_error(client: httpx.AsyncClient) -> None:
    body = b'{"name": ' + b"[" * 20 + b"]" * 20 + b', "channel": "sms", "base_template": "Hi"}'
    response = await client.post("/campaigns", content=body, headers=JSON)
    assert "body.name" in assert_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "caf\xe9", "channel": "sms", "base_template": "Hi"}',  # latin-1, not UTF-8
        b"\xff\xfe{\x00}\x00",  # UTF-16
        b'{"name": "\xed\xa0\x80", "channel": "sms", "base_template": "Hi"}',  # an encoded surrogate
    ],
)
async def test_a_body_that_is_not_utf8_is_400_malformed_json(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/campaigns", content=body, headers=JSON)
    assert "UTF-8" in assert_error(response, 400, "MALFORMED_JSON")


async def test_an_unpaired_surrogate_escape_is_400_malformed_json(client: httpx.AsyncClient) -> None:
    body = b'{"name": "a\\ud800b", "channel": "sms", "base_template": "Hi"}'
    response = await client.post("/campaigns", content=body, headers=JSON)
    assert "surrogate" in assert_error(response, 400, "MALFORMED_JSON")


async def test_an_unpaired_surrogate_in_an_unknown_key_is_400_not_500(client: httpx.AsyncClient) -> None:
    body = b'{"\\udc00": 1, "name": "n", "channel": "sms", "base_template": "Hi"}'
    response = await client.post("/campaigns", content=body, headers=JSON)
    assert_error(response, 400, "MALFORMED_JSON")


async def test_a_paired_surrogate_escape_is_an_ordinary_character(client: httpx.AsyncClient) -> None:
    body = b'{"name": "\\ud83d\\ude00 sale", "channel": "sms", "base_template": "Hi"}'
    response = await client.post("/campaigns", content=body, headers=JSON)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "\U0001f600 sale"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
async def test_a_body_that_is_not_json_by_its_media_type_is_415(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post("/campaigns", content=CAMPAIGN, headers={"content-type": content_type})
    assert content_type in assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"]
)
async def test_json_media_types_are_accepted(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post("/campaigns", content=CAMPAIGN, headers={"content-type": content_type})
    assert response.status_code == 201, response.text


async def test_a_send_without_body_needs_no_media_type(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    response = await client.post(f"/campaigns/{campaign['id']}/send", headers={"content-type": "text/plain"})
    assert_error(response, 422, "AUDIENCE_REQUIRED")


def allowed(response: httpx.Response) -> set[str]:
    """The methods of the Allow header."""
    return {method.strip() for method in response.headers["allow"].split(",")}


@pytest.mark.parametrize(
    ("method", "path", "methods"),
    [
        ("OPTIONS", "/campaigns", {"GET", "POST"}),
        ("OPTIONS", "/campaigns/1", {"GET", "PATCH"}),
        ("DELETE", "/campaigns/1", {"GET", "PATCH"}),
        ("PUT", "/customers", {"GET", "POST"}),
        ("OPTIONS", "/campaigns/1/send", {"POST"}),
        ("PATCH", "/campaigns/due", {"GET"}),
        ("POST", "/campaigns/due", {"GET"}),
    ],
)
async def test_a_method_a_path_does_not_have_is_405_listing_every_method_it_has(
    client: httpx.AsyncClient, method: str, path: str, methods: set[str]
) -> None:
    response = await client.request(method, path)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert allowed(response) - {"HEAD"} == methods


async def test_a_non_numeric_campaign_id_is_still_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.patch("/campaigns/abc", json={"name": "x"})
    assert "path.campaign_id" in assert_error(response, 422, "VALIDATION_ERROR")


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    """The served OpenAPI document."""
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


async def test_the_schema_requires_a_patch_to_change_something(client: httpx.AsyncClient) -> None:
    schema = (await openapi(client))["components"]["schemas"]["UpdateCampaignRequest"]
    assert schema["minProperties"] == 1


async def test_the_schema_requires_exactly_one_kind_of_audience(client: httpx.AsyncClient) -> None:
    schema = (await openapi(client))["components"]["schemas"]["AudienceBody"]
    assert [branch["required"] for branch in schema["oneOf"]] == [["customer_ids"], ["segment"], ["segment_id"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/campaigns"),
        ("patch", "/campaigns/{campaign_id}"),
        ("post", "/campaigns/{campaign_id}/send"),
        ("post", "/campaigns/{campaign_id}/personalized-preview"),
        ("post", "/customers"),
    ],
)
async def test_every_operation_with_a_body_declares_400_413_and_415(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    responses = (await openapi(client))["paths"][path][method]["responses"]
    assert {"400", "413", "415"} <= set(responses)
    assert "DUPLICATE_JSON_KEY" in responses["400"]["description"]


async def test_a_created_campaign_links_to_what_can_be_done_with_it(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    links = document["paths"]["/campaigns"]["post"]["responses"]["201"]["links"]
    targets = {link["operationRef"] for link in links.values()}
    assert targets == {
        "#/paths/~1campaigns~1{campaign_id}/get",
        "#/paths/~1campaigns~1{campaign_id}/patch",
        "#/paths/~1campaigns~1{campaign_id}~1send/post",
        "#/paths/~1campaigns~1{campaign_id}~1personalized-preview/post",
        "#/paths/~1campaigns~1{campaign_id}~1cancel/post",
    }
    for link in links.values():
        assert link["parameters"] == {"campaign_id": "$response.body#/id"}
        path, method = link["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
        assert method in document["paths"][path.replace("~1", "/")]


async def test_a_created_customer_links_to_its_page(client: httpx.AsyncClient) -> None:
    links = (await openapi(client))["paths"]["/customers"]["post"]["responses"]["201"]["links"]
    assert links == {
        "GetCustomer": {
            "operationRef": "#/paths/~1customers~1{customer_id}/get",
            "parameters": {"customer_id": "$response.body#/id"},
        }
    }


@pytest.mark.parametrize(
    ("segment", "valid"),
    [
        ({"all": True}, True),
        ({"all": True, "location": None}, True),
        ({"all": True, "location": "  "}, True),
        ({"all": True, "location": "\u00a0\u3000"}, True),
        ({"location": "\ufeff"}, True),
        ({"location": "Nairobi"}, True),
        ({"all": False, "preferred_product": "tea"}, True),
        ({}, False),
        ({"all": False}, False),
        ({"location": "   "}, False),
        ({"all": True, "location": "Nairobi"}, False),
    ],
)
async def test_the_schema_of_a_segment_admits_what_the_api_accepts(
    client: httpx.AsyncClient, segment: dict[str, Any], valid: bool
) -> None:
    schema = (await openapi(client))["components"]["schemas"]["SegmentBody"]
    matching = [branch for branch in schema["oneOf"] if admits(branch, segment)]
    assert (len(matching) == 1) is valid
    body = {"name": "n", "channel": "sms", "base_template": "Hi", "audience": {"segment": segment}}
    response = await client.post("/campaigns", json=body)
    assert (response.status_code == 201) is valid, response.text


def test_the_not_blank_pattern_is_exactly_what_strip_keeps() -> None:
    pattern = re.compile(NOT_WHITESPACE)
    # every character str.isspace() knows is in the Basic Multilingual Plane
    for char in map(chr, range(0x10000)):
        assert (pattern.fullmatch(char) is None) == char.isspace(), hex(ord(char))


def admits(branch: dict[str, Any], value: dict[str, Any]) -> bool:
    """Whether a oneOf branch (properties, required, anyOf) admits the object."""
    if any(name not in value for name in branch.get("required", ())):
        return False
    if not all(rule_admits(rule, value[name]) for name, rule in branch.get("properties", {}).items() if name in value):
        return False
    return "anyOf" not in branch or any(admits(option, value) for option in branch["anyOf"])


def rule_admits(rule: dict[str, Any], given: object) -> bool:
    """Whether one property rule (const, not, or a string type with a pattern) admits the value."""
    if "const" in rule:
        return bool(given == rule["const"])
    if "not" in rule:
        return not rule_admits(rule["not"], given)
    return isinstance(given, str) and re.search(rule["pattern"], given) is not None
