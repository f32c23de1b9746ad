"""Device kinds declared by plugins, under their public names ``<plugin>.<kind>``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from core.plugin import DeviceKind, Metric, Plugin, PluginContext, SubjectResolver

OFFLINE_FACTOR = 2
"""A device is offline once silent for twice its kind's expected report interval."""


@dataclass(frozen=True, slots=True)
class RegisteredKind:
    name: str
    spec: DeviceKind
    context: PluginContext
    metrics: dict[str, Metric] = field(default_factory=dict)
    resolve_subject: SubjectResolver | None = None

    @property
    def plugin(self) -> str:
        return self.context.name

    @property
    def subject_kind(self) -> str | None:
        return f"{self.plugin}.{self.spec.subject_kind}" if self.spec.subject_kind else None

    @property
    def offline_after(self) -> timedelta:
        return self.spec.expected_interval * OFFLINE_FACTOR


class DeviceKinds:
    def __init__(self, kinds: Iterable[RegisteredKind] = ()) -> None:
        self._kinds = {k.name: k for k in kinds}

    @classmethod
    def collect(cls, plugins: Iterable[tuple[Plugin, PluginContext]]) -> DeviceKinds:
        return cls(
            RegisteredKind(
                name=f"{plugin.name}.{spec.name}",
                spec=spec,
                context=context,
                metrics={m.name: m for m in spec.metrics},
                resolve_subject=plugin.subjects.get(spec.subject_kind or ""),
            )
            for plugin, context in plugins
            for spec in plugin.device_kinds
        )

    def get(self, name: str) -> RegisteredKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._kinds.values())
