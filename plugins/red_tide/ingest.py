"""Device kinds ``red_tide.buoy`` and ``red_tide.feeder``.

A buoy profiles the water column: every quantity is a metric per depth, the depth written
into the name (``temperature_0_5m`` is temperature at 0.5 m, ``do_bottom`` dissolved
oxygen just above the bottom), so the core's narrow ``(device, ts, metric, value)`` table
holds profiles without a depth column. Depths 0.5, 2.5 and 5 m follow the Nagasaki flash
reports; 10 m and the bottom complete a profile like the Yatsushiro buoys' (DOMAIN.md).
``fsi`` is the harmful-plankton index of Sasebo's trial telemeter (above 2.0: harmful).
A buoy is bound to a station (``subject: {"kind": "red_tide.station", "id": ...}``).

A feeder reports ``dispensed_kg`` once per feeding and is bound to a cage
(``red_tide.cage``); each reading becomes a feeding log of the cage. It also reports the feed
left in its hopper (``hopper_kg``) every few hours, so core's liveness check does not call
it offline during a feeding stop, when it dispenses nothing for days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from core.plugin import DeviceKind, Metric, PluginContext
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading
from plugins.red_tide import services

DEPTHS = ("0_5m", "2_5m", "5m", "10m", "bottom")
"""Depths in metric names: 0.5 m, 2.5 m, 5 m, 10 m and just above the bottom."""
QUANTITIES = (
    ("temperature", "°C", -2.0, 40.0),
    ("salinity", "PSU", 0.0, 45.0),
    ("do", "mg/L", 0.0, 20.0),
    ("chlorophyll", "µg/L", 0.0, 500.0),
    ("turbidity", "NTU", 0.0, 1000.0),
)

BUOY_METRICS = [
    Metric(f"{name}_{depth}", unit, low, high)
    for name, unit, low, high in QUANTITIES
    for depth in DEPTHS
] + [Metric("fsi", "", 0.0, 10.0)]


async def on_buoy(ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]) -> None:
    await services.buoy_readings(ctx, device, readings)


async def on_feeder(ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]) -> None:
    await services.record_dispensed(ctx, device, readings)


buoy = DeviceKind(
    name="buoy",
    metrics=BUOY_METRICS,
    expected_interval=timedelta(hours=1),
    subject_kind="station",
    on_readings=on_buoy,
)

feeder = DeviceKind(
    name="feeder",
    metrics=[Metric("dispensed_kg", "kg", 0.0, 5000.0), Metric("hopper_kg", "kg", 0.0, 20000.0)],
    expected_interval=timedelta(hours=6),
    subject_kind="cage",
    on_readings=on_feeder,
)
