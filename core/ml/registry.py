"""Predictors by their public name ``<plugin>.<name>``, loaded from their artifact on first use.

The artifact of ``<plugin>.<name>`` is ``<models_dir>/<plugin>/<name>/`` (``models_dir`` is
the ``MINORI_MODELS_DIR`` setting); :mod:`core.ml.artifacts` checks it before loading.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from core.ml import artifacts

if TYPE_CHECKING:
    from core.plugin import PluginContext, PredictorSpec

In = TypeVar("In")
Out = TypeVar("Out")


class UnknownPredictor(LookupError):
    pass


@dataclass(frozen=True, kw_only=True)
class Registered:
    """A declared predictor, not loaded yet."""

    name: str
    """Public name, ``<plugin>.<name>``."""
    spec: PredictorSpec[Any, Any]
    context: PluginContext
    directory: Path
    """Its artifact folder."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Predictor(Generic[In, Out]):
    """A loaded predictor: the checked estimator, its metadata and the plugin's context."""

    name: str
    spec: PredictorSpec[In, Out]
    context: PluginContext
    estimator: Any
    metadata: artifacts.ArtifactMetadata

    @property
    def version(self) -> str:
        """``<plugin>.<name>@<training date>-<sha256[:8]>``; store it with what it decided."""
        return self.metadata.version

    def predict(self, x: In) -> Out:
        """One prediction, through the spec's typed ``predict`` when it declares one."""
        if self.spec.predict is not None:
            return self.spec.predict(self, x)
        result: Out = self.estimator.predict([x])[0]
        return result


class PredictorRegistry:
    def __init__(self) -> None:
        self._registered: dict[str, Registered] = {}
        self._loaded: dict[str, Predictor[Any, Any]] = {}
        self._lock = threading.Lock()

    def register(
        self,
        plugin: str,
        spec: PredictorSpec[Any, Any],
        ctx: PluginContext,
        *,
        models_dir: str | Path,
    ) -> None:
        name = f"{plugin}.{spec.name}"
        self._registered[name] = Registered(
            name=name, spec=spec, context=ctx, directory=Path(models_dir) / plugin / spec.name
        )

    def names(self, plugin: str | None = None) -> list[str]:
        return [n for n in self._registered if plugin is None or n.startswith(f"{plugin}.")]

    def registered(self, name: str) -> Registered:
        try:
            return self._registered[name]
        except KeyError:
            raise UnknownPredictor(name) from None

    def load(self, name: str) -> Predictor[Any, Any]:
        """Load ``name`` from its artifact now, bypassing the cache; raises ArtifactError."""
        entry = self.registered(name)
        estimator, metadata = artifacts.load(
            entry.directory, predictor=name, trusted_types=entry.spec.trusted_types
        )
        return Predictor(
            name=name,
            spec=entry.spec,
            context=entry.context,
            estimator=estimator,
            metadata=metadata,
        )

    def get(self, name: str) -> Predictor[Any, Any]:
        """The loaded predictor ``name``, loading it on first use; raises ArtifactError."""
        loaded = self._loaded.get(name)
        if loaded is None:
            with self._lock:
                loaded = self._loaded.get(name)
                if loaded is None:
                    loaded = self._loaded[name] = self.load(name)
        return loaded
