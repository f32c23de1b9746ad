"""How long the red tide plugin takes to set the levels of a city's sea after a batch of counts.

Creates a throw-away database (SQLite by default; ``--postgres URL`` for PostgreSQL) with only
core and the red tide plugin migrated, seeds ``--areas`` sea areas with ``--stations``
stations spread over them, three fish farms of four cages per area (20 fishery
organizations with a member each), then measures, each through the plugin's own services:

1. a batch of counts (every station at 0.5, 2.5 and 5 m, six species) stored, then the
   evaluation of every area: the latest sampling of each station against the thresholds,
   and for each area whose level moves (about 40 % here) the alerts to its farms, the feeding
   advice for its cages and the ``red_tide.level_changed`` event;
2. the same evaluation with nothing new (what the hourly ``red_tide.evaluate_levels`` job
   costs);
3. the next day's flash report for every station through the CSV import (parse, store in
   bulk, evaluate the touched areas), and the same file imported again (nothing changes).

Prints the figures. Asserts nothing.

    .venv/bin/python bench/redtide_eval.py
    .venv/bin/python bench/redtide_eval.py --postgres postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SPECIES = (
    "karenia_mikimotoi",
    "chattonella_antiqua",
    "chattonella_marina",
    "chattonella_ovata",
    "margalefidinium_polykrikoides",
    "heterosigma_akashiwo",
)
ORGANIZATIONS = 20
NO_LOGIN = "!"


def settings_for(url: str) -> Any:
    from core.settings import PluginEntry, load_settings

    return load_settings(
        {},
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # noqa: S106
        log_level="WARNING",
        log_json=False,
        plugins={"red_tide": PluginEntry(module="plugins.red_tide:plugin")},
    )


async def create_postgres(admin_url: str) -> str:
    import asyncpg

    name = f"minori_bench_redtide_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def drop_postgres(admin_url: str, url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def square(i: int) -> list[list[list[float]]]:
    lon, lat = 129.0 + (i % 10) * 0.1, 32.5 + (i // 10) * 0.1
    return [[[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]]


async def seed(areas: int, stations: int) -> tuple[list[Any], list[Any]]:
    from core.identity.models import Organization, OrganizationKind, Role, User
    from plugins.red_tide.models import Cage, FarmedSpecies, FishFarm, SeaArea, Station

    orgs = []
    for i in range(ORGANIZATIONS):
        org = await Organization.create(name=f"Fishery {i}", kind=OrganizationKind.FISHERY)
        user = await User.create(
            username=f"fisher{i}", password_hash=NO_LOGIN, role=Role.MEMBER, display_name=f"f{i}"
        )
        await user.organizations.add(org)
        orgs.append(org)
    await SeaArea.bulk_create(
        [SeaArea(id=uuid.uuid4(), name=f"Area {i:03d}", polygon=square(i)) for i in range(areas)]
    )
    sea = await SeaArea.all().order_by("name")
    await Station.bulk_create(
        [
            Station(
                id=uuid.uuid4(),
                area=sea[i % areas],
                code=f"ST-{i:04d}",
                name=f"Station {i}",
                latitude=33.0,
                longitude=129.5,
            )
            for i in range(stations)
        ]
    )
    points = await Station.all().order_by("code")
    farms = [
        FishFarm(
            id=uuid.uuid4(),
            organization=orgs[(a * 3 + f) % ORGANIZATIONS],
            area=area,
            name=f"Farm {a}-{f}",
        )
        for a, area in enumerate(sea)
        for f in range(3)
    ]
    await FishFarm.bulk_create(farms)
    await Cage.bulk_create(
        [
            Cage(
                id=uuid.uuid4(),
                organization_id=farm.organization_id,
                farm_id=farm.id,
                name=f"C{c}",
                species=FarmedSpecies.YELLOWTAIL,
            )
            for farm in farms
            for c in range(4)
        ]
    )
    return list(sea), list(points)


async def steady(ctx: Any, areas: int, stations: int) -> None:
    """The hourly job's cost: every area again, nothing new (median of 3)."""
    from plugins.red_tide import services

    times = []
    for _ in range(3):
        started = time.perf_counter()
        changes = await services.evaluate_areas(ctx)
        times.append(time.perf_counter() - started)
        assert not changes
    print(
        f"evaluate {areas} areas / {stations} stations again, nothing new: "
        f"{statistics.median(times) * 1000:.0f} ms (median of 3)"
    )


def batch(stations: list[Any], day: datetime, rng: random.Random, heat: float) -> list[Any]:
    """The samples of :func:`report`, as rows (what an import stores)."""
    import csv
    import io
    from zoneinfo import ZoneInfo

    from plugins.red_tide.models import Sample, SampleSource

    by_code = {s.code: s for s in stations}
    rows = []
    for row in csv.DictReader(io.StringIO(report(stations, day, rng, heat).decode())):
        at = datetime.fromisoformat(f"{row['date']}T{row['time']}").replace(
            tzinfo=ZoneInfo("Asia/Tokyo")
        )
        rows.append(
            Sample(
                id=uuid.uuid4(),
                station_id=by_code[row["station"]].id,
                sampled_at=at.astimezone(UTC),
                sampling_day=at.date(),
                depth_m=float(row["depth_m"]),
                temperature_c=float(row["temperature_c"]),
                salinity=float(row["salinity"]),
                counts={sp: float(row[sp]) for sp in SPECIES},
                source=SampleSource.IMPORT,
            )
        )
    return rows


