"""The red tide part of the demo city: three sea areas of Sasebo, four buoys, eight farms
(six fish farms in Kujukushima, one in Sasebo Bay, pearl oyster rafts in Omura Bay).

During the demo a *Karenia mikimotoi* bloom develops in Kujukushima (九十九島), where Sasebo
runs its trial red-tide telemeter (下船越, DOMAIN.md): the buoys see the water warm, stratify
and turn green, the lab's counts cross the advisory level, then the warning level; the six
farms of the area are told to stop feeding; a feeder that was not paused dispenses anyway
and its farmer gives the reason; another farmer feeds a sunk cage and says why. Then the
bloom fades, the level comes down, and the story starts again a simulated day later.

At ``--speed 120`` the first alert (the advisory) comes about 30 seconds after start.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.demo import DemoCity, DemoDevice, DemoSpec, Simulator
from core.identity.access import Principal
from core.identity.models import Organization, OrganizationKind, Role, User
from core.plugin import PluginContext
from plugins.red_tide import schemas, services
from plugins.red_tide.models import (
    BulletinSubscription,
    Cage,
    FarmedSpecies,
    FeedingPlan,
    FishFarm,
    SeaArea,
    Station,
)

STEP = timedelta(minutes=30)
CYCLE = timedelta(hours=24)
BLOOM_AREA = "九十九島"


@dataclass(frozen=True)
class AreaSpec:
    name: str
    polygon: list[list[list[float]]]


AREAS = (
    AreaSpec(
        "九十九島",
        [[[129.55, 33.12], [129.71, 33.12], [129.71, 33.26], [129.55, 33.26], [129.55, 33.12]]],
    ),
    AreaSpec(
        "佐世保湾",
        [[[129.68, 33.05], [129.80, 33.05], [129.80, 33.17], [129.68, 33.17], [129.68, 33.05]]],
    ),
    AreaSpec(
        "大村湾",
        [[[129.75, 32.84], [129.99, 32.84], [129.99, 33.08], [129.75, 33.08], [129.75, 32.84]]],
    ),
)
# code, name, area, latitude, longitude, buoy operator (None: no buoy)
STATIONS = (
    ("KJ-1", "下船越", "九十九島", 33.165, 129.675, "九十九島水産"),
    ("KJ-2", "鹿子前", "九十九島", 33.175, 129.655, "九十九島水産"),
    ("KJ-3", "相浦沖", "九十九島", 33.200, 129.640, None),
    ("SB-1", "佐世保湾中央", "佐世保湾", 33.115, 129.725, "針尾養殖"),
    ("OM-1", "大村湾中央", "大村湾", 32.960, 129.860, "大村湾真珠"),
)
# organization, username, display name, locale, farms: (farm, area, lat, lon, cages)
FISHERIES: tuple[tuple[str, str, str, str, tuple[tuple[Any, ...], ...]], ...] = (
    (
        "九十九島水産",
        "umi",
        "海野 誠",
        "ja",
        (
            (
                "下船越 第1漁場",
                "九十九島",
                33.163,
                129.672,
                (("1号", FarmedSpecies.YELLOWTAIL), ("2号", FarmedSpecies.YELLOWTAIL)),
            ),
            (
                "下船越 第2漁場",
                "九十九島",
                33.168,
                129.680,
                (("3号", FarmedSpecies.GREATER_AMBERJACK), ("4号", FarmedSpecies.YELLOWTAIL)),
            ),
            (
                "鹿子前漁場",
                "九十九島",
                33.177,
                129.657,
                (("5号", FarmedSpecies.RED_SEA_BREAM), ("6号", FarmedSpecies.RED_SEA_BREAM)),
            ),
        ),
    ),
    (
        "鹿町養殖",
        "nguyen",
        "Nguyen Van An",
        "vi",
        (
            (
                "鹿町 北漁場",
                "九十九島",
                33.210,
                129.630,
                (("A", FarmedSpecies.TUNA), ("B", FarmedSpecies.TUNA)),
            ),
            (
                "鹿町 南漁場",
                "九十九島",
                33.195,
                129.640,
                (("C", FarmedSpecies.YELLOWTAIL), ("D", FarmedSpecies.RED_SEA_BREAM)),
            ),
        ),
    ),
    (
        "相浦水産",
        "ainoura",
        "相浦 花子",
        "ja",
        (
            (
                "相浦漁場",
                "九十九島",
                33.205,
                129.650,
                (("相1", FarmedSpecies.YELLOWTAIL), ("相2", FarmedSpecies.GREATER_AMBERJACK)),
            ),
        ),
    ),
    (
        "針尾養殖",
        "hario",
        "針尾 健",
        "ja",
        (
            (
                "針尾漁場",
                "佐世保湾",
                33.095,
                129.745,
                (("H1", FarmedSpecies.RED_SEA_BREAM), ("H2", FarmedSpecies.YELLOWTAIL)),
            ),
        ),
    ),
    (
        "大村湾真珠",
        "shinju",
        "Mary Oomura",
        "en",
        (("大村湾 真珠筏", "大村湾", 32.955, 129.850, (("P1", FarmedSpecies.PEARL_OYSTER),)),),
    ),
)
FEEDER_CAGE = ("下船越 第1漁場", "1号")
SUNK_CAGE = ("鹿町 北漁場", "A")


async def _area(spec: AreaSpec) -> SeaArea:
    area, _created = await SeaArea.get_or_create(name=spec.name, defaults={"polygon": spec.polygon})
    return area


async def _farm(org: Organization, area: SeaArea, name: str, lat: float, lon: float) -> FishFarm:
    farm, _created = await FishFarm.get_or_create(
        organization=org, name=name, defaults={"area": area, "latitude": lat, "longitude": lon}
    )
    return farm


async def _cage(farm: FishFarm, name: str, species: FarmedSpecies) -> Cage:
    cage, created = await Cage.get_or_create(
        farm=farm,
        name=name,
        defaults={"organization_id": farm.organization_id, "species": species, "stock": 4000},
    )
    if created:
        for at, kg in (("07:30", 60.0), ("15:00", 40.0)):
            await FeedingPlan.create(
                organization_id=farm.organization_id, cage=cage, time_of_day=at, kg=kg
            )
    return cage


async def seed(ctx: PluginContext, city: DemoCity) -> None:
    areas = {spec.name: await _area(spec) for spec in AREAS}
    organizations: dict[str, Organization] = {}
    for org_name, username, display, locale, farms in FISHERIES:
        org = await city.organization(org_name, OrganizationKind.FISHERY)
        organizations[org_name] = org
        user = await city.user(
            username,
            Role.MEMBER,
            org,
            display_name=display,
            locale=locale,
            note=f"fish farmer ({org_name}, red_tide, {locale})",
        )
        await BulletinSubscription.get_or_create(user=user)
        for farm_name, area_name, lat, lon, cages in farms:
            farm = await _farm(org, areas[area_name], farm_name, lat, lon)
            for cage_name, species in cages:
                await _cage(farm, cage_name, species)
    for code, name, area_name, lat, lon, _operator in STATIONS:
        await Station.get_or_create(
            code=code,
            defaults={"area": areas[area_name], "name": name, "latitude": lat, "longitude": lon},
        )
    now = ctx.clock.now().replace(minute=0, second=0, microsecond=0)
    for device in await _buoys(city, organizations):
        await city.backfill(device, _history(device, now))
    await _weekly_samples(ctx, now)


async def _buoys(city: DemoCity, organizations: dict[str, Organization]) -> list[DemoDevice]:
    devices = []
    for code, name, _area_name, _lat, _lon, operator in STATIONS:
        if operator is None:
            continue
        station = await Station.get(code=code)
        devices.append(
            await city.device(
                organizations[operator],
                "red_tide.buoy",
                f"ブイ {name}",
                f"buoy-{code}",
                subject=("red_tide.station", str(station.id)),
            )
        )
    return devices


async def _feeder(city: DemoCity) -> DemoDevice:
    farm_name, cage_name = FEEDER_CAGE
    cage = await Cage.get(farm__name=farm_name, name=cage_name).prefetch_related("farm")
    org = await Organization.get(id=cage.organization_id)
    return await city.device(
        org,
        "red_tide.feeder",
        f"給餌機 {cage_name}",
        "feeder-1",
        subject=("red_tide.cage", str(cage.id)),
    )


def _water(code: str, at: datetime, bloom: float, rng: random.Random) -> dict[str, float]:
    """A buoy's readings at ``at``: a warm, stratified autumn day; ``bloom`` (0 to 1) greens
    the surface, lowers bottom oxygen and raises the FSI of the bloom area's buoys."""
    in_bloom = code.startswith("KJ")
    b = bloom if in_bloom else 0.0
    hour = at.hour + at.minute / 60
    daily = math.sin(2 * math.pi * (hour - 9) / 24)
    surface = 24.5 + 0.6 * daily + (0.8 if in_bloom else 0.0) + rng.gauss(0, 0.05)
    values = {
        "temperature_0_5m": surface,
        "salinity_0_5m": (31.6 if in_bloom else 33.0) + rng.gauss(0, 0.03),
        "chlorophyll_0_5m": 3.0 + 24.0 * b + rng.gauss(0, 0.2),
        "turbidity_0_5m": 1.5 + 3.0 * b + rng.gauss(0, 0.1),
        "do_0_5m": 7.2 + 2.0 * b + 0.4 * daily + rng.gauss(0, 0.05),
        "temperature_bottom": surface - (3.2 if in_bloom else 1.2),
        "salinity_bottom": 33.8 + rng.gauss(0, 0.02),
        "do_bottom": 5.4 - 3.2 * b + rng.gauss(0, 0.05),
    }
    if in_bloom:
        values["fsi"] = 0.8 + 2.6 * b
    return {k: round(max(v, 0.0), 3) for k, v in values.items()}


