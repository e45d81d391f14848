"""A real template-svc for other suites' tests: the production gRPC server in a background thread.

`serve_in_background` starts the same `start_server` that `template-svc` runs on 127.0.0.1 with a free port, in a
thread with its own event loop, so it works whichever event loop the calling tests run on. Its metrics go to a
private registry, so several servers in one process do not clash. The root conftest.py serves the session-wide
`template_svc_addr` fixture with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from template_svc.grpc_api.server import RunningServer, start_server
from template_svc.metrics import TemplateMetrics
from template_svc.personalizers.registry import PersonalizerRegistry
from template_svc.usecases.render_messages import RenderMessages

START_TIMEOUT_S = 10.0


@contextlib.contextmanager
def serve_in_background(
    personalizers: PersonalizerRegistry | None = None,
    metrics: TemplateMetrics | None = None,
    *,
    max_batch_size: int = 10_000,
) -> Iterator[RunningServer]:
    """Run the real gRPC server on 127.0.0.1:<free port> in a thread with its own event loop, for the block."""
    render = RenderMessages(personalizers or PersonalizerRegistry())
    metrics = metrics or TemplateMetrics.register(CollectorRegistry())
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="template-svc-test-server", daemon=True)
    thread.start()
    try:
        started = asyncio.run_coroutine_threadsafe(
            start_server(render, metrics, host="127.0.0.1", port=0, max_batch_size=max_batch_size), loop
        )
        running = started.result(timeout=START_TIMEOUT_S)
        try:
            yield running
        finally:
            asyncio.run_coroutine_threadsafe(running.stop(0.5), loop).result(timeout=START_TIMEOUT_S)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=START_TIMEOUT_S)
        loop.close()
