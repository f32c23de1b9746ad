"""Training a predictor: what a plugin's ``train`` function receives and returns.

``minori ml train <plugin>.<name>`` calls the predictor's ``train`` with a
:class:`TrainingRun`; the function builds its data (a generator, or exported real data),
fits, evaluates on held-out data and returns a :class:`TrainedModel`. Minori saves it as the
predictor's artifact (see :mod:`core.ml.artifacts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.ml import artifacts

if TYPE_CHECKING:
    from core.ml.registry import Registered
    from core.plugin import PluginContext

Progress = Callable[[int, int, str], None]
"""``(steps done, steps in all, what is happening now)``."""


class TrainingError(Exception):
    pass


@dataclass(frozen=True, kw_only=True)
class TrainingRun:
    predictor: str
    """Public name, ``<plugin>.<name>``."""
    context: PluginContext
    """The plugin's context: its settings, clock and logger."""
    on_progress: Progress | None = None

    def progress(self, done: int, total: int, step: str = "") -> None:
        """Report that ``done`` of ``total`` steps are finished; ``step`` says what is next."""
        if self.on_progress is not None:
            self.on_progress(done, total, step)


@dataclass(frozen=True, kw_only=True)
class TrainedModel:
    estimator: Any
    """A fitted scikit-learn estimator (a pipeline, usually), saved with skops."""
    metrics: Mapping[str, float]
    """Measured on held-out data the estimator was not fitted on."""
    data: Mapping[str, Any]
    """What it was trained on: source, generator and seed, sizes, how held-out data was made."""
    features: Sequence[str] | None = None


def train(
    registered: Registered, on_progress: Progress | None = None
) -> artifacts.ArtifactMetadata:
    """Train ``registered`` with its spec's ``train`` and save the artifact in its folder."""
    spec = registered.spec
    if spec.train is None:
        raise TrainingError(f"{registered.name} has no train function: it cannot be retrained")
    run = TrainingRun(
        predictor=registered.name, context=registered.context, on_progress=on_progress
    )
    model = spec.train(run)
    if not isinstance(model, TrainedModel):
        raise TrainingError(
            f"{registered.name}: train returned {type(model).__name__}, not a TrainedModel"
        )
    return artifacts.save(
        registered.directory,
        model.estimator,
        predictor=registered.name,
        trained_at=registered.context.clock.now(),
        data=model.data,
        metrics=model.metrics,
        features=model.features,
        trusted_types=spec.trusted_types,
    )