def report(stations: list[Any], day: datetime, rng: random.Random, heat: float) -> bytes:
    """A flash report: every station at 0.5, 2.5 and 5 m; about ``heat`` of the areas bloom."""
    lines = ["station,date,time,depth_m,temperature_c,salinity," + ",".join(SPECIES)]
    blooming = {a for a in sorted({s.area_id for s in stations}) if rng.random() < heat}
    for station in stations:
        for depth in (0.5, 2.5, 5):
            counts = [0.0] * len(SPECIES)
            if station.area_id in blooming:
                counts[0] = round(rng.choice((20, 80, 300, 700, 2500)) * rng.random(), 1)
            counts[1] = round(rng.random() * 3, 1)
            cells = ",".join(f"{c:g}" for c in counts)
            lines.append(f"{station.code},{day:%Y-%m-%d},09:00,{depth},24.1,32.5,{cells}")
    return ("\n".join(lines) + "\n").encode()


async def run(url: str, areas: int, stations: int) -> None:
    from core.alerts.models import Alert
    from core.clock import FakeClock
    from core.db import bound, migrate, open_database, tortoise_config
    from core.identity.access import Principal
    from core.identity.models import Role, User
    from core.registry import PluginRegistry
    from plugins.red_tide import services
    from plugins.red_tide.models import LevelChange, Sample

    settings = settings_for(url)
    clock = FakeClock(datetime(2026, 8, 20, 3, 0, tzinfo=UTC))  # noon in Japan, in season
    registry = PluginRegistry.load(settings, clock)
    loaded = registry.get("red_tide")
    assert loaded.plugin is not None and loaded.context is not None, loaded.error
    ctx = loaded.context
    config = tortoise_config(url, [loaded.plugin])
    await migrate(config)
    context = await open_database(config)
    rng = random.Random(20261126)
    try:
        with bound(context):
            staff = await User.create(username="lab", password_hash=NO_LOGIN, role=Role.ADVISOR)
            lab = Principal(str(staff.id), Role.ADVISOR, frozenset())
            started = time.perf_counter()
            _sea, points = await seed(areas, stations)
            print(
                f"seeded {areas} areas, {stations} stations, {areas * 3} farms, "
                f"{areas * 12} cages in {time.perf_counter() - started:.2f} s"
            )

            # 1. A batch of counts lands (day 1), then every area is evaluated.
            await Sample.bulk_create(batch(points, clock.now(), rng, 0.4), batch_size=500)
            changes_before, alerts_before = (
                await LevelChange.all().count(),
                await Alert.all().count(),
            )
            started = time.perf_counter()
            changes = await services.evaluate_areas(ctx)
            took = time.perf_counter() - started
            await ctx.events.drain()
            alerts = await Alert.all().count() - alerts_before
            print(
                f"evaluate {areas} areas / {stations} stations after a batch of "
                f"{stations * 3} samples: {took * 1000:.0f} ms "
                f"({len(changes)} level changes, {alerts} farm alerts, "
                f"{await LevelChange.all().count() - changes_before} changes recorded)"
            )
            await steady(ctx, areas, stations)

            # 2. The next day's flash report through the CSV import (upserts + evaluation).
            clock.advance(timedelta(days=1))
            body = report(points, clock.now(), rng, 0.25)
            changes_before, alerts_before = (
                await LevelChange.all().count(),
                await Alert.all().count(),
            )
            started = time.perf_counter()
            result = await services.import_samples(ctx, lab, body)
            took = time.perf_counter() - started
            await ctx.events.drain()
            levels = sorted(result.levels.values())
            print(
                f"import a flash report of {result.rows} rows ({result.created} new) and "
                f"evaluate: {took:.2f} s ({result.rows / took:,.0f} rows/s; "
                f"{await LevelChange.all().count() - changes_before} level changes, "
                f"{await Alert.all().count() - alerts_before} farm alerts; now "
                f"{levels.count('warning')} warning, {levels.count('advisory')} advisory, "
                f"{levels.count('none')} none)"
            )
            started = time.perf_counter()
            again = await services.import_samples(ctx, lab, body)
            took = time.perf_counter() - started
            print(
                f"re-import the same file: {took:.2f} s ({again.unchanged} unchanged, "
                f"{again.created} new)"
            )
            await steady(ctx, areas, stations)
    finally:
        await context.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--areas", type=int, default=100)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--postgres", metavar="URL", help="an admin URL of a PostgreSQL server")
    args = parser.parse_args()
    if args.postgres:
        url = asyncio.run(create_postgres(args.postgres))
        print(f"PostgreSQL: {url.rsplit('@', 1)[-1]}")
        try:
            asyncio.run(run(url, args.areas, args.stations))
        finally:
            asyncio.run(drop_postgres(args.postgres, url))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (WAL, synchronous=NORMAL), a temporary file")
        asyncio.run(run(f"sqlite://{Path(tmp) / 'bench.db'}", args.areas, args.stations))


if __name__ == "__main__":
    main()
