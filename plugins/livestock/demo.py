"""The livestock plugin's part of the demo city: two dairy farms, 40 cows wearing collars
and thermometers, ten days of history, and a lively first hour.

Within minutes of the start one cow comes into heat, one is about to calve (and calves a few
hours later), and one falls ill: the first scoring run raises an estrus, a calving and a
health alert. After that the simulation posts every device's hourly readings through the
real ingest path and scores the two farms each simulated hour (the scheduler's 15-minute job
runs on the wall clock, far slower than an accelerated demo).

Readings are a pure function of the cow, the metric and the hour, and their ids name the
hour (``lv-<ear tag>-<metric>-<YYYYMMDDHH>``), so a restarted demo stores nothing twice.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from core.demo import DemoCity, DemoDevice, DemoSpec, Simulator
from core.identity.models import Organization, OrganizationKind, Role
from core.plugin import PluginContext
from plugins.livestock import scoring, services
from plugins.livestock.models import Animal, EventKind, Housing

HISTORY = timedelta(days=10)
NAMES = (
    "はな", "もも", "さくら", "ゆき", "あおい", "すず", "こはる", "なな", "りん", "つばき",
    "かえで", "みく", "ひまり", "あかね", "しずか", "ふじ", "まどか", "のぞみ", "ちはる", "ゆめ",
)  # fmt: skip


@dataclass(frozen=True)
class Farm:
    name: str
    username: str
    display_name: str
    cows: tuple[Housing, ...]
    prefix: str


FARMS = (
    Farm("みどり牧場", "midori", "緑川 由美", (Housing.FREE_STALL,) * 24, "13201"),
    Farm(
        "やまびこ牧場",
        "yamabiko",
        "山彦 健太",
        (Housing.TIE_STALL,) * 8 + (Housing.PASTURE,) * 8,
        "13202",
    ),
)
HEAT, CALVING, ILL = "1320100004", "1320100008", "1320100012"
"""The ear tags of the cow that comes into heat, the one that calves and the one that falls
ill (all at みどり牧場, a free-stall barn where heats show well)."""


@dataclass
class Cow:
    animal: Animal
    collar: DemoDevice
    thermo: DemoDevice
    level: float
    rumination: float
    temperature: float


@dataclass
class Herds:
    start: datetime
    """The demo's first hour: the scenario is told from here."""
    farms: list[Organization] = field(default_factory=list)
    cows: list[Cow] = field(default_factory=list)
    calved: bool = False


_herds: dict[int, Herds] = {}
"""What ``seed`` built, for ``simulate`` (device keys are shown only when made or rotated)."""


def _seed_of(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest())


def _normal(seed: int, hours: np.ndarray) -> np.ndarray:
    """Standard normal noise, a pure function of ``seed`` and each hour (splitmix64 and
    Box-Muller), so every demo start draws the same value for the same hour."""

    def uniform(salt: int) -> np.ndarray:
        z = hours.astype(np.uint64) * np.uint64(2) + np.uint64(salt)
        z = z + np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / float(2**53)

    with np.errstate(over="ignore"):
        u, v = uniform(0), uniform(1)
    return np.sqrt(-2 * np.log(u)) * np.cos(2 * np.pi * v)


def _profile(local_hours: np.ndarray) -> np.ndarray:
    """Relative activity by hour of day: quiet nights, milking at 5 and 16."""
    profile = np.where((local_hours >= 22) | (local_hours < 4), 0.55, 1.0)
    profile = profile + np.where((local_hours >= 9) & (local_hours < 16), 0.15, 0.0)
    profile = profile + np.where(np.isin(local_hours, (5, 16)), 0.9, 0.0)
    profile = profile + np.where(np.isin(local_hours, (6, 17)), 0.4, 0.0)
    return profile / 1.1


