"""Mobile home screen: ``GET /mobile/v1/home`` under an open-loop load, against a bare app.

Seeds a throw-away SQLite database (or PostgreSQL with ``--postgres``) with the demo city of
``minori demo`` (every plugin's part: herds with collar history, traps, cages and buoys,
spraying seasons, entrants, questions and consultations) and, beside it, a bench farm whose
members see dozens of alerts of every severity (core and the example plugin, some
acknowledged or resolved), a couple of hundred inbox items, and greetings over the last days;
a neighbouring fishery with its own data, so tenancy filters have something to filter. Then
serves the real app (plugins from ``plugins.toml``, jobs off) with uvicorn in its own process
on a loopback port and drives the home screens of the farm's members and of every person of
the demo city (each plugin's feed then reads real data):

1. open loop at a fixed rate (default 200 requests/s, the goal: p99 <= 50 ms): requests are
   sent on schedule whether or not earlier ones have answered, and each latency counts from
   when the request was due, so a stalled server shows in the figures;
2. the maximum sustainable rate: the offered rate is raised until the server no longer keeps
   up (a run keeps up when every request answered 200, at least 95% of the offered rate was
   served within the run, and p99 <= the goal), then narrowed down.

The app is measured twice: as it runs, a member's cards kept between openings while nothing
of theirs is written (``mobile_api/home.py``; with 49 phones at 200 requests/s every home
after the first finds them kept), and with nothing kept, every plugin's feed asked at every
opening, as when every person's data changed since their last look. Real use lies between.
A bare Litestar app with one ``GET /`` is measured the same way in the same run, so the
figures can be read against what uvicorn and Litestar cost on this machine. The load
generator is a small asyncio HTTP/1.1 client with kept-alive connections (httpx would spend
more CPU than the server at high rates); it and the server share the machine.

    .venv/bin/python bench/mobile_home.py [--rate 200] [--seconds 10] [--postgres]

A benchmark, never a test: it prints figures and asserts nothing about them. Every load loop
is bounded in count and time and sends only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import platform
import socket
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
SECRET = "bench-secret-key-that-is-long-enough-for-hs256"  # noqa: S105 (a throw-away database)
PASSWORD = "bench password 1234"  # noqa: S105
FARMER = "bench-farmer"
KEPT = "minori"
ASKED = "minori, every feed asked"
"""The app as it runs, members' cards kept between openings; and with nothing kept, as when
every person's data changed since their last opening."""
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
MEMBERS = 20
"""The farm's members: the load cycles through their logins, each a phone of its own."""
MAX_CONNECTIONS = 512
"""The load generator opens connections as it needs them, up to this many."""


# the app, its database and its data


def minori_settings(database_url: str) -> Any:
    from core.settings import load_settings

    return load_settings(
        {"MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml")},
        database_url=database_url,
        secret_key=SECRET,
        log_level="WARNING",
        log_json=False,
        auth_rate_limit=1000,  # the members' phones all log in from 127.0.0.1
    )


