"""Red tide and aquaculture: buoy telemetry, cell counts, prefectural thresholds, area levels,
a 3-day bloom risk, feeding advice and the stop interlock per cage, and a morning bulletin.

A fish farmer must know before breakfast whether to feed today: stopping feeding in a red
tide makes a several-fold difference in mortality (DOMAIN.md, "Red tide and aquaculture").
The plugin's guide is README.md in this folder.
"""

from __future__ import annotations

from core.plugin import Plugin
from plugins.red_tide import services
from plugins.red_tide.controllers import routes
from plugins.red_tide.demo import demo
from plugins.red_tide.feed import feed, sync
from plugins.red_tide.ingest import buoy, feeder
from plugins.red_tide.jobs import bulletin_job, levels_job, risk_job
from plugins.red_tide.kpis import kpis
from plugins.red_tide.predictors import bloom_risk
from plugins.red_tide.settings import RedTideSettings

plugin = Plugin(
    name="red_tide",
    version="1.0.0",
    title="Red tide and aquaculture",
    settings=RedTideSettings,
    routes=routes,
    models="plugins.red_tide.models",
    device_kinds=[buoy, feeder],
    subjects={"station": services.station_label, "cage": services.cage_label},
    jobs=[levels_job, risk_job, bulletin_job],
    predictors=[bloom_risk],
    feed=feed,
    sync=sync,
    kpis=kpis,
    demo=demo,
)
