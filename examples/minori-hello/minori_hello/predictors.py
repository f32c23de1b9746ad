"""``hello.mood``: a small scikit-learn model that calls a greeting cheerful or plain.

Character n-grams (TF-IDF, 1 to 3 characters, so Japanese needs no word segmenter) and a
logistic regression, trained on the synthetic greetings of :mod:`minori_hello.mood_data`.
The artifact is ``models_ml/artifacts/hello/mood/``; ``minori ml train hello.mood`` rebuilds
it and prints its held-out metrics. The model card is docs/models/hello.mood.md.

The plugin setting ``cheerful_words`` stays in force on top of the model: a greeting holding
one of those words is cheerful whatever the model says, for local words (dialect, a
cooperative's own slang) the model has never seen.
"""

from __future__ import annotations

from typing import Any

from core.ml.registry import Predictor
from core.ml.training import TrainedModel, TrainingRun
from core.plugin import PredictorSpec
from minori_hello import mood_data
from minori_hello.settings import HelloSettings

SEED = 20261126
STEPS = 3


def build_estimator() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True
                ),
            ),
            ("classify", LogisticRegression(C=4.0, max_iter=1000)),
        ]
    )


def train_mood(run: TrainingRun) -> TrainedModel:
    """Generate greetings, fit on the training phrases, measure on the held-out ones."""
    from sklearn import metrics

    run.progress(0, STEPS, "generating greetings")
    data = mood_data.generate(SEED)
    run.progress(1, STEPS, "fitting")
    estimator = build_estimator().fit(data.train.texts, data.train.labels)
    run.progress(2, STEPS, "evaluating on held-out phrases")
    test = data.test
    predicted = list(estimator.predict(test.texts))
    cheerful = list(estimator.classes_).index(mood_data.CHEERFUL)
    scores = estimator.predict_proba(test.texts)[:, cheerful]
    truth = [label == mood_data.CHEERFUL for label in test.labels]
    said = [label == mood_data.CHEERFUL for label in predicted]
    results = {
        "accuracy": metrics.accuracy_score(test.labels, predicted),
        "precision_cheerful": metrics.precision_score(truth, said),
        "recall_cheerful": metrics.recall_score(truth, said),
        "f1_cheerful": metrics.f1_score(truth, said),
        "roc_auc": metrics.roc_auc_score(truth, scores),
    }
    for language in ("ja", "en"):
        rows = [i for i, lang in enumerate(test.languages) if lang == language]
        results[f"accuracy_{language}"] = metrics.accuracy_score(
            [test.labels[i] for i in rows], [predicted[i] for i in rows]
        )
    # The rule this model replaced (the default cheerful_words alone), on the same data.
    words = HelloSettings().cheerful_words
    rule = [
        mood_data.CHEERFUL if any(w in t.lower() for w in words) else mood_data.PLAIN
        for t in test.texts
    ]
    results["word_list_accuracy"] = metrics.accuracy_score(test.labels, rule)
    run.progress(3, STEPS, "done")
    return TrainedModel(
        estimator=estimator,
        metrics={k: round(float(v), 4) for k, v in results.items()},
        data=data.describe(),
    )


def predict_mood(model: Predictor[str, str], text: str) -> str:
    lowered = text.lower()
    if any(word.lower() in lowered for word in model.context.settings.cheerful_words):
        return mood_data.CHEERFUL
    return str(model.estimator.predict([text])[0])


mood: PredictorSpec[str, str] = PredictorSpec(
    name="mood",
    description="Cheerful or plain greeting",
    train=train_mood,
    predict=predict_mood,
)
