"""``livestock.estrus`` and ``livestock.calving``: gradient-boosted trees over the features of
:mod:`plugins.livestock.features`, trained on the simulated herds of models_ml/livestock.

Both predict for many animals at once: the input is the feature matrix of a scoring run,
the output the probability of each row (in heat now; calving within 24 h). The thresholds
at which they alert were chosen on held-out herds and are recorded in the artifact's
metadata (``operating_threshold``); the plugin settings may override them. Model cards:
docs/models/livestock.estrus.md and docs/models/livestock.calving.md.
"""

from __future__ import annotations

import numpy as np

from core.ml.registry import Predictor
from core.ml.training import TrainedModel, TrainingRun
from core.plugin import PredictorSpec
from plugins.livestock.features import CALVING_FEATURES, ESTRUS_FEATURES

TREES = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
"""The fitted trees of scikit-learn's HistGradientBoostingClassifier: plain arrays of nodes,
scikit-learn's own class, which skops does not list among its defaults."""


def probabilities(model: Predictor[np.ndarray, np.ndarray], features: np.ndarray) -> np.ndarray:
    """One thread: a scoring run predicts a few thousand rows at most, which one core does in
    milliseconds, and OpenMP threads that wait for a busy CPU would cost seconds."""
    if features.shape[0] == 0:
        return np.empty(0)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        return np.asarray(model.estimator.predict_proba(features)[:, 1])


def train_estrus(run: TrainingRun) -> TrainedModel:
    from models_ml.livestock.train import train_estrus as fit

    trained = fit(run.progress)
    return TrainedModel(
        estimator=trained.estimator,
        metrics=trained.metrics,
        data=trained.data,
        features=list(ESTRUS_FEATURES),
    )


def train_calving(run: TrainingRun) -> TrainedModel:
    from models_ml.livestock.train import train_calving as fit

    trained = fit(run.progress)
    return TrainedModel(
        estimator=trained.estimator,
        metrics=trained.metrics,
        data=trained.data,
        features=list(CALVING_FEATURES),
    )


estrus: PredictorSpec[np.ndarray, np.ndarray] = PredictorSpec(
    name="estrus",
    description="Heat now, from collar activity and rumination against the cow's baseline",
    train=train_estrus,
    predict=probabilities,
    trusted_types=TREES,
)
calving: PredictorSpec[np.ndarray, np.ndarray] = PredictorSpec(
    name="calving",
    description="Calving within 24 h, from the body temperature series",
    train=train_calving,
    predict=probabilities,
    trusted_types=TREES,
)
