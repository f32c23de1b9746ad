"""What the telemetry benchmarks share: throw-away databases, seeding, the server process and
the HTTP ingest load generator. Not a benchmark itself (see ingest.py, alert_latency.py).

Every load loop here is bounded in count and time and sends only to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the sensors plugin lives in tests/sensors.py
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
SECRET = "bench-secret-key-that-is-long-enough-for-hs256"  # noqa: S105 (a throw-away database)
PASSWORD = "bench password 1234"  # noqa: S105
FARMER = "bench-farmer"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_MQTT_URL = "private"
PROBE = "sensors.probe"
COLUMNS = ("device_id", "message_id", "ts", "metric", "value", "received_at")


# settings and databases


PLUGIN_SETS = ("repo", "sensors")


def bench_settings(database_url: str, plugin_set: str = "repo", **overrides: Any) -> Any:
    """The test-only ``sensors`` plugin (device kind ``sensors.probe``: ``door`` 0..1 raises
    a critical alert, ``temperature`` -40..85 does not) after the repo's plugins from
    plugins.toml (``plugin_set`` "repo", as tests/conftest.py's ``sensor_settings``), or
    alone ("sensors": core and the probe only, when a plugin in progress does not start)."""
    from core.settings import PluginEntry, load_plugins_file, load_settings

    plugins = dict(load_plugins_file(ROOT / "plugins.toml")) if plugin_set == "repo" else {}
    plugins["sensors"] = PluginEntry(module="tests.sensors:sensors")
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET,
        "log_level": "WARNING",
        "log_json": False,
        "plugins": plugins,
    }
    values.update(overrides)
    return load_settings({"MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml")}, **values)


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def postgres_reachable(admin_url: str) -> str | None:
    """None when PostgreSQL answers at ``admin_url``, else why not."""
    import asyncpg

    async def probe() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@dataclass
class Database:
    """A fresh, migrated database: a SQLite file in a temporary folder, or a PostgreSQL
    database created here and dropped on close."""

    backend: str
    url: str
    admin_url: str | None = None
    folder: Path | None = None

    @property
    def label(self) -> str:
        return "SQLite" if self.backend == "sqlite" else "PostgreSQL"

    def count_readings(self) -> int:
        return self.scalar("SELECT count(*) FROM core_reading")

    def scalar(self, sql: str) -> int:
        if self.backend == "sqlite":
            connection = sqlite3.connect(self.sqlite_path, timeout=30)
            try:
                return int(connection.execute(sql).fetchone()[0])
            finally:
                connection.close()
        import asyncpg

        async def query() -> int:
            connection = await asyncpg.connect(asyncpg_dsn(self.url))
            try:
                return int(await connection.fetchval(sql))
            finally:
                await connection.close()

        return asyncio.run(query())

    @property
    def sqlite_path(self) -> str:
        return self.url.removeprefix("sqlite://").split("?", 1)[0]


@contextmanager
def fresh_database(
    backend: str, pg_admin_url: str, tag: str, plugin_set: str = "repo"
) -> Iterator[Database]:
    """A migrated database of its own, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="minori-bench-") as tmp:
            database = Database("sqlite", f"sqlite://{Path(tmp) / f'{tag}.db'}", folder=Path(tmp))
            migrate(database.url, plugin_set)
            yield database
        return
    name = f"minori_bench_{tag}_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(pg_admin_url)
    database = Database("postgres", urlunsplit(parts._replace(path=f"/{name}")), pg_admin_url)
    _pg_admin(pg_admin_url, f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="minori-bench-") as tmp:
            database.folder = Path(tmp)
            migrate(database.url, plugin_set)
            yield database
    finally:
        _pg_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(admin_url))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


