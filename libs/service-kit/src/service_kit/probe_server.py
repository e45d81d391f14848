"""The side HTTP server of services that speak no HTTP otherwise (/health, /ready, /metrics), served in-loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Literal

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from service_kit.readiness import Check, check_dependencies


def build_probe_app(checks: Mapping[str, Check], registry: CollectorRegistry = REGISTRY) -> Starlette:
    """Liveness never looks at dependencies; readiness reports each one and answers 503 when any is down."""

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(_: Request) -> JSONResponse:
        ok, states = await check_dependencies(checks)
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": states}, status_code=200 if ok else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/ready", ready),
            Route("/metrics", metrics),
        ]
    )


@contextlib.asynccontextmanager
async def serve_asgi(
    app: ASGIApp, host: str, port: int, *, lifespan: Literal["on", "off"] = "off"
) -> AsyncIterator[int]:
    """Serve an ASGI app in this event loop for the duration of the block, once it is up; yield the bound port."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on such sockets, and without it every answer written in two
    # parts waits ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan=lifespan))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task  # surfaces the startup error
                raise RuntimeError(f"the server on {host}:{port} stopped before it started")
            await asyncio.sleep(0.01)
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def serve_probes(host: str, port: int, checks: Mapping[str, Check]) -> AsyncIterator[int]:
    """Serve /health, /ready and /metrics in this event loop for the duration of the block; yield the bound port."""
    async with serve_asgi(build_probe_app(checks), host, port) as bound:
        yield bound
