"""Count and time every unary gRPC call by method and status code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import grpc
from grpc import aio

from template_svc.metrics import TemplateMetrics

Request = TypeVar("Request")
Response = TypeVar("Response")
Context = aio.ServicerContext[Any, Any]
_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


def status_name(context: Context, error: BaseException | None) -> str:
    """The status code a finished call ended with, as its upper-case name (OK, INVALID_ARGUMENT, ...)."""
    if isinstance(error, asyncio.CancelledError):
        remaining = context.time_remaining()
        return "DEADLINE_EXCEEDED" if remaining is not None and remaining <= 0 else "CANCELLED"
    code: object = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):  # the aio context reports the raw numeric code
        return _CODE_NAMES.get(code, "UNKNOWN")
    return "UNKNOWN" if error is not None and not isinstance(error, aio.AbortError) else "OK"


class MetricsInterceptor(aio.ServerInterceptor):
    """Record grpc_server_handled_total and grpc_server_handling_seconds for unary-unary methods."""

    def __init__(self, metrics: TemplateMetrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Request, Response] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Request, Response] | None:
        """Wrap the method's handler so each call is timed and counted once it ends."""
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # streaming calls (health Watch, reflection) are not counted
        # under grpc.aio the unary behaviour is a coroutine function, whatever the sync-flavoured stubs say
        behavior = cast(Callable[[Request, Context], Awaitable[Response]], handler.unary_unary)
        method = handler_call_details.method
        handled = self._metrics.handled
        seconds = self._metrics.handling_seconds.labels(grpc_method=method)

        async def measured(request: Request, context: Context) -> Response:
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                return await behavior(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                seconds.observe(time.perf_counter() - started)
                handled.labels(grpc_method=method, grpc_code=status_name(context, error)).inc()

        return grpc.unary_unary_rpc_method_handler(
            measured,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
