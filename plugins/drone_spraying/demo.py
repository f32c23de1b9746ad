"""The drone spraying part of the demo city: three farms around Sasebo with ten fields
(boundaries as polygons), drones, pilots, a fictional pesticide catalogue with label rules,
and a season of sprays, flight logs and pre-flight checks. One planned spraying is refused
(its pre-harvest interval runs past the planned harvest).

While seeding, a flight track that sprayed a quarter of its area outside the field raises a
drift alert; a few demo minutes later a farmer moves a harvest inside a pre-harvest interval,
which raises another. A pilot licence ending in three weeks and a drone inspection due soon
show as home cards.

The products, their registration numbers, the drones' registration numbers and the licences
are made up; the active ingredients are real ones, with label rules of the usual shape for
drone spraying (8 times dilution, 0.8 L of liquid per 10 a).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.demo import DemoCity, DemoSpec, Simulator
from core.errors import Invalid
from core.identity.access import Principal
from core.identity.models import OrganizationKind, Role
from core.plugin import PluginContext
from plugins.drone_spraying import schemas, services
from plugins.drone_spraying.models import FarmField, Season

log = logging.getLogger("minori.drone_spraying.demo")

RICE = "水稲"
SOYBEAN = "大豆"

CATALOGUE = [
    schemas.PesticideCreate(
        registration_number="第90101号",
        name="サセボガード フロアブル",
        active_ingredients=["ジノテフラン"],
        formulation="フロアブル",
        kind="殺虫剤",
        labels=[
            schemas.LabelRule(
                crop=RICE,
                max_amount_per_10a=0.1,
                min_dilution=8,
                phi_days=7,
                max_uses=3,
                ingredient_max_uses={"ジノテフラン": 4},
                target="ウンカ類、カメムシ類",
            )
        ],
    ),
    schemas.PesticideCreate(
        registration_number="第90102号",
        name="ミノリ いもちエアー",
        active_ingredients=["トリシクラゾール"],
        formulation="ゾル",
        kind="殺菌剤",
        labels=[
            schemas.LabelRule(
                crop=RICE,
                max_amount_per_10a=0.1,
                min_dilution=8,
                phi_days=7,
                max_uses=2,
                ingredient_max_uses={"トリシクラゾール": 3},
                target="いもち病",
            )
        ],
    ),
    schemas.PesticideCreate(
        registration_number="第90103号",
        name="九十九島 EW",
        active_ingredients=["エトフェンプロックス"],
        formulation="乳濁剤",
        kind="殺虫剤",
        labels=[
            schemas.LabelRule(
                crop=RICE,
                max_amount_per_10a=0.1,
                min_dilution=8,
                phi_days=14,
                max_uses=2,
                ingredient_max_uses={"エトフェンプロックス": 3},
                target="カメムシ類",
            ),
            schemas.LabelRule(
                crop=SOYBEAN,
                max_amount_per_10a=0.1,
                min_dilution=8,
                phi_days=14,
                max_uses=2,
                ingredient_max_uses={"エトフェンプロックス": 2},
                target="カメムシ類、ハスモンヨトウ",
            ),
        ],
    ),
    schemas.PesticideCreate(
        registration_number="第90104号",
        name="ハイキ ダブルフロアブル",
        active_ingredients=["ジノテフラン", "トリシクラゾール"],
        formulation="フロアブル",
        kind="殺虫殺菌剤",
        labels=[
            schemas.LabelRule(
                crop=RICE,
                max_amount_per_10a=0.1,
                min_dilution=8,
                phi_days=14,
                max_uses=2,
                ingredient_max_uses={"ジノテフラン": 4, "トリシクラゾール": 3},
                target="いもち病、ウンカ類",
            )
        ],
    ),
    schemas.PesticideCreate(
        registration_number="第90105号",
        name="せちばる SC",
        active_ingredients=["アゾキシストロビン"],
        formulation="フロアブル",
        kind="殺菌剤",
        labels=[
            schemas.LabelRule(
                crop=SOYBEAN,
                max_amount_per_10a=0.1,
                min_dilution=8,
                phi_days=7,
                max_uses=3,
                ingredient_max_uses={"アゾキシストロビン": 4},
                target="紫斑病、べと病",
            )
        ],
    ),
    schemas.PesticideCreate(
        registration_number="第90106号",
        name="エムカエ 1kg粒剤",
        active_ingredients=["クロチアニジン"],
        formulation="粒剤",
        kind="殺虫剤",
        amount_unit="kg",
        labels=[
            schemas.LabelRule(
                crop=RICE,
                max_amount_per_10a=1.0,
                phi_days=7,
                max_uses=2,
                ingredient_max_uses={"クロチアニジン": 2},
                target="ウンカ類、カメムシ類",
            )
        ],
    ),
]


@dataclass(frozen=True)
class Farm:
    name: str
    username: str
    display_name: str
    origin: tuple[float, float]
    """(latitude, longitude) the farm's fields are laid out around."""
    drone: tuple[str, str, int]
    """Registration number, model, days since the last inspection."""
    pilot: tuple[str, str, str, int]
    """Name, licence number, phone, days until the licence expires."""


