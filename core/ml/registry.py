"""Predictors by their public name ``<plugin>.<name>``, loaded on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.plugin import PluginContext, PredictorSpec


class UnknownPredictor(LookupError):
    pass


class PredictorRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, tuple[PredictorSpec, PluginContext]] = {}
        self._loaded: dict[str, Any] = {}

    def register(self, plugin: str, spec: PredictorSpec, ctx: PluginContext) -> None:
        self._specs[f"{plugin}.{spec.name}"] = (spec, ctx)

    def names(self, plugin: str | None = None) -> list[str]:
        return [n for n in self._specs if plugin is None or n.startswith(f"{plugin}.")]

    def get(self, name: str) -> Any:
        if name not in self._loaded:
            try:
                spec, ctx = self._specs[name]
            except KeyError:
                raise UnknownPredictor(name) from None
            self._loaded[name] = spec.load(ctx)
        return self._loaded[name]
