"""The app factory: settings in, a Litestar app with every loaded plugin mounted out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.routes import HTTPRoute

from core import idempotency, openapi, sync
from core.alerts.controllers import AlertController
from core.alerts.jobs import alert_jobs
from core.alerts.push import PushSender
from core.alerts.service import AlertQueries
from core.clock import Clock, SystemClock, use_clock
from core.db import BindDatabase, bound, open_database, tortoise_config
from core.demo import Demo
from core.errors import exception_handlers
from core.http import LocalTimeResponse, check_content_type
from core.i18n import request_language
from core.identity.access import PUBLIC, Principal, authorize, declared_access
from core.identity.controllers import AuthController, IdentityController
from core.identity.ratelimit import AttemptLimiter
from core.identity.services import IdentityService
from core.jobs.controllers import JobsController
from core.jobs.scheduler import Scheduler
from core.kpis import KPIs, kpis
from core.media.controllers import MediaController
from core.ops.health import HealthController
from core.ops.logging import RequestContext
from core.ops.metrics import metrics, prometheus
from core.ops.plugins import list_plugins
from core.plugin import PluginContext
from core.registry import PluginRegistry
from core.services import build_services
from core.settings import ConfigError, Settings
from core.telemetry.controllers import DeviceController, GatewayController, ingest
from core.telemetry.devices import Caller
from core.telemetry.kinds import DeviceKinds
from core.telemetry.runtime import Telemetry

log = logging.getLogger("minori")

CORE_ROUTES = [
    AuthController,
    IdentityController,
    HealthController,
    DeviceController,
    GatewayController,
    ingest,
    AlertController,
    kpis,
    JobsController,
    MediaController,
    metrics,
    list_plugins,
]


def _provide(value: Any) -> Provide:
    def provider() -> Any:
        return value

    return Provide(provider, use_cache=True, sync_to_thread=False)


def _principal(request: Request[Any, Any, Any]) -> Principal:
    return request.scope["user"]  # type: ignore[no-any-return]


def _device_caller(request: Request[Any, Any, Any]) -> Caller:
    return request.scope["device_caller"]  # type: ignore[no-any-return,typeddict-item]


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def plugin_router(name: str, context: PluginContext, routes: list[Any], title: str) -> Router:
    """A plugin's routes under ``/api/v1/<name>``, with its context injectable as ``ctx``."""
    return Router(
        path=f"/api/v1/{name}",
        route_handlers=routes,
        dependencies={"ctx": _provide(context)},
        tags=[title],
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    run_jobs: bool = True,
    push_sender: PushSender | None = None,
    demo: Demo | None = None,
) -> Litestar:
    """Build the app. Raises :class:`ConfigError` when a required plugin cannot start.

    ``clock`` and ``push_sender`` replace the system clock and the configured push service
    (tests, benchmarks and the accelerated demo); ``demo`` seeds and animates the demo city.
    """
    clock = clock or SystemClock()
    services = build_services(settings, clock, push_sender)
    registry = PluginRegistry.load(settings, clock, services)
    active = registry.active
    telemetry = Telemetry(
        settings,
        clock,
        DeviceKinds.collect((p.plugin, p.context) for p in active if p.plugin and p.context),
        services.alert_service,
        lambda: app.state.db,
        lambda: bound(app.state.db),
    )
    db_config = tortoise_config(settings.database_url, [p.plugin for p in active if p.plugin])
    scheduler = Scheduler(clock, lambda: bound(app.state.db), database_url=settings.database_url)

    core_context = PluginContext.build(services, "core", None)
    core_jobs = (
        *telemetry.jobs(),
        *alert_jobs(services.alert_service),
        *idempotency.jobs(),
        *sync.jobs(),
    )
    for spec in core_jobs:
        scheduler.add("core", spec, core_context)

    routes: list[Any] = list(CORE_ROUTES)
    routes += [Router(path=f.path, route_handlers=list(f.routes)) for f in registry.facades]
    for loaded in active:
        assert loaded.plugin is not None and loaded.context is not None
        for job in loaded.plugin.jobs:
            scheduler.add(loaded.name, job, loaded.context)
        if loaded.plugin.routes:
            routes.append(
                plugin_router(
                    loaded.name, loaded.context, list(loaded.plugin.routes), loaded.plugin.title
                )
            )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.db = await open_database(db_config)
        # Everything started here, background tasks included, copies this context: the
        # ORM and the clock are bound for all of it, shutdown included.
        with bound(app.state.db), use_clock(clock):
            async with AsyncExitStack() as stack:
                stack.push_async_callback(app.state.db.close_connections)
                for loaded in active:
                    if loaded.plugin and loaded.plugin.lifespan and loaded.context:
                        await stack.enter_async_context(loaded.plugin.lifespan(loaded.context))
                await telemetry.start()
                stack.push_async_callback(telemetry.stop)
                stack.push_async_callback(
                    _cancel,
                    asyncio.create_task(
                        services.notifications.dispatcher.run_forever(), name="push"
                    ),
                )
                if demo is not None:
                    await demo.start(registry, telemetry, clock)
                    stack.push_async_callback(demo.stop)
                if run_jobs:
                    await scheduler.start()
                    stack.push_async_callback(scheduler.shutdown)
                log.info(
                    "minori started",
                    extra={
                        "plugins": [p.name for p in active],
                        "database": list(db_config["apps"]),
                    },
                )
                yield

    # Ingest is idempotent per reading id: the hot path pays nothing for the header.
    idempotent = idempotency.Idempotency(clock, exclude_path_pattern=("^/api/v1/ingest$",))
    app = Litestar(
        route_handlers=routes,
        dependencies={
            "identity": _provide(IdentityService(settings, clock)),
            "auth_limiter": _provide(AttemptLimiter(clock, settings.auth_rate_limit)),
            "registry": _provide(registry),
            "clock": _provide(clock),
            "city": _provide(KPIs(registry, clock)),
            "principal": Provide(_principal, sync_to_thread=False),
            "language": Provide(request_language, sync_to_thread=False),
            "devices": _provide(telemetry.devices),
            "ingestor": _provide(telemetry.ingestor),
            "device_caller": Provide(_device_caller, sync_to_thread=False),
            "alerts": _provide(AlertQueries(services.alert_service)),
        },
        response_class=LocalTimeResponse,
        guards=[authorize, check_content_type],
        middleware=[
            RequestContext,
            prometheus.middleware,
            DefineMiddleware(BindDatabase),
            idempotent,
        ],
        exception_handlers=exception_handlers,
        lifespan=[lifespan],
        openapi_config=openapi.openapi_config,
        request_max_body_size=settings.max_body_bytes,
        state=State(
            {
                "settings": settings,
                "secret_key": settings.secret_key,
                "metrics_token": settings.metrics_token,
                "registry": registry,
                "scheduler": scheduler,
                "clock": clock,
                "services": services,
                "telemetry": telemetry,
                "authenticate_device": telemetry.authenticate,
            }
        ),
        logging_config=None,
        debug=settings.debug,
    )
    _check_access_declared(app)
    openapi.document(app)
    idempotency.document(app, idempotent)
    return app


def _check_access_declared(app: Litestar) -> None:
    """Every route states who may call it; the schema routes and Litestar's automatic
    OPTIONS answers are public."""
    undeclared = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if declared_access(handler) is not None:
                continue
            if route.path.startswith(openapi.SCHEMA_PATH) or handler.http_methods == {"OPTIONS"}:
                handler.opt["access"] = PUBLIC
            elif isinstance(handler, HTTPRouteHandler):
                undeclared.append(f"{'/'.join(sorted(handler.http_methods))} {route.path}")
    if undeclared:
        raise ConfigError(f"routes without an access declaration: {', '.join(undeclared)}")