FARMS = [
    Farm(
        "早岐グリーンファーム",
        "drone_haiki",
        "早岐 誠",
        (33.1385, 129.7825),
        ("JU3A00SB0001", "DJI AGRAS T30", 200),
        ("早岐 誠", "2-SB-000123", "0956-00-1234", 20),
    ),
    Farm(
        "江迎ライスファーム",
        "drone_emukae",
        "江迎 美咲",
        (33.2605, 129.6595),
        ("JU3A00SB0002", "XAG P100", 340),
        ("江迎 美咲", "2-SB-000456", "0956-00-5678", 400),
    ),
    Farm(
        "世知原そよ風農園",
        "drone_sechibaru",
        "世知原 大地",
        (33.2370, 129.8150),
        ("JU3A00SB0003", "Nileworks Nile-T20", 90),
        ("世知原 大地", "2-SB-000789", "0956-00-9012", 600),
    ),
]


@dataclass(frozen=True)
class DemoField:
    farm: int
    name: str
    crop: str
    offset: tuple[float, float]
    """East and north of the farm's origin, metres."""
    size: tuple[float, float]
    angle: float
    """Degrees, counter-clockwise."""


FIELDS = [
    DemoField(0, "早岐 北の田", RICE, (0, 0), (120, 60), 12),
    DemoField(0, "早岐 川沿いの田", RICE, (150, -40), (100, 50), 8),
    DemoField(0, "早岐 宮ノ前", RICE, (-140, 60), (90, 55), 20),
    DemoField(0, "早岐 山手の畑", SOYBEAN, (40, 180), (80, 45), -10),
    DemoField(1, "江迎 一の坪", RICE, (0, 0), (140, 70), 5),
    DemoField(1, "江迎 二の坪", RICE, (0, -90), (140, 70), 5),
    DemoField(1, "江迎 堤下", RICE, (170, 30), (110, 60), -15),
    DemoField(2, "世知原 茶園下", SOYBEAN, (0, 0), (100, 60), 30),
    DemoField(2, "世知原 棚田上段", RICE, (-120, 80), (70, 30), 45),
    DemoField(2, "世知原 棚田下段", RICE, (-110, 40), (75, 30), 45),
]

# (field index, days from today, product registration number, dilution, status)
SPRAYS = [
    (0, -70, "第90101号", 8, "done"),
    (0, -40, "第90102号", 8, "done"),
    (0, -20, "第90104号", 8, "done"),
    (1, -60, "第90106号", 1, "done"),
    (1, -30, "第90102号", 8, "done"),
    (1, -5, "第90104号", 8, "done"),
    (2, -45, "第90101号", 8, "done"),
    (3, -25, "第90105号", 8, "done"),
    (4, -50, "第90104号", 8, "done"),
    (4, -12, "第90101号", 10, "done"),
    (5, -35, "第90102号", 8, "done"),
    (6, -3, "第90101号", 8, "done"),
    (7, -18, "第90103号", 8, "done"),
    (8, -40, "第90106号", 1, "done"),
    (9, -40, "第90106号", 1, "done"),
    (5, 2, "第90101号", 8, "planned"),
]
REFUSED = (0, 3, "第90103号", 8)
"""A stink-bug spraying planned three days from now on a field harvested in twelve: the
product's 14-day pre-harvest interval runs past the harvest, so Minori refuses it."""
TRACKED = {0: 4.0, 5: 18.0}
"""Spray index -> metres the drone overshoots the field at each end of its passes (the
second overshoots enough for a drift warning)."""
MOVED_HARVEST = 1
"""The field whose farmer moves the harvest inside the interval during the demo."""

SWATH_M = 5.0
HARVEST_IN_DAYS = {RICE: 12, SOYBEAN: 26}
PLANTED_DAYS_AGO = {RICE: 110, SOYBEAN: 95}

_A, _F = 6378137.0, 1 / 298.257223563
_E2 = _F * (2 - _F)


