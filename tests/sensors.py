"""A plugin used only by tests: a probe whose door reading raises a critical alert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import msgspec

from core.alerts.models import Severity
from core.alerts.service import Subject
from core.i18n import _
from core.plugin import DeviceKind, Metric, Plugin, PluginContext
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading


class SensorSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    responders: list[list[str]] = []
    escalate_after_s: int = 1800


async def on_probe(ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]) -> None:
    for reading in readings:
        if reading.metric == "door" and reading.value == 1:
            await ctx.alerts.raise_(
                organization_id=str(device.organization_id),
                type="door_open",
                severity=Severity.CRITICAL,
                title=_("Door of {device} opened", device=device.name),
                body=_("Reading {reading} says the door is open.", reading=reading.message_id),
                subject=Subject("sensors.probe", str(device.id), device.name),
                notify=ctx.settings.responders or None,
                escalate_after=timedelta(seconds=ctx.settings.escalate_after_s),
                data={"reading": reading.message_id},
            )


sensors = Plugin(
    name="sensors",
    version="0.1",
    title="Test sensors",
    settings=SensorSettings,
    device_kinds=[
        DeviceKind(
            "probe",
            metrics=[Metric("door", "", 0, 1), Metric("temperature", "°C", -40, 85)],
            expected_interval=timedelta(minutes=5),
            on_readings=on_probe,
        )
    ],
)
