"""Renderer over template-svc's RenderBatch, with a deadline on every call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import grpc
from grpc import aio
from template.v1 import template_pb2, template_pb2_grpc

from dispatch_worker.domain import Channel, Customer
from dispatch_worker.errors import InvalidTemplate, TemplateUnavailable

_CHANNELS: Final = {Channel.SMS: template_pb2.CHANNEL_SMS, Channel.WHATSAPP: template_pb2.CHANNEL_WHATSAPP}
# the message's own fault; every other status is the platform's
_PERMANENT: Final = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION}


class TemplateClient:
    """Renders through template-svc; raises TemplateUnavailable when it does not answer in time."""

    def __init__(self, channel: aio.Channel, deadline_s: float) -> None:
        """Use an open grpc.aio channel; each call gets `deadline_s`."""
        self.stub = template_pb2_grpc.TemplateServiceStub(channel)
        self.deadline_s = deadline_s

    async def render_batch(self, template: str, channel: Channel, customers: Sequence[Customer]) -> list[str]:
        """Render `template` for each customer, in order."""
        request = template_pb2.RenderBatchRequest(
            template=template,
            channel=_CHANNELS[channel],
            customers=[
                template_pb2.Customer(
                    id=c.id,
                    phone=c.phone,
                    first_name=c.first_name,
                    last_name=c.last_name,
                    location=c.location,
                    preferred_product=c.preferred_product,
                )
                for c in customers
            ],
        )
        try:
            response = await self.stub.RenderBatch(request, timeout=self.deadline_s)
        except aio.AioRpcError as exc:
            if exc.code() in _PERMANENT:
                raise InvalidTemplate(exc.details() or "template rejected") from exc
            raise TemplateUnavailable(f"template-svc: {exc.code().name}: {exc.details()}") from exc
        return [r.text for r in response.results]