def _history(device: DemoDevice, now: datetime) -> list[dict[str, Any]]:
    station_code = next(c for c, n, *_rest in STATIONS if device.name.endswith(n))
    rng = random.Random(f"{station_code}-{now.date()}")  # noqa: S311 - demo data
    readings = []
    for hours in range(7 * 24, 0, -1):
        at = now - timedelta(hours=hours)
        # The week before the bloom: the bloom area's water slowly greening.
        bloom = max(0.0, 0.25 * (1 - hours / (7 * 24))) if station_code.startswith("KJ") else 0.0
        for metric, value in _water(station_code, at, bloom, rng).items():
            readings.append(
                {
                    "id": f"h-{metric}-{at:%Y%m%d%H}",
                    "ts": at.isoformat(),
                    "metric": metric,
                    "value": value,
                }
            )
    return readings


async def _lab(ctx: PluginContext) -> Principal:
    advisor = await User.get(username="advisor")
    return Principal(str(advisor.id), Role.ADVISOR, frozenset())


async def _count(
    ctx: PluginContext, code: str, at: datetime, karenia: float, depths: tuple[float, ...]
) -> None:
    station = await Station.get(code=code)
    lab = await _lab(ctx)
    for depth in (0.5, 2.5, 5.0):
        cells = karenia if depth in depths else round(karenia * 0.2, 1)
        await services.record_sample(
            ctx,
            lab,
            schemas.SampleCreate(
                station_id=str(station.id),
                sampled_at=at,
                depth_m=depth,
                counts={"karenia_mikimotoi": cells, "chattonella_antiqua": 0.0},
                temperature_c=24.8,
                salinity=31.8,
            ),
        )


