"""Drone pesticide spraying: spray records and flight logs checked against the pesticide
label before the spraying happens, flight tracks measured against the field, a harvest
guard for pre-harvest intervals, and records kept as evidence (never deleted, corrections
are versions).

Facts and defaults: DOMAIN.md "Drone pesticide spraying"; the rules are in ``rules.py``.
"""

from __future__ import annotations

from core.plugin import Plugin
from plugins.drone_spraying.controllers import ROUTES
from plugins.drone_spraying.demo import demo
from plugins.drone_spraying.feed import feed, sync
from plugins.drone_spraying.jobs import expiry_watch_job, interval_reminders_job
from plugins.drone_spraying.kpis import sprayed_area_kpi
from plugins.drone_spraying.settings import DroneSprayingSettings

plugin = Plugin(
    name="drone_spraying",
    version="1.0.0",
    title="Drone spraying",
    settings=DroneSprayingSettings,
    routes=ROUTES,
    models="plugins.drone_spraying.models",
    jobs=[interval_reminders_job, expiry_watch_job],
    feed=feed,
    sync=sync,
    kpis=[sprayed_area_kpi],
    demo=demo,
)
