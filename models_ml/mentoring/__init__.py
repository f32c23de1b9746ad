"""Training data and training code of the mentoring plugin's predictors.

- ``corpus.json``: the seed library of question-answer pairs, written for this project.
- ``glossary.json``: domain vocabulary per category, extra training examples of the topic
  classifier.
- :mod:`models_ml.mentoring.data`: loading, and the held-out split.
- :mod:`models_ml.mentoring.training`: ``train_topic`` and ``train_similar``, called by the
  plugin's ``PredictorSpec.train`` (``minori ml train mentoring.topic|mentoring.similar``).
"""
