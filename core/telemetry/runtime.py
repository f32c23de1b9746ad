"""The running parts of device traffic, started and stopped with the app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from apscheduler.triggers.interval import IntervalTrigger
from tortoise.context import TortoiseContext

from core.alerts.service import AlertService
from core.clock import Clock
from core.plugin import JobSpec, PluginContext
from core.settings import Settings
from core.telemetry.devices import Caller, DeviceService
from core.telemetry.ingest import Ingestor
from core.telemetry.kinds import DeviceKinds
from core.telemetry.liveness import Liveness
from core.telemetry.mqtt import MQTTConsumer
from core.telemetry.writer import ReadingWriter


class Telemetry:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        kinds: DeviceKinds,
        alerts: AlertService,
        database: Callable[[], TortoiseContext],
        bind: Callable[[], AbstractContextManager[object]],
    ) -> None:
        self.kinds = kinds
        self.devices = DeviceService(clock, kinds)
        self.writer = ReadingWriter(database)
        self.ingestor = Ingestor(clock, kinds, self.devices, self.writer, bind)
        self.liveness = Liveness(clock, kinds, alerts, bind)
        self.ingestor.on_stored = self.liveness.reported
        self.mqtt = (
            MQTTConsumer(
                settings.mqtt_url,
                self.ingestor,
                bind,
                client_id=settings.mqtt_client_id,
                share_group=settings.mqtt_share_group,
            )
            if settings.mqtt_url
            else None
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def authenticate(self, header: str | None) -> Caller:
        return await self.devices.authenticate(header)

    @property
    def mqtt_state(self) -> str:
        return self.mqtt.state if self.mqtt else "disabled"

    def jobs(self) -> list[JobSpec]:
        async def check_liveness(_ctx: PluginContext, _due: datetime) -> None:
            await self.liveness.check()

        return [
            JobSpec(
                id="liveness",
                trigger=IntervalTrigger(minutes=1),
                run=check_liveness,
                side_effects=False,
                misfire_grace_time=30,
            )
        ]

    async def start(self) -> None:
        self.writer.start()
        self._tasks.append(asyncio.create_task(self.liveness.run_forever(), name="liveness"))
        if self.mqtt is not None:
            self.mqtt.start()

    async def stop(self) -> None:
        if self.mqtt is not None:
            await self.mqtt.stop()
        await self.ingestor.handlers.join()
        await self.ingestor.handlers.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.writer.stop()
