"""Fitting and measuring ``red_tide.bloom_risk`` (model card: docs/models/red_tide.bloom_risk.md).

Seasons from :mod:`models_ml.red_tide.generator`: the first ``TRAIN_SEASONS`` are split into
fitting seasons and validation seasons (the alert threshold is chosen on the latter), the
last ``TEST_SEASONS`` are held out whole and only measured. The shipped estimator is the one
fitted on the fitting seasons, so the metrics describe exactly the artifact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models_ml.red_tide import generator
from models_ml.red_tide.features import FEATURES

SEED = 20261126
TRAIN_SEASONS = 200
VALIDATION_SHARE = 0.2
TEST_SEASONS = 100
RECALL_WEIGHT = 2.0
"""The threshold maximises F-beta with this beta on validation days not yet over the advisory
level: a missed bloom costs a cage of fish, a false alarm a look at the next count."""

Progress = Callable[[int, int, str], None]
STEPS = 4


def build_estimator() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=0,
    )


def _as_arrays(rows: generator.Rows) -> tuple[Any, Any, Any]:
    import numpy as np

    return np.array(rows.x, dtype=float), np.array(rows.y), np.array(rows.over, dtype=bool)


def choose_threshold(truth: Any, scores: Any, beta: float = RECALL_WEIGHT) -> float:
    """The score cut-off that maximises F-beta (ties: the higher cut-off)."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(truth, scores)
    best, best_score = 0.5, -1.0
    for p, r, t in zip(precision[:-1], recall[:-1], thresholds, strict=True):
        if p + r == 0:
            continue
        score = (1 + beta**2) * p * r / (beta**2 * p + r)
        if score >= best_score:
            best, best_score = float(t), score
    return best


def measure(truth: Any, scores: Any, threshold: float, prefix: str) -> dict[str, float]:
    from sklearn import metrics

    said = scores >= threshold
    return {
        f"{prefix}roc_auc": metrics.roc_auc_score(truth, scores),
        f"{prefix}average_precision": metrics.average_precision_score(truth, scores),
        f"{prefix}precision": metrics.precision_score(truth, said, zero_division=0),
        f"{prefix}recall": metrics.recall_score(truth, said, zero_division=0),
        f"{prefix}brier": metrics.brier_score_loss(truth, scores),
        f"{prefix}days": float(len(truth)),
        f"{prefix}positive_days": float(truth.sum()),
    }


def train(progress: Progress | None = None) -> tuple[Any, dict[str, float], dict[str, Any]]:
    """(estimator, held-out metrics, data description)."""
    step = progress or (lambda _done, _total, _what: None)
    step(0, STEPS, "generating seasons")
    data = generator.generate(SEED, TRAIN_SEASONS, TEST_SEASONS)
    fit_seasons = round(TRAIN_SEASONS * (1 - VALIDATION_SHARE))
    fit_rows, validation_rows = generator.Rows(), generator.Rows()
    for i, season in enumerate(data.train.season):
        target = fit_rows if season < fit_seasons else validation_rows
        target.x.append(data.train.x[i])
        target.y.append(data.train.y[i])
        target.over.append(data.train.over[i])
        target.season.append(season)

    step(1, STEPS, "fitting")
    x, y, _over = _as_arrays(fit_rows)
    estimator = build_estimator().fit(x, y)

    step(2, STEPS, "choosing the threshold on validation seasons")
    vx, vy, vover = _as_arrays(validation_rows)
    vscores = estimator.predict_proba(vx)[:, 1]
    threshold = choose_threshold(vy[~vover], vscores[~vover])

    step(3, STEPS, "measuring on held-out seasons")
    tx, ty, tover = _as_arrays(data.test)
    scores = estimator.predict_proba(tx)[:, 1]
    results = {
        "threshold": threshold,
        **measure(ty[~tover], scores[~tover], threshold, ""),
        **measure(ty, scores, threshold, "all_days_"),
    }
    step(4, STEPS, "done")
    description = data.describe()
    description["rows"]["fit"] = len(fit_rows.y)
    description["rows"]["validation"] = len(validation_rows.y)
    description["seasons"]["validation"] = TRAIN_SEASONS - fit_seasons
    description["threshold"] = (
        f"maximises F{RECALL_WEIGHT:g} on validation days not yet over the advisory level"
    )
    description["metrics"] = (
        "unprefixed: held-out days not yet over the advisory level (what a forecast is for); "
        "all_days_: every held-out day"
    )
    metrics = {k: round(float(v), 4) for k, v in results.items()}
    return estimator, metrics, description


FEATURE_NAMES = list(FEATURES)
