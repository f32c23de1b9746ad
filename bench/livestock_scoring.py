"""Livestock scoring at scale: one run of the 15-minute job over 10,000 animals.

Seeds a throw-away database (SQLite, PostgreSQL or both) with farms of 100 cows each, every
cow wearing a collar (activity and rumination every hour) and, by default, a thermometer,
with 7 days and 2 hours of hourly history ending now (what one run reads: a 6-day baseline,
the current day, and the hour before it), a few reproductive records per cow, and about 3%
of the cows in heat over the last hours. Readings are bulk-loaded straight into
``core_reading`` (the ingest path has its own benchmark, bench/ingest.py).

Then it runs the plugin's scoring (``plugins.livestock.scoring.score``, what the job
``livestock.score`` runs) twice in the same process: the first run raises the alerts for the
cows in heat, the second is the steady state of every 15 minutes, when those heats are known.
Each run prints its total and its stages: reading the history from the database, the herd
records, features, prediction, and alerts. The goal is under 60 s per run.

    .venv/bin/python bench/livestock_scoring.py [--animals 10000] [--thermometers 1.0]
                                                [--backend sqlite|postgres|both]

A benchmark, never a test: it prints figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DEFAULT_PG_URL, ROOT, asyncpg_dsn, isolated, postgres_reachable

HERD = 100
HOURS = 170
COLUMNS = ("device_id", "message_id", "ts", "metric", "value", "received_at")


def settings_for(url: str):
    """Core and the livestock plugin alone: the benchmark does not depend on the others."""
    from core.settings import PluginEntry, load_settings

    return load_settings(
        {},
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # noqa: S106
        log_level="WARNING",
        log_json=False,
        plugins={"livestock": PluginEntry(module="plugins.livestock:plugin")},
    )


def config_for(url: str):
    from core.clock import SystemClock
    from core.db import tortoise_config
    from core.registry import PluginRegistry

    registry = PluginRegistry.load(settings_for(url), SystemClock())
    return tortoise_config(url, [p.plugin for p in registry.active if p.plugin])


def now_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def series(animals: int, hours: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Hourly activity, rumination and temperature of every cow (float32 to save memory)."""
    local = (np.arange(hours) + 9) % 24
    profile = np.where((local >= 22) | (local < 4), 0.55, 1.0) + np.isin(local, (5, 16)) * 0.9
    level = np.exp(rng.normal(np.log(40), 0.3, animals)).astype(np.float32)
    activity = level[:, None] * profile[None, :] * np.exp(rng.normal(0, 0.22, (animals, hours)))
    rumination = 18 * np.where((local >= 21) | (local < 5), 1.35, 0.85)[None, :] + rng.normal(
        0, 2.5, (animals, hours)
    )
    temperature = (
        38.9
        + 0.15 * np.cos(2 * np.pi * (local - 17) / 24)[None, :]
        + rng.normal(0, 0.1, (animals, hours))
    )
    in_heat = rng.random(animals) < 0.03
    activity[in_heat, -6:] *= 4.2
    return {
        "activity": activity.astype(np.float32),
        "rumination": np.clip(rumination, 0, 60).astype(np.float32),
        "temperature": temperature.astype(np.float32),
    }