async def _seed_city(settings: Any) -> dict[str, int]:
    """The demo city's data, made through the same services the app uses."""
    import minori_hello
    from minori_hello.i18n import _ as hello_
    from minori_hello.models import Greeting

    from core.alerts.models import Alert, AlertStatus, Notification, PushStatus, Severity
    from core.alerts.push import LogSender
    from core.alerts.service import Subject
    from core.clock import SystemClock
    from core.i18n import _
    from core.identity.models import Organization, OrganizationKind, Role, User
    from core.identity.services import hash_password
    from core.services import build_services

    assert minori_hello  # the example plugin's catalog is registered by importing it
    clock = SystemClock()
    services = build_services(settings, clock, LogSender())
    now = clock.now()
    password = hash_password(PASSWORD)
    figures: dict[str, int] = {}
    farmers = [FARMER, *(f"bench-member-{i}" for i in range(1, MEMBERS))]
    for org_name, kind, members, scale in [
        ("ひなた農園", OrganizationKind.FARM, farmers, 1),
        ("九十九里漁協", OrganizationKind.FISHERY, ["bench-fisher"], 2),
    ]:
        org = await Organization.create(name=org_name, kind=kind)
        users = []
        for username in members:
            user = await User.create(
                username=username, password_hash=password, role=Role.MEMBER, display_name=username
            )
            await user.organizations.add(org)
            users.append(user)
        severities = [Severity.CRITICAL] * 4 + [Severity.MAJOR] * 8 + [Severity.MINOR] * 10
        severities += [Severity.WARNING] * 12 + [Severity.INFO] * 14
        for i, severity in enumerate(severities * scale):
            name = f"Device {i:02d}"
            if severity is Severity.WARNING:
                title = _("{device} is offline", device=name)
                body = _(
                    "{device} has not reported for {minutes} minutes. Check it in person.",
                    device=name,
                    minutes=30 + i,
                )
                plugin = "core"
            elif severity is Severity.INFO:
                title = hello_("Hello at {button}", button=name)
                body = hello_("Someone pressed {button}.", button=name)
                plugin = "hello"
            else:
                title, body, plugin = f"{severity.value} event at {name}", "Look at it.", "core"
            alert = await services.alert_service.raise_(
                plugin=plugin,
                organization_id=str(org.id),
                type=f"bench_{severity.value}",
                severity=severity,
                title=title,
                body=body,
                subject=Subject("bench.device", f"{org.id}-{i}", name),
            )
            if i % 5 == 3:
                await Alert.filter(id=alert.id).update(
                    status=AlertStatus.ACKNOWLEDGED,
                    acknowledged_by_id=users[0].id,
                    acknowledged_at=now,
                )
            elif i % 7 == 6:
                await services.alert_service.mark_resolved(alert, str(users[0].id), "bench")
        for i in range(150 * scale):  # advisories, answers: the inbox beyond the alerts
            await services.notifications.notify(
                [str(u.id) for u in users],
                plugin="core",
                title=f"Notice {i}",
                body="From the city office.",
            )
        first = users[0]
        read = await Notification.filter(user_id=first.id).order_by("created_at").limit(120)
        await Notification.filter(id__in=[n.id for n in read]).update(read_at=now)
        # Long pushed: the server's push sender has nothing left to do.
        await Notification.all().update(push_status=PushStatus.SENT, next_attempt_at=None)
        for i in range(60 * scale):
            await Greeting.create(
                organization=org,
                author=users[i % len(users)],
                text=f"おはようございます {i}",
                mood="cheerful",
                created_at=now - timedelta(hours=i),
            )
        if scale == 1:
            figures = {
                "alerts": await Alert.filter(organization_id=org.id).count(),
                "open": await Alert.filter(organization_id=org.id, status=AlertStatus.OPEN).count(),
                "inbox": await Notification.filter(user_id=first.id).count(),
                "greetings": await Greeting.filter(organization_id=org.id).count(),
            }
    return figures


