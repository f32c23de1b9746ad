from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from tortoise.context import TortoiseContext

from core.identity.access import PUBLIC


class Live(msgspec.Struct):
    status: str = "ok"


class Ready(msgspec.Struct):
    status: str
    checks: dict[str, str]


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]

    @get("/live", access=PUBLIC, summary="The process is up")
    async def live(self) -> Live:
        return Live()

    @get(
        "/ready",
        access=PUBLIC,
        summary="Every dependency answers",
        responses={503: ResponseSpec(Ready, description="A dependency is down")},
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Ready]:
        state = request.app.state
        checks = {
            "database": await _database(state.db),
            "scheduler": state.scheduler.role,
            "mqtt": state.telemetry.mqtt_state,
        }
        healthy = checks["database"] == "ok"
        return Response(
            Ready(status="ok" if healthy else "unavailable", checks=checks),
            status_code=200 if healthy else 503,
        )


async def _database(context: TortoiseContext) -> str:
    try:
        await context.db("default").execute_query("SELECT 1")
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
