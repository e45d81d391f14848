"""TemplateService, health and reflection over a real local gRPC channel to the real server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client import CollectorRegistry
from template.v1 import template_pb2, template_pb2_grpc
from template_svc.metrics import TemplateMetrics
from template_svc.personalizers.registry import PersonalizerRegistry

from template_svc_tests.background_server import serve_in_background
from template_svc_tests.fakes import SlowPersonalizer

TEMPLATE = "Hi {first_name|there}, your {preferred_product} is ready in {location}!"


@pytest.fixture(scope="session")
async def stub(template_svc_addr: str) -> AsyncIterator[template_pb2_grpc.TemplateServiceAsyncStub]:
    async with aio.insecure_channel(template_svc_addr) as channel:
        yield template_pb2_grpc.TemplateServiceStub(channel)


@pytest.fixture(scope="module")
def slow_server() -> Iterator[tuple[str, CollectorRegistry]]:
    """A second real server with a strategy slower than any deadline, and metrics we can read."""
    registry = CollectorRegistry()
    with serve_in_background(
        PersonalizerRegistry({"slow": SlowPersonalizer()}), TemplateMetrics.register(registry), max_batch_size=50
    ) as running:
        yield f"127.0.0.1:{running.port}", registry


async def sample_value(registry: CollectorRegistry, name: str, labels: dict[str, str], expected: float) -> float | None:
    """The metric's value once it reaches `expected` (or after 2 s): the server records a call just after the
    client has its answer, on the server's own thread."""
    for _ in range(100):
        value = registry.get_sample_value(name, labels)
        if value == expected:
            return value
        await asyncio.sleep(0.02)
    return registry.get_sample_value(name, labels)


def customer(customer_id: int, **fields: str) -> template_pb2.Customer:
    message = template_pb2.Customer(id=customer_id)
    for name, value in fields.items():
        setattr(message, name, value)
    return message


async def test_render_returns_text_facts_and_strategy(stub: template_pb2_grpc.TemplateServiceAsyncStub) -> None:
    reply = await stub.Render(
        template_pb2.RenderRequest(
            template=TEMPLATE,
            customer=customer(7, first_name="Ann", preferred_product="Espresso", location="Lisbon"),
            channel=template_pb2.CHANNEL_SMS,
        ),
        timeout=5,
    )
    assert reply.customer_id == 7
    assert reply.text == "Hi Ann, your Espresso is ready in Lisbon!"
    assert reply.strategy == "template"
    assert reply.facts.encoding == template_pb2.ENCODING_GSM7
    assert (reply.facts.characters, reply.facts.segments, list(reply.facts.violations)) == (41, 1, [])


async def test_render_treats_unset_fields_as_missing(stub: template_pb2_grpc.TemplateServiceAsyncStub) -> None:
    reply = await stub.Render(
        template_pb2.RenderRequest(template=TEMPLATE, customer=customer(8), channel=template_pb2.CHANNEL_SMS),
        timeout=5,
    )
    assert reply.text == "Hi there, your is ready in!"


async def test_render_reports_ucs2_for_unicode_names(stub: template_pb2_grpc.TemplateServiceAsyncStub) -> None:
    reply = await stub.Render(
        template_pb2.RenderRequest(
            template="Привет, {first_name}!", customer=customer(9, first_name="Юля"), channel=template_pb2.CHANNEL_SMS
        ),
        timeout=5,
    )
    assert (reply.text, reply.facts.encoding, reply.facts.characters) == (
        "Привет, Юля!",
        template_pb2.ENCODING_UCS2,
        12,
    )


async def test_render_batch_keeps_request_order(stub: template_pb2_grpc.TemplateServiceAsyncStub) -> None:
    customers = [customer(i, first_name=f"Name{i}", location="Porto") for i in range(500)]
    reply = await stub.RenderBatch(
        template_pb2.RenderBatchRequest(
            template=TEMPLATE, customers=customers, channel=template_pb2.CHANNEL_WHATSAPP, strategy="template"
        ),
        timeout=5,
    )
    assert [r.customer_id for r in reply.results] == list(range(500))
    assert [r.text for r in reply.results] == [f"Hi Name{i}, your is ready in Porto!" for i in range(500)]
    assert {r.facts.encoding for r in reply.results} == {template_pb2.ENCODING_UNICODE}


async def test_render_batch_reports_an_overlong_whatsapp_message(
    stub: template_pb2_grpc.TemplateServiceAsyncStub,
) -> None:
    reply = await stub.RenderBatch(
        template_pb2.RenderBatchRequest(
            template="{preferred_product}",
            customers=[customer(1, preferred_product="x" * 4097), customer(2, preferred_product="ok")],
            channel=template_pb2.CHANNEL_WHATSAPP,
        ),
        timeout=5,
    )
    assert list(reply.results[0].facts.violations) == ["whatsapp message exceeds 4096 characters (4097)"]
    assert list(reply.results[1].facts.violations) == []


