"""template-svc over gRPC (the TemplateRenderer port): Validate and Render, each with a deadline."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

import grpc
from dispatch.lifecycle import Channel
from grpc import aio
from template.v1 import template_pb2, template_pb2_grpc

from campaign_api.attributes import as_text
from campaign_api.domain import Customer, MessageFacts, RenderedMessage, TemplateProblem
from campaign_api.errors import InvalidTemplate, TemplateServiceUnavailable

CHANNELS: Final = {Channel.SMS: template_pb2.CHANNEL_SMS, Channel.WHATSAPP: template_pb2.CHANNEL_WHATSAPP}
ENCODINGS: Final = {
    template_pb2.ENCODING_GSM7: "GSM-7",
    template_pb2.ENCODING_UCS2: "UCS-2",
    template_pb2.ENCODING_UNICODE: "Unicode",
}
# the template Validate uses as a readiness probe: cheap, always valid
PROBE_TEMPLATE: Final = "Hi {first_name}"


def customer_message(customer: Customer) -> template_pb2.Customer:
    """A stored customer as the contract spells it; null fields stay unset."""
    message = template_pb2.Customer(id=customer.id, phone=customer.phone)
    for name in ("first_name", "last_name", "location", "preferred_product"):
        value = getattr(customer, name)
        if value is not None:
            setattr(message, name, value)
    message.attributes.update({name: as_text(value) for name, value in customer.attributes.items()})
    return message


@dataclass(frozen=True, slots=True)
class GrpcTemplateRenderer:
    """Calls template.v1.TemplateService on a channel the composition root owns."""

    stub: template_pb2_grpc.TemplateServiceAsyncStub
    deadline_s: float

    @classmethod
    def over(cls, channel: aio.Channel, deadline_s: float) -> GrpcTemplateRenderer:
        """A renderer over an open channel."""
        return cls(template_pb2_grpc.TemplateServiceStub(channel), deadline_s)

    async def validate(
        self, template: str, channel: Channel, attribute_names: Collection[str] = ()
    ) -> TemplateProblem | None:
        """Return template-svc's first error for the template, or None when it is valid."""
        request = template_pb2.ValidateRequest(
            template=template, channel=CHANNELS[channel], attribute_names=sorted(attribute_names)
        )
        try:
            response = await self.stub.Validate(request, timeout=self.deadline_s)
        except aio.AioRpcError as exc:
            raise TemplateServiceUnavailable(describe(exc)) from exc
        if response.valid or not response.errors:
            return None
        first = response.errors[0]
        return TemplateProblem(first.code, first.message, first.position, first.placeholder)

    async def render(
        self, template: str, customer: Customer, channel: Channel, attribute_names: Collection[str] = ()
    ) -> RenderedMessage:
        """Render for one customer; INVALID_ARGUMENT becomes InvalidTemplate, anything else unavailability."""
        request = template_pb2.RenderRequest(
            template=template,
            customer=customer_message(customer),
            channel=CHANNELS[channel],
            attribute_names=sorted(attribute_names),
        )
        try:
            result = await self.stub.Render(request, timeout=self.deadline_s)
        except aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidTemplate("template", exc.details() or "invalid template") from exc
            raise TemplateServiceUnavailable(describe(exc)) from exc
        return rendered_message(result)

    async def render_batch(
        self,
        template: str,
        customers: Sequence[Customer],
        channel: Channel,
        attribute_names: Collection[str] = (),
        *,
        deadline_s: float | None = None,
    ) -> list[RenderedMessage]:
        """Render for many customers in one call (RenderBatch), within `deadline_s` when shorter than ours."""
        request = template_pb2.RenderBatchRequest(
            template=template,
            customers=[customer_message(customer) for customer in customers],
            channel=CHANNELS[channel],
            attribute_names=sorted(attribute_names),
        )
        timeout = self.deadline_s if deadline_s is None else min(deadline_s, self.deadline_s)
        try:
            response = await self.stub.RenderBatch(request, timeout=timeout)
        except aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidTemplate("template", exc.details() or "invalid template") from exc
            raise TemplateServiceUnavailable(describe(exc)) from exc
        return [rendered_message(result) for result in response.results]

    async def check(self) -> None:
        """Readiness: a Validate call answers within the deadline."""
        try:
            await self.stub.Validate(
                template_pb2.ValidateRequest(template=PROBE_TEMPLATE, channel=template_pb2.CHANNEL_SMS),
                timeout=self.deadline_s,
            )
        except aio.AioRpcError as exc:
            raise TemplateServiceUnavailable(describe(exc)) from exc


def rendered_message(result: template_pb2.RenderResult) -> RenderedMessage:
    """One RenderResult as the domain spells it."""
    facts = result.facts
    return RenderedMessage(
        text=result.text,
        facts=MessageFacts(
            encoding=ENCODINGS.get(facts.encoding, "unknown"),
            characters=facts.characters,
            segments=facts.segments,
            violations=tuple(facts.violations),
        ),
    )


def describe(exc: aio.AioRpcError) -> str:
    """A short reason naming the gRPC status, for the 503 message and the logs."""
    return f"{exc.code().name}: {exc.details() or 'no details'}"
