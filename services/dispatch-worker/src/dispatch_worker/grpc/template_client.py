"""The TemplateRenderer port over template-svc's RenderBatch, with a deadline on every call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import grpc
from dispatch.lifecycle import Channel, Recipient
from grpc import aio
from template.v1 import template_pb2, template_pb2_grpc

from dispatch_worker.domain import Rendered
from dispatch_worker.errors import InvalidTemplate, TemplateUnavailable

CHANNELS: Final = {Channel.SMS: template_pb2.CHANNEL_SMS, Channel.WHATSAPP: template_pb2.CHANNEL_WHATSAPP}
# the message's own fault; every other status is the platform's
PERMANENT: Final = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION}


class GrpcTemplateRenderer:
    """Renders through template-svc; raises TemplateUnavailable when it does not answer in time."""

    def __init__(self, channel: aio.Channel, deadline_s: float) -> None:
        """Use an open grpc.aio channel; each call gets `deadline_s`."""
        self.stub = template_pb2_grpc.TemplateServiceStub(channel)
        self.deadline_s = deadline_s

    async def render_batch(self, template: str, channel: Channel, recipients: Sequence[Recipient]) -> list[Rendered]:
        """Render `template` for each recipient, in order, with the segments each text takes."""
        request = template_pb2.RenderBatchRequest(
            template=template,
            channel=CHANNELS[channel],
            customers=[
                template_pb2.Customer(
                    id=r.id,
                    phone=r.phone,
                    first_name=r.first_name,
                    last_name=r.last_name,
                    location=r.location,
                    preferred_product=r.preferred_product,
                    attributes={name: attribute_text(value) for name, value in r.attributes.items()},
                )
                for r in recipients
            ],
            # campaign-api validated the template against the account's declared attributes when it was saved
            any_attribute=True,
        )
        try:
            response = await self.stub.RenderBatch(request, timeout=self.deadline_s)
        except aio.AioRpcError as exc:
            if exc.code() in PERMANENT:
                raise InvalidTemplate(exc.details() or "template rejected") from exc
            raise TemplateUnavailable(f"template-svc: {exc.code().name}: {exc.details()}") from exc
        ucs2 = template_pb2.ENCODING_UCS2
        return [Rendered(r.text, r.facts.segments, r.facts.encoding == ucs2) for r in response.results]


def attribute_text(value: object) -> str:
    """An attribute's stored JSON value as the template shows it (true/false for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
