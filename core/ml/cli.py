"""``minori ml``: train, verify and list the predictors' artifacts."""

from __future__ import annotations

import sys
from typing import Any

import click

from core.clock import SystemClock
from core.ml.artifacts import METADATA_FILE, MODEL_FILE, ArtifactError
from core.ml.registry import PredictorRegistry, Registered, UnknownPredictor
from core.ml.training import TrainingError, train
from core.registry import PluginRegistry
from core.settings import ConfigError, load_settings


def _predictors() -> PredictorRegistry:
    try:
        return PluginRegistry.load(load_settings(), SystemClock()).services.predictors
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _registered(predictors: PredictorRegistry, name: str) -> Registered:
    try:
        return predictors.registered(name)
    except UnknownPredictor:
        known = ", ".join(predictors.names()) or "none"
        raise click.ClickException(
            f"no predictor {name!r} (the loaded plugins declare: {known})"
        ) from None


class _ProgressBar:
    """A click progress bar sized by the first report of the train function."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, done: int, total: int, step: str) -> None:
        if self.bar is None:
            self.bar = click.progressbar(
                length=total, label=self.label, show_pos=True, item_show_func=lambda s: s
            )
            self.bar.__enter__()
        self.bar.update(max(0, done - self.bar.pos), step or None)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group()
def ml() -> None:
    """Predictors and their model artifacts."""


@ml.command("list")
def ml_list() -> None:
    """Each predictor with the version of its artifact, or why it cannot be loaded."""
    predictors = _predictors()
    for name in predictors.names():
        try:
            version = predictors.load(name).version
        except ArtifactError:
            version = "(no loadable artifact: see `minori ml verify`)"
        description = predictors.registered(name).spec.description
        click.echo(f"{name:<24} {version}  {description}")


@ml.command("train")
@click.argument("predictor", metavar="PLUGIN.NAME")
def ml_train(predictor: str) -> None:
    """Retrain PLUGIN.NAME, print its held-out metrics and write its artifact."""
    registered = _registered(_predictors(), predictor)
    bar = _ProgressBar(f"training {predictor}")
    try:
        metadata = train(registered, on_progress=bar)
    except (TrainingError, ArtifactError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        bar.close()
    click.echo(f"trained {metadata.version}")
    click.echo("held-out metrics:")
    width = max((len(k) for k in metadata.metrics), default=0)
    for key, value in metadata.metrics.items():
        click.echo(f"  {key:<{width}}  {value:.4f}")
    rows = metadata.data.get("rows")
    if rows:
        click.echo("rows: " + ", ".join(f"{k} {v}" for k, v in rows.items()))
    click.echo(f"wrote {registered.directory / MODEL_FILE} and {METADATA_FILE}")


@ml.command("verify")
def ml_verify() -> None:
    """Load every predictor's artifact with all checks; exit 1 listing those that fail."""
    predictors = _predictors()
    failed: list[str] = []
    for name in predictors.names():
        try:
            loaded = predictors.load(name)
        except ArtifactError as exc:
            failed.append(name)
            click.echo(f"FAILED  {exc}")
        else:
            click.echo(f"ok      {loaded.version}")
    if failed:
        click.echo(f"{len(failed)} of {len(predictors.names())} predictors cannot be loaded")
        sys.exit(1)
    click.echo(f"{len(predictors.names())} predictors verified")
