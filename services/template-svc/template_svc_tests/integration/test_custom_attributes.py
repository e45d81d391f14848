"""Custom attributes as placeholders: allowed when declared, rejected with their position when not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from template.v1 import template_pb2, template_pb2_grpc

TEMPLATE = "Hi {first_name}, your {tier} card has {points|no} points"


@pytest.fixture(scope="module")
async def stub(template_svc_addr: str) -> AsyncIterator[template_pb2_grpc.TemplateServiceAsyncStub]:
    async with aio.insecure_channel(template_svc_addr) as channel:
        yield template_pb2_grpc.TemplateServiceStub(channel)


async def test_declared_attributes_validate_and_undeclared_ones_are_named_with_their_position(
    stub: template_pb2_grpc.TemplateServiceAsyncStub,
) -> None:
    declared = await stub.Validate(
        template_pb2.ValidateRequest(
            template=TEMPLATE, channel=template_pb2.CHANNEL_SMS, attribute_names=["tier", "points"]
        )
    )
    assert declared.valid
    assert list(declared.placeholders) == ["first_name", "tier", "points"]
    partly = await stub.Validate(
        template_pb2.ValidateRequest(template=TEMPLATE, channel=template_pb2.CHANNEL_SMS, attribute_names=["tier"])
    )
    assert not partly.valid
    (error,) = partly.errors
    assert (error.code, error.placeholder, error.position) == (
        "UNKNOWN_PLACEHOLDER",
        "points",
        TEMPLATE.index("{points"),
    )
    assert "tier" in error.message  # the known names include the declared attributes


async def test_attributes_render_from_the_customer_and_fall_back_when_missing(
    stub: template_pb2_grpc.TemplateServiceAsyncStub,
) -> None:
    customers = [
        template_pb2.Customer(id=1, first_name="Amina", attributes={"tier": "gold", "points": "120"}),
        template_pb2.Customer(id=2, first_name="Baraka", attributes={"tier": "silver"}),
    ]
    reply = await stub.RenderBatch(
        template_pb2.RenderBatchRequest(
            template=TEMPLATE, customers=customers, channel=template_pb2.CHANNEL_SMS, any_attribute=True
        )
    )
    assert [r.text for r in reply.results] == [
        "Hi Amina, your gold card has 120 points",
        "Hi Baraka, your silver card has no points",
    ]
    one = await stub.Render(
        template_pb2.RenderRequest(
            template="{tier}", customer=customers[0], channel=template_pb2.CHANNEL_SMS, attribute_names=["tier"]
        )
    )
    assert one.text == "gold"


async def test_render_without_the_attribute_declared_is_invalid_argument(
    stub: template_pb2_grpc.TemplateServiceAsyncStub,
) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await stub.Render(
            template_pb2.RenderRequest(
                template="{tier}", customer=template_pb2.Customer(id=1), channel=template_pb2.CHANNEL_SMS
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
