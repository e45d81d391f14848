"""Any request the proto can carry gets an answer or INVALID_ARGUMENT from the real server, never UNKNOWN or INTERNAL.

Hypothesis fills every field of the three requests: templates valid and not, open enum values outside the
declared channels, unset optional fields, empty batches, strategies nobody registered, and strings past the
service's limits. Calls go over a real channel to the production server (template_svc_tests.background_server).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from template.v1 import template_pb2, template_pb2_grpc
from template_svc.domain.template_language import FIELDS
from template_svc.grpc_api.servicer import MAX_FIELD_CHARS, MAX_STRATEGY_CHARS, MAX_TEMPLATE_CHARS

INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
EXAMPLES = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# what a proto string can hold: UTF-8, so no lone surrogate
utf8 = st.characters(codec="utf-8")
short_text = st.text(utf8, max_size=40)
placeholder = st.builds(
    lambda name, fallback: f"{{{name}|{fallback}}}" if fallback else f"{{{name}}}",
    st.sampled_from([*FIELDS, "shoe_size", "", " "]),
    st.text(utf8, max_size=8),
)
templates = st.one_of(
    st.lists(st.one_of(short_text, placeholder, st.sampled_from(["{{", "}}", "{", "}", "|"])), max_size=10).map(
        "".join
    ),
    st.text(utf8, max_size=200),
    st.integers(MAX_TEMPLATE_CHARS - 2, MAX_TEMPLATE_CHARS + 2).map(lambda size: "x" * size),
)
field_values = st.one_of(
    st.none(), short_text, st.integers(MAX_FIELD_CHARS - 1, MAX_FIELD_CHARS + 1).map(lambda size: "é" * size)
)
customers = st.builds(
    lambda customer_id, fields: template_pb2.Customer(
        id=customer_id, **{name: value for name, value in fields.items() if value is not None}
    ),
    INT64,
    st.fixed_dictionaries({name: field_values for name in FIELDS}),
)
# declared channels, the unspecified zero, and any other int32 an open proto3 enum carries
channels = st.one_of(st.sampled_from([0, 1, 2]), INT32)
strategies = st.one_of(st.sampled_from(["", "template"]), short_text, st.just("s" * (MAX_STRATEGY_CHARS + 1)))


def as_channel(number: int) -> template_pb2.Channel.ValueType:
    """Any int32 as a Channel: proto3 enums are open, so the wire carries values the proto does not name."""
    return template_pb2.Channel.ValueType(number)


@pytest.fixture(scope="module")
def stub(template_svc_addr: str) -> Iterator[template_pb2_grpc.TemplateServiceStub]:
    """A blocking stub: hypothesis drives plain functions, and the server runs on its own loop anyway."""
    with grpc.insecure_channel(template_svc_addr) as channel:
        yield template_pb2_grpc.TemplateServiceStub(channel)


def status_of(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    """The call's status code and details (OK and "" when it returned a message)."""
    try:
        call()
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


def assert_answered_or_invalid(call: Callable[[], object]) -> None:
    """The call returned a message, or failed with INVALID_ARGUMENT and a readable reason."""
    code, details = status_of(call)
    assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), (code, details)
    assert code is grpc.StatusCode.OK or details


@EXAMPLES
@given(template=templates, customer=st.one_of(st.none(), customers), channel=channels, strategy=strategies)
def test_render_answers_any_request_or_says_invalid_argument(
    stub: template_pb2_grpc.TemplateServiceStub,
    template: str,
    customer: template_pb2.Customer | None,
    channel: int,
    strategy: str,
) -> None:
    request = template_pb2.RenderRequest(template=template, channel=as_channel(channel), strategy=strategy)
    if customer is not None:
        request.customer.CopyFrom(customer)
    assert_answered_or_invalid(lambda: stub.Render(request, timeout=10))


@EXAMPLES
@given(template=templates, batch=st.lists(customers, max_size=12), channel=channels, strategy=strategies)
def test_render_batch_answers_any_request_or_says_invalid_argument(
    stub: template_pb2_grpc.TemplateServiceStub,
    template: str,
    batch: list[template_pb2.Customer],
    channel: int,
    strategy: str,
) -> None:
    request = template_pb2.RenderBatchRequest(
        template=template,
        customers=batch,
        channel=as_channel(channel),
        strategy=strategy,
    )
    assert_answered_or_invalid(lambda: stub.RenderBatch(request, timeout=10))


