from __future__ import annotations

import msgspec
from litestar import get
from litestar.di import NamedDependency

from core.identity.access import ANY_USER
from core.registry import PluginRegistry


class MetricOut(msgspec.Struct):
    name: str
    unit: str
    min: float
    max: float


class DeviceKindOut(msgspec.Struct):
    kind: str
    expected_interval_s: int
    subject_kind: str | None
    metrics: list[MetricOut]


class PluginOut(msgspec.Struct):
    name: str
    version: str | None
    title: str | None
    status: str
    error: str | None
    device_kinds: list[DeviceKindOut]
    jobs: list[str]
    predictors: list[str]


def describe(registry: PluginRegistry) -> list[PluginOut]:
    described = []
    for loaded in registry.all:
        plugin = loaded.plugin if loaded.status == "loaded" else None
        described.append(
            PluginOut(
                name=loaded.name,
                version=loaded.plugin.version if loaded.plugin else None,
                title=loaded.plugin.title if loaded.plugin else None,
                status=loaded.status,
                error=loaded.error,
                device_kinds=[
                    DeviceKindOut(
                        kind=f"{loaded.name}.{kind.name}",
                        expected_interval_s=int(kind.expected_interval.total_seconds()),
                        # As a device's ``subject.kind`` names it.
                        subject_kind=f"{loaded.name}.{kind.subject_kind}"
                        if kind.subject_kind
                        else None,
                        metrics=[MetricOut(m.name, m.unit, m.min, m.max) for m in kind.metrics],
                    )
                    for kind in (plugin.device_kinds if plugin else ())
                ],
                jobs=[f"{loaded.name}.{job.id}" for job in (plugin.jobs if plugin else ())],
                predictors=registry.services.predictors.names(loaded.name) if plugin else [],
            )
        )
    return described


@get("/api/v1/plugins", access=ANY_USER, tags=["plugins"], summary="Installed plugins")
async def list_plugins(registry: NamedDependency[PluginRegistry]) -> list[PluginOut]:
    return describe(registry)
