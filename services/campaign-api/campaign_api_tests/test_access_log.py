"""The access log: one JSON line per request with method, route template, status and duration; never a body, a
query string or a raw path, so never a phone number."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from service_kit.json_logs import configure_logging

from campaign_api_tests.factories import create_campaign, next_phone


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the service's own JSON logging (service_kit.json_logs) writes during the test, then pytest's again."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("campaign-api", "INFO")
    written = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    try:
        yield written
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def access_lines(written: io.StringIO) -> tuple[str, list[dict[str, Any]]]:
    """Everything logged since the last call, and its access-log records (every line must be JSON)."""
    text = written.getvalue()
    written.seek(0)
    written.truncate()
    records = [json.loads(line) for line in text.splitlines()]
    return text, [record for record in records if record["logger"] == "campaign_api.access"]


async def test_each_request_writes_one_json_access_line(client: httpx.AsyncClient, json_log: io.StringIO) -> None:
    campaign = await create_campaign(client)
    access_lines(json_log)
    await client.get(f"/campaigns/{campaign['id']}")
    await client.get("/no/such/route")
    text, lines = access_lines(json_log)
    assert len(lines) == 2, text
    found, missing = lines
    assert (found["method"], found["route"], found["status"]) == ("GET", "/campaigns/{campaign_id}", 200)
    assert (missing["route"], missing["status"]) == ("<unmatched>", 404)
    for line in lines:
        assert line["message"] == "request"
        assert isinstance(line["duration_ms"], float)
        assert line["duration_ms"] >= 0
        assert line["level"] == "INFO"
        assert line["service"] == "campaign-api"


async def test_the_access_log_never_holds_a_phone_a_body_or_a_query_string(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    phone = next_phone()
    access_lines(json_log)
    created = await client.post("/customers", json={"phone": phone, "first_name": "Secret-Name"})
    await client.get("/customers", params={"phone": phone, "page": 1})
    await client.get(f"/customers/{phone}")
    _, lines = access_lines(json_log)  # the test client's own httpx lines name URLs; the service's must not
    assert [line["status"] for line in lines] == [201, 200, 404], lines
    assert [line["route"] for line in lines] == ["/customers", "/customers", "/customers/{customer_id}"]
    text = json.dumps(lines)
    assert phone.removeprefix("+") not in text
    assert "Secret-Name" not in text
    assert created.json()["phone"] == phone


async def test_a_request_refused_before_routing_is_logged_too(client: httpx.AsyncClient, json_log: io.StringIO) -> None:
    access_lines(json_log)
    await client.post("/campaigns", content=b"x" * (3 * 1024 * 1024), headers={"content-type": "application/json"})
    _, lines = access_lines(json_log)
    assert [(line["method"], line["status"]) for line in lines] == [("POST", 413)]
