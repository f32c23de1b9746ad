"""Livestock IoT: the herd and its records, collars and thermometers bound to animals,
estrus, calving and health alerts, and the breeding calendar (DOMAIN.md "Livestock")."""

from __future__ import annotations

from core.plugin import Plugin
from plugins.livestock.controllers import routes
from plugins.livestock.demo import demo
from plugins.livestock.feed import feed, sync
from plugins.livestock.ingest import collar, thermo
from plugins.livestock.jobs import jobs
from plugins.livestock.predictors import calving, estrus
from plugins.livestock.services import find_animal
from plugins.livestock.settings import LivestockSettings

plugin = Plugin(
    name="livestock",
    version="1.0.0",
    title="Livestock IoT",
    settings=LivestockSettings,
    routes=routes,
    models="plugins.livestock.models",
    device_kinds=[collar, thermo],
    subjects={"animal": find_animal},
    jobs=jobs,
    predictors=[estrus, calving],
    feed=feed,
    sync=sync,
    demo=demo,
)
