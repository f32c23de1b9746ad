"""Ingest throughput: readings/s through ``POST /api/v1/ingest`` and through MQTT, beside
the raw ceiling of the database on the same machine in the same run.

For each backend (SQLite in a fresh temporary file, PostgreSQL in a database created and
dropped here) and each batch size (100 and 1,000 readings), a fresh migrated database gets
one farm with 64 probes (device kind ``sensors.probe`` from tests/sensors.py); the real app
is served by uvicorn in its own process on a loopback port; 64 closed-loop workers, one
device and one kept-alive connection each, post ``temperature`` readings with unique ids.
A 202 means committed: only ``accepted`` readings are counted, and the table must hold
exactly that many at the end. Then the ceiling, with the same number of rows shaped alike:
Python's ``sqlite3`` ``executemany`` in one transaction into an identical table (same DDL,
WAL, ``synchronous=NORMAL``), or asyncpg ``copy_records_to_table`` into an identical table.

MQTT: the app consumes ``$share/<group>/minori/+/+/up`` with a client id and share group of
its own (the session is removed afterwards) from a Mosquitto started for the run on a free
loopback port (``--mqtt-url`` names a shared broker instead); publishers here send one
reading per message at QoS 1 as fast as the broker acknowledges them; the rate is measured
from the first publish until every reading is stored (the table count is polled), and
readings the broker dropped are counted.

Every case also shows where the machine's CPU went (this server, this load generator,
PostgreSQL, Mosquitto, everything else): figures taken on a busy machine say so.

    .venv/bin/python bench/ingest.py [--seconds 6] [--backend sqlite|postgres|both]
                                     [--skip-mqtt] [--plugins repo|sensors]

A benchmark, never a test: it prints figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import aiomqtt
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    COLUMNS,
    DEFAULT_MQTT_URL,
    DEFAULT_PG_URL,
    HOST,
    PLUGIN_SETS,
    CpuMeter,
    Database,
    IngestTally,
    Seeded,
    asyncpg_dsn,
    cpu_summary,
    fresh_database,
    ingest_worker,
    mqtt_broker,
    percentile,
    postgres_reachable,
    seed,
    serve_minori,
    server_process,
    wait_for_quiet,
)

MQTT_POLL_S = 0.05
MQTT_STALL_S = 5.0
GOAL = 0.25


@dataclass
class Case:
    backend: str
    label: str
    batch: int
    tally: IngestTally = field(default_factory=IngestTally)
    seconds: float = 0.0
    stored: int = 0
    ceiling_rows: int = 0
    ceiling_s: float = float("nan")
    ceiling_name: str = ""
    cpu: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.tally.measured_accepted / self.seconds if self.seconds else float("nan")

    @property
    def ceiling_rate(self) -> float:
        return self.ceiling_rows / self.ceiling_s if self.ceiling_s else float("nan")


@dataclass
class MqttCase:
    backend: str
    label: str
    published: int = 0
    publish_s: float = float("nan")
    stored: int = 0
    stored_s: float = float("nan")
    broker_dropped: int | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.stored / self.stored_s if self.stored_s else float("nan")


# HTTP


async def drive(
    base_url: str, devices: list[tuple[str, str]], batch: int, warmup: float, seconds: float
) -> IngestTally:
    tally = IngestTally()
    start = time.monotonic()
    measure_from, end = start + warmup, start + warmup + seconds
    await asyncio.gather(
        *(
            ingest_worker(base_url, key, f"w{i}", batch, tally, measure_from, end)
            for i, (_device_id, key) in enumerate(devices)
        )
    )
    return tally


def run_http(database: Database, batch: int, args: argparse.Namespace) -> Case:
    began = time.monotonic()
    case = Case(database.backend, database.label, batch)
    seeded = seed(database.url, devices=args.concurrency, plugin_set=args.plugins)
    with server_process(serve_minori, {"plugin_set": args.plugins}, database.url) as (
        base_url,
        process,
    ):
        meter = CpuMeter({"server": process.pid, "bench": os.getpid()})
        case.tally = asyncio.run(drive(base_url, seeded.devices, batch, args.warmup, args.seconds))
        case.cpu = meter.read()
        case.seconds = args.seconds
        case.stored = database.count_readings()
    rows = ceiling_rows(seeded.devices, batch, case.tally.accepted, database.backend)
    case.ceiling_rows = len(rows)
    if database.backend == "sqlite":
        case.ceiling_name, case.ceiling_s = "sqlite3 executemany", sqlite_ceiling(database, rows)
    else:
        case.ceiling_name, case.ceiling_s = "asyncpg COPY", postgres_ceiling(database, rows)
    case.wall_s = time.monotonic() - began
    return case


# the ceilings


def ceiling_rows(
    devices: list[tuple[str, str]], batch: int, count: int, backend: str
) -> list[tuple[object, ...]]:
    """``count`` rows shaped like the HTTP run's: batches of ``batch`` readings per device,
    devices taking turns, ids ``w<i>-<n>``, a distinct timestamp per reading. SQLite gets
    the values as the writer's adapters store them (text), PostgreSQL native types."""
    received = datetime.now(UTC)
    base = received.replace(microsecond=0)
    rows: list[tuple[object, ...]] = []
    sequence = [0] * len(devices)
    turn = 0
    while len(rows) < count:
        index = turn % len(devices)
        device_id = uuid.UUID(devices[index][0])
        first = sequence[index]
        for i in range(min(batch, count - len(rows))):
            ts = base + timedelta(seconds=first // 1000, milliseconds=i % 1000)
            value = 18 + ((first + i) % 97) / 10
            if backend == "sqlite":
                rows.append(
                    (
                        str(device_id),
                        f"w{index}-{first + i}",
                        ts.isoformat(" "),
                        "temperature",
                        value,
                        received.isoformat(" "),
                    )
                )
            else:
                rows.append(
                    (device_id, f"w{index}-{first + i}", ts, "temperature", value, received)
                )
        sequence[index] += batch
        turn += 1
    return rows


def sqlite_ceiling(database: Database, rows: list[tuple[object, ...]]) -> float:
    """Seconds for one ``executemany`` of ``rows`` in one transaction, commit included, into
    a fresh file with the app's DDL for ``core_reading`` (its unique and other indexes)."""
    source = sqlite3.connect(database.sqlite_path)
    try:
        ddl = [
            sql
            for (sql,) in source.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'core_reading' AND sql IS NOT NULL"
                " ORDER BY type DESC"  # the table before its indexes
            )
        ]
    finally:
        source.close()
    assert database.folder is not None
    path = database.folder / "ceiling.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        for statement in ddl:
            connection.execute(statement)
        sql = f"INSERT INTO core_reading ({','.join(COLUMNS)}) VALUES (?,?,?,?,?,?)"  # noqa: S608
        start = time.perf_counter()
        connection.execute("BEGIN")
        connection.executemany(sql, rows)
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - start
        stored = connection.execute("SELECT count(*) FROM core_reading").fetchone()[0]
        assert stored == len(rows), (stored, len(rows))
        return elapsed
    finally:
        connection.close()


