"""The plugin contract: what a plugin declares and what it receives.

A plugin is one frozen :class:`Plugin` value built at import time. It never sees the app;
everything it needs at run time comes through its :class:`PluginContext`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeAlias
from zoneinfo import ZoneInfo

import msgspec
from apscheduler.triggers.base import BaseTrigger
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from core.alerts.service import AlertService, Notifier, PluginAlerts, PluginNotifier
from core.clock import Clock
from core.demo import DemoSpec
from core.events import EventBus
from core.feed import Card
from core.identity.access import Principal
from core.media.services import MediaService
from core.ml.registry import In, Out, Predictor, PredictorRegistry
from core.ml.training import TrainedModel, TrainingRun
from core.sync import Changes

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


@dataclass(frozen=True, slots=True)
class Metric:
    """One quantity a device kind reports; ``min`` and ``max`` are inclusive."""

    name: str
    unit: str
    min: float
    max: float


SubjectResolver = Callable[["PluginContext", str, str], Awaitable[str | None]]
"""``(ctx, organization id, subject id)`` -> the subject's label, or None if the
organization has no such subject."""


@dataclass(frozen=True, slots=True)
class DeviceKind:
    """A kind of device a plugin understands, published as ``<plugin>.<name>``."""

    name: str
    metrics: Sequence[Metric]
    expected_interval: timedelta
    subject_kind: str | None = None
    """The kind of subject (one of the plugin's ``subjects``) a device of this kind is bound to."""
    on_readings: Callable[..., Awaitable[None]] | None = None
    """``(ctx, device, readings)``, called after the new readings are committed."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A scheduled job, registered with the stable id ``<plugin>.<id>``.

    ``run`` receives the plugin's context and the time the job was due; jobs read the time
    from there, never from the system clock.
    """

    id: str
    trigger: BaseTrigger
    run: Callable[[PluginContext, datetime], Awaitable[None]]
    side_effects: bool = True
    """When true a run claims ``(job, fire time)`` so a leader hand-over never repeats it."""
    misfire_grace_time: int | None = 300
    coalesce: bool = True


@dataclass(frozen=True, slots=True)
class PredictorSpec(Generic[In, Out]):
    """A model the plugin serves, published as ``<plugin>.<name>``.

    Its artifact is ``<models_dir>/<plugin>/<name>/`` (skops file and ``metadata.json``),
    checked and loaded on first use of ``ctx.predictors.get("<plugin>.<name>")``, and rebuilt by
    ``minori ml train <plugin>.<name>``, which calls ``train``.
    """

    name: str
    description: str = ""
    train: Callable[[TrainingRun], TrainedModel] | None = None
    """Builds the data, fits, evaluates on held-out data; None if it cannot be retrained here."""
    predict: Callable[[Predictor[In, Out], In], Out] | None = None
    """The typed prediction, given the loaded predictor (estimator, metadata, version, the
    plugin's context) and one input; None means ``estimator.predict([x])[0]``."""
    trusted_types: tuple[str, ...] = ()
    """Qualified names of types beyond skops' defaults the artifact may hold (the plugin's own
    transformers, say). Any other type refuses to load: artifacts are never trusted blindly."""

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ValueError(
                f"predictor name {self.name!r} must be lower case letters, digits and underscores"
            )


@dataclass(frozen=True, slots=True)
class KPI:
    """A city KPI or a part of one; providers of the same key are summed."""

    key: str
    label: str
    compute: Callable[[PluginContext, datetime, datetime], Awaitable[int]]


@dataclass(frozen=True, kw_only=True)
class Plugin:
    """Everything a plugin contributes. ``name`` is used everywhere: the plugins.toml key,
    the tortoise app label, the URL prefix ``/api/v1/<name>`` and the table prefix."""

    name: str
    version: str
    title: str
    requires: tuple[str, ...] = ()
    settings: type[msgspec.Struct] | None = None
    routes: Sequence[ControllerRouterHandler] = ()
    models: str | None = None
    """Dotted path of the models module; its sibling ``migrations`` package holds migrations."""
    device_kinds: Sequence[DeviceKind] = ()
    subjects: Mapping[str, SubjectResolver] = field(default_factory=dict)
    """What devices and alerts can be about, e.g. ``{"animal": find_animal}``: published
    as ``<plugin>.animal``."""
    jobs: Sequence[JobSpec] = ()
    predictors: Sequence[PredictorSpec] = ()
    events: Mapping[str, Callable[..., Awaitable[None]]] = field(default_factory=dict)
    feed: Callable[[PluginContext, Principal], Awaitable[Sequence[Card]]] | None = None
    """Home-screen cards for this user (core/feed.py)."""
    sync: (
        Callable[[PluginContext, Principal, datetime | None], Awaitable[Mapping[str, Changes]]]
        | None
    ) = None
    """What changed for this user since a time (None: everything), per collection (core/sync.py)."""
    kpis: Sequence[KPI] = ()
    demo: DemoSpec | None = None
    """Its part of the demo city: seed records, simulate devices (core/demo.py)."""
    lifespan: Callable[[PluginContext], AbstractAsyncContextManager[None]] | None = None

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ValueError(
                f"plugin name {self.name!r} must be lower case letters, digits and underscores"
            )

    @property
    def migrations(self) -> str | None:
        return f"{self.models.rpartition('.')[0]}.migrations" if self.models else None


@dataclass(frozen=True, kw_only=True)
class Facade:
    """An API shaped for one kind of client (the mobile app), mounted at ``path``. It sees
    the plugins only through the registry: their ``feed`` and ``sync`` slots."""

    name: str
    path: str
    routes: Sequence[ControllerRouterHandler]


@dataclass(frozen=True, kw_only=True)
class Services:
    """The platform services every plugin shares, built once per app (core/services.py)."""

    clock: Clock
    city_zone: ZoneInfo
    """The city's time zone (``MINORI_CITY_TIMEZONE``): its calendar days, months and
    working hours. A person's own is ``Principal.zone``."""
    predictors: PredictorRegistry
    media: MediaService
    alert_service: AlertService
    notifications: Notifier
    events: EventBus

    def local_day(self, moment: datetime) -> date:
        """The city's calendar day of ``moment``."""
        return moment.astimezone(self.city_zone).date()

    def today(self) -> date:
        """The city's calendar day now, by the app's clock."""
        return self.local_day(self.clock.now())

    def day_start(self, day: date) -> datetime:
        """The moment the city's ``day`` begins."""
        return datetime.combine(day, time(), tzinfo=self.city_zone)


@dataclass(frozen=True, kw_only=True)
class PluginContext(Services):
    """The narrow view of the platform a plugin receives: the shared services, plus its own
    name, settings and logger. Never the app."""

    name: str
    settings: Any
    logger: logging.Logger

    @property
    def alerts(self) -> PluginAlerts:
        """Raise and resolve alerts under this plugin's name."""
        return PluginAlerts(self.alert_service, self.name)

    @property
    def notifier(self) -> PluginNotifier:
        """Notify users (inbox and push) under this plugin's name."""
        return PluginNotifier(self.notifications, self.name)

    @classmethod
    def build(cls, services: Services, name: str, settings: Any) -> PluginContext:
        shared = {f.name: getattr(services, f.name) for f in fields(Services)}
        return cls(
            **shared, name=name, settings=settings, logger=logging.getLogger(f"minori.{name}")
        )


Context: TypeAlias = NamedDependency[PluginContext]
"""Handler parameter ``ctx: Context``: the plugin's own context."""