async def test_validate_lists_placeholders_and_every_error(stub: template_pb2_grpc.TemplateServiceAsyncStub) -> None:
    good = await stub.Validate(template_pb2.ValidateRequest(template=TEMPLATE), timeout=5)
    assert good.valid
    assert list(good.placeholders) == ["first_name", "preferred_product", "location"]
    bad = await stub.Validate(template_pb2.ValidateRequest(template="Hi {frist_name} {"), timeout=5)
    assert not bad.valid
    assert [(e.code, e.position, e.placeholder) for e in bad.errors] == [
        ("UNKNOWN_PLACEHOLDER", 3, "frist_name"),
        ("UNBALANCED_BRACE", 16, ""),
    ]


async def test_a_bad_template_is_invalid_argument_naming_the_placeholder(
    stub: template_pb2_grpc.TemplateServiceAsyncStub,
) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await stub.Render(
            template_pb2.RenderRequest(
                template="Hello {frist_name}", customer=customer(1), channel=template_pb2.CHANNEL_SMS
            ),
            timeout=5,
        )
    error = raised.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "UNKNOWN_PLACEHOLDER" in (error.details() or "")
    assert "{frist_name} at position 6" in (error.details() or "")
    trailing = dict(error.trailing_metadata() or ())
    assert (trailing["error-code"], trailing["error-position"], trailing["error-placeholder"]) == (
        "UNKNOWN_PLACEHOLDER",
        "6",
        "frist_name",
    )


async def test_an_unknown_strategy_is_invalid_argument(stub: template_pb2_grpc.TemplateServiceAsyncStub) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await stub.RenderBatch(
            template_pb2.RenderBatchRequest(
                template=TEMPLATE, customers=[customer(1)], channel=template_pb2.CHANNEL_SMS, strategy="gpt-9"
            ),
            timeout=5,
        )
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown personalisation strategy 'gpt-9'" in (raised.value.details() or "")


async def test_a_missing_channel_is_invalid_argument(stub: template_pb2_grpc.TemplateServiceAsyncStub) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await stub.Render(template_pb2.RenderRequest(template=TEMPLATE, customer=customer(1)), timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "channel must be CHANNEL_SMS or CHANNEL_WHATSAPP" in (raised.value.details() or "")


async def test_health_reports_serving(template_svc_addr: str) -> None:
    async with aio.insecure_channel(template_svc_addr) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        for service in ("", "template.v1.TemplateService"):
            reply = await check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_template_service(template_svc_addr: str) -> None:
    async with aio.insecure_channel(template_svc_addr) as channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)  # type: ignore[arg-type]  # stubs know sync channels only
        call = reflection.ServerReflectionInfo(timeout=5)  # type: ignore[operator]
        await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        await call.done_writing()
        replies = [reply async for reply in call]
    names = {service.name for service in replies[0].list_services_response.service}
    assert {"template.v1.TemplateService", "grpc.health.v1.Health"} <= names


async def test_a_passed_deadline_ends_the_call_and_the_server_keeps_serving(
    slow_server: tuple[str, CollectorRegistry],
) -> None:
    addr, registry = slow_server
    async with aio.insecure_channel(addr) as channel:
        stub = template_pb2_grpc.TemplateServiceStub(channel)
        request = template_pb2.RenderRequest(
            template=TEMPLATE, customer=customer(1), channel=template_pb2.CHANNEL_SMS, strategy="slow"
        )
        started = time.perf_counter()
        with pytest.raises(aio.AioRpcError) as raised:
            await stub.Render(request, timeout=0.3)
        assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.perf_counter() - started < 2.0
        labels = {"grpc_method": "/template.v1.TemplateService/Render", "grpc_code": "DEADLINE_EXCEEDED"}
        assert await sample_value(registry, "grpc_server_handled_total", labels, expected=1.0) == 1.0
        request.strategy = "template"
        reply = await stub.Render(request, timeout=5)
        assert reply.text == "Hi there, your is ready in!"


async def test_calls_are_counted_by_method_code_strategy_and_channel(
    slow_server: tuple[str, CollectorRegistry],
) -> None:
    addr, registry = slow_server
    async with aio.insecure_channel(addr) as channel:
        stub = template_pb2_grpc.TemplateServiceStub(channel)
        await stub.RenderBatch(
            template_pb2.RenderBatchRequest(
                template=TEMPLATE, customers=[customer(i) for i in range(3)], channel=template_pb2.CHANNEL_WHATSAPP
            ),
            timeout=5,
        )
        with pytest.raises(aio.AioRpcError) as raised:
            await stub.RenderBatch(
                template_pb2.RenderBatchRequest(
                    template=TEMPLATE, customers=[customer(i) for i in range(51)], channel=template_pb2.CHANNEL_SMS
                ),
                timeout=5,
            )
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 50" in (raised.value.details() or "")
    method = "/template.v1.TemplateService/RenderBatch"
    handled = "grpc_server_handled_total"
    assert await sample_value(registry, handled, {"grpc_method": method, "grpc_code": "OK"}, expected=1.0) == 1.0
    invalid = {"grpc_method": method, "grpc_code": "INVALID_ARGUMENT"}
    assert await sample_value(registry, handled, invalid, expected=1.0) == 1.0
    assert registry.get_sample_value("grpc_server_handling_seconds_count", {"grpc_method": method}) == 2.0
    assert registry.get_sample_value("template_renders_total", {"strategy": "template", "channel": "whatsapp"}) == 3.0
