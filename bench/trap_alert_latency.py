"""Trap alert latency: from a ``wildlife_traps.sensor`` trigger to the push at the FCM stand-in.

The approach of bench/alert_latency.py, for the wildlife trap plugin: the app and the local
FCM v1 stand-in (tests/fcm_server.py) run in one server process, as the patched ``FCM_URL``
requires; the real firebase-admin sender delivers to it; the server process reports each
arrival over a pipe. Triggers are sent from this process, one at a time (the next once the
previous push arrived, or after a timeout), over HTTP ``POST /api/v1/ingest`` and MQTT (QoS 1
on ``minori/<organization>/<device>/up``). Send and arrival times are both
``time.monotonic_ns()`` (CLOCK_MONOTONIC, system-wide on Linux), so they compare across
processes. The server is otherwise idle: no background load.

Each trigger is the first ``trigger`` = 1 reading of a sensor of its own trap, so every
trigger springs an armed trap and opens a NEW critical ``sprung`` alert (a repeat on an open
alert only counts and pushes nothing). The path measured is the whole rule: ingest, the
plugin handler (edge detection, the trap's state, the capture-likelihood model labelling the
alert), the alert and its outbox row, and the push. The push is matched to its trigger by
the trap's name in the notification title.

Cases:

- debounce 0 (``debounce_s = 0``): the alert is raised by the reading itself; this is the
  figure for the goal (p99 < 100 ms on an idle server);
- with the default debounce (5 s) for a few triggers: the alert waits for the trigger to
  hold that long (a per-trap timer), so the figure is the debounce plus the path.

Only the wildlife trap plugin is loaded (its own migrations on a throw-away database), so a
plugin in progress elsewhere in the tree cannot stop the benchmark.

    .venv/bin/python bench/trap_alert_latency.py [--triggers 300] [--backend sqlite|postgres|both]
        [--skip-mqtt] [--debounced 10]

A benchmark, never a test: it prints figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # the telemetry benchmarks' shared parts
    DEFAULT_MQTT_URL,
    DEFAULT_PG_URL,
    HOST,
    SECRET,
    asyncpg_dsn,
    cpu_seconds,
    isolated,
    percentile,
    postgres_reachable,
    server_process,
    wait_for_quiet,
)

try:  # reuse the MQTT helpers of bench/alert_latency.py when they are there
    from alert_latency import forget_session, wait_for_consumer
except ImportError:  # pragma: no cover - that file is being written alongside this one
    forget_session = wait_for_consumer = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
PUSH_TOKEN = "bench-hunter-phone"  # noqa: S105 (an FCM registration token of the stand-in)
OWNER = "bench-hunter"
TRIGGER_TIMEOUT_S = 5.0
WARMUP_TRIGGERS = 5
DEFAULT_DEBOUNCE_S = 5


def trap_settings(database_url: str, debounce_s: int, **overrides: Any) -> Any:
    """Core and the wildlife trap plugin alone."""
    from core.settings import PluginEntry, load_settings

    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET,
        "log_level": "WARNING",
        "log_json": False,
        "models_dir": str(ROOT / "models_ml" / "artifacts"),
        "plugins": {
            "wildlife_traps": PluginEntry(
                module="plugins.wildlife_traps:plugin", settings={"debounce_s": debounce_s}
            )
        },
        "facades": {},
    }
    values.update(overrides)
    return load_settings({}, **values)


# a throw-away database with traps, sensors and one hunter with a phone


@dataclass
class Database:
    backend: str
    url: str


@contextmanager
def trap_database(backend: str, pg_admin_url: str) -> Iterator[Database]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="minori-bench-traps-") as tmp:
            database = Database("sqlite", f"sqlite://{Path(tmp) / 'traps.db'}")
            isolated(_migrate, database.url)
            yield database
        return
    name = f"minori_bench_traps_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(pg_admin_url)
    database = Database("postgres", urlunsplit(parts._replace(path=f"/{name}")))
    asyncio.run(_pg_admin(pg_admin_url, f'CREATE DATABASE "{name}"'))
    try:
        isolated(_migrate, database.url)
        yield database
    finally:
        asyncio.run(_pg_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _config(database_url: str) -> dict[str, Any]:
    from core.clock import SystemClock
    from core.db import tortoise_config
    from core.registry import PluginRegistry

    registry = PluginRegistry.load(trap_settings(database_url, 0), SystemClock())
    return tortoise_config(database_url, [p.plugin for p in registry.active if p.plugin])


def _migrate(database_url: str) -> None:
    from core.db import migrate

    asyncio.run(migrate(_config(database_url)))


@dataclass
class Seeded:
    organization_id: str
    traps: list[tuple[str, str, str]] = field(default_factory=list)
    """(trap name, sensor device id, sensor key) per trap."""


def _seed(database_url: str, traps: int, tag: str) -> tuple[str, list[tuple[str, str, str]]]:
    """A hunting group, its hunter (with a phone), ``traps`` armed traps with a sensor each
    (plain values: they cross a process boundary)."""
    from core.alerts.models import PushToken
    from core.db import bound, open_database
    from core.identity.models import Organization, OrganizationKind, Role, User
    from core.identity.services import hash_password
    from core.identity.tokens import new_secret, token_hash
    from core.telemetry.models import Device
    from plugins.wildlife_traps.models import EventKind, Trap, TrapEvent, TrapKind, TrapState

    async def work() -> tuple[str, list[tuple[str, str, str]]]:
        context = await open_database(_config(database_url))
        try:
            with bound(context):
                now = datetime.now(UTC) - timedelta(days=2)
                group = await Organization.create(
                    name="Bench hunters", kind=OrganizationKind.HUNTING_GROUP
                )
                hunter = await User.create(
                    username=OWNER,
                    password_hash=hash_password("bench password 1234"),
                    role=Role.MEMBER,
                    display_name="Bench hunter",
                )
                await hunter.organizations.add(group)
                await PushToken.create(
                    user_id=hunter.id,
                    token=PUSH_TOKEN,
                    kind="fcm_token",
                    platform="android",
                    app_version="1.0.0",
                    last_seen_at=datetime.now(UTC),
                )
                seeded = Seeded(str(group.id))
                today = now.date()
                for i in range(traps):
                    name = f"bench-trap-{tag}-{i:05d}"
                    trap = await Trap.create(
                        organization=group,
                        name=name,
                        kind=TrapKind.BOX,
                        latitude=33.18 + i * 1e-5,
                        longitude=129.72,
                        target_species=["wild_boar"],
                        permit_number="BENCH-1",
                        permit_valid_from=today - timedelta(days=30),
                        permit_valid_until=today + timedelta(days=300),
                        owner=hunter,
                        backup_ids=[],
                        state=TrapState.ARMED,
                        state_changed_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                    await TrapEvent.create(
                        organization=group,
                        trap=trap,
                        kind=EventKind.CREATED,
                        at=now,
                        state_after=TrapState.ARMED,
                        created_at=now,
                    )
                    key = new_secret()
                    device = await Device.create(
                        organization=group,
                        kind="wildlife_traps.sensor",
                        name=f"{name} sensor",
                        external_id=name,
                        subject_kind="wildlife_traps.trap",
                        subject_id=str(trap.id),
                        key_hash=token_hash(key),
                    )
                    seeded.traps.append((name, str(device.id), key))
                return seeded.organization_id, seeded.traps
        finally:
            await context.close_connections()

    return asyncio.run(work())


# the server process: the app and the FCM stand-in together


def serve_with_fcm(
    database_url: str, debounce_s: int, overrides: dict[str, Any], arrivals: Connection, port: int
) -> None:
    import logging

    import uvicorn

    from core.app import create_app
    from tests.fcm_server import fcm_sender, fcm_server

    logging.basicConfig(level=logging.WARNING)
    # The broker is shared: other benchmarks' messages reach this consumer too and are
    # dead-lettered here (unknown devices); that is not worth a line each.
    logging.getLogger("minori.telemetry.mqtt").setLevel(logging.ERROR)
    with fcm_server() as fcm, fcm_sender() as sender:
        threading.Thread(target=_report_arrivals, args=(fcm, arrivals), daemon=True).start()
        app = create_app(
            trap_settings(database_url, debounce_s, **overrides), run_jobs=False, push_sender=sender
        )
        uvicorn.run(
            app, host=HOST, port=port, log_config=None, access_log=False, log_level="warning"
        )


def _report_arrivals(fcm: Any, arrivals: Connection) -> None:
    """``(arrival monotonic ns, notification title)`` for every push the stand-in records
    (it stamps them with ``time.perf_counter()``; the offset to ``time.monotonic()`` is
    taken here: both are CLOCK_MONOTONIC on Linux)."""
    sent = 0
    while True:
        try:
            received = fcm.wait_for(sent + 1, timeout=1.0)
        except AssertionError:
            continue
        offset = time.monotonic() - time.perf_counter()
        for push in received[sent:]:
            title = push.message.get("notification", {}).get("title", "")
            arrivals.send((round((push.at + offset) * 1e9), title))
        sent = len(received)


class Arrivals:
    """Pushes reported by the server process, awaited by trap name."""

    def __init__(self, connection: Connection, loop: asyncio.AbstractEventLoop) -> None:
        self.connection = connection
        self.loop = loop
        self.waiting: dict[str, asyncio.Future[int]] = {}
        self.seen: dict[str, int] = {}
        self.unexpected = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def expect(self, trap: str) -> asyncio.Future[int]:
        future = self.loop.create_future()
        with self._lock:
            if trap in self.seen:
                future.set_result(self.seen[trap])
            else:
                self.waiting[trap] = future
        return future

    def _read(self) -> None:
        while True:
            try:
                at, title = self.connection.recv()
            except (EOFError, OSError):
                return
            trap = next((name for name in self.waiting if name in title), None)
            with self._lock:
                if trap is None:
                    self.unexpected += 1
                    continue
                self.seen[trap] = at
                future = self.waiting.pop(trap)
            self.loop.call_soon_threadsafe(_resolve, future, at)


def _resolve(future: asyncio.Future[int], at: int) -> None:
    if not future.done():
        future.set_result(at)


# triggers


@dataclass
class Latencies:
    label: str
    values_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    missing: int = 0
    failed: int = 0


def trigger(reading_id: str) -> dict[str, Any]:
    return {"id": reading_id, "ts": datetime.now(UTC).isoformat(), "metric": "trigger", "value": 1}


async def http_triggers(
    base_url: str,
    traps: list[tuple[str, str, str]],
    label: str,
    arrivals: Arrivals,
    gap_s: float,
    timeout_s: float,
) -> Latencies:
    result = Latencies(label)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        for name, _device_id, key in traps:
            body = json.dumps({"readings": [trigger(f"trigger-{name}")]}).encode()
            headers = {"Authorization": f"Device {key}", "Content-Type": "application/json"}
            pushed = arrivals.expect(name)
            sent = time.monotonic_ns()
            response = await client.post("/api/v1/ingest", content=body, headers=headers)
            answered = time.monotonic_ns()
            if response.status_code != 202 or response.json()["accepted"] != 1:
                result.failed += 1
                continue
            result.answer_ms.append((answered - sent) / 1e6)
            try:
                at = await asyncio.wait_for(pushed, timeout_s)
            except TimeoutError:
                result.missing += 1
                continue
            result.values_ms.append((at - sent) / 1e6)
            await asyncio.sleep(gap_s)
    return result


async def mqtt_triggers(
    mqtt_url: str,
    organization_id: str,
    traps: list[tuple[str, str, str]],
    label: str,
    arrivals: Arrivals,
    gap_s: float,
) -> Latencies:
    import aiomqtt

    result = Latencies(label)
    parts = urlsplit(mqtt_url)
    async with aiomqtt.Client(
        parts.hostname or HOST,
        parts.port or 1883,
        identifier=f"minori-bench-traps-{uuid.uuid4().hex[:8]}",
    ) as client:
        for name, device_id, _key in traps:
            pushed = arrivals.expect(name)
            sent = time.monotonic_ns()
            await client.publish(
                f"minori/{organization_id}/{device_id}/up",
                json.dumps(trigger(f"trigger-{name}")),
                qos=1,
            )
            try:
                at = await asyncio.wait_for(pushed, TRIGGER_TIMEOUT_S)
            except TimeoutError:
                result.missing += 1
                continue
            result.values_ms.append((at - sent) / 1e6)
            await asyncio.sleep(gap_s)
    return result


def _wait_for_mqtt(base_url: str) -> None:
    if wait_for_consumer is not None:
        wait_for_consumer(base_url)
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if httpx.get(f"{base_url}/health/ready", timeout=5).json()["checks"]["mqtt"] == "ok":
            return
        time.sleep(0.05)
    raise SystemExit("the app's MQTT consumer did not subscribe within 30 s")


# one backend


@dataclass
class Run:
    label: str
    cases: list[Latencies] = field(default_factory=list)
    unexpected: int = 0
    server_cpu_s: float | None = None
    wall_s: float = 0.0


def run_backend(backend: str, args: argparse.Namespace) -> Run:
    began = time.monotonic()
    run = Run("SQLite" if backend == "sqlite" else "PostgreSQL")
    mqtt = not args.skip_mqtt
    per_case = args.triggers
    needed = WARMUP_TRIGGERS * 2 + per_case * (2 if mqtt else 1) + args.debounced + WARMUP_TRIGGERS
    tag = uuid.uuid4().hex[:6]
    with trap_database(backend, args.pg_url) as database:
        print(f"{run.label}: seeding {needed} traps ...", file=sys.stderr)
        seeded = Seeded(*isolated(_seed, database.url, needed, tag))
        traps = list(seeded.traps)

        def take(count: int) -> list[tuple[str, str, str]]:
            taken = traps[:count]
            del traps[:count]
            return taken

        overrides: dict[str, Any] = {}
        if mqtt:
            overrides = {
                "mqtt_url": args.mqtt_url,
                "mqtt_client_id": f"minori-bench-traps-{tag}",
                "mqtt_share_group": f"benchtraps{tag}",
            }
        spawn = multiprocessing.get_context("spawn")
        try:
            for debounce_s in (0, DEFAULT_DEBOUNCE_S) if args.debounced else (0,):
                receive, send = spawn.Pipe(duplex=False)
                served = overrides if debounce_s == 0 else {}  # MQTT only for the first
                with server_process(serve_with_fcm, database.url, debounce_s, served, send) as (
                    base_url,
                    process,
                ):
                    if mqtt and debounce_s == 0:
                        _wait_for_mqtt(base_url)
                    cpu_before = cpu_seconds(process.pid) if process.pid else None

                    async def cases(
                        debounce_s: int = debounce_s, receive: Connection = receive
                    ) -> None:
                        arrivals = Arrivals(receive, asyncio.get_running_loop())
                        if debounce_s == 0:
                            # the first pushes open connections, load the model, warm caches
                            await http_triggers(
                                base_url, take(WARMUP_TRIGGERS), "warm-up", arrivals, args.gap, 5
                            )
                            print(f"{run.label}: HTTP, debounce 0 ...", file=sys.stderr)
                            run.cases.append(
                                await http_triggers(
                                    base_url,
                                    take(per_case),
                                    "HTTP, debounce 0",
                                    arrivals,
                                    args.gap,
                                    TRIGGER_TIMEOUT_S,
                                )
                            )
                            if mqtt:
                                await mqtt_triggers(
                                    args.mqtt_url,
                                    seeded.organization_id,
                                    take(WARMUP_TRIGGERS),
                                    "warm-up",
                                    arrivals,
                                    args.gap,
                                )
                                print(f"{run.label}: MQTT, debounce 0 ...", file=sys.stderr)
                                run.cases.append(
                                    await mqtt_triggers(
                                        args.mqtt_url,
                                        seeded.organization_id,
                                        take(per_case),
                                        "MQTT, debounce 0",
                                        arrivals,
                                        args.gap,
                                    )
                                )
                        else:
                            await http_triggers(
                                base_url, take(WARMUP_TRIGGERS), "warm-up", arrivals, 0.1, 15
                            )
                            print(
                                f"{run.label}: HTTP, debounce {debounce_s} s ...", file=sys.stderr
                            )
                            run.cases.append(
                                await http_triggers(
                                    base_url,
                                    take(args.debounced),
                                    f"HTTP, debounce {debounce_s} s",
                                    arrivals,
                                    0.1,
                                    debounce_s + TRIGGER_TIMEOUT_S,
                                )
                            )
                        run.unexpected += arrivals.unexpected

                    asyncio.run(cases())
                    cpu_after = cpu_seconds(process.pid) if process.pid else None
                    if cpu_before is not None and cpu_after is not None:
                        run.server_cpu_s = (run.server_cpu_s or 0) + cpu_after - cpu_before
        finally:
            if mqtt and forget_session is not None:
                import aiomqtt

                asyncio.run(forget_session(args.mqtt_url, overrides["mqtt_client_id"], aiomqtt))
    run.wall_s = time.monotonic() - began
    return run


def fmt(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print(
        f"\nwildlife_traps.sensor trigger -> push at the FCM stand-in, idle server, one trigger "
        f"at a time ({args.gap * 1000:g} ms after the previous push), a new trap (a new alert) "
        f"per trigger. Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end.\n"
    )
    print(
        f"{'backend':<11}{'case':<22}{'pushes':>7}{'missing':>8}{'p50 ms':>9}{'p90 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'goal p99':>14}{'202 p50':>9}{'202 p99':>9}"
    )
    for run in runs:
        for case in run.cases:
            v = case.values_ms
            goal = ""
            if "debounce 0" in case.label and v:
                goal = "<100 " + ("met" if percentile(v, 99) < 100 else "NOT met")
            print(
                f"{run.label:<11}{case.label:<22}{len(v):>7}{case.missing + case.failed:>8}"
                f"{fmt(percentile(v, 50)):>9}{fmt(percentile(v, 90)):>9}"
                f"{fmt(percentile(v, 99)):>9}{fmt(max(v, default=float('nan'))):>9}{goal:>14}"
                f"{fmt(percentile(case.answer_ms, 50)):>9}{fmt(percentile(case.answer_ms, 99)):>9}"
            )
        extra = f", {run.unexpected} pushes matched no trigger" if run.unexpected else ""
        cpu = f", server CPU {run.server_cpu_s:.1f} s" if run.server_cpu_s is not None else ""
        print(f"{run.label:<11}run took {run.wall_s:.0f} s{cpu}{extra}\n")
    print(
        "202 p50/p99: HTTP only, the answer to the trigger's POST (its reading committed). "
        f"missing: no 202 or no push within the timeout ({TRIGGER_TIMEOUT_S:g} s after the "
        "debounce)."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triggers", type=int, default=300, help="triggers per debounce-0 case")
    parser.add_argument("--debounced", type=int, default=10, help="triggers with the 5 s debounce")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--skip-mqtt", action="store_true", help="only the HTTP cases")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between triggers")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL admin URL")
    parser.add_argument("--mqtt-url", default=DEFAULT_MQTT_URL)
    parser.add_argument(
        "--wait-quiet", type=float, default=0, help="seconds to wait for an idle machine first"
    )
    args = parser.parse_args(argv)
    if args.triggers < 1 or args.debounced < 0 or args.gap < 0:
        parser.error("--triggers must be >= 1, --debounced >= 0, --gap >= 0")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and (why := postgres_reachable(args.pg_url)):
        print(f"skipping PostgreSQL: not reachable at {args.pg_url} ({why})", file=sys.stderr)
        backends.remove("postgres")
    began = time.monotonic()
    runs = []
    for backend in backends:
        wait_for_quiet(args.wait_quiet)
        runs.append(run_backend(backend, args))
    report(runs, args)
    print(f"total {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