def postgres_ceiling(database: Database, rows: list[tuple[object, ...]]) -> float:
    """Seconds for one ``copy_records_to_table`` of ``rows`` into a copy of ``core_reading``
    (same columns, indexes and unique constraint; a sequence of its own for ``id``)."""
    import asyncpg

    async def run() -> float:
        connection = await asyncpg.connect(asyncpg_dsn(database.url))
        try:
            await connection.execute(
                "CREATE SEQUENCE bench_ceiling_id_seq;"
                "CREATE TABLE bench_ceiling (LIKE core_reading INCLUDING ALL EXCLUDING DEFAULTS);"
                "ALTER TABLE bench_ceiling ALTER COLUMN id "
                "SET DEFAULT nextval('bench_ceiling_id_seq')"
            )
            start = time.perf_counter()
            await connection.copy_records_to_table("bench_ceiling", records=rows, columns=COLUMNS)
            elapsed = time.perf_counter() - start
            stored = await connection.fetchval("SELECT count(*) FROM bench_ceiling")
            assert stored == len(rows), (stored, len(rows))
            return elapsed
        finally:
            await connection.close()

    return asyncio.run(run())


# MQTT


def run_mqtt(database: Database, args: argparse.Namespace) -> MqttCase:
    began = time.monotonic()
    case = MqttCase(database.backend, database.label)
    seeded = seed(database.url, devices=args.concurrency, plugin_set=args.plugins)
    with mqtt_broker(args.mqtt_url) as url:
        args = argparse.Namespace(**{**vars(args), "mqtt_url": url})
        tag = uuid.uuid4().hex[:10]
        overrides = {
            "plugin_set": args.plugins,
            "mqtt_url": url,
            "mqtt_client_id": f"minori-bench-{tag}",
            "mqtt_share_group": f"bench{tag}",
        }
        try:
            with server_process(serve_minori, overrides, database.url) as (base_url, process):
                wait_for_consumer(base_url)
                meter = CpuMeter({"server": process.pid, "bench": os.getpid()})
                asyncio.run(publish_and_wait(database, seeded, args, case))
                case.cpu = meter.read()
        finally:
            asyncio.run(forget_session(url, overrides["mqtt_client_id"]))
    case.wall_s = time.monotonic() - began
    return case