async def _weekly_samples(ctx: PluginContext, now: datetime) -> None:
    """Last week's routine counts: a little K. mikimotoi in Kujukushima, nothing elsewhere."""
    at = (now - timedelta(days=7)).replace(hour=0)
    for code, *_rest in STATIONS:
        await _count(ctx, code, at, 2.0 if code.startswith("KJ") else 0.0, (2.5,))


async def _member(username: str) -> Principal:
    user = await User.get(username=username).prefetch_related("organizations")
    orgs = frozenset(str(o.id) for o in user.organizations)
    return Principal(str(user.id), Role.MEMBER, orgs)


async def simulate(ctx: PluginContext, city: DemoCity, sim: Simulator) -> None:
    organizations = {
        name: await city.organization(name, OrganizationKind.FISHERY) for name, *_ in FISHERIES
    }
    buoys = await _buoys(city, organizations)
    feeder = await _feeder(city)
    codes = {b.id: next(c for c, n, *_r in STATIONS if b.name.endswith(n)) for b in buoys}
    rng = random.Random(20261126)  # noqa: S311 - demo data
    await services.compute_risks(ctx)
    start = sim.clock.now()
    cycle_start = start
    done: set[str] = set()
    step = 0
    while True:
        now = sim.clock.now()
        if now - cycle_start >= CYCLE:
            cycle_start, done = now, set()
        elapsed = now - cycle_start
        bloom = _bloom(elapsed)
        for buoy in buoys:
            water = _water(codes[buoy.id], now, bloom, rng)
            await sim.post(
                buoy,
                [
                    {
                        "id": f"s-{metric}-{now:%Y%m%d%H%M%S}",
                        "ts": now.isoformat(),
                        "metric": metric,
                        "value": value,
                    }
                    for metric, value in water.items()
                ],
            )
        await sim.post(
            feeder,
            [
                {
                    "id": f"hopper-{now:%Y%m%d%H%M%S}",
                    "ts": now.isoformat(),
                    "metric": "hopper_kg",
                    "value": 800.0,
                }
            ],
        )
        await _story(ctx, sim, feeder, elapsed, now, done)
        if step % 12 == 0:
            await services.compute_risks(ctx)
        step += 1
        await sim.sleep(STEP)