def _isolated_call(connection: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        connection.send((True, fn(*args)))
    except BaseException as exc:
        connection.send((False, f"{type(exc).__name__}: {exc}"))


def isolated(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a fresh process: tortoise keeps per-model state (its SQL placeholder
    style among it) across inits, so a process that used the ORM on SQLite writes broken SQL
    on PostgreSQL. The benchmark processes never touch the ORM themselves."""
    spawn = multiprocessing.get_context("spawn")
    receive, send = spawn.Pipe(duplex=False)
    process = spawn.Process(target=_isolated_call, args=(send, fn, args), daemon=True)
    process.start()
    try:
        while not receive.poll(0.2):
            if not process.is_alive():
                raise SystemExit(f"{fn.__name__} died with exit code {process.exitcode}")
        ok, value = receive.recv()
    finally:
        process.join(timeout=30)
    if not ok:
        raise SystemExit(f"{fn.__name__} failed: {value}")
    return value


def migrate(database_url: str, plugin_set: str = "repo") -> None:
    isolated(_migrate, database_url, plugin_set)


def _migrate(database_url: str, plugin_set: str) -> None:
    from core.clock import SystemClock
    from core.db import migrate as apply
    from core.db import tortoise_config
    from core.registry import PluginRegistry

    settings = bench_settings(database_url, plugin_set)
    registry = PluginRegistry.load(settings, SystemClock())
    config = tortoise_config(database_url, [p.plugin for p in registry.active if p.plugin])
    try:
        asyncio.run(apply(config))
    except Exception as exc:
        raise SystemExit(
            f"migrating a fresh database failed ({type(exc).__name__}: {exc}); with a plugin "
            "in progress, try --plugins sensors (core and the probe plugin only)"
        ) from exc


@dataclass
class Seeded:
    organization_id: str
    farmer_id: str
    devices: list[tuple[str, str]] = field(default_factory=list)
    """(device id, device key) per device, in creation order."""


def seed(
    database_url: str, devices: int, push_token: str | None = None, plugin_set: str = "repo"
) -> Seeded:
    return isolated(_seed, database_url, devices, push_token, plugin_set)  # type: ignore[no-any-return]


def _seed(database_url: str, devices: int, push_token: str | None, plugin_set: str) -> Seeded:
    """One farm with one member (the farmer), ``devices`` probes with their keys, and
    optionally a push token for the farmer (as tests/core/test_alerts_and_push.py adds one)."""
    from core.alerts.models import PushToken
    from core.clock import SystemClock
    from core.db import bound, open_database, tortoise_config
    from core.identity.models import Organization, OrganizationKind, Role, User
    from core.identity.services import hash_password
    from core.identity.tokens import new_secret, token_hash
    from core.registry import PluginRegistry
    from core.telemetry.models import Device

    settings = bench_settings(database_url, plugin_set)
    registry = PluginRegistry.load(settings, SystemClock())
    config = tortoise_config(database_url, [p.plugin for p in registry.active if p.plugin])

    async def work() -> Seeded:
        context = await open_database(config)
        try:
            with bound(context):
                org = await Organization.create(name="Bench Farm", kind=OrganizationKind.FARM)
                farmer = await User.create(
                    username=FARMER,
                    password_hash=hash_password(PASSWORD),
                    role=Role.MEMBER,
                    display_name="Bench farmer",
                )
                await farmer.organizations.add(org)
                if push_token is not None:
                    await PushToken.create(
                        user_id=farmer.id,
                        token=push_token,
                        kind="fcm_token",
                        platform="android",
                        app_version="1.0.0",
                        last_seen_at=datetime.now(UTC),
                    )
                keys = [new_secret() for _ in range(devices)]
                rows = [
                    Device(
                        id=uuid.uuid4(),
                        organization_id=org.id,
                        kind=PROBE,
                        name=f"probe {i}",
                        external_id=f"probe-{i}",
                        key_hash=token_hash(key),
                    )
                    for i, key in enumerate(keys)
                ]
                for start in range(0, len(rows), 500):
                    await Device.bulk_create(rows[start : start + 500])
                return Seeded(
                    str(org.id),
                    str(farmer.id),
                    [(str(d.id), key) for d, key in zip(rows, keys, strict=True)],
                )
        finally:
            await context.close_connections()

    return asyncio.run(work())


# a broker of the benchmark's own


@contextmanager
def mqtt_broker(url: str) -> Iterator[str]:
    """The broker URL to use: ``url`` as given, or for ``private`` a Mosquitto started here on
    a free loopback port with the stock limits (``max_queued_messages 1000``,
    ``max_inflight_messages 20``), stopped afterwards. On a shared broker every consumer of
    ``minori/+/+/up`` (other apps, tests, a demo) gets the benchmark's messages, and the
    benchmark's consumer gets theirs."""
    if url != "private":
        yield url
        return
    # Debian installs the broker in sbin, which a user's PATH may lack.
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    binary = shutil.which("mosquitto", path=search)
    if binary is None:
        raise SystemExit("no mosquitto binary for --mqtt-url private; name a broker URL instead")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="minori-bench-mqtt-") as tmp:
        config = Path(tmp) / "mosquitto.conf"
        config.write_text(
            f"listener {port} {HOST}\nallow_anonymous true\npersistence false\n"
            "log_dest none\nsys_interval 1\n"
        )
        broker = subprocess.Popen(  # noqa: S603 (a fixed binary and a config written here)
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex((HOST, port)) == 0:
                        break
                if broker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the private mosquitto did not start")
                time.sleep(0.05)
            yield f"mqtt://{HOST}:{port}"
        finally:
            broker.terminate()
            try:
                broker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait()


# the server process


def serve_minori(settings_overrides: dict[str, Any], database_url: str, port: int) -> None:
    """A server process: build the app here (apps do not cross processes) and serve it."""
    import logging

    import uvicorn

    from core.app import create_app

    logging.basicConfig(level=logging.WARNING)
    app = create_app(bench_settings(database_url, **settings_overrides), run_jobs=False)
    uvicorn.run(app, host=HOST, port=port, log_config=None, access_log=False, log_level="warning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux only; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_cpu() -> dict[int, tuple[str, float]]:
    """(command name, CPU seconds) of every process (Linux only; empty elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    found: dict[int, tuple[str, float]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        fields = text.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return found


class CpuMeter:
    """Where the machine's CPU went over a window, in cores (1.0 = one core busy): the
    processes named by pid, PostgreSQL's and Mosquitto's processes, and everything else on
    the machine (other work sharing it, which a benchmark should show beside its figures)."""

    def __init__(self, named: dict[str, int | None]) -> None:
        self.named = {label: pid for label, pid in named.items() if pid is not None}
        self.before = _process_cpu()
        self.started = time.monotonic()

    def read(self) -> dict[str, float]:
        after = _process_cpu()
        elapsed = time.monotonic() - self.started
        by_pid = {label: pid for label, pid in self.named.items()}
        groups: dict[str, float] = {label: 0.0 for label in [*by_pid, "postgres", "mosquitto"]}
        groups["other"] = 0.0
        labels = {pid: label for label, pid in by_pid.items()}
        for pid, (name, seconds) in after.items():
            used = seconds - self.before.get(pid, (name, 0.0))[1]
            if pid in labels:
                groups[labels[pid]] += used
            elif name.startswith("postgres"):
                groups["postgres"] += used
            elif name.startswith("mosquitto"):
                groups["mosquitto"] += used
            else:
                groups["other"] += used
        return {label: used / elapsed for label, used in groups.items()} if elapsed else {}


def machine_busy_cores(seconds: float = 1.0) -> float | None:
    """Cores busy over the next ``seconds`` (all processes; Linux only, else None)."""

    def sample() -> tuple[int, int] | None:
        try:
            values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except OSError:
            return None
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    first = sample()
    time.sleep(seconds)
    second = sample()
    if first is None or second is None or second[1] == first[1]:
        return None
    return (second[0] - first[0]) / (second[1] - first[1]) * (os.cpu_count() or 1)


def wait_for_quiet(max_wait: float, below: float = 0.3) -> None:
    """Wait at most ``max_wait`` seconds until the machine has been nearly idle (fewer than
    ``below`` cores busy) for a second: a shared machine skews every figure."""
    if max_wait <= 0:
        return
    deadline = time.monotonic() + max_wait
    busy = machine_busy_cores()
    while busy is not None and busy >= below and time.monotonic() < deadline:
        print(f"  waiting for a quiet machine: {busy:.2f} cores busy", file=sys.stderr)
        busy = machine_busy_cores()


def cpu_summary(cores: dict[str, float]) -> str:
    return ", ".join(f"{label} {value:.2f}" for label, value in cores.items() if value >= 0.005)


def wait_until_up(process: multiprocessing.process.BaseProcess, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not process.is_alive():
            raise SystemExit(f"the server for {url} exited with code {process.exitcode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"the server for {url} did not start within 60 s")


@contextmanager
def server_process(
    target: Callable[..., None], *args: Any
) -> Iterator[tuple[str, multiprocessing.process.BaseProcess]]:
    """Start ``target(*args, port)`` in a spawned process; yield its base URL once
    ``/health/live`` answers; stop it afterwards."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    process = multiprocessing.get_context("spawn").Process(
        target=target, args=(*args, port), daemon=True
    )
    process.start()
    try:
        wait_until_up(process, f"{base_url}/health/live")
        yield base_url, process
    finally:
        process.terminate()  # uvicorn shuts down gracefully on SIGTERM (lifespan included)
        process.join(timeout=20)
        if process.is_alive():
            process.kill()
            process.join()


# readings


_MS = [f".{i:03d}+00:00".encode() for i in range(1000)]
_VALUES = [f"{18 + (i % 97) / 10:.1f}".encode() for i in range(97)]


def now_second() -> bytes:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S").encode()


def batch_body(prefix: bytes, first: int, size: int, device: bytes | None = None) -> bytes:
    """``{"readings": [...]}`` of ``size`` temperature readings with ids
    ``<prefix>-<first>`` … and distinct timestamps (one per millisecond of this second)."""
    second = now_second()
    target = b'"device":"' + device + b'",' if device else b""
    items = [
        b'{%b"id":"%b-%d","ts":"%b%b","metric":"temperature","value":%b}'
        % (target, prefix, first + i, second, _MS[i % 1000], _VALUES[(first + i) % 97])
        for i in range(size)
    ]
    return b'{"readings":[' + b",".join(items) + b"]}"


@dataclass
class IngestTally:
    requests: int = 0
    accepted: int = 0
    """Readings answered 202 and counted ``accepted`` (all of them: warm-up included)."""
    measured_accepted: int = 0
    """Accepted by requests that started inside the measured window."""
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 3:
            self.error_samples.append(text[:300])


async def ingest_worker(
    base_url: str,
    key: str,
    prefix: str,
    batch: int,
    tally: IngestTally,
    measure_from: float,
    end: float,
    interval: float | None = None,
    stop: Callable[[], bool] = lambda: False,
    max_requests: int = 1_000_000,
    phase: float = 0.0,
) -> None:
    """One device posting batches on its own kept-alive connection until ``end``
    (``time.monotonic()``) or ``stop()``: back to back, or one batch every ``interval``
    seconds, the first after ``phase`` seconds (paced workers spread over the interval rather
    than firing together). A request in flight is always let finish (an aborted upload makes
    the server log a 500).

    One httpx client per worker: a single shared AsyncClient spends more CPU in its pool
    bookkeeping than in HTTP as concurrency grows (encode/httpx#3215).
    """
    headers = {"Authorization": f"Device {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tag = prefix.encode()
    seq = itertools.count(0, batch)
    next_at = time.monotonic() + phase
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        for _ in range(max_requests):
            if interval is not None:
                delay = next_at - time.monotonic()
                while delay > 0 and not stop():
                    await asyncio.sleep(min(delay, 0.05))
                    delay = next_at - time.monotonic()
                # Behind by more than a slot (a slow answer): skip the missed slots rather
                # than burst to catch up, so the rate never exceeds the one asked for.
                next_at = max(next_at + interval, time.monotonic())
            sent = time.monotonic()
            if sent >= end or stop():
                break
            content = batch_body(tag, next(seq), batch)
            try:
                response = await client.post("/api/v1/ingest", content=content, headers=headers)
            except httpx.HTTPError as exc:
                tally.error(f"{type(exc).__name__}: {exc}")
                continue
            tally.requests += 1
            if response.status_code != 202:
                tally.error(f"{response.status_code}: {response.text}")
                continue
            accepted = int(response.json()["accepted"])
            tally.accepted += accepted
            if sent >= measure_from:
                tally.measured_accepted += accepted
                tally.latencies.append(time.monotonic() - sent)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (same unit as ``values``); nan when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
