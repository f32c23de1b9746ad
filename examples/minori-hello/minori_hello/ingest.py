"""Device kind ``hello.button``: a doorbell-like button. A press raises an ``info`` alert
that tells the organization's members someone said hello at that button."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from core.alerts.models import Severity
from core.alerts.service import Subject
from core.plugin import DeviceKind, Metric, PluginContext
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading
from minori_hello.i18n import _


async def on_button(ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]) -> None:
    presses = [r for r in readings if r.metric == "pressed" and r.value >= 1]
    if not presses:
        return
    await ctx.alerts.raise_(
        organization_id=str(device.organization_id),
        type="pressed",
        severity=Severity.INFO,
        title=_("Hello at {button}", button=device.name),
        body=_("Someone pressed {button}.", button=device.name),
        subject=Subject("hello.button", str(device.id), device.name),
        data={"presses": len(presses), "at": presses[-1].ts.isoformat()},
    )


button = DeviceKind(
    name="button",
    metrics=[Metric("pressed", "", 0, 1), Metric("battery_v", "V", 0, 5)],
    expected_interval=timedelta(hours=1),
    on_readings=on_button,
)