def lonlat(origin: tuple[float, float], east: float, north: float) -> list[float]:
    """Metres east and north of ``origin`` as [longitude, latitude] (ellipsoid radii at the
    origin's latitude: exact enough over a few hundred metres)."""
    lat, lon = origin
    phi = math.radians(lat)
    meridian = _A * (1 - _E2) / (1 - _E2 * math.sin(phi) ** 2) ** 1.5
    normal = _A / math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    return [
        round(lon + math.degrees(east / (normal * math.cos(phi))), 8),
        round(lat + math.degrees(north / meridian), 8),
    ]


def _rotate(x: float, y: float, angle: float) -> tuple[float, float]:
    a = math.radians(angle)
    return x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)


def field_point(spec: DemoField, x: float, y: float) -> list[float]:
    """A point of the field in its own frame (x along, y across, from its centre)."""
    dx, dy = _rotate(x, y, spec.angle)
    return lonlat(FARMS[spec.farm].origin, spec.offset[0] + dx, spec.offset[1] + dy)


def boundary(spec: DemoField) -> dict[str, object]:
    w, h = spec.size[0] / 2, spec.size[1] / 2
    ring = [field_point(spec, x, y) for x, y in ((-w, -h), (w, -h), (w, h), (-w, h), (-w, -h))]
    return {"type": "Polygon", "coordinates": [ring]}


def track_csv(spec: DemoField, start: datetime, overshoot: float) -> str:
    """A lawn-mower flight over the field at 5 m/s, pump on along each pass."""
    w, h = spec.size[0] / 2, spec.size[1] / 2
    rows = ["time,lat,lon,altitude,flow"]
    moment = start
    passes = max(1, math.ceil(spec.size[1] / SWATH_M))
    for k in range(passes):
        y = -h + SWATH_M / 2 + k * SWATH_M
        ends = (-w - overshoot, w + overshoot)
        if k % 2:
            ends = ends[::-1]
        steps = 8
        for i in range(steps + 1):
            x = ends[0] + (ends[1] - ends[0]) * i / steps
            lon, lat = field_point(spec, x, y)
            flow = 1.6 if i < steps else 0.0
            rows.append(f"{moment.isoformat()},{lat},{lon},3.0,{flow}")
            moment += timedelta(seconds=(spec.size[0] + 2 * overshoot) / steps / 5)
        moment += timedelta(seconds=4)
    return "\n".join(rows)


def _at(day: date, hour: int, zone: object) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)  # type: ignore[arg-type]


async def _farmers(city: DemoCity) -> list[tuple[str, Principal]]:
    found = []
    for farm in FARMS:
        organization = await city.organization(farm.name, OrganizationKind.FARM)
        user = await city.user(
            farm.username,
            Role.MEMBER,
            organization,
            display_name=farm.display_name,
            note=f"farmer, drone spraying ({farm.name})",
        )
        found.append(
            (
                str(organization.id),
                Principal(str(user.id), Role.MEMBER, frozenset({str(organization.id)})),
            )
        )
    return found


