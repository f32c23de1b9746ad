"""Device kinds ``livestock.collar`` and ``livestock.thermo``, each bound to an animal.

A collar reports, every hour, the activity of the past hour (an index of the collar's own
scale: only changes against the cow's own baseline matter) and the minutes she ruminated in
it; a thermometer (vaginal or bolus) the body temperature. Scoring reads the stored history
in bulk every 15 minutes (jobs.py), so the handler only notes when an animal's collar first
reported: the learning period counts from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.plugin import DeviceKind, Metric, PluginContext
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading
from plugins.livestock import services

_first_seen: dict[str, datetime] = {}
"""Animals whose first collar reading is stored already, so most batches cost no query."""


async def on_collar(ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]) -> None:
    if device.subject_kind != services.SUBJECT or not device.subject_id or not readings:
        return
    first = min(r.ts for r in readings)
    known = _first_seen.get(device.subject_id)
    if known is not None and known <= first:
        return
    await services.mark_monitored(device.subject_id, first)
    if len(_first_seen) > 200_000:
        _first_seen.clear()
    _first_seen[device.subject_id] = first


collar = DeviceKind(
    name="collar",
    metrics=[
        Metric("activity", "index/h", 0, 100_000),
        Metric("rumination", "min/h", 0, 60),
    ],
    expected_interval=timedelta(hours=1),
    subject_kind="animal",
    on_readings=on_collar,
)
thermo = DeviceKind(
    name="thermo",
    metrics=[Metric("temperature", "°C", 30, 45)],
    expected_interval=timedelta(hours=1),
    subject_kind="animal",
)
