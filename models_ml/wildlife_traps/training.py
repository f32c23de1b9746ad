"""Fitting and measuring ``wildlife_traps.capture_likelihood``.

The estimator is a logistic regression on the features of :mod:`.features` and their
pairwise products (how the hour matters can depend on the trap kind, say), standardised.
It is small (tens of kB), predicts in well under a millisecond on the alert path, holds
only types skops trusts, and its probabilities are calibrated well enough to print.

Data: the synthetic triggers of :mod:`.generator`, plus, when the plugin's ``training_data``
setting names them, the CSV files an organization exported from its own records
(``GET /api/v1/wildlife_traps/training-data.csv``). Real rows are split by trap too; their
held-out part is measured on its own (``real_*`` metrics), because that is the figure that
tells how the model does on that organization's traps.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models_ml.wildlife_traps import generator
from models_ml.wildlife_traps.features import TriggerFeatures, vector

SEED = 20261126
C = 1.0
THRESHOLD = 0.5
"""The operating point the label "likely capture" uses by default (plugin setting
``likely_capture``)."""
CSV_COLUMNS = (
    "organization_id",
    "trap_id",
    "event_id",
    "at",
    "local_hour",
    "day_of_year",
    "trap_kind",
    "triggers_7d",
    "bounces_1h",
    "hours_since_armed",
    "label",
)
"""The columns of the exported training data: one confirmed trigger a row; ``label`` is 1
when a capture was recorded for it, 0 when the trap was reset without one."""


class TrainingDataError(ValueError):
    pass


def build_estimator() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    return Pipeline(
        [
            ("pairs", PolynomialFeatures(degree=2, include_bias=False)),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=C, max_iter=2000)),
        ]
    )


@dataclass
class RealRows:
    train: list[tuple[TriggerFeatures, int]] = field(default_factory=list)
    test: list[tuple[TriggerFeatures, int]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    organizations: set[str] = field(default_factory=set)


def _held_out(trap_id: str) -> bool:
    """A quarter of the real traps, chosen by a hash of the trap id: stable across runs."""
    return hashlib.sha256(trap_id.encode()).digest()[0] < 64


def read_exports(paths: Iterable[str]) -> RealRows:
    real = RealRows()
    for name in paths:
        path = Path(name)
        try:
            with path.open(newline="", encoding="utf-8") as source:
                reader = csv.DictReader(source)
                missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
                if missing:
                    raise TrainingDataError(f"{path}: missing columns {', '.join(sorted(missing))}")
                for line, row in enumerate(reader, start=2):
                    try:
                        features = TriggerFeatures(
                            local_hour=float(row["local_hour"]),
                            day_of_year=int(row["day_of_year"]),
                            trap_kind=row["trap_kind"],
                            triggers_7d=int(row["triggers_7d"]),
                            bounces_1h=int(row["bounces_1h"]),
                            hours_since_armed=float(row["hours_since_armed"]),
                        )
                        label = int(row["label"])
                    except (TypeError, ValueError) as exc:
                        raise TrainingDataError(f"{path}:{line}: {exc}") from None
                    if label not in (0, 1):
                        raise TrainingDataError(f"{path}:{line}: label must be 0 or 1")
                    part = real.test if _held_out(row["trap_id"]) else real.train
                    part.append((features, label))
                    real.organizations.add(row["organization_id"])
        except OSError as exc:
            raise TrainingDataError(f"cannot read training data {path}: {exc}") from None
        real.files.append(path.name)
    return real


def _scores(
    labels: Sequence[int], probabilities: Sequence[float], prefix: str = ""
) -> dict[str, float]:
    from sklearn import metrics

    said = [p >= THRESHOLD for p in probabilities]
    results = {
        "roc_auc": metrics.roc_auc_score(labels, probabilities),
        "brier": metrics.brier_score_loss(labels, probabilities),
        "log_loss": metrics.log_loss(labels, probabilities, labels=[0, 1]),
        "accuracy": metrics.accuracy_score(labels, said),
        "precision_capture": metrics.precision_score(labels, said, zero_division=0),
        "recall_capture": metrics.recall_score(labels, said, zero_division=0),
        "captures_share": sum(labels) / len(labels),
    }
    return {prefix + k: float(v) for k, v in results.items()}


def calibration_error(
    labels: Sequence[int], probabilities: Sequence[float], bins: int = 10
) -> float:
    """Expected calibration error: how far "87 %" is from 87 % of such triggers, on average."""
    total, error = len(labels), 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [
            i for i, p in enumerate(probabilities) if low <= p < high or (b == bins - 1 and p == 1)
        ]
        if members:
            said = sum(probabilities[i] for i in members) / len(members)
            seen = sum(labels[i] for i in members) / len(members)
            error += len(members) / total * abs(said - seen)
    return error


@dataclass
class Fitted:
    estimator: Any
    metrics: dict[str, float]
    data: dict[str, Any]


def fit(
    training_data: Sequence[str] = (),
    progress: Callable[[int, int, str], None] = lambda _d, _t, _s: None,
    seed: int = SEED,
) -> Fitted:
    steps = 4
    progress(0, steps, "generating triggers")
    data = generator.generate(seed)
    real = read_exports(training_data) if training_data else RealRows()
    progress(1, steps, "fitting")
    rows = [vector(r) for r in data.train.rows] + [vector(f) for f, _ in real.train]
    labels = list(data.train.labels) + [label for _, label in real.train]
    estimator = build_estimator().fit(rows, labels)
    progress(2, steps, "evaluating on held-out traps")
    probabilities = list(estimator.predict_proba([vector(r) for r in data.test.rows])[:, 1])
    results = _scores(data.test.labels, probabilities)
    results["calibration_error"] = calibration_error(data.test.labels, probabilities)
    # What the model adds over knowing only how often triggers are captures.
    base_rate = sum(labels) / len(labels)
    results["base_rate_brier"] = sum((base_rate - y) ** 2 for y in data.test.labels) / len(
        data.test.labels
    )
    if real.test:
        real_labels = [label for _, label in real.test]
        real_p = list(estimator.predict_proba([vector(f) for f, _ in real.test])[:, 1])
        if len(set(real_labels)) == 2:
            results.update(_scores(real_labels, real_p, prefix="real_"))
        results["real_test_rows"] = float(len(real.test))
    progress(3, steps, "describing the data")
    description = data.describe()
    if real.files:
        description = {
            **description,
            "source": "synthetic and exported records",
            "exported": {
                "files": real.files,
                "organizations": len(real.organizations),
                "rows": {"train": len(real.train), "test": len(real.test)},
                "held_out": "a quarter of the real traps, by a hash of the trap id",
            },
        }
    description["estimator"] = (
        f"pairwise products, standardised, logistic regression (C={C}); label threshold {THRESHOLD}"
    )
    progress(4, steps, "done")
    return Fitted(
        estimator=estimator,
        metrics={k: round(v, 4) for k, v in results.items()},
        data=description,
    )