def _bloom(elapsed: timedelta) -> float:
    """How far the bloom has gone (0 to 1) at this point of the day's story."""
    hours = elapsed.total_seconds() / 3600
    if hours < 12:
        return min(1.0, 0.25 + hours / 4)
    return max(0.0, 1.0 - (hours - 12) / 8)


async def _story(
    ctx: PluginContext,
    sim: Simulator,
    feeder: DemoDevice,
    elapsed: timedelta,
    now: datetime,
    done: set[str],
) -> None:
    """The lab's counts and the farmers' actions, each once per simulated day."""

    async def once(name: str, after: timedelta) -> bool:
        if name in done or elapsed < after:
            return False
        done.add(name)
        return True

    if await once("advisory", timedelta(hours=1)):
        await _count(ctx, "KJ-1", now, 85.0, (2.5,))
    if await once("warning", timedelta(hours=2, minutes=30)):
        await _count(ctx, "KJ-1", now, 1200.0, (0.5, 2.5))
        await _count(ctx, "KJ-2", now, 760.0, (2.5,))
    if await once("feeder", timedelta(hours=3)):
        await sim.post(
            feeder,
            [
                {
                    "id": f"feed-{now:%Y%m%d%H%M%S}",
                    "ts": now.isoformat(),
                    "metric": "dispensed_kg",
                    "value": 35.0,
                }
            ],
        )
    if await once("reason", timedelta(hours=3, minutes=30)):
        umi = await _member("umi")
        pending = await services.list_feedings(umi, None, True, None, 50)
        for feeding in pending.items:
            await services.give_reason(
                ctx, umi, feeding.id, "給餌機の予約を止め忘れていました。予約は解除済みです。"
            )
    if await once("sunk cage", timedelta(hours=4)):
        nguyen = await _member("nguyen")
        farm_name, cage_name = SUNK_CAGE
        cage = await Cage.get(farm__name=farm_name, name=cage_name)
        await services.log_feeding(
            ctx,
            nguyen,
            schemas.FeedingCreate(
                cage_id=str(cage.id),
                kg=15.0,
                override_reason=(
                    "Cage A sunk to 12 m, below the bloom layer; a small ration to keep the "
                    "tuna from weakening."
                ),
            ),
        )
    if await once("fading", timedelta(hours=14)):
        await _count(ctx, "KJ-1", now, 240.0, (2.5,))
        await _count(ctx, "KJ-2", now, 90.0, (2.5,))
    if await once("lifted", timedelta(hours=20)):
        await _count(ctx, "KJ-1", now, 4.0, (2.5,))
        await _count(ctx, "KJ-2", now, 1.0, (2.5,))


demo = DemoSpec(seed=seed, simulate=simulate)