def wait_for_consumer(base_url: str) -> None:
    deadline = time.monotonic() + 30
    state = "?"
    while time.monotonic() < deadline:
        state = httpx.get(f"{base_url}/health/ready", timeout=5).json()["checks"]["mqtt"]
        if state == "ok":
            return
        time.sleep(0.05)
    raise SystemExit(f"the app's MQTT consumer did not subscribe within 30 s: {state}")


class DropCounter:
    """Mosquitto's ``$SYS/broker/publish/messages/dropped``: broker-wide and cumulative,
    retained, and republished at most every ``sys_interval`` (10 s by default) when it
    changed."""

    TOPIC = "$SYS/broker/publish/messages/dropped"
    SYS_INTERVAL_S = 10.0

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.values: list[tuple[float, int]] = []
        self.arrived = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.subscribe(self.TOPIC)
        self.task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _listen(self) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for message in self.client.messages:
                with contextlib.suppress(ValueError, TypeError):
                    self.values.append((time.monotonic(), int(message.payload)))  # type: ignore[arg-type]
                    self.arrived.set()

    async def current(self, within: float = 5.0) -> int | None:
        """The retained value, which comes at once on subscribing."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self.arrived.wait()
        return self.values[-1][1] if self.values else None

    async def settled(self, since: float) -> int | None:
        """The value once every change made before ``since`` (time.monotonic()) has been
        published: the first value after it, or the last one a sys_interval later."""
        try:
            async with asyncio.timeout(
                max(0.0, since + self.SYS_INTERVAL_S + 1 - time.monotonic())
            ):
                while not any(at > since for at, _ in self.values):
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            pass
        return self.values[-1][1] if self.values else None


async def publish_and_wait(
    database: Database, seeded: Seeded, args: argparse.Namespace, case: MqttCase
) -> None:
    """Publish up to ``--mqtt-messages`` readings (one per message, QoS 1) for at most
    ``--seconds``, from ``--mqtt-publishers`` connections with ``--mqtt-in-flight``
    publishes in flight each (with ``--mqtt-backlog``, publishers also wait while more
    than that many published readings are not stored yet); then poll the table until every
    one is stored, or the count has not moved for a while (the broker dropped some)."""
    parts = urlsplit(args.mqtt_url)
    host, port = parts.hostname or HOST, parts.port or 1883
    topics = [f"minori/{seeded.organization_id}/{device_id}/up" for device_id, _ in seeded.devices]
    counter = iter(range(args.mqtt_messages))
    published = 0
    stored = 0
    end = time.monotonic() + args.seconds
    done = asyncio.Event()

    async def publisher(client: aiomqtt.Client) -> None:
        nonlocal published
        for n in counter:
            if time.monotonic() >= end:
                return
            while args.mqtt_backlog:  # wait while too many are unstored
                if published - stored <= args.mqtt_backlog:
                    break
                await asyncio.sleep(0.005)
            payload = (
                f'{{"id":"m-{n}","ts":"{datetime.now(UTC).isoformat()}",'
                f'"metric":"temperature","value":{18 + (n % 97) / 10}}}'
            )
            await client.publish(topics[n % len(topics)], payload, qos=1)
            published += 1

    async def poll() -> None:
        nonlocal stored
        while not done.is_set():
            stored = await asyncio.to_thread(database.count_readings)
            await asyncio.sleep(MQTT_POLL_S)

    def client(name: str) -> aiomqtt.Client:
        made = aiomqtt.Client(
            host,
            port,
            identifier=f"minori-bench-{name}-{uuid.uuid4().hex[:8]}",
            max_inflight_messages=args.mqtt_in_flight,
        )
        made.pending_calls_threshold = args.mqtt_in_flight + 1  # many in flight is the point
        return made

    async with contextlib.AsyncExitStack() as stack:
        drops = DropCounter(await stack.enter_async_context(client("sys")))
        await drops.start()
        dropped_before = await drops.current()
        clients = [
            await stack.enter_async_context(client("pub")) for _ in range(args.mqtt_publishers)
        ]
        poller = asyncio.create_task(poll())
        start = time.monotonic()
        end = start + args.seconds
        await asyncio.gather(*(publisher(c) for c in clients for _ in range(args.mqtt_in_flight)))
        case.published = published
        case.publish_s = time.monotonic() - start
        done.set()
        await poller

        last, moved_at = -1, time.monotonic()
        while True:
            count = await asyncio.to_thread(database.count_readings)
            now = time.monotonic()
            if count != last:
                last, moved_at = count, now
                case.stored, case.stored_s = count, now - start
            if count >= case.published or now - moved_at > MQTT_STALL_S:
                break
            await asyncio.sleep(MQTT_POLL_S)
        if case.stored < case.published and dropped_before is not None:
            # Drops happen while publishing: count those the broker made until then.
            dropped_after = await drops.settled(start + case.publish_s)
            if dropped_after is not None:
                case.broker_dropped = dropped_after - dropped_before
        await drops.stop()


async def forget_session(url: str, client_id: str) -> None:
    """Remove the consumer's persistent session, so no stale member of a share group of
    nobody keeps collecting messages in the broker."""
    parts = urlsplit(url)
    async with aiomqtt.Client(
        parts.hostname or HOST, parts.port or 1883, identifier=client_id, clean_session=True
    ):
        pass


# the report


def broker_label(url: str) -> str:
    if url == "private":
        return "a Mosquitto of the benchmark's own, stock limits"
    return f"broker {url}"


def report(cases: list[Case], mqtt: list[MqttCase], args: argparse.Namespace) -> None:
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    print(
        f"\nPOST /api/v1/ingest: {args.concurrency} closed-loop connections, one device each; "
        f"warm-up {args.warmup:g} s, measured {args.seconds:g} s per case; uvicorn ({loop}, "
        f"{http}) in its own process on {HOST}; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. Readings: sensors.probe temperature, unique ids.\n"
    )
    print(
        f"{'backend':<11}{'batch':>6}{'requests':>9}{'readings/s':>11}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'errors':>7}{'stored = accepted':>20}  {'ceiling':<20}{'rows':>8}"
        f"{'rows/s':>9}{'ratio':>7}  {'goal':<8}{'took':>5}"
    )
    for c in cases:
        check = f"{c.stored} {'=' if c.stored == c.tally.accepted else '!='} {c.tally.accepted}"
        lat = [x * 1000 for x in c.tally.latencies]
        ratio = c.rate / c.ceiling_rate
        print(
            f"{c.label:<11}{c.batch:>6}{c.tally.requests:>9}{c.rate:>11.0f}"
            f"{percentile(lat, 50):>8.1f}{percentile(lat, 99):>8.1f}{c.tally.errors:>7}"
            f"{check:>20}  {c.ceiling_name:<20}{c.ceiling_rows:>8}{c.ceiling_rate:>9.0f}"
            f"{ratio:>7.1%}  {'met' if ratio >= GOAL else 'NOT met':<8}{c.wall_s:>4.0f}s"
        )
        print(f"{'':<17}CPU in cores: {cpu_summary(c.cpu)}")
        for sample in c.tally.error_samples:
            print(f"{'':<17}error: {sample}")
    if mqtt:
        backlog = f"at most {args.mqtt_backlog} unstored, " if args.mqtt_backlog else ""
        print(
            f"\nMQTT ({broker_label(args.mqtt_url)}): one reading per message, QoS 1, "
            f"{args.mqtt_publishers} publisher "
            f"connections x {args.mqtt_in_flight} publishes in flight ({backlog}as fast as the "
            f"broker acknowledges), up to {args.mqtt_messages} messages or {args.seconds:g} s; "
            "stored msg/s = stored / time from the first publish to the last stored reading.\n"
        )
        print(
            f"{'backend':<11}{'published':>10}{'publish/s':>10}{'stored':>9}{'stored msg/s':>13}"
            f"{'all stored':>11}{'broker dropped':>15}{'took':>6}"
        )
        for m in mqtt:
            dropped = "unread" if m.broker_dropped is None else str(m.broker_dropped)
            if m.stored >= m.published:
                dropped = "-"
            print(
                f"{m.label:<11}{m.published:>10}{m.published / m.publish_s:>10.0f}"
                f"{m.stored:>9}{m.rate:>13.0f}"
                f"{'yes' if m.stored == m.published else 'NO':>11}{dropped:>15}{m.wall_s:>5.0f}s"
            )
            print(f"{'':<17}CPU in cores: {cpu_summary(m.cpu)}")
            if m.stored < m.published:
                print(
                    f"{'':<17}{m.published - m.stored} published readings were never stored: "
                    "the broker acknowledged them to the publisher, then dropped them for the "
                    "consumer's session (Mosquitto's max_queued_messages, 1000 by default, "
                    "counts QoS 1 messages queued per client; the broker-wide drop counter "
                    "$SYS/broker/publish/messages/dropped moved by the figure shown, when it "
                    "could be read). Use --mqtt-backlog 300 to publish no faster than the app "
                    "stores."
                )
    print(
        f"\nratio: the app's readings/s over the ceiling's rows/s (goal: >= {GOAL:.0%}). "
        "CPU in cores over the run (1.00 = one core busy): server = the uvicorn process, "
        "bench = this process (the load generator), postgres/mosquitto = their processes, "
        "other = everything else on the machine (work that is not this benchmark's)."
    )
    for c in cases:
        if c.cpu.get("bench", 0) >= 0.9:
            print(
                f"note: the load generator was saturated for {c.label} batch {c.batch}: its "
                "readings/s are a floor for the server."
            )
    if any(c.cpu.get("other", 0) >= 0.25 for c in [*cases, *mqtt]):
        print(
            "note: other processes used a quarter of a core or more during some cases; the "
            "machine was shared, so those figures are low and noisy. Run again on an idle "
            "machine to compare."
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measured time per case")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time first")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--skip-mqtt", action="store_true", help="only the HTTP cases")
    parser.add_argument("--concurrency", type=int, default=64, help="connections = devices")
    parser.add_argument(
        "--batches", default="100,1000", help="readings per request, comma-separated"
    )
    parser.add_argument(
        "--plugins",
        choices=PLUGIN_SETS,
        default="repo",
        help="repo: plugins.toml plus the sensors plugin; sensors: the sensors plugin alone",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        help="before each case, wait up to this many seconds for an idle machine",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL admin URL")
    parser.add_argument(
        "--mqtt-url",
        default=DEFAULT_MQTT_URL,
        help="private (default): a Mosquitto of this benchmark's own on a free loopback port; "
        "or a broker, e.g. mqtt://127.0.0.1:1883 (every consumer there gets the messages)",
    )
    parser.add_argument("--mqtt-messages", type=int, default=30_000, help="at most, per backend")
    parser.add_argument("--mqtt-publishers", type=int, default=4, help="publisher connections")
    parser.add_argument("--mqtt-in-flight", type=int, default=32, help="publishes in flight each")
    parser.add_argument(
        "--mqtt-backlog",
        type=int,
        default=0,
        help="publish only while fewer readings than this are unstored (0: no limit)",
    )
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]
    if args.seconds <= 0 or args.warmup < 0 or args.concurrency < 1:
        parser.error("--seconds must be > 0, --warmup >= 0, --concurrency >= 1")
    if any(not 1 <= b <= 1000 for b in batches):
        parser.error("a batch holds 1 to 1000 readings")

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and (why := postgres_reachable(args.pg_url)):
        print(f"skipping PostgreSQL: not reachable at {args.pg_url} ({why})", file=sys.stderr)
        backends.remove("postgres")
    began = time.monotonic()
    cases: list[Case] = []
    mqtt: list[MqttCase] = []
    failures: list[str] = []
    for backend in backends:
        try:
            for batch in batches:
                print(f"{backend}: batches of {batch} ...", file=sys.stderr)
                wait_for_quiet(args.wait_idle)
                with fresh_database(backend, args.pg_url, f"b{batch}", args.plugins) as database:
                    cases.append(run_http(database, batch, args))
            if not args.skip_mqtt:
                print(f"{backend}: MQTT ...", file=sys.stderr)
                wait_for_quiet(args.wait_idle)
                with fresh_database(backend, args.pg_url, "mqtt", args.plugins) as database:
                    mqtt.append(run_mqtt(database, args))
        except SystemExit as exc:  # one backend failing still reports the others
            print(f"{backend}: stopped: {exc}", file=sys.stderr)
            failures.append(f"{backend}: {exc}")
    report(cases, mqtt, args)
    for failure in failures:
        print(f"not measured: {failure}")
    print(f"\ntotal {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
