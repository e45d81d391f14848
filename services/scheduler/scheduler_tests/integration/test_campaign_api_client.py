"""The HTTP adapter against a real HTTP server speaking campaign-api's scheduling contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr
from scheduler.domain import DispatchOutcome, DueCampaign
from scheduler.errors import CampaignApiUnavailable, UnexpectedResponse
from scheduler.http.campaign_api import HttpCampaignApi
from scheduler.main import build_client
from scheduler.settings import Settings

from scheduler_tests.integration.contract_server import CONTRACT_KEY, ContractCampaignApi

ContractFixture = tuple[ContractCampaignApi, str]


@pytest.fixture
async def client(contract_api: ContractFixture) -> AsyncIterator[httpx.AsyncClient]:
    _, base_url = contract_api
    async with build_client(
        Settings(campaign_api_url=base_url, request_timeout_s=2.0, scheduler_api_key=SecretStr(CONTRACT_KEY))
    ) as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient) -> HttpCampaignApi:
    return HttpCampaignApi(client)


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


async def test_due_listing_returns_due_campaigns_oldest_first_with_aware_times(
    contract_api: ContractFixture, api: HttpCampaignApi
) -> None:
    state, _ = contract_api
    newer = state.add("newer", ago(5))
    older = state.add("older", ago(60))
    state.add("future", ago(-3600))

    due = await api.list_due(limit=50)

    assert [c.id for c in due] == [older, newer]
    assert due[0].name == "older"
    assert due[0].scheduled_at == state.campaigns[older].scheduled_at
    assert due[0].scheduled_at.utcoffset() == timedelta(0)
    assert state.requests[-1].query == "limit=50"


async def test_send_carries_the_schedule_key_and_no_body(contract_api: ContractFixture, api: HttpCampaignApi) -> None:
    state, _ = contract_api
    scheduled_at = datetime(2026, 6, 1, 10, 0, 0, 900_000, tzinfo=UTC)
    campaign_id = state.add("launch", scheduled_at)

    result = await api.dispatch(DueCampaign(campaign_id, "launch", scheduled_at))

    assert result.outcome is DispatchOutcome.DISPATCHED
    assert result.messages_queued == 3
    sent = state.requests[-1]
    assert (sent.method, sent.path) == ("POST", f"/campaigns/{campaign_id}/send")
    assert sent.headers["idempotency-key"] == f"scheduled-{campaign_id}-{int(scheduled_at.timestamp())}"
    assert sent.body == b""
    assert state.campaigns[campaign_id].status == "sending"


async def test_second_send_is_already_dispatched(contract_api: ContractFixture, api: HttpCampaignApi) -> None:
    state, _ = contract_api
    campaign = DueCampaign(state.add("twice", ago(1)), "twice", ago(1))

    first = await api.dispatch(campaign)
    second = await api.dispatch(campaign)

    assert (first.outcome, second.outcome) == (DispatchOutcome.DISPATCHED, DispatchOutcome.ALREADY_DISPATCHED)
    assert state.campaigns[campaign.id].dispatches == 1


async def test_a_replayed_answer_to_the_schedule_key_is_already_dispatched(
    contract_api: ContractFixture, api: HttpCampaignApi
) -> None:
    state, _ = contract_api
    state.replay_idempotent = True
    campaign = DueCampaign(state.add("replayed", ago(1)), "replayed", ago(1))

    first = await api.dispatch(campaign)
    second = await api.dispatch(campaign)  # the other replica, same key

    assert (first.outcome, second.outcome) == (DispatchOutcome.DISPATCHED, DispatchOutcome.ALREADY_DISPATCHED)
    assert state.campaigns[campaign.id].dispatches == 1


async def test_campaign_without_audience_is_reported_and_failed_by_the_api(
    contract_api: ContractFixture, api: HttpCampaignApi
) -> None:
    state, _ = contract_api
    campaign_id = state.add("nobody", ago(1), audience_size=None)

    result = await api.dispatch(DueCampaign(campaign_id, "nobody", ago(1)))

    assert result.outcome is DispatchOutcome.AUDIENCE_REQUIRED
    assert state.campaigns[campaign_id].status == "failed"


async def test_deleted_campaign_is_gone(api: HttpCampaignApi) -> None:
    result = await api.dispatch(DueCampaign(999, "deleted", ago(1)))

    assert result.outcome is DispatchOutcome.GONE


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(contract_api: ContractFixture, api: HttpCampaignApi, status: int) -> None:
    state, _ = contract_api
    state.fail_with_status = status
    campaign_id = state.add("soon", ago(1))

    with pytest.raises(CampaignApiUnavailable, match=str(status)):
        await api.list_due(limit=10)
    with pytest.raises(CampaignApiUnavailable, match=str(status)):
        await api.dispatch(DueCampaign(campaign_id, "soon", ago(1)))
    assert state.campaigns[campaign_id].status == "scheduled"


async def test_refused_connection_is_transient(closed_port_url: str) -> None:
    async with build_client(
        Settings(campaign_api_url=closed_port_url, request_timeout_s=1.0, scheduler_api_key=SecretStr(CONTRACT_KEY))
    ) as client:
        api = HttpCampaignApi(client)
        with pytest.raises(CampaignApiUnavailable, match="ConnectError"):
            await api.list_due(limit=10)
        with pytest.raises(CampaignApiUnavailable, match="ConnectError"):
            await api.dispatch(DueCampaign(1, "x", ago(1)))
        with pytest.raises(httpx.ConnectError):
            await api.check_health()


async def test_a_send_slower_than_the_timeout_is_transient(contract_api: ContractFixture) -> None:
    state, base_url = contract_api
    campaign_id = state.add("slow", ago(1))
    state.slow_send_ids[campaign_id] = 1.0

    async with build_client(
        Settings(campaign_api_url=base_url, request_timeout_s=0.2, scheduler_api_key=SecretStr(CONTRACT_KEY))
    ) as client:
        with pytest.raises(CampaignApiUnavailable, match="Timeout"):
            await HttpCampaignApi(client).dispatch(DueCampaign(campaign_id, "slow", ago(1)))


async def test_answers_outside_the_contract_are_unexpected(contract_api: ContractFixture, api: HttpCampaignApi) -> None:
    state, _ = contract_api
    state.malformed_listing = True
    with pytest.raises(UnexpectedResponse, match="body outside the contract"):
        await api.list_due(limit=10)

    state.malformed_listing = False
    with pytest.raises(UnexpectedResponse, match="VALIDATION_ERROR"):
        await api.list_due(limit=501)  # the API caps the listing; a misconfigured limit must be loud


async def test_requests_carry_the_trace_context(contract_api: ContractFixture, api: HttpCampaignApi) -> None:
    state, _ = contract_api
    tracer = TracerProvider().get_tracer("test")

    with tracer.start_as_current_span("tick") as span:
        await api.list_due(limit=1)

    trace_id = format(span.get_span_context().trace_id, "032x")
    traceparent = state.requests[-1].headers["traceparent"]
    assert traceparent.split("-")[1] == trace_id
