"""``wildlife_traps.capture_likelihood``: how likely a confirmed trigger is a real capture.

It labels a sprung alert ("likely capture, 87 %") and never decides whether one is raised.
Training and the synthetic generator live in ``models_ml/wildlife_traps/``; the model card
is docs/models/wildlife_traps.capture_likelihood.md.
"""

from __future__ import annotations

from core.ml.registry import Predictor
from core.ml.training import TrainedModel, TrainingRun
from core.plugin import PredictorSpec
from models_ml.wildlife_traps.features import FEATURE_NAMES, TriggerFeatures, vector
from models_ml.wildlife_traps.training import fit


def train_capture_likelihood(run: TrainingRun) -> TrainedModel:
    """Synthetic triggers, plus the exported records named by ``training_data``."""
    fitted = fit(run.context.settings.training_data, run.progress)
    return TrainedModel(
        estimator=fitted.estimator,
        metrics=fitted.metrics,
        data=fitted.data,
        features=list(FEATURE_NAMES),
    )


def predict_capture(model: Predictor[TriggerFeatures, float], features: TriggerFeatures) -> float:
    """The probability, 0 to 1, that this trigger is a capture."""
    return float(model.estimator.predict_proba([vector(features)])[0, 1])


capture_likelihood: PredictorSpec[TriggerFeatures, float] = PredictorSpec(
    name="capture_likelihood",
    description="Probability that a trap trigger is a real capture",
    train=train_capture_likelihood,
    predict=predict_capture,
)