def prepare_database(database_url: str) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The bench farm (core and the example plugin, heavy), then the demo city that every
    plugin seeds (``minori demo``'s, without its simulators). Returns the farm's figures and
    the demo's (username, password) of everyone but the admin."""
    from core.app import create_app
    from core.clock import SystemClock
    from core.db import bound, migrate, open_database, tortoise_config
    from core.demo import PASSWORD as DEMO_PASSWORD
    from core.demo import Demo
    from core.registry import PluginRegistry

    settings = minori_settings(database_url)
    registry = PluginRegistry.load(settings, SystemClock())
    config = tortoise_config(database_url, [p.plugin for p in registry.active if p.plugin])

    async def work() -> dict[str, int]:
        await migrate(config)
        context = await open_database(config)
        try:
            with bound(context):
                return await _seed_city(settings)
        finally:
            await context.close_connections()

    figures = asyncio.run(work())
    demo = Demo()

    async def seed_demo() -> None:
        async with create_app(settings, run_jobs=False, demo=demo).lifespan():
            pass

    asyncio.run(seed_demo())
    assert demo.city is not None
    logins = [
        (login.username, DEMO_PASSWORD) for login in demo.city.logins if login.role != "admin"
    ]
    return figures, logins


def build_app(kind: str, database_url: str) -> Any:
    if kind in (KEPT, ASKED):
        from core.app import create_app
        from mobile_api import home

        if kind == ASKED:
            home.KEPT_CARD_LISTS = 0

        return create_app(minori_settings(database_url), run_jobs=False)

    from litestar import Litestar, get

    @get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return Litestar(route_handlers=[hello])


def serve(kind: str, database_url: str, port: int) -> None:
    """A server process: build the app here (apps do not cross processes) and serve it on a
    socket it shares with its sibling workers (SO_REUSEPORT: the kernel spreads connections)."""
    import logging

    import uvicorn

    logging.basicConfig(level=logging.WARNING)
    app = build_app(kind, database_url)
    # IPPROTO_TCP, or asyncio leaves Nagle on (it sets TCP_NODELAY only where proto is TCP)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    config = uvicorn.Config(app, log_config=None, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of the server processes (Linux only; None elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# the open-loop load generator


class Pool:
    """Kept-alive HTTP/1.1 connections to one server; a new one when all are busy."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = deque()
        self.opened = 0

    async def get(self, request: bytes) -> tuple[int, int]:
        """One request: (status, body bytes)."""
        if self.idle:
            reader, writer = self.idle.popleft()
        else:
            if self.opened >= MAX_CONNECTIONS:
                raise ConnectionError("connection limit reached")
            self.opened += 1
            reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _sep, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
        except BaseException:
            writer.close()
            self.opened -= 1
            raise
        self.idle.append((reader, writer))
        return status, len(body)

    def close(self) -> None:
        while self.idle:
            self.idle.popleft()[1].close()


@dataclass
class Run:
    rate: float
    latencies: list[float]
    errors: int
    late: int
    seconds: float
    server_cpu: float | None

    @property
    def served_rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds (inf when nothing was served)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("inf")
        rank = max(1, round(q / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1] * 1000

    def keeps_up(self, p99_goal_ms: float) -> bool:
        return (
            self.errors == 0
            and self.late == 0
            and self.served_rate >= 0.95 * self.rate
            and self.percentile(99) <= p99_goal_ms
        )


async def open_loop(
    port: int, requests: list[bytes], rate: float, seconds: float, warmup: float, pids: list[int]
) -> Run:
    """Send at ``rate`` for ``warmup + seconds`` on schedule; measure after the warm-up.

    A request's latency runs from when it was due to its last byte; requests still open one
    second after the last was due are counted ``late``.
    """
    loop = asyncio.get_running_loop()
    pool = Pool(port)
    latencies: list[float] = []
    errors = 0
    total = int((warmup + seconds) * rate)
    measured_from = int(warmup * rate)
    tasks: set[asyncio.Task[None]] = set()

    async def one(request: bytes, due: float, measured: bool) -> None:
        nonlocal errors
        try:
            status, _size = await pool.get(request)
            ok = status == 200
        except (OSError, asyncio.IncompleteReadError, ValueError, ConnectionError):
            ok = False
        if measured:
            if ok:
                latencies.append(loop.time() - due)
            else:
                errors += 1

    start = loop.time() + 0.05
    cpu_before = cpu_seconds(pids)
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(requests[i % len(requests)], due, i >= measured_from))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    last_due = start + (total - 1) / rate
    if tasks:
        await asyncio.wait(set(tasks), timeout=max(0.0, last_due + 1.0 - loop.time()))
    late = len(tasks)
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    cpu_after = cpu_seconds(pids)
    pool.close()
    window = warmup + seconds
    server_cpu = (
        (cpu_after - cpu_before) / window
        if cpu_before is not None and cpu_after is not None
        else None
    )
    return Run(rate, latencies, errors, late, seconds, server_cpu)


# running both servers


@dataclass
class Target:
    label: str
    kind: str
    path: str
    processes: list[multiprocessing.process.BaseProcess]
    port: int
    requests: list[bytes]
    describe: str = ""


def start(
    kind: str, database_url: str, workers: int
) -> tuple[list[multiprocessing.process.BaseProcess], int]:
    port = free_port()
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=serve, args=(kind, database_url, port), daemon=True)
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    probe = "/health/live" if kind in (KEPT, ASKED) else "/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not all(p.is_alive() for p in processes):
            stop(processes)
            raise SystemExit(f"a {kind} server exited early")
        try:
            httpx.get(f"http://{HOST}:{port}{probe}", timeout=1)
            time.sleep(1.0 if workers > 1 else 0)  # let every worker finish starting
            return processes, port
        except httpx.HTTPError:
            time.sleep(0.05)
    stop(processes)
    raise SystemExit(f"the {kind} server did not start within 60 s")


def stop(processes: list[multiprocessing.process.BaseProcess]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=15)
        if process.is_alive():
            process.kill()
            process.join()


def http_request(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def minori_target(
    kind: str, database_url: str, workers: int, demo_logins: list[tuple[str, str]]
) -> Target:
    processes, port = start(kind, database_url, workers)
    base = f"http://{HOST}:{port}"
    farm = [FARMER, *(f"bench-member-{i}" for i in range(1, MEMBERS))]
    logins = [(username, PASSWORD) for username in farm] + demo_logins
    phones = []
    for i, (username, password) in enumerate(logins):
        login = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": username, "password": password},
            timeout=30,
        )
        login.raise_for_status()
        phones.append(
            {
                "Authorization": f"Bearer {login.json()['access_token']}",
                "Accept-Language": ("ja", "ja", "vi", "en")[i % 4],
                "X-App-Version": "2.0.0",
            }
        )
    path = "/mobile/v1/home"
    by_plugin: dict[str, int] = {}
    sizes = []
    for phone in phones:
        check = httpx.get(f"{base}{path}", headers=phone, timeout=30)
        if check.status_code != 200:
            stop(processes)
            raise SystemExit(f"{path} answered {check.status_code}: {check.text}")
        sizes.append(len(check.content))
        for card in check.json()["cards"]:
            by_plugin[card["plugin"]] = by_plugin.get(card["plugin"], 0) + 1
    cards = ", ".join(f"{plugin} {count}" for plugin, count in sorted(by_plugin.items()))
    describe = (
        f"The load cycles through {len(phones)} phones in ja, vi and en: the farm's "
        f"{len(farm)} members and the demo city's {len(demo_logins)} people (farmers, fishers, "
        f"hunters, entrants, advisors); their homes hold {sum(by_plugin.values())} cards "
        f"({cards}), {min(sizes)}-{max(sizes)} bytes"
    )
    requests = [http_request(path, phone) for phone in phones]
    label = "home, cards kept" if kind == KEPT else "home, every feed asked"
    return Target(label, kind, path, processes, port, requests, describe)


def bare_target(workers: int) -> Target:
    processes, port = start("hello", "", workers)
    return Target("litestar GET /", "hello", "/", processes, port, [http_request("/", {})])


def pids(target: Target) -> list[int]:
    return [p.pid for p in target.processes if p.pid is not None]


def fixed_rate(target: Target, args: argparse.Namespace) -> Run:
    return asyncio.run(
        open_loop(target.port, target.requests, args.rate, args.seconds, args.warmup, pids(target))
    )


def sustainable(target: Target, args: argparse.Namespace) -> tuple[float, list[Run]]:
    """The highest offered rate the server keeps up with: doubling, then bisecting."""
    trials: list[Run] = []

    def trial(rate: float) -> bool:
        run = asyncio.run(
            open_loop(target.port, target.requests, rate, args.step_seconds, 1.0, pids(target))
        )
        trials.append(run)
        print(
            f"  {target.label}: offered {rate:7.0f}/s served {run.served_rate:7.0f}/s "
            f"p99 {run.percentile(99):8.1f} ms errors {run.errors} late {run.late} "
            f"-> {'keeps up' if run.keeps_up(args.goal_p99) else 'falls behind'}",
            file=sys.stderr,
        )
        return run.keeps_up(args.goal_p99)

    good, bad = 0.0, None
    rate = float(args.search_from)
    while bad is None and rate <= args.search_limit:
        if trial(rate):
            good, rate = rate, rate * 2
        else:
            bad = rate
    if bad is None:
        return good, trials  # kept up to the search limit
    for _ in range(args.bisect):
        middle = round((good + bad) / 2)
        if middle in (good, bad):
            break
        if trial(middle):
            good = middle
        else:
            bad = middle
    return good, trials


def show(label: str, run: Run, goal_p99: float) -> None:
    cpu = "-" if run.server_cpu is None else f"{run.server_cpu * 100:.0f}%"
    slowest = max(run.latencies, default=0) * 1000
    verdict = "meets" if run.percentile(99) <= goal_p99 else "MISSES"
    print(
        f"{label:<28}{len(run.latencies):>9}{run.served_rate:>9.0f}{run.percentile(50):>9.2f}"
        f"{run.percentile(90):>9.2f}{run.percentile(99):>9.2f}{slowest:>9.1f}"
        f"{run.errors + run.late:>8}{cpu:>8}  {verdict}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="fixed offered rate, req/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time at that rate")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time first")
    parser.add_argument("--goal-p99", type=float, default=50.0, help="p99 goal in ms")
    parser.add_argument("--step-seconds", type=float, default=4.0, help="each search trial")
    parser.add_argument("--search-from", type=float, default=200.0)
    parser.add_argument("--search-limit", type=float, default=12800.0)
    parser.add_argument("--bisect", type=int, default=3, help="narrowing steps after doubling")
    parser.add_argument("--no-search", action="store_true", help="only the fixed rate")
    parser.add_argument("--workers", type=int, default=1, help="server processes (one port)")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_PG_URL,
        default=None,
        help=f"seed PostgreSQL instead of SQLite (admin URL, {DEFAULT_PG_URL})",
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.warmup < 0 or args.step_seconds <= 0:
        parser.error("rates and times must be positive")

    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(_database(args.postgres))
        print("seeding the demo city ...", file=sys.stderr)
        seeded, demo_logins = prepare_database(database_url)
        results: list[tuple[Target, Run, float | None]] = []
        workers = args.workers
        makers = (
            lambda: minori_target(KEPT, database_url, workers, demo_logins),
            lambda: minori_target(ASKED, database_url, workers, demo_logins),
            lambda: bare_target(workers),
        )
        for make in makers:
            target = make()
            try:
                print(
                    f"{target.label}: {args.rate:g} req/s for {args.seconds:g} s ...",
                    file=sys.stderr,
                )
                run = fixed_rate(target, args)
                best = None if args.no_search else sustainable(target, args)[0]
            finally:
                stop(target.processes)
            results.append((target, run, best))

    backend = "PostgreSQL" if args.postgres else "SQLite"
    loop = "uvloop" if _has("uvloop") else "asyncio"
    http = "httptools" if _has("httptools") else "h11"
    print(
        f"\nDemo city on {backend}, every plugin's part seeded; the bench farm has "
        f"{seeded['alerts']} alerts ({seeded['open']} open), {seeded['inbox']} inbox items, "
        f"{seeded['greetings']} greetings; a fishery has twice as much. {results[0][0].describe}."
    )
    print(
        f"Open loop at {args.rate:g} req/s, warm-up {args.warmup:g} s, measured "
        f"{args.seconds:g} s; uvicorn ({loop}, {http}) in {args.workers} process(es) of its own "
        f"on {HOST}; Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs. Latency from when each request "
        f"was due. Goal: p99 <= {args.goal_p99:g} ms.\n"
    )
    print(
        f"{'':<28}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>8}{'server':>8}"
    )
    for target, run, _best in results:
        show(target.label, run, args.goal_p99)
    if not args.no_search:
        print(
            f"\nMaximum sustainable rate (every request 200, >= 95% of the offered rate served, "
            f"p99 <= {args.goal_p99:g} ms; {args.step_seconds:g} s per trial):"
        )
        for target, _run, best in results:
            print(f"  {target.label:<28}{best:>8.0f} req/s")
    print(
        "\nThe load generator shares the machine with the server: near the maximum rate it "
        "competes for CPU, so the maximum is a floor."
    )


def _has(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


@contextlib.contextmanager
def _database(pg_admin_url: str | None) -> Any:
    if pg_admin_url is None:
        with tempfile.TemporaryDirectory(prefix="minori-bench-") as tmp:
            yield f"sqlite://{Path(tmp) / 'mobile.db'}"
        return
    import asyncpg

    name = f"minori_bench_mobile_{uuid.uuid4().hex[:8]}"
    dsn = pg_admin_url.replace("postgres://", "postgresql://", 1)

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
