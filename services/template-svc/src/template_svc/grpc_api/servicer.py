"""template.v1.TemplateService over the use cases: parse the request, call, shape the reply, map errors once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message
from grpc import aio
from template.v1 import template_pb2, template_pb2_grpc

from template_svc.domain.message_facts import Channel, Encoding, MessageFacts
from template_svc.domain.template_language import (
    ANY_ATTRIBUTE,
    AttributeNames,
    CustomerFields,
    TemplateError,
    parse_template,
)
from template_svc.errors import InvalidInput, InvalidTemplate, UnsupportedChannel
from template_svc.metrics import TemplateMetrics
from template_svc.usecases.render_messages import RenderedBatch, RenderMessages

CHANNELS: Final = {template_pb2.CHANNEL_SMS: Channel.SMS, template_pb2.CHANNEL_WHATSAPP: Channel.WHATSAPP}
ENCODINGS: Final = {
    Encoding.GSM7: template_pb2.ENCODING_GSM7,
    Encoding.UCS2: template_pb2.ENCODING_UCS2,
    Encoding.UNICODE: template_pb2.ENCODING_UNICODE,
}
Context = aio.ServicerContext[Any, Any]
Request = TypeVar("Request", bound=Message)
Reply = TypeVar("Reply", bound=Message)
SERVICE: Final = template_pb2.DESCRIPTOR.services_by_name["TemplateService"].full_name
# far above what campaign-api stores (templates of 4,096 characters, fields of 200) and what a WhatsApp message
# holds, low enough that no request makes the server cache or render megabytes per customer
MAX_TEMPLATE_CHARS: Final = 8_192
MAX_FIELD_CHARS: Final = 8_192
MAX_STRATEGY_CHARS: Final = 64


def check_sizes(template: str, customers: Sequence[CustomerFields], strategy: str) -> None:
    """Raise InvalidInput naming the first field past its limit."""
    check_length("template", template, MAX_TEMPLATE_CHARS)
    check_length("strategy", strategy, MAX_STRATEGY_CHARS)
    for index, fields in enumerate(customers):
        for name, value in fields.items():
            check_length(f"customers[{index}].{name}", value or "", MAX_FIELD_CHARS)


def check_length(field: str, value: str, limit: int) -> None:
    """Raise InvalidInput when the value is longer than the limit."""
    if len(value) > limit:
        raise InvalidInput(f"{field} has {len(value)} characters; at most {limit} are accepted")


def attribute_names(request: template_pb2.RenderRequest | template_pb2.RenderBatchRequest) -> AttributeNames:
    """The custom attributes the request lets its template use."""
    return ANY_ATTRIBUTE if request.any_attribute else frozenset(request.attribute_names)


def customer_fields(customer: template_pb2.Customer) -> CustomerFields:
    """The fields a template sees; an unset optional field reads "", which the language treats as missing. Custom
    attributes come first, so a built-in field always wins."""
    return {
        **customer.attributes,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "location": customer.location,
        "preferred_product": customer.preferred_product,
    }


def template_error_message(error: TemplateError) -> template_pb2.TemplateError:
    """One template error as the contract spells it."""
    return template_pb2.TemplateError(
        code=error.code.value, message=error.message, position=error.position, placeholder=error.placeholder
    )


def facts_message(facts: MessageFacts) -> template_pb2.MessageFacts:
    """Message facts as the contract spells them."""
    return template_pb2.MessageFacts(
        encoding=ENCODINGS[facts.encoding],
        characters=facts.characters,
        segments=facts.segments,
        violations=facts.violations,
    )


class TemplateServicer(template_pb2_grpc.TemplateServiceServicer):
    """Render, RenderBatch and Validate; bad input ends the call with INVALID_ARGUMENT and a readable reason."""

    def __init__(self, render: RenderMessages, metrics: TemplateMetrics, max_batch_size: int) -> None:
        self._render = render
        self._metrics = metrics
        self._max_batch_size = max_batch_size

    async def Render(self, request: template_pb2.RenderRequest, context: Context) -> template_pb2.RenderResult:
        """Render one template for one customer."""
        batch = await self._render_or_abort(
            context, request.template, [request.customer], request.channel, request.strategy, attribute_names(request)
        )
        message = batch.messages[0]
        return template_pb2.RenderResult(
            customer_id=request.customer.id,
            text=message.text,
            facts=facts_message(message.facts),
            strategy=batch.strategy,
        )

    async def RenderBatch(
        self, request: template_pb2.RenderBatchRequest, context: Context
    ) -> template_pb2.RenderBatchResponse:
        """Render one template for many customers, parsed once; results in request order."""
        customers = request.customers
        if len(customers) > self._max_batch_size:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{len(customers)} customers in one batch; at most {self._max_batch_size} are accepted",
            )
        batch = await self._render_or_abort(
            context, request.template, customers, request.channel, request.strategy, attribute_names(request)
        )
        response = template_pb2.RenderBatchResponse()
        add = response.results.add
        strategy = batch.strategy
        # results sharing the same facts (most messages of a campaign) reuse one converted message
        facts_cache: dict[MessageFacts, template_pb2.MessageFacts] = {}
        for customer, message in zip(customers, batch.messages, strict=True):
            facts = facts_cache.get(message.facts)
            if facts is None:
                facts = facts_cache[message.facts] = facts_message(message.facts)
            add(customer_id=customer.id, text=message.text, facts=facts, strategy=strategy)
        return response

    async def Validate(self, request: template_pb2.ValidateRequest, context: Context) -> template_pb2.ValidateResponse:
        """Report the placeholders a template uses and every error in it, with positions."""
        try:
            check_length("template", request.template, MAX_TEMPLATE_CHARS)
        except InvalidInput as exc:
            await abort_invalid(context, exc)
        parsed = parse_template(request.template, frozenset(request.attribute_names))
        return template_pb2.ValidateResponse(
            valid=parsed.is_valid,
            placeholders=parsed.placeholders,
            errors=[template_error_message(error) for error in parsed.errors],
        )

    async def _render_or_abort(
        self,
        context: Context,
        template: str,
        customers: Sequence[template_pb2.Customer],
        channel_number: int,
        strategy: str,
        attributes: AttributeNames = frozenset(),
    ) -> RenderedBatch:
        """Run the render use case; turn bad input into INVALID_ARGUMENT and a passed deadline into its status."""
        try:
            fields = [customer_fields(customer) for customer in customers]  # built once, checked, then rendered
            check_sizes(template, fields, strategy)
            channel = CHANNELS.get(channel_number)  # type: ignore[call-overload]  # proto enums are ints
            if channel is None:
                raise UnsupportedChannel(f"channel must be CHANNEL_SMS or CHANNEL_WHATSAPP, got {channel_number}")
            batch = await self._render(
                template,
                fields,
                channel,
                strategy,
                context.time_remaining(),
                attributes,
            )
        except InvalidInput as exc:
            await abort_invalid(context, exc)
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            # the caller has stopped waiting: say so rather than send an answer nobody reads
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed while rendering")
        self._metrics.renders.labels(strategy=batch.strategy, channel=channel.value).inc(len(batch.messages))
        return batch


async def abort_invalid(context: Context, exc: InvalidInput) -> NoReturn:
    """End the call with INVALID_ARGUMENT; a template error also goes into trailing metadata, field by field."""
    metadata: tuple[tuple[str, str], ...] = (("error-code", exc.code),)
    details = str(exc)
    if isinstance(exc, InvalidTemplate):
        first = exc.errors[0]
        details = f"{first.code.value}: {first.message}"
        metadata = (
            ("error-code", first.code.value),
            ("error-position", str(first.position)),
            ("error-placeholder", first.placeholder),
        )
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, details, trailing_metadata=metadata)


@dataclass(frozen=True, slots=True)
class Unparseable:
    """Request bytes that are not the method's message (corrupt wire format, a string that is not UTF-8)."""

    message_name: str
    reason: str


