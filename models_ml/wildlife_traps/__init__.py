"""Training code and the synthetic data generator of ``wildlife_traps.capture_likelihood``.

``features`` turns one trigger into the model's input, ``generator`` makes the synthetic
triggers the shipped model learns from, ``training`` fits and measures it (and adds an
organization's own exported records when the plugin's ``training_data`` names them).
Model card: docs/models/wildlife_traps.capture_likelihood.md.
"""
