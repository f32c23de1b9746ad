"""Device liveness: a device silent for longer than its kind allows raises an ``offline``
alert, resolved as soon as it reports again."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from core.alerts.models import Alert, AlertStatus, Severity
from core.alerts.service import AlertService, Subject
from core.clock import Clock
from core.i18n import _
from core.telemetry.kinds import DeviceKinds
from core.telemetry.models import Device

log = logging.getLogger("minori.telemetry.liveness")

OFFLINE = "offline"
SUBJECT_KIND = "device"


def device_subject(device_id: uuid.UUID | str, name: str = "") -> Subject:
    return Subject(SUBJECT_KIND, str(device_id), name)


class Liveness:
    def __init__(
        self,
        clock: Clock,
        kinds: DeviceKinds,
        alerts: AlertService,
        bind: Callable[[], AbstractContextManager[object]],
    ) -> None:
        self.clock = clock
        self.kinds = kinds
        self.alerts = alerts
        self.bind = bind
        self._reported: set[uuid.UUID] = set()
        self._wake = asyncio.Event()

    async def check(self) -> int:
        """Raise an offline alert for every silent device; return how many are offline."""
        now = self.clock.now()
        offline = 0
        for kind in self.kinds:
            silent = await Device.filter(
                kind=kind.name, revoked_at__isnull=True, last_seen__lt=now - kind.offline_after
            )
            for device in silent:
                assert device.last_seen is not None
                minutes = int((now - device.last_seen).total_seconds() // 60)
                await self.alerts.raise_(
                    plugin="core",
                    organization_id=str(device.organization_id),
                    type=OFFLINE,
                    severity=Severity.WARNING,
                    title=_("{device} is offline", device=device.name),
                    body=_(
                        "{device} has not reported for {minutes} minutes. Check it in person.",
                        device=device.name,
                        minutes=minutes,
                    ),
                    subject=device_subject(device.id, device.name),
                    data={"device_id": str(device.id), "last_seen": device.last_seen.isoformat()},
                )
                offline += 1
        return offline

    def reported(self, device_ids: Iterable[uuid.UUID]) -> None:
        """Note devices that just reported; their offline alerts are resolved off the
        request path, one query for everything noted since the last round."""
        self._reported.update(device_ids)
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            reported, self._reported = self._reported, set()
            try:
                with self.bind():
                    await self._recover(reported)
            except Exception:
                log.exception("resolving offline alerts failed")

    async def _recover(self, device_ids: set[uuid.UUID]) -> None:
        alerts = await Alert.filter(
            plugin="core",
            type=OFFLINE,
            subject_kind=SUBJECT_KIND,
            subject_id__in=[str(i) for i in device_ids],
            status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED],
        )
        for alert in alerts:
            await self.alerts.mark_resolved(alert, None, "The device reported again.")
