"""Similar-question retrieval: character n-gram TF-IDF, no word segmenter.

A query is compared with each entry's question and, with weight :data:`ANSWER_WEIGHT`, with
its answer: a question asked in other words often shares the answer's vocabulary (the
disease, the form, the machine part) more than the original question's. Shared by training
(the held-out measurement) and the plugin (serving), so both score alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NGRAMS = (1, 2)
"""Character unigrams and bigrams within word boundaries: a kanji alone carries meaning."""
MAX_DF = 0.3
"""n-grams in more than 30 % of the texts (です, ます, the) carry no topic."""
ANSWER_WEIGHT = 0.5


def vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True, max_df=MAX_DF)


_matrices: dict[int, tuple[Any, Any]] = {}


def _library_matrices(library: dict[str, Any]) -> tuple[Any, Any]:
    key = id(library)
    if key not in _matrices:
        v = library["vectorizer"]
        _matrices[key] = (v.transform(library["questions"]), v.transform(library["answers"]))
    return _matrices[key]


def rank(library: dict[str, Any], query: str) -> Any:
    """The score of every library entry for ``query`` (a numpy array, 0 to 1)."""
    questions, answers = _library_matrices(library)
    weight = float(library.get("answer_weight", ANSWER_WEIGHT))
    q = library["vectorizer"].transform([query])
    return (1 - weight) * (q @ questions.T).toarray()[0] + weight * (q @ answers.T).toarray()[0]


def score_pairs(
    library: dict[str, Any], query: str, pairs: Sequence[tuple[str, str]]
) -> list[float]:
    """Scores of other (question, answer) pairs, e.g. answered questions from the database,
    with the library's vocabulary and weights."""
    if not pairs:
        return []
    v = library["vectorizer"]
    weight = float(library.get("answer_weight", ANSWER_WEIGHT))
    q = v.transform([query])
    questions = v.transform([p[0] for p in pairs])
    answers = v.transform([p[1] for p in pairs])
    combined = (1 - weight) * (q @ questions.T).toarray()[0] + weight * (q @ answers.T).toarray()[0]
    return [float(s) for s in combined]
