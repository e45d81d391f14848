"""Liveness, readiness and metrics, served by the API itself."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from service_kit.readiness import check_dependencies

from campaign_api.api.deps import ApiStateDep, MetricsDep
from campaign_api.api.schemas import HealthBody, ReadyBody

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health() -> HealthBody:
    """Alive: answers without looking at any dependency."""
    return HealthBody(status="ok")


@router.get("/ready", responses={503: {"model": ReadyBody, "description": "a dependency is down"}})
async def ready(state: ApiStateDep) -> JSONResponse:
    """Ready when the database and template-svc both answer; each dependency's state is listed."""
    ok, checks = await check_dependencies(state.readiness_checks)
    body = ReadyBody(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
async def metrics(api_metrics: MetricsDep) -> Response:
    """Prometheus exposition of this process's metrics."""
    return Response(generate_latest(api_metrics.registry), media_type=CONTENT_TYPE_LATEST)
