"""Wildlife traps: trap sensors, sprung alerts in seconds, offline and battery, the daily
inspection record, captures and bounty reports (issue 7, DOMAIN.md "Wildlife traps").

A hunter with twenty traps in the hills walks only to the traps that caught something, and
still has a record that every trap was checked every day.
"""

from __future__ import annotations

from core.plugin import Plugin
from plugins.wildlife_traps import services
from plugins.wildlife_traps.controllers import routes
from plugins.wildlife_traps.demo import demo
from plugins.wildlife_traps.feed import feed, sync
from plugins.wildlife_traps.ingest import lifespan, sensor
from plugins.wildlife_traps.jobs import jobs
from plugins.wildlife_traps.kpis import kpis
from plugins.wildlife_traps.predictors import capture_likelihood
from plugins.wildlife_traps.settings import WildlifeTrapsSettings

plugin = Plugin(
    name="wildlife_traps",
    version="1.0.0",
    title="Wildlife traps",
    settings=WildlifeTrapsSettings,
    routes=routes,
    models="plugins.wildlife_traps.models",
    device_kinds=[sensor],
    subjects={"trap": services.find_trap},
    jobs=jobs,
    predictors=[capture_likelihood],
    feed=feed,
    sync=sync,
    kpis=kpis,
    demo=demo,
    lifespan=lifespan,
)
