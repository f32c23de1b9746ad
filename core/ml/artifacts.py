"""Model artifacts on disk, checked before anything in them is loaded.

One folder per predictor, ``<models_dir>/<plugin>/<name>/``::

    model.skops     the estimator, saved with skops (never pickle)
    metadata.json   what it is and how it was trained, with the sha256 of model.skops

:func:`load` refuses, with an :class:`ArtifactError` that names the command rebuilding the
artifact, when the metadata is missing or invalid, when it was written under another
scikit-learn version, when the model file's sha256 differs from the recorded one, and when the
file holds a type that neither skops nor the predictor's ``trusted_types`` trust.

skops and scikit-learn are imported on first use: importing them costs over a second, and most
commands never touch a model.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
FORMAT = 1


class ArtifactError(Exception):
    """An artifact that must not be loaded; the message says why and how to rebuild it."""


class ArtifactMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """The contents of ``metadata.json``."""

    format: int = FORMAT
    predictor: str
    """Public name, ``<plugin>.<name>``."""
    trained_at: datetime
    sha256: str
    """Of ``model.skops``, hex."""
    sklearn_version: str
    skops_version: str
    python_version: str
    estimator: str
    """Qualified class name of the saved estimator."""
    features: list[str] | None = None
    """Input feature names, when the estimator was fitted on named columns."""
    data: dict[str, Any]
    """The training data: source, generator and seed, sizes, how the held-out set was made."""
    metrics: dict[str, float]
    """Measured on held-out data that the saved estimator never saw."""

    @property
    def version(self) -> str:
        """``<plugin>.<name>@<training date>-<sha256[:8]>``: what alerts record."""
        return f"{self.predictor}@{self.trained_at:%Y-%m-%d}-{self.sha256[:8]}"


def retrain_hint(predictor: str) -> str:
    return f"run `minori ml train {predictor}` to rebuild it"


def sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def save(
    directory: Path,
    estimator: Any,
    *,
    predictor: str,
    trained_at: datetime,
    data: Mapping[str, Any],
    metrics: Mapping[str, float],
    features: Sequence[str] | None = None,
    trusted_types: Iterable[str] = (),
) -> ArtifactMetadata:
    """Write ``estimator`` and its metadata into ``directory``; return the metadata.

    Refuses (before writing anything) an estimator holding a type :func:`load` would refuse,
    so a training run never replaces a working artifact with one that cannot be loaded.
    """
    import sklearn
    import skops
    import skops.io as sio

    buffer = io.BytesIO()
    sio.dump(estimator, buffer, compression=zipfile.ZIP_DEFLATED)
    blob = buffer.getvalue()
    unknown = _unknown_types(sio.get_untrusted_types(data=blob), trusted_types)
    if unknown:
        raise ArtifactError(
            f"{predictor}: the estimator holds types that are not trusted: {', '.join(unknown)}; "
            "add them to the predictor's trusted_types if they are the plugin's own code"
        )
    if features is None and hasattr(estimator, "feature_names_in_"):
        features = [str(f) for f in estimator.feature_names_in_]
    metadata = ArtifactMetadata(
        predictor=predictor,
        trained_at=trained_at,
        sha256=sha256(blob),
        sklearn_version=sklearn.__version__,
        skops_version=skops.__version__,
        python_version=platform.python_version(),
        estimator=f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        features=list(features) if features is not None else None,
        data=dict(data),
        metrics={k: float(v) for k, v in metrics.items()},
    )
    directory.mkdir(parents=True, exist_ok=True)
    # The model first, the metadata last: a run interrupted in between leaves a folder whose
    # hash check fails loudly, never a model passing under another model's metadata.
    _write_atomically(directory / MODEL_FILE, blob)
    document = msgspec.json.format(msgspec.json.encode(metadata), indent=2) + b"\n"
    _write_atomically(directory / METADATA_FILE, document)
    return metadata


def read_metadata(directory: Path, predictor: str) -> ArtifactMetadata:
    path = directory / METADATA_FILE
    if not path.is_file():
        raise ArtifactError(
            f"{predictor}: no artifact in {directory} ({METADATA_FILE} is missing); "
            f"{retrain_hint(predictor)}"
        )
    try:
        metadata = msgspec.json.decode(path.read_bytes(), type=ArtifactMetadata)
    except msgspec.DecodeError as exc:
        raise ArtifactError(
            f"{predictor}: {path} is not valid: {exc}; {retrain_hint(predictor)}"
        ) from None
    if metadata.format != FORMAT:
        raise ArtifactError(
            f"{predictor}: {path} has format {metadata.format}, this Minori reads {FORMAT}; "
            f"{retrain_hint(predictor)}"
        )
    if metadata.predictor != predictor:
        raise ArtifactError(
            f"{predictor}: {path} describes {metadata.predictor!r}, not this predictor; "
            f"{retrain_hint(predictor)}"
        )
    return metadata


def load(
    directory: Path, *, predictor: str, trusted_types: Iterable[str] = ()
) -> tuple[Any, ArtifactMetadata]:
    """The estimator saved in ``directory`` and its metadata, after every check passed."""
    import sklearn
    import skops.io as sio

    metadata = read_metadata(directory, predictor)
    if metadata.sklearn_version != sklearn.__version__:
        raise ArtifactError(
            f"{predictor}: the artifact was saved with scikit-learn {metadata.sklearn_version}, "
            f"this environment has {sklearn.__version__}, and estimators are only loaded "
            f"under the version that saved them; {retrain_hint(predictor)}"
        )
    path = directory / MODEL_FILE
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"{predictor}: {path} is missing; {retrain_hint(predictor)}") from None
    # Hash, inspect and load the same bytes: the file cannot change between the checks.
    digest = sha256(blob)
    if digest != metadata.sha256:
        raise ArtifactError(
            f"{predictor}: {path} has sha256 {digest[:12]}…, its metadata says "
            f"{metadata.sha256[:12]}…: the file changed after training; {retrain_hint(predictor)}"
        )
    try:
        untrusted = sio.get_untrusted_types(data=blob)
    except Exception as exc:
        raise ArtifactError(
            f"{predictor}: {path} is not a skops file ({type(exc).__name__}: {exc}); "
            f"{retrain_hint(predictor)}"
        ) from None
    unknown = _unknown_types(untrusted, trusted_types)
    if unknown:
        raise ArtifactError(
            f"{predictor}: {path} holds types that are not trusted: {', '.join(unknown)}; "
            "refusing to load it. List a type in the predictor's trusted_types only if it is "
            f"the plugin's own code, or {retrain_hint(predictor)}"
        )
    try:
        estimator = sio.load(io.BytesIO(blob), trusted=untrusted)
    except Exception as exc:
        raise ArtifactError(
            f"{predictor}: {path} cannot be loaded ({type(exc).__name__}: {exc}); "
            f"{retrain_hint(predictor)}"
        ) from exc
    return estimator, metadata


def _unknown_types(untrusted: Iterable[str], trusted: Iterable[str]) -> list[str]:
    return sorted(set(untrusted) - set(trusted))


def _write_atomically(path: Path, blob: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(blob)
    os.replace(partial, path)