async def seed_records(url: str, animals: int, thermometers: float, start: datetime):
    """Farms, members, animals with records, devices: through the ORM, in bulk."""
    from core.db import bound, open_database
    from core.identity.models import Organization, OrganizationKind, Role, User
    from core.identity.tokens import new_secret, token_hash
    from core.telemetry.models import Device
    from plugins.livestock.models import Animal, EventKind, ReproductiveEvent

    context = await open_database(config_for(url))
    collars: list[uuid.UUID] = []
    thermos: list[tuple[int, uuid.UUID]] = []
    try:
        with bound(context):
            day = timedelta(days=1)
            for farm in range((animals + HERD - 1) // HERD):
                org = await Organization.create(
                    name=f"Bench farm {farm}", kind=OrganizationKind.FARM
                )
                user = await User.create(
                    username=f"bench-{farm}",
                    password_hash="-",  # noqa: S106
                    role=Role.MEMBER,
                )
                await user.organizations.add(org)
                herd = [
                    Animal(
                        id=uuid.uuid4(),
                        organization_id=org.id,
                        ear_tag=f"{farm:05d}{i:05d}",
                        group="lactating" if i % 4 else "dry",
                        monitoring_since=start - 30 * day,
                    )
                    for i in range(min(HERD, animals - farm * HERD))
                ]
                await Animal.bulk_create(herd)
                events = []
                devices = []
                for i, animal in enumerate(herd):
                    events.append(
                        ReproductiveEvent(
                            organization_id=org.id, animal_id=animal.id, kind=EventKind.CALVING,
                            at=start - ((360 if i % 10 == 0 else 30) + i) * day,
                        )
                    )  # fmt: skip
                    if i % 10 == 0:  # pregnant, due within the calving watch
                        events += [
                            ReproductiveEvent(
                                organization_id=org.id, animal_id=animal.id,
                                kind=EventKind.INSEMINATION, at=start - (272 + i % 10) * day,
                            ),
                            ReproductiveEvent(
                                organization_id=org.id, animal_id=animal.id,
                                kind=EventKind.PREGNANCY_CHECK, pregnant=True,
                                at=start - 235 * day,
                            ),
                        ]  # fmt: skip
                    elif i % 3 == 0:
                        events.append(
                            ReproductiveEvent(
                                organization_id=org.id, animal_id=animal.id,
                                kind=EventKind.INSEMINATION, at=start - (i % 25) * day,
                            )
                        )  # fmt: skip
                    kinds = ["livestock.collar"]
                    if (farm * HERD + i) < thermometers * animals:
                        kinds.append("livestock.thermo")
                    for kind in kinds:
                        device = Device(
                            id=uuid.uuid4(),
                            organization_id=org.id,
                            kind=kind,
                            name=f"{kind} {animal.ear_tag}",
                            external_id=f"{kind}-{animal.ear_tag}",
                            subject_kind="livestock.animal",
                            subject_id=str(animal.id),
                            key_hash=token_hash(new_secret()),
                        )
                        devices.append(device)
                        if kind == "livestock.collar":
                            collars.append(device.id)
                        else:
                            thermos.append((farm * HERD + i, device.id))
                await ReproductiveEvent.bulk_create(events)
                await Device.bulk_create(devices)
    finally:
        await context.close_connections()
    return collars, thermos


def reading_rows(
    collars: list[uuid.UUID],
    thermos: list[tuple[int, uuid.UUID]],
    data: dict[str, np.ndarray],
    start: datetime,
    text_times: bool,
):
    """Rows for ``core_reading``, a device at a time."""
    moments = [start + timedelta(hours=h) for h in range(HOURS)]
    stamps = [m.isoformat(" ") for m in moments] if text_times else moments
    received = stamps[-1]
    for index, device in enumerate(collars):
        key = str(device) if text_times else device
        for metric in ("activity", "rumination"):
            values = data[metric][index]
            for h in range(HOURS):
                yield (key, f"{metric[0]}{h}", stamps[h], metric, float(values[h]), received)
    for index, device in thermos:
        key = str(device) if text_times else device
        values = data["temperature"][index]
        for h in range(HOURS):
            yield (key, f"t{h}", stamps[h], "temperature", float(values[h]), received)


def load_sqlite(path: str, rows) -> int:
    connection = sqlite3.connect(path)
    count = 0
    try:
        connection.execute("PRAGMA synchronous=OFF")
        batch = []
        sql = f"INSERT INTO core_reading ({','.join(COLUMNS)}) VALUES (?,?,?,?,?,?)"  # noqa: S608
        for row in rows:
            batch.append(row)
            if len(batch) == 200_000:
                connection.executemany(sql, batch)
                count += len(batch)
                batch = []
        connection.executemany(sql, batch)
        count += len(batch)
        connection.commit()
        connection.execute("ANALYZE")
    finally:
        connection.close()
    return count


async def load_postgres(url: str, rows) -> int:
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(url))
    count = 0
    try:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == 200_000:
                await connection.copy_records_to_table(
                    "core_reading", records=batch, columns=COLUMNS
                )
                count += len(batch)
                batch = []
        await connection.copy_records_to_table("core_reading", records=batch, columns=COLUMNS)
        count += len(batch)
        await connection.execute("ANALYZE core_reading")
    finally:
        await connection.close()
    return count