async def seed(ctx: PluginContext, city: DemoCity) -> None:
    farmers = await _farmers(city)
    if await FarmField.exists(organization_id=farmers[0][0]):
        await services.expiry_watch(ctx, ctx.clock.now())
        return
    zone = ctx.city_zone
    today = ctx.today()
    pesticides = {}
    listed = await services.list_pesticides(None, 200)
    for item in listed.items:
        pesticides[item.registration_number] = item.id
    for product in CATALOGUE:
        if product.registration_number not in pesticides:
            pesticides[product.registration_number] = (
                await services.create_pesticide(ctx, product)
            ).id

    drones, pilots = [], []
    for (org_id, farmer), farm in zip(farmers, FARMS, strict=True):
        registration, model, inspected_days_ago = farm.drone
        drone = await services.create_drone(
            ctx,
            farmer,
            schemas.DroneCreate(
                organization_id=org_id,
                registration_number=registration,
                model=model,
                last_inspection=today - timedelta(days=inspected_days_ago),
            ),
        )
        name, licence, phone, expires_in = farm.pilot
        pilot = await services.create_operator(
            ctx,
            farmer,
            schemas.OperatorCreate(
                organization_id=org_id,
                name=name,
                licence_number=licence,
                licence_expires=today + timedelta(days=expires_in),
                phone=phone,
            ),
        )
        drones.append(drone)
        pilots.append(pilot)

    seasons = []
    for spec in FIELDS:
        org_id, farmer = farmers[spec.farm]
        field = await services.create_field(
            ctx,
            farmer,
            schemas.FieldCreate(
                organization_id=org_id,
                name=spec.name,
                crop=spec.crop,
                location=f"長崎県佐世保市 {spec.name.split()[0]}町",
                boundary=boundary(spec),
            ),
        )
        season = await services.create_season(
            ctx,
            farmer,
            schemas.SeasonCreate(
                field_id=field.id,
                crop=spec.crop,
                name=f"{today.year} {spec.crop}",
                planting_date=today - timedelta(days=PLANTED_DAYS_AGO[spec.crop]),
                planned_harvest_date=today + timedelta(days=HARVEST_IN_DAYS[spec.crop]),
            ),
        )
        seasons.append((season, field))

    for index, (field_index, days, registration, dilution, status) in enumerate(SPRAYS):
        spec = FIELDS[field_index]
        season, field = seasons[field_index]
        org_id, farmer = farmers[spec.farm]
        drone, pilot = drones[spec.farm], pilots[spec.farm]
        day = today + timedelta(days=days)
        start, end = _at(day, 6, zone), _at(day, 6, zone) + timedelta(minutes=25)
        is_granule = registration == "第90106号"
        amount = round(field.area_m2 / 1000 * (0.8 if is_granule else 0.09), 3)
        if status == "done":
            await services.create_preflight_check(
                ctx,
                farmer,
                schemas.PreflightCheckCreate(
                    drone_id=drone.id,
                    operator_id=pilot.id,
                    checked_on=day,
                    items={
                        "機体": True,
                        "プロペラ": True,
                        "バッテリー": True,
                        "散布装置": True,
                        "通信": True,
                    },
                ),
            )
        record = await services.create_record(
            ctx,
            farmer,
            schemas.SprayCreate(
                season_id=season.id,
                status=status,  # type: ignore[arg-type]
                started_at=start,
                ended_at=end,
                products=[schemas.SprayProductIn(pesticides[registration], dilution, amount)],
                drone_id=drone.id,
                operator_id=pilot.id,
                purpose="病害虫防除",
                wind_speed_ms=[1.2, 2.1, 3.4, 0.8][index % 4],
                temperature_c=[24.5, 27.0, 22.3, 29.1][index % 4],
            ),
            "ja",
        )
        if status == "done":
            await services.create_flight_log(
                ctx,
                farmer,
                schemas.FlightLogCreate(
                    drone_id=drone.id,
                    operator_id=pilot.id,
                    spray_record_id=record.id,
                    purpose="農薬散布",
                    takeoff_place=f"{spec.name} 農道",
                    takeoff_at=start - timedelta(minutes=5),
                    landing_place=f"{spec.name} 農道",
                    landing_at=end + timedelta(minutes=3),
                ),
            )
        if index in TRACKED:
            await services.import_track(
                ctx,
                farmer,
                record.id,
                schemas.TrackImport(
                    format="csv", swath_width_m=SWATH_M, csv=track_csv(spec, start, TRACKED[index])
                ),
                "ja",
            )

    field_index, days, registration, dilution = REFUSED
    season, field = seasons[field_index]
    _org_id, farmer = farmers[FIELDS[field_index].farm]
    day = today + timedelta(days=days)
    try:
        await services.create_record(
            ctx,
            farmer,
            schemas.SprayCreate(
                season_id=season.id,
                started_at=_at(day, 6, zone),
                ended_at=_at(day, 7, zone),
                products=[
                    schemas.SprayProductIn(
                        pesticides[registration], dilution, round(field.area_m2 / 1000 * 0.09, 3)
                    )
                ],
                drone_id=drones[0].id,
                operator_id=pilots[0].id,
                purpose="カメムシ類防除",
                wind_speed_ms=2.0,
            ),
            "ja",
        )
    except Invalid:
        log.info("the demo's planned spraying on %s was refused, as intended", field.name)
    await services.expiry_watch(ctx, ctx.clock.now())


async def simulate(ctx: PluginContext, city: DemoCity, sim: Simulator) -> None:
    """A few demo minutes in, a farmer moves a harvest inside a pre-harvest interval."""
    await sim.sleep(timedelta(minutes=20))
    spec = FIELDS[MOVED_HARVEST]
    farmers = await _farmers(city)
    _org_id, farmer = farmers[spec.farm]
    field = await FarmField.get_or_none(name=spec.name, organization_id=farmers[spec.farm][0])
    if field is None:
        return
    season = await Season.filter(field=field).order_by("-created_at").first()
    if season is None or season.earliest_harvest_date is None:
        return
    moved = season.earliest_harvest_date - timedelta(days=3)
    await services.update_season(
        ctx, farmer, str(season.id), schemas.SeasonUpdate(planned_harvest_date=moved)
    )


demo = DemoSpec(seed=seed, simulate=simulate)