@EXAMPLES
@given(template=templates, channel=channels)
def test_validate_answers_any_request_or_says_invalid_argument(
    stub: template_pb2_grpc.TemplateServiceStub, template: str, channel: int
) -> None:
    request = template_pb2.ValidateRequest(template=template, channel=as_channel(channel))
    assert_answered_or_invalid(lambda: stub.Validate(request, timeout=10))


@pytest.mark.parametrize(
    "request_message",
    [
        template_pb2.RenderRequest(template="x" * (MAX_TEMPLATE_CHARS + 1), channel=template_pb2.CHANNEL_SMS),
        template_pb2.RenderRequest(
            template="Hi",
            customer=template_pb2.Customer(location="x" * (MAX_FIELD_CHARS + 1)),
            channel=template_pb2.CHANNEL_SMS,
        ),
        template_pb2.RenderRequest(template="Hi", channel=template_pb2.CHANNEL_SMS, strategy="s" * 1000),
        template_pb2.RenderRequest(template="Hi", channel=as_channel(7)),
    ],
    ids=["huge template", "huge field", "huge strategy", "unknown channel"],
)
def test_input_past_the_limits_is_invalid_argument_naming_the_field(
    stub: template_pb2_grpc.TemplateServiceStub, request_message: template_pb2.RenderRequest
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.Render(request_message, timeout=10)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = raised.value.details() or ""
    assert any(field in details for field in ("template", "location", "strategy", "channel")), details


def test_a_huge_template_is_invalid_argument_for_validate_and_batches(
    stub: template_pb2_grpc.TemplateServiceStub,
) -> None:
    huge = "{first_name}" * (MAX_TEMPLATE_CHARS // 10)
    for call in (
        lambda: stub.Validate(template_pb2.ValidateRequest(template=huge), timeout=10),
        lambda: stub.RenderBatch(
            template_pb2.RenderBatchRequest(
                template=huge, customers=[template_pb2.Customer(id=1)], channel=template_pb2.CHANNEL_SMS
            ),
            timeout=10,
        ),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            call()
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_a_batch_over_the_limit_is_invalid_argument(stub: template_pb2_grpc.TemplateServiceStub) -> None:
    # the session server accepts 10,000 customers per call
    request = template_pb2.RenderBatchRequest(
        template="Hi", customers=[template_pb2.Customer(id=i) for i in range(10_001)], channel=template_pb2.CHANNEL_SMS
    )
    with pytest.raises(grpc.RpcError) as raised:
        stub.RenderBatch(request, timeout=10)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def raw_channel(template_svc_addr: str) -> Iterator[grpc.Channel]:
    """A channel to send any bytes as a request, bypassing the client's own serialisation."""
    with grpc.insecure_channel(template_svc_addr) as channel:
        yield channel


def raw_call(channel: grpc.Channel, method: str, payload: bytes) -> tuple[grpc.StatusCode, str]:
    """Send the bytes as the method's request; its status and details."""
    call = channel.unary_unary(
        f"/template.v1.TemplateService/{method}",
        request_serializer=lambda data: data,
        response_deserializer=lambda data: data,
    )
    return status_of(lambda: call(payload, timeout=10))


METHODS = ("Render", "RenderBatch", "Validate")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xff\xff",  # not the wire format at all
        b"\x0a\x05ab",  # a length running past the end
        b"\x0a\x03\xed\xa0\x80",  # template = an encoded lone surrogate: a proto string must be UTF-8
        b"\x0a\x02\xc3\x28",  # template = invalid UTF-8
    ],
    ids=["garbage", "truncated", "surrogate", "invalid utf-8"],
)
def test_bytes_that_are_not_the_request_message_are_invalid_argument(
    raw_channel: grpc.Channel, method: str, payload: bytes
) -> None:
    code, details = raw_call(raw_channel, method, payload)
    assert code is grpc.StatusCode.INVALID_ARGUMENT, (code, details)
    assert "is not a valid template.v1." in details


@EXAMPLES
@given(method=st.sampled_from(METHODS), payload=st.binary(max_size=200))
def test_any_bytes_get_an_answer_or_invalid_argument(raw_channel: grpc.Channel, method: str, payload: bytes) -> None:
    code, details = raw_call(raw_channel, method, payload)
    assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), (code, details)
