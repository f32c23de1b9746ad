"""Training of ``mentoring.topic`` and ``mentoring.similar``; what ``minori ml train`` runs.

Both are measured on data the served artifact never saw:

- ``mentoring.topic`` is fitted on the training part of the corpus (questions, their answers
  and paraphrases) plus the glossary, and scored on the held-out questions and their
  paraphrases. The shipped classifier is exactly the one measured.
- ``mentoring.similar`` serves the whole seed library; it is scored on the paraphrases,
  which are never part of the library: for each, is its own question among the top 3?
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from models_ml.mentoring import data
from models_ml.mentoring.similar import ANSWER_WEIGHT, fit_vectorizer, rank

if TYPE_CHECKING:
    from core.ml.training import TrainedModel, TrainingRun

SEED = 20261126
GLOSSARY_REPEAT = 2
"""Each glossary term counts as this many examples: a term is short, a question long."""
CV_SEEDS = (1, 2, 3, 4)


FEATURES = 2**16
"""Hashed character n-gram space of the classifier: no vocabulary to store, so the artifact
loads in milliseconds (a 10,000-entry vocabulary took seconds to load with skops)."""


def topic_estimator() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            (
                "chars",
                HashingVectorizer(
                    analyzer="char",
                    ngram_range=(1, 3),
                    n_features=FEATURES,
                    alternate_sign=False,
                    norm=None,
                ),
            ),
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
            (
                "classify",
                SGDClassifier(
                    loss="log_loss", alpha=1e-5, max_iter=100, tol=1e-4, random_state=SEED
                ),
            ),
        ]
    )


def _topic_training_rows(
    held_out: frozenset[str], *, glossary: bool = True
) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for item in data.corpus():
        if item.id in held_out:
            continue
        for text in (item.question, item.answer, *item.paraphrases):
            texts.append(text)
            labels.append(item.category)
    if glossary:
        for _ in range(GLOSSARY_REPEAT):
            for term, category in data.glossary():
                texts.append(term)
                labels.append(category)
    return texts, labels


def _held_out_rows(held_out: frozenset[str]) -> tuple[list[str], list[str], list[str], list[bool]]:
    """Texts, labels, languages, and whether each text is a paraphrase."""
    texts, labels, languages, paraphrase = [], [], [], []
    for item in data.corpus():
        if item.id not in held_out:
            continue
        for text, is_paraphrase in [(item.question, False)] + [(p, True) for p in item.paraphrases]:
            texts.append(text)
            labels.append(item.category)
            languages.append(item.language)
            paraphrase.append(is_paraphrase)
    return texts, labels, languages, paraphrase


def _accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / max(len(truth), 1)


def train_topic(run: TrainingRun) -> TrainedModel:
    from sklearn import metrics

    from core.ml.training import TrainedModel

    steps = 4
    run.progress(0, steps, "fitting on the training part")
    held_out = data.held_out_ids(SEED)
    texts, labels = _topic_training_rows(held_out)
    estimator = topic_estimator().fit(texts, labels)

    run.progress(1, steps, "scoring the held-out questions")
    test_texts, truth, languages, paraphrase = _held_out_rows(held_out)
    predicted = [str(p) for p in estimator.predict(test_texts)]
    questions = [i for i, p in enumerate(paraphrase) if not p]
    results: dict[str, float] = {
        "top1_accuracy": _accuracy(
            [truth[i] for i in questions], [predicted[i] for i in questions]
        ),
        "top1_accuracy_with_paraphrases": _accuracy(truth, predicted),
        "macro_f1": metrics.f1_score(truth, predicted, average="macro"),
    }
    probabilities = estimator.predict_proba(test_texts)
    classes = list(estimator.classes_)
    top2 = [
        truth[i] in {classes[j] for j in probabilities[i].argsort()[-2:]}
        for i in range(len(test_texts))
    ]
    results["top2_accuracy_with_paraphrases"] = sum(top2) / len(top2)
    for language in ("ja", "en", "vi"):
        rows = [i for i, lang in enumerate(languages) if lang == language]
        results[f"top1_accuracy_{language}"] = _accuracy(
            [truth[i] for i in rows], [predicted[i] for i in rows]
        )

    run.progress(2, steps, "the same split without the glossary")
    bare_texts, bare_labels = _topic_training_rows(held_out, glossary=False)
    bare = topic_estimator().fit(bare_texts, bare_labels)
    results["top1_accuracy_without_glossary"] = _accuracy(
        [truth[i] for i in questions],
        [str(p) for p in bare.predict([test_texts[i] for i in questions])],
    )

    run.progress(3, steps, "other random splits")
    scores = []
    for seed in CV_SEEDS:
        other = data.held_out_ids(seed)
        fold_texts, fold_labels = _topic_training_rows(other)
        fold = topic_estimator().fit(fold_texts, fold_labels)
        fold_test, fold_truth, _languages, fold_paraphrase = _held_out_rows(other)
        asked = [i for i, p in enumerate(fold_paraphrase) if not p]
        fold_predicted = fold.predict([fold_test[i] for i in asked])
        scores.append(_accuracy([fold_truth[i] for i in asked], [str(p) for p in fold_predicted]))
    results["top1_accuracy_mean_of_4_other_splits"] = sum(scores) / len(scores)
    results["top1_accuracy_worst_of_4_other_splits"] = min(scores)
    run.progress(steps, steps, "done")

    description = data.describe()
    description.update(
        {
            "glossary_terms": len(data.glossary()),
            "glossary_repeat": GLOSSARY_REPEAT,
            "seed": SEED,
            "held_out": (
                f"{data.HELD_OUT:.0%} of the items of every (category, language) group, "
                "stratified, seed 20261126; the model never saw their question, answer or "
                "paraphrases"
            ),
            "rows": {"train": len(texts), "test": len(test_texts)},
            "test_questions": len(questions),
        }
    )
    return TrainedModel(
        estimator=estimator,
        metrics={k: round(float(v), 4) for k, v in results.items()},
        data=description,
    )


def train_similar(run: TrainingRun) -> TrainedModel:
    import numpy as np

    from core.ml.training import TrainedModel

    steps = 2
    run.progress(0, steps, "indexing the seed library")
    items = data.corpus()
    library = {
        "vectorizer": fit_vectorizer([i.question for i in items] + [i.answer for i in items]),
        "ids": [i.id for i in items],
        "questions": [i.question for i in items],
        "answers": [i.answer for i in items],
        "categories": [i.category for i in items],
        "languages": [i.language for i in items],
        "answer_weight": ANSWER_WEIGHT,
    }

    run.progress(1, steps, "retrieving the paraphrases")
    queries = [
        (p, index, item.language) for index, item in enumerate(items) for p in item.paraphrases
    ]
    ranks = []
    for text, index, _language in queries:
        scores = rank(library, text)
        ranks.append(int((scores > scores[index]).sum()))
    ranks_array = np.array(ranks)
    results: dict[str, float] = {
        "top1_hit_rate": float((ranks_array < 1).mean()),
        "top3_hit_rate": float((ranks_array < 3).mean()),
        "top5_hit_rate": float((ranks_array < 5).mean()),
        "mean_reciprocal_rank": float((1.0 / (ranks_array + 1)).mean()),
    }
    for language in ("ja", "en", "vi"):
        rows = [k for k, q in enumerate(queries) if q[2] == language]
        results[f"top3_hit_rate_{language}"] = float((ranks_array[rows] < 3).mean())

    # DOMAIN.md's starting point: character 2-3-grams on the questions alone.
    from sklearn.feature_extraction.text import TfidfVectorizer

    plain = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True)
    matrix = plain.fit_transform([i.question for i in items])
    similarity = (plain.transform([q[0] for q in queries]) @ matrix.T).toarray()
    baseline = [int((row > row[q[1]]).sum()) for row, q in zip(similarity, queries, strict=True)]
    results["top3_hit_rate_baseline_2_3_grams_questions_only"] = float(
        (np.array(baseline) < 3).mean()
    )
    run.progress(steps, steps, "done")

    description = data.describe()
    description.update(
        {
            "library": "every corpus item (question and answer) is served as a suggestion",
            "queries": (
                "the paraphrases: the same questions asked in other words, written with the "
                "corpus and never indexed"
            ),
            "rows": {"library": len(items), "queries": len(queries)},
        }
    )
    return TrainedModel(
        estimator=library,
        metrics={k: round(float(v), 4) for k, v in results.items()},
        data=description,
    )