def parse_or_mark(message_type: type[Request]) -> Callable[[bytes], Request | Unparseable]:
    """A request deserializer that never raises: grpc would answer UNKNOWN for its DecodeError."""

    def parse(data: bytes) -> Request | Unparseable:
        try:
            return message_type.FromString(data)
        except DecodeError as exc:
            return Unparseable(message_type.DESCRIPTOR.full_name, str(exc))

    return parse


def refusing_unparseable(
    method: Callable[[Request, Context], Awaitable[Reply]],
) -> Callable[[Request | Unparseable, Context], Awaitable[Reply]]:
    """The method, behind a check that ends a call whose request did not parse with INVALID_ARGUMENT."""

    async def behavior(request: Request | Unparseable, context: Context) -> Reply:
        if isinstance(request, Unparseable):
            await abort_invalid(
                context, InvalidInput(f"the request is not a valid {request.message_name}: {request.reason}")
            )
        return await method(request, context)

    return behavior


def add_to_server(servicer: TemplateServicer, server: aio.Server) -> None:
    """Register TemplateService as the generated add_TemplateServiceServicer_to_server does, with requests that do
    not parse answered INVALID_ARGUMENT instead of UNKNOWN."""
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
        "Render": grpc.unary_unary_rpc_method_handler(
            refusing_unparseable(servicer.Render),
            request_deserializer=parse_or_mark(template_pb2.RenderRequest),
            response_serializer=template_pb2.RenderResult.SerializeToString,
        ),
        "RenderBatch": grpc.unary_unary_rpc_method_handler(
            refusing_unparseable(servicer.RenderBatch),
            request_deserializer=parse_or_mark(template_pb2.RenderBatchRequest),
            response_serializer=template_pb2.RenderBatchResponse.SerializeToString,
        ),
        "Validate": grpc.unary_unary_rpc_method_handler(
            refusing_unparseable(servicer.Validate),
            request_deserializer=parse_or_mark(template_pb2.ValidateRequest),
            response_serializer=template_pb2.ValidateResponse.SerializeToString,
        ),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)
