"""Device kind ``wildlife_traps.sensor``: the unit on a trap (LPWA child unit relaying
through a gateway, DOMAIN.md), bound to the trap it watches.

Metrics: ``trigger`` (1 when the door has dropped or the trigger has fired, 0 at rest),
``heartbeat`` (1: the unit is alive; any reading counts as a heartbeat), ``battery_v``
(four AA cells pack voltage) and ``rssi_dbm`` (signal). Units report hourly and at once on a
trigger change; core calls a unit offline after two missed heartbeats.

A trigger waits ``debounce_s`` before it springs the trap. So the alert goes out then and
not a job interval later, a timer per trap is armed for that moment; the ``watch`` job
confirms whatever a timer could not (a restart, a clock that does not run in real time).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from core.plugin import DeviceKind, Metric, PluginContext
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading
from plugins.wildlife_traps import services

log = logging.getLogger("minori.wildlife_traps")

TIMER_SLACK_S = 0.02


class Timers:
    """One pending confirmation per trap, cancelled when the app stops."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self._handles: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, trap_id: uuid.UUID, delay_s: float) -> None:
        """Confirm the trap's due triggers in ``delay_s`` seconds (real time). The callback
        runs in a copy of the caller's context: the database binding comes along."""
        previous = self._handles.pop(trap_id, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._handles[trap_id] = loop.call_later(delay_s, self._fire, trap_id)

    def _fire(self, trap_id: uuid.UUID) -> None:
        self._handles.pop(trap_id, None)
        task = asyncio.create_task(self._confirm(trap_id), name=f"wildlife_traps-confirm-{trap_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _confirm(self, trap_id: uuid.UUID) -> None:
        try:
            await services.confirm_due(self.ctx, trap_id=trap_id)
        except Exception:
            log.exception("confirming the triggers of trap %s failed", trap_id)

    async def close(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


_timers: dict[int, Timers] = {}
"""The timers of each running app, by its plugin context (tests run several apps)."""


@asynccontextmanager
async def lifespan(ctx: PluginContext) -> AsyncIterator[None]:
    timers = _timers[id(ctx)] = Timers(ctx)
    try:
        yield
    finally:
        _timers.pop(id(ctx), None)
        await timers.close()


async def on_sensor(ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]) -> None:
    handled = await services.handle_readings(ctx, device, readings)
    timers = _timers.get(id(ctx))
    if handled.next_due is None or handled.trap_id is None or timers is None:
        return
    wait = (handled.next_due - ctx.clock.now()).total_seconds()
    delay = min(max(wait, 0.0), ctx.settings.debounce_s) + TIMER_SLACK_S
    timers.schedule(handled.trap_id, delay)


sensor = DeviceKind(
    name="sensor",
    metrics=[
        Metric("trigger", "", 0, 1),
        Metric("heartbeat", "", 0, 1),
        Metric("battery_v", "V", 0, 12),
        Metric("rssi_dbm", "dBm", -150, 0),
    ],
    expected_interval=services.SENSOR_INTERVAL,
    subject_kind="trap",
    on_readings=on_sensor,
)