async def score_twice(url: str, at: datetime) -> list:
    from core.clock import FakeClock
    from core.db import bound, open_database
    from core.registry import PluginRegistry
    from plugins.livestock import scoring

    settings = settings_for(url)
    registry = PluginRegistry.load(settings, FakeClock(at))
    context = await open_database(config_for(url))
    ctx = registry.get("livestock").context
    assert ctx is not None
    reports = []
    try:
        with bound(context):
            for name in ("livestock.estrus", "livestock.calving"):
                ctx.predictors.get(name)  # loaded once per app, before the first run
            for _run in range(2):
                began = time.perf_counter()
                report = await scoring.score(ctx, at)
                reports.append((time.perf_counter() - began, report))
    finally:
        await context.close_connections()
    return reports


@contextmanager
def fresh_database(backend: str, pg_url: str) -> Iterator[str]:
    """A migrated database of its own (core and livestock), removed afterwards."""
    from core.db import migrate

    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="minori-livestock-") as tmp:
            url = f"sqlite://{Path(tmp) / 'bench.db'}"
            asyncio.run(migrate(config_for(url)))
            yield url
        return
    import asyncpg

    name = f"minori_bench_livestock_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(pg_url)._replace(path=f"/{name}"))

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(asyncpg_dsn(pg_url))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(migrate(config_for(url)))
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def bench(backend: str, animals: int, thermometers: float, pg_url: str) -> list[str]:
    """Seed, load and score on one backend; the lines to print. Runs in a process of its
    own (tortoise keeps a backend's SQL style per process)."""
    os.chdir(ROOT)  # the model artifacts are found from the repository root
    out = []
    rng = np.random.default_rng(20261126)
    end = now_hour()
    start = end - timedelta(hours=HOURS - 1)
    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    with fresh_database(backend, pg_url) as url:
        began = time.perf_counter()
        collars, thermos = asyncio.run(seed_records(url, animals, thermometers, end))
        data = series(animals, HOURS, rng)
        rows = reading_rows(collars, thermos, data, start, text_times=backend == "sqlite")
        if backend == "sqlite":
            stored = load_sqlite(url.removeprefix("sqlite://"), rows)
        else:
            stored = asyncio.run(load_postgres(url, rows))
        out.append(
            f"{label}: {animals} animals, {len(thermos)} with a thermometer, "
            f"{stored:,} readings seeded in {time.perf_counter() - began:.0f} s"
        )
        for run, (seconds, report) in enumerate(
            asyncio.run(score_twice(url, end + timedelta(minutes=15))), start=1
        ):
            stages = ", ".join(f"{k} {v:.2f}" for k, v in report.seconds.items())
            out.append(
                f"  run {run}: {seconds:6.2f} s  (estrus scored {report.estrus_scored}, "
                f"calving {report.calving_scored}; alerts raised: {report.heats} heats, "
                f"{report.calvings} calvings, {report.health} health)  stages (s): {stages}"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--animals", type=int, default=10_000)
    parser.add_argument("--thermometers", type=float, default=1.0, help="share of the cows")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("MINORI_BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args()
    print(
        f"livestock scoring: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "postgres":
            problem = postgres_reachable(args.pg_url)
            if problem:
                print(f"PostgreSQL: skipped ({problem})")
                continue
        for line in isolated(bench, backend, args.animals, args.thermometers, args.pg_url):
            print(line, flush=True)


if __name__ == "__main__":
    main()