def readings(cow: Cow, start: datetime, first: datetime, last: datetime) -> tuple[list, list]:
    """The collar's and the thermometer's readings for the hours ``first .. last``."""
    base = int(first.timestamp()) // 3600
    hours = np.arange(base, int(last.timestamp()) // 3600 + 1)
    local = (hours + 9) % 24
    since = hours - int(start.timestamp()) // 3600  # hours since the demo's first hour
    tag = cow.animal.ear_tag
    activity = cow.level * _profile(local) * np.exp(0.22 * _normal(_seed_of(tag, "a"), hours))
    night = np.where((local >= 21) | (local < 5), 1.35, 0.85)
    rumination = cow.rumination / 24 * night + 3.0 * _normal(_seed_of(tag, "r"), hours)
    temperature = (
        cow.temperature
        + 0.15 * np.cos(2 * np.pi * (local - 17) / 24)
        + 0.1 * _normal(_seed_of(tag, "t"), hours)
    )
    thermo_until = None
    if tag == HEAT:  # in heat from 3 hours before the start, for 16 hours
        inside = (since >= -3) & (since < 13)
        activity = activity * np.where(inside, 4.2, 1.0)
        rumination = rumination * np.where(inside, 0.8, 1.0)
    elif tag == CALVING:  # the prepartum fall from 40 h before; calves 5 h after the start
        fall = np.clip((since + 40) / 40, 0, 1) * 0.45 + np.clip((since + 16) / 21, 0, 1) * 0.3
        temperature = temperature + 0.15 - fall
        thermo_until = 5  # the vaginal thermometer is expelled at calving
    elif tag == ILL:  # ill from 10 hours before the start, for two days
        inside = (since >= -10) & (since < 48)
        activity = activity * np.where(inside, 0.35, 1.0)
        rumination = rumination * np.where(inside, 0.3, 1.0)
        temperature = temperature + np.where(inside, 1.3, 0.0)
    collar, thermo = [], []
    for i, hour in enumerate(hours):
        ts = datetime.fromtimestamp(int(hour) * 3600, UTC)
        stamp = ts.strftime("%Y%m%d%H")
        moment = ts.isoformat()
        collar.append(
            {"id": f"lv-{tag}-a-{stamp}", "ts": moment, "metric": "activity",
             "value": round(float(activity[i]), 1)}
        )  # fmt: skip
        collar.append(
            {"id": f"lv-{tag}-r-{stamp}", "ts": moment, "metric": "rumination",
             "value": round(float(np.clip(rumination[i], 0, 60)), 1)}
        )  # fmt: skip
        if thermo_until is None or since[i] < thermo_until:
            thermo.append(
                {"id": f"lv-{tag}-t-{stamp}", "ts": moment, "metric": "temperature",
                 "value": round(float(temperature[i]), 2)}
            )  # fmt: skip
    return collar, thermo


def _records(tag: str, number: int, start: datetime) -> list[tuple[EventKind, datetime, dict]]:
    """A plausible reproductive history, so the calendar, the feed and the suppression rules
    have something to show."""
    day = timedelta(days=1)
    if tag == HEAT:
        return [
            (EventKind.CALVING, start - 75 * day, {}),
            (EventKind.HEAT, start - 21 * day, {"note": "standing heat seen at milking"}),
        ]
    if tag == CALVING:
        return [
            (EventKind.CALVING, start - 365 * day, {}),
            (EventKind.INSEMINATION, start - 282 * day, {"sire": "JP5H54321"}),
            (EventKind.PREGNANCY_CHECK, start - 245 * day, {"pregnant": True}),
            (EventKind.DRY_OFF, start - 55 * day, {}),
        ]
    kind = number % 5
    calved = start - (40 + 9 * number) * day
    if kind == 0:  # pregnant, calving within the week for some
        conceived = start - (276 + number % 7) * day
        return [
            (EventKind.CALVING, conceived - 90 * day, {}),
            (EventKind.INSEMINATION, conceived, {"sire": "JP5H12345"}),
            (EventKind.PREGNANCY_CHECK, conceived + 35 * day, {"pregnant": True}),
        ]
    if kind == 1:  # inseminated a month ago: the pregnancy check is due
        return [
            (EventKind.CALVING, calved - 60 * day, {}),
            (EventKind.INSEMINATION, start - (30 + number % 6) * day, {"sire": "JP5H12345"}),
        ]
    if kind == 2:  # open, last heat three weeks ago: the next is expected
        return [
            (EventKind.CALVING, calved, {}),
            (EventKind.HEAT, start - (19 + number % 4) * day, {}),
        ]
    if kind == 3:  # pregnant, mid-gestation
        return [
            (EventKind.CALVING, calved - 150 * day, {}),
            (EventKind.INSEMINATION, start - 120 * day, {"sire": "JP5H67890"}),
            (EventKind.PREGNANCY_CHECK, start - 85 * day, {"pregnant": True}),
        ]
    return [(EventKind.CALVING, calved, {})]  # open, no heat seen yet


async def seed(ctx: PluginContext, city: DemoCity) -> None:
    began = time.perf_counter()
    now = ctx.clock.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    herds = _herds[id(city)] = Herds(start)
    for farm in FARMS:
        organization = await city.organization(farm.name, OrganizationKind.FARM)
        herds.farms.append(organization)
        farmer = await city.user(
            farm.username,
            Role.MEMBER,
            organization,
            display_name=farm.display_name,
            note=f"dairy farmer, {farm.name} (livestock)",
        )
        for number, housing in enumerate(farm.cows, start=1):
            tag = f"{farm.prefix}{number:05d}"
            name = NAMES[(number - 1) % len(NAMES)]
            animal = await services.demo_animal(
                organization,
                tag,
                {
                    "name": name,
                    "breed": "holstein" if housing is not Housing.PASTURE else "japanese_black",
                    "birth_date": date(2021 + number % 3, 1 + number % 12, 10),
                    "group": "lactating" if number % 5 != 3 else "dry",
                    "housing": housing,
                    "created_at": start - HISTORY,
                    "updated_at": now,
                },
                _records(tag, number, start),
                str(farmer.id),
            )
            subject = (services.SUBJECT, str(animal.id))
            collar = await city.device(
                organization, services.COLLAR, f"首輪 {name}", f"collar-{tag}", subject
            )
            thermo = await city.device(
                organization, services.THERMO, f"体温計 {name}", f"thermo-{tag}", subject
            )
            level = 18.0 if housing is Housing.TIE_STALL else 40.0
            seed_value = _seed_of(tag, "cow")
            cow = Cow(
                animal,
                collar,
                thermo,
                level=level * (0.8 + 0.4 * (seed_value % 1000) / 1000),
                rumination=380 + (seed_value >> 10) % 100,
                temperature=38.75 + ((seed_value >> 20) % 30) / 100,
            )
            herds.cows.append(cow)
            collar_history, thermo_history = readings(cow, start, start - HISTORY, start)
            await city.backfill(collar, collar_history)
            await city.backfill(thermo, thermo_history)
    ctx.logger.info(
        "seeded %d cows with %s of history in %.1f s",
        len(herds.cows),
        HISTORY,
        time.perf_counter() - began,
    )


async def simulate(ctx: PluginContext, city: DemoCity, sim: Simulator) -> None:
    herds = _herds[id(city)]
    farms = [str(f.id) for f in herds.farms]
    await scoring.score(ctx, sim.clock.now(), farms)
    hour = herds.start
    while True:
        hour += timedelta(hours=1)
        wait = hour - sim.clock.now()
        if wait > timedelta(0):
            await sim.sleep(wait)
        for cow in herds.cows:
            collar, thermo = readings(cow, herds.start, hour, hour)
            await sim.post(cow.collar, collar)
            if thermo:
                await sim.post(cow.thermo, thermo)
        if not herds.calved and hour >= herds.start + timedelta(hours=5):
            herds.calved = True
            await _calve(ctx, herds, hour)
        await scoring.score(ctx, sim.clock.now(), farms)


async def _calve(ctx: PluginContext, herds: Herds, at: datetime) -> None:
    """The farmer records the calving, as the app would: it answers the calving alert."""
    cow = next(c for c in herds.cows if c.animal.ear_tag == CALVING)
    await services.record_event(ctx, cow.animal, EventKind.CALVING, at, note="demo")


demo = DemoSpec(seed=seed, simulate=simulate)
