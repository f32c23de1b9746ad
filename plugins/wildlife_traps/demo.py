"""The wildlife traps of the demo city: a hunting group with 25 traps on the hills around
Sasebo, each with a sensor that reports hourly.

Seeded: three days of heartbeats, a few inspections and two captures (for the compliance and
bounty reports), one permit about to expire. During the first minutes of the demo (at
``--speed 120`` one simulated hour is 30 s): a trigger bounces at trap 03 (no alert), trap 07
catches a boar (critical ``sprung`` alert, labelled by the model, escalating to the backups),
the sensor of trap 13 goes silent (core's offline alert after two missed heartbeats), and the
battery of trap 19 runs low (warning with the days left).
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta

from core.demo import DemoCity, DemoDevice, DemoSpec, Simulator
from core.identity.models import OrganizationKind, Role
from core.plugin import PluginContext
from plugins.wildlife_traps import services
from plugins.wildlife_traps.models import Disposal, Sex, Species, TrapKind

GROUP = "佐世保北部わな猟グループ"
HILLS = (
    # (name, latitude, longitude): hills around the city centre (33.18 N, 129.72 E)
    ("烏帽子岳", 33.2030, 129.7300),
    ("弓張岳", 33.1720, 129.7040),
    ("将冠岳", 33.2160, 129.7740),
    ("石岳", 33.1640, 129.6880),
    ("八天岳", 33.2400, 129.7600),
)
TRAPS = 25
CATCHES = 7
"""The trap that catches a boar during the demo."""
BOUNCES = 3
SILENT = 13
LOW_BATTERY = 19
EXPIRING_PERMIT = 22
HISTORY_DAYS = 3


def _name(number: int) -> str:
    return f"わな{number:02d} {HILLS[(number - 1) % len(HILLS)][0]}"


def _place(number: int) -> tuple[float, float]:
    _hill, lat, lon = HILLS[(number - 1) % len(HILLS)]
    ring = (number - 1) // len(HILLS)
    angle = number * 2.399  # golden angle: traps spread around the hill, not in a line
    radius = 0.004 + 0.003 * ring
    return round(lat + radius * math.sin(angle), 5), round(lon + radius * math.cos(angle), 5)


def _battery(number: int, hours_ago: float) -> float:
    if number == LOW_BATTERY:
        return round(4.78 + 0.004 * hours_ago, 3)
    return round(5.2 + 0.03 * (number % 7) + 0.0005 * hours_ago, 3)


def _beat(
    device: DemoDevice, number: int, at: datetime, hours_ago: float, trigger: int
) -> list[dict]:
    stamp = at.isoformat()
    base = f"s{number:02d}-{stamp}"
    return [
        {"id": f"{base}-t", "ts": stamp, "metric": "trigger", "value": trigger},
        {
            "id": f"{base}-b",
            "ts": stamp,
            "metric": "battery_v",
            "value": _battery(number, hours_ago),
        },
        {"id": f"{base}-r", "ts": stamp, "metric": "rssi_dbm", "value": -100 - (number % 9)},
    ]


async def _city(ctx: PluginContext, city: DemoCity):  # type: ignore[no-untyped-def]
    group = await city.organization(GROUP, OrganizationKind.HUNTING_GROUP)
    owner = await city.user(
        "hunter",
        Role.MEMBER,
        group,
        display_name="松尾 猟師",
        note="hunter: owns the 25 traps (wildlife_traps)",
    )
    second = await city.user(
        "hunter2", Role.MEMBER, group, display_name="田中 猟師", note="hunter: first backup"
    )
    third = await city.user(
        "hunter3", Role.MEMBER, group, display_name="山口 猟師", note="hunter: second backup"
    )
    return group, owner, second, third


async def seed(ctx: PluginContext, city: DemoCity) -> None:
    group, owner, second, third = await _city(ctx, city)
    now = ctx.clock.now().replace(minute=0, second=0, microsecond=0)
    since = now - timedelta(days=HISTORY_DAYS)
    today = now.date()
    for number in range(1, TRAPS + 1):
        lat, lon = _place(number)
        until = today + timedelta(days=9 if number == EXPIRING_PERMIT else 160)
        trap, created = await services.ensure_trap(
            ctx,
            group,
            owner,
            [second, third],
            name=_name(number),
            since=since,
            kind=TrapKind.SNARE if number % 3 == 0 else TrapKind.BOX,
            latitude=lat,
            longitude=lon,
            target_species=[Species.WILD_BOAR.value, Species.SIKA_DEER.value],
            permit_number=f"佐世保市有害捕獲第{number:03d}号",
            permit_valid_from=today - timedelta(days=200),
            permit_valid_until=until,
        )
        device = await city.device(
            group,
            "wildlife_traps.sensor",
            f"{trap.name} 子機",
            f"trap-sensor-{number:02d}",
            subject=(services.TRAP_SUBJECT, str(trap.id)),
        )
        if not created:
            continue
        readings = []
        for hours_ago in range(HISTORY_DAYS * 24, 0, -1):
            if number == 5 and 30 <= hours_ago < 36:
                continue  # a six-hour gap two days ago: that day is "missed" in the record
            readings += _beat(device, number, now - timedelta(hours=hours_ago), hours_ago, 0)
        await city.backfill(device, readings)
        if number in (2, 9):
            await services.demo_record(
                ctx,
                trap,
                owner,
                now - timedelta(days=2, hours=2),
                capture={
                    "species": Species.WILD_BOAR,
                    "count": 1,
                    "sex": Sex.FEMALE if number == 2 else Sex.MALE,
                    "estimated_weight_kg": 45.0 if number == 2 else 62.0,
                    "disposal": Disposal.PROCESSED,
                },
            )
        if number in (5, 11, 16):
            await services.demo_record(
                ctx, trap, second, now - timedelta(days=1, hours=3), capture=None
            )


async def simulate(ctx: PluginContext, city: DemoCity, sim: Simulator) -> None:
    group, _owner, _second, _third = await _city(ctx, city)
    devices = {
        number: await city.device(group, "wildlife_traps.sensor", "", f"trap-sensor-{number:02d}")
        for number in range(1, TRAPS + 1)
    }
    started = sim.clock.now()
    caught = False

    async def heartbeats() -> None:
        now = sim.clock.now()
        hours = -(now - started).total_seconds() / 3600
        for number, device in devices.items():
            if number == SILENT:
                continue  # its trigger line was cut: nothing arrives any more
            trigger = 1 if caught and number == CATCHES else 0
            battery_hours = hours * (30 if number == LOW_BATTERY else 1)
            await sim.post(device, _beat(device, number, now, battery_hours, trigger))

    await heartbeats()
    await sim.sleep(timedelta(minutes=2))
    bounce_at = sim.clock.now()
    await sim.post(
        devices[BOUNCES],
        [
            {
                "id": f"bounce-{bounce_at.isoformat()}",
                "ts": bounce_at.isoformat(),
                "metric": "trigger",
                "value": 1,
            },
            {
                "id": f"rest-{bounce_at.isoformat()}",
                "ts": (bounce_at + timedelta(seconds=2)).isoformat(),
                "metric": "trigger",
                "value": 0,
            },
        ],
    )
    await sim.sleep(timedelta(minutes=2))
    sprung_at = sim.clock.now()
    caught = True
    await sim.post(
        devices[CATCHES],
        [
            {
                "id": f"catch-{sprung_at.isoformat()}",
                "ts": sprung_at.isoformat(),
                "metric": "trigger",
                "value": 1,
            }
        ],
    )
    for _round in itertools.count():
        await sim.sleep(timedelta(minutes=56) if _round == 0 else timedelta(hours=1))
        await heartbeats()


demo = DemoSpec(seed=seed, simulate=simulate)
