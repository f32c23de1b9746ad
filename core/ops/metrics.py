from __future__ import annotations

from litestar import Response, get
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from core.identity.access import METRICS

prometheus = PrometheusConfig(app_name="minori", prefix="minori", group_path=True)


@get("/metrics", access=METRICS, tags=["operations"], summary="Prometheus metrics")
async def metrics() -> Response[bytes]:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
