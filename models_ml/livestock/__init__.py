"""Training code of the livestock plugin's predictors: the simulated herds (simulate.py) and
fitting with held-out evaluation (train.py). ``PredictorSpec.train`` in
plugins/livestock/predictors.py calls into it; ``minori ml train livestock.estrus`` and
``livestock.calving`` run it."""
