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
FEATURES = 2**16
"""Hashed n-gram space: no vocabulary to store, so the artifact loads in milliseconds."""
MAX_DF = 0.3
"""n-grams in more than 30 % of the texts (です, ます, the) carry no topic: their weight is 0."""
ANSWER_WEIGHT = 0.5


def fit_vectorizer(texts: Sequence[str]) -> Any:
    """Hashed character n-gram counts, TF-IDF weighted; n-grams found in more than
    :data:`MAX_DF` of ``texts`` get no weight (what ``TfidfVectorizer(max_df=...)`` does)."""
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import Pipeline

    hashing = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS,
        n_features=FEATURES,
        alternate_sign=False,
        norm=None,
    )
    counts = hashing.transform(list(texts))
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    share = np.asarray((counts > 0).sum(axis=0)).ravel() / counts.shape[0]
    idf = tfidf.idf_.copy()
    idf[share > MAX_DF] = 0.0
    tfidf.idf_ = idf
    return Pipeline([("chars", hashing), ("tfidf", tfidf)])


_matrices: dict[int, tuple[dict[str, Any], Any, Any]] = {}
"""The library's question and answer vectors, computed once per loaded library (the entry
keeps the library alive, so its id cannot be reused by another)."""


def _library_matrices(library: dict[str, Any]) -> tuple[Any, Any]:
    entry = _matrices.get(id(library))
    if entry is None or entry[0] is not library:
        v = library["vectorizer"]
        entry = (library, v.transform(library["questions"]), v.transform(library["answers"]))
        if len(_matrices) > 8:
            _matrices.clear()
        _matrices[id(library)] = entry
    return entry[1], entry[2]


def rank(library: dict[str, Any], query: str) -> Any:
    """The score of every library entry for ``query`` (a numpy array, 0 to 1)."""
    questions, answers = _library_matrices(library)
    weight = float(library.get("answer_weight", ANSWER_WEIGHT))
    q = library["vectorizer"].transform([query])
    return (1 - weight) * (q @ questions.T).toarray()[0] + weight * (q @ answers.T).toarray()[0]


def vectors(library: dict[str, Any], pairs: Sequence[tuple[str, str]]) -> tuple[Any, Any]:
    """The question and answer vectors of other (question, answer) pairs, e.g. answered
    questions from the database, in the library's space (to score with
    :func:`score_vectors`, and to keep between queries)."""
    v = library["vectorizer"]
    return v.transform([p[0] for p in pairs]), v.transform([p[1] for p in pairs])


def score_vectors(library: dict[str, Any], query: str, questions: Any, answers: Any) -> list[float]:
    """Scores of vectors made by :func:`vectors`, with the library's weights."""
    weight = float(library.get("answer_weight", ANSWER_WEIGHT))
    q = library["vectorizer"].transform([query])
    combined = (1 - weight) * (q @ questions.T).toarray()[0] + weight * (q @ answers.T).toarray()[0]
    return [float(s) for s in combined]


def score_pairs(
    library: dict[str, Any], query: str, pairs: Sequence[tuple[str, str]]
) -> list[float]:
    """Scores of other (question, answer) pairs, with the library's vocabulary and weights."""
    if not pairs:
        return []
    return score_vectors(library, query, *vectors(library, pairs))
