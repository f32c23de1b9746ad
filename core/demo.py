"""The demo city: every plugin seeds its part of a lively city and simulates its devices.

A plugin contributes ``demo=DemoSpec(seed=..., simulate=...)``. ``seed(ctx, city)`` creates
its records through :class:`DemoCity` (every call is idempotent: the demo seeds on every
start and finds what an earlier start made) and back-fills history so predictors have a
baseline; ``simulate(ctx, city, sim)`` then runs for as long as the server does, posting
readings through the real ingest path at the demo clock's pace, so that the plugin's alerts
happen within the first minutes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.identity.access import Principal
from core.identity.models import Organization, OrganizationKind, Role, User
from core.identity.services import hash_password
from core.telemetry import schemas as telemetry_schemas
from core.telemetry.models import Device

if TYPE_CHECKING:
    from core.plugin import PluginContext
    from core.registry import PluginRegistry
    from core.telemetry.runtime import Telemetry

log = logging.getLogger("minori.demo")

PASSWORD = "minori-demo"  # noqa: S105 (the published demo password)


@dataclass(frozen=True, slots=True)
class DemoDevice:
    id: str
    key: str
    kind: str
    name: str
    organization_id: str


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    role: str
    note: str


@dataclass(frozen=True, kw_only=True)
class DemoSpec:
    seed: Callable[[PluginContext, DemoCity], Awaitable[None]]
    simulate: Callable[[PluginContext, DemoCity, Simulator], Awaitable[None]] | None = None


@dataclass
class DemoCity:
    """The demo's people, organizations and devices, shared by every plugin's seed."""

    telemetry: Telemetry
    logins: list[Login] = field(default_factory=list)
    _admin: Principal | None = None

    async def organization(
        self,
        name: str,
        kind: OrganizationKind,
        region: str = "Sasebo",
        share_with_advisors: bool = True,
    ) -> Organization:
        org, _created = await Organization.get_or_create(
            name=name,
            defaults={"kind": kind, "region": region, "share_with_advisors": share_with_advisors},
        )
        return org

    async def user(
        self,
        username: str,
        role: Role,
        organization: Organization | None = None,
        *,
        display_name: str = "",
        locale: str = "ja",
        note: str = "",
    ) -> User:
        user = await User.get_or_none(username=username)
        if user is None:
            user = await User.create(
                username=username,
                password_hash=hash_password(PASSWORD),
                role=role,
                display_name=display_name or username,
                locale=locale,
            )
        if organization is not None:
            await user.organizations.add(organization)
        if all(login.username != username for login in self.logins):
            self.logins.append(Login(username, role.value, note))
        return user

    async def device(
        self,
        organization: Organization,
        kind: str,
        name: str,
        external_id: str,
        subject: tuple[str, str] | None = None,
    ) -> DemoDevice:
        """The device with this external id (created, or found and given a fresh key: keys
        are stored hashed, so a restarted demo cannot know the old one)."""
        devices = self.telemetry.devices
        existing = await Device.get_or_none(organization=organization, external_id=external_id)
        if existing is None:
            created = await devices.create_device(
                await self._admin_principal(),
                telemetry_schemas.DeviceCreate(
                    kind=kind,
                    name=name,
                    organization_id=str(organization.id),
                    external_id=external_id,
                    subject=telemetry_schemas.SubjectRef(*subject) if subject else None,
                ),
            )
            device_id, key = created.id, created.key
        else:
            device_id = str(existing.id)
            key = (await devices.rotate_key(Device, await self._admin_principal(), device_id)).key
        return DemoDevice(device_id, key, kind, name, str(organization.id))

    async def backfill(self, device: DemoDevice, readings: Sequence[dict[str, Any]]) -> int:
        """Post past readings through the ingest path, a batch at a time; return how many
        were new (a restarted demo finds them stored already)."""
        caller = await self.telemetry.authenticate(f"Device {device.key}")
        accepted = 0
        for start in range(0, len(readings), 1000):
            batch = list(readings[start : start + 1000])
            accepted += (await self.telemetry.ingestor.ingest(caller, batch)).accepted
        return accepted

    async def _admin_principal(self) -> Principal:
        if self._admin is None:
            admin = await self.user("admin", Role.ADMIN, note="city DX office: everything")
            self._admin = Principal(str(admin.id), Role.ADMIN, frozenset())
        return self._admin


class Simulator:
    """What a plugin's simulation uses: the demo clock, a scaled sleep, and the ingest path."""

    def __init__(self, clock: Clock, speed: float, telemetry: Telemetry) -> None:
        self.clock = clock
        self.speed = speed
        self.telemetry = telemetry

    async def sleep(self, simulated: timedelta) -> None:
        await asyncio.sleep(max(simulated.total_seconds() / self.speed, 0.01))

    async def post(
        self, device: DemoDevice, readings: Sequence[dict[str, Any]]
    ) -> telemetry_schemas.IngestResult:
        """Readings as the device would post them: authenticated by its key, judged item
        by item, deduplicated on their ids, stored, then handed to the plugin."""
        caller = await self.telemetry.authenticate(f"Device {device.key}")
        result = await self.telemetry.ingestor.ingest(caller, list(readings))
        if result.rejected:
            log.warning("demo readings of %s rejected: %s", device.name, result.rejected)
        return result


class Demo:
    """Seeds the city at start-up and keeps every plugin's simulation running."""

    def __init__(
        self, speed: float = 1.0, announce: Callable[[DemoCity], None] | None = None
    ) -> None:
        self.speed = speed
        self.announce = announce
        self.city: DemoCity | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, registry: PluginRegistry, telemetry: Telemetry, clock: Clock) -> None:
        city = self.city = DemoCity(telemetry)
        await city.user("admin", Role.ADMIN, note="city DX office: everything")
        await city.user(
            "advisor", Role.ADVISOR, display_name="相談員 山田", note="city advisor: consultations"
        )
        for loaded in registry.active:
            spec = loaded.plugin.demo if loaded.plugin else None
            if spec is None or loaded.context is None:
                continue
            await spec.seed(loaded.context, city)
            log.info("seeded the demo of %s", loaded.name)
        if self.announce is not None:
            self.announce(city)
        simulator = Simulator(clock, self.speed, telemetry)
        for loaded in registry.active:
            spec = loaded.plugin.demo if loaded.plugin else None
            if spec is not None and spec.simulate is not None and loaded.context is not None:
                self._tasks.append(
                    asyncio.create_task(
                        self._simulate(loaded.name, spec, loaded.context, simulator),
                        name=f"demo-{loaded.name}",
                    )
                )

    async def _simulate(
        self, plugin: str, spec: DemoSpec, ctx: PluginContext, simulator: Simulator
    ) -> None:
        assert spec.simulate is not None and self.city is not None
        try:
            await spec.simulate(ctx, self.city, simulator)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the demo simulation of %s stopped", plugin)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
