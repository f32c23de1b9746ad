"""``red_tide.bloom_risk``: the probability that a harmful species reaches the advisory level
in an area within 3 days, from the area's last two weeks of buoy readings and counts.

Gradient boosting (scikit-learn's HistGradientBoostingClassifier, which takes missing
sensors natively) trained on the synthetic seasons of ``models_ml/red_tide`` (generator,
features, training). Model card: docs/models/red_tide.bloom_risk.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from core.ml.registry import Predictor
from core.ml.training import TrainedModel, TrainingRun
from core.plugin import PredictorSpec
from models_ml.red_tide.features import FEATURES

TRUSTED_TYPES = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
"""scikit-learn's own container for the fitted trees of a histogram gradient boosting model:
part of the pinned scikit-learn, not code of this plugin's making, and not on skops' default
list."""


def train_bloom_risk(run: TrainingRun) -> TrainedModel:
    from models_ml.red_tide import training

    estimator, metrics, data = training.train(run.progress)
    return TrainedModel(estimator=estimator, metrics=metrics, data=data, features=list(FEATURES))


def predict_bloom_risk(
    model: Predictor[Mapping[str, float], float], x: Mapping[str, float]
) -> float:
    """The probability for one feature row (``models_ml.red_tide.features.features``)."""
    row = [[float(x.get(name, math.nan)) for name in FEATURES]]
    return float(model.estimator.predict_proba(row)[0][1])


bloom_risk: PredictorSpec[Mapping[str, float], float] = PredictorSpec(
    name="bloom_risk",
    description="Probability that a harmful species reaches the advisory level within 3 days",
    train=train_bloom_risk,
    predict=predict_bloom_risk,
    trusted_types=TRUSTED_TYPES,
)
