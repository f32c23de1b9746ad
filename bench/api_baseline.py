"""API baseline: what Minori's request path costs over a bare Litestar app.

Drives ``GET /api/v1/me`` (bearer token, SQLite) on the real app, then ``GET /`` on a
one-route Litestar app, each served by uvicorn in its own process on a loopback port, with a
closed-loop load generator (N workers, each sending its next request when the last answered).
Prints requests, requests/s, p50 and p99 latency for both, and Minori's ratios to the bare app.

    .venv/bin/python bench/api_baseline.py [--seconds 10] [--concurrency 32] [--warmup 2]

A benchmark, never a test: it prints figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET = "bench-secret-key-that-is-long-enough-for-hs256"  # noqa: S105 (a throw-away database)
USERNAME = "bench-farmer"
PASSWORD = "bench password 1234"  # noqa: S105


def minori_settings(database_url: str) -> Any:
    from core.settings import load_settings

    return load_settings(
        {"MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml")},
        database_url=database_url,
        secret_key=SECRET,
        log_level="WARNING",
        log_json=False,
    )


def prepare_database(database_url: str) -> None:
    """Migrate a fresh database and seed one organization with one member."""
    from core.clock import SystemClock
    from core.db import bound, migrate, open_database, tortoise_config
    from core.identity.models import Organization, OrganizationKind, Role, User
    from core.identity.services import hash_password
    from core.registry import PluginRegistry

    settings = minori_settings(database_url)
    registry = PluginRegistry.load(settings, SystemClock())
    config = tortoise_config(database_url, [p.plugin for p in registry.active if p.plugin])

    async def seed() -> None:
        await migrate(config)
        context = await open_database(config)
        try:
            with bound(context):
                org = await Organization.create(name="Bench Farm", kind=OrganizationKind.FARM)
                user = await User.create(
                    username=USERNAME,
                    password_hash=hash_password(PASSWORD),
                    role=Role.MEMBER,
                    display_name="Bench farmer",
                )
                await user.organizations.add(org)
        finally:
            await context.close_connections()

    asyncio.run(seed())


def build_app(kind: str, database_url: str) -> Any:
    if kind == "minori":
        from core.app import create_app

        return create_app(minori_settings(database_url), run_jobs=False)

    from litestar import Litestar, get

    @get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return Litestar(route_handlers=[hello])


def serve(kind: str, database_url: str, port: int) -> None:
    """The server process: build the app here (apps do not cross processes) and serve it."""
    import logging

    import uvicorn

    logging.basicConfig(level=logging.WARNING)
    app = build_app(kind, database_url)
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


@dataclass
class Result:
    name: str
    latencies: list[float]
    errors: int
    seconds: float
    server_cpu: float | None
    client_cpu: float

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        rank = max(1, round(q / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1] * 1000


async def drive(
    base_url: str,
    path: str,
    headers: dict[str, str],
    concurrency: int,
    warmup: float,
    seconds: float,
) -> tuple[list[float], int, float]:
    """Closed loop: ``concurrency`` workers, each sends its next request once answered.

    Returns the latencies and the error count of requests started after the warm-up, and
    the length of the measured window.
    """
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + warmup
    end = measure_from + seconds

    async def worker() -> None:
        # One client (one kept-alive connection) per worker: a single shared AsyncClient
        # spends more CPU in its pool bookkeeping than in HTTP as concurrency grows
        # (encode/httpx#3215), and this load generator shares the machine with the server.
        nonlocal errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            while (sent := time.perf_counter()) < end:
                try:
                    response = await client.get(path, headers=headers)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if sent >= measure_from:
                    if ok:
                        latencies.append(time.perf_counter() - sent)
                    else:
                        errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, seconds


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


def run_one(kind: str, label: str, database_url: str, args: argparse.Namespace) -> Result:
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    spawn = multiprocessing.get_context("spawn")
    process = spawn.Process(target=serve, args=(kind, database_url, port), daemon=True)
    process.start()
    try:
        if kind == "minori":
            wait_until_up(process, f"{base_url}/health/live")
            login = httpx.post(
                f"{base_url}/api/v1/auth/token",
                json={"username": USERNAME, "password": PASSWORD},
                timeout=30,
            )
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            path = "/api/v1/me"
        else:
            wait_until_up(process, f"{base_url}/")
            headers, path = {}, "/"
        check = httpx.get(f"{base_url}{path}", headers=headers, timeout=30)
        if check.status_code != 200:
            raise SystemExit(f"{label}: {path} answered {check.status_code}: {check.text}")

        assert process.pid is not None
        server_before = cpu_seconds(process.pid)
        client_before = time.process_time()
        latencies, errors, seconds = asyncio.run(
            drive(base_url, path, headers, args.concurrency, args.warmup, args.seconds)
        )
        client_cpu = time.process_time() - client_before
        server_after = cpu_seconds(process.pid)
        window = args.warmup + args.seconds
        server_cpu = (
            (server_after - server_before) / window
            if server_before is not None and server_after is not None
            else None
        )
        return Result(label, latencies, errors, seconds, server_cpu, client_cpu / window)
    finally:
        process.terminate()
        process.join(timeout=15)
        if process.is_alive():
            process.kill()
            process.join()


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def report(results: list[Result], args: argparse.Namespace) -> None:
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    print(
        f"\nconcurrency {args.concurrency}, warm-up {args.warmup:g} s, measured "
        f"{args.seconds:g} s per app; uvicorn ({loop}, {http}) in its own process on "
        f"{HOST}; Python {platform.python_version()}, {os.cpu_count()} CPUs\n"
    )
    header = (
        f"{'':<22}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'server CPU':>12}{'client CPU':>12}"
    )
    print(header)
    for r in results:
        print(
            f"{r.name:<22}{r.requests:>10}{r.rps:>10.0f}{r.percentile(50):>9.2f}"
            f"{r.percentile(99):>9.2f}{r.errors:>8}{percent(r.server_cpu):>12}"
            f"{percent(r.client_cpu):>12}"
        )
    minori, hello = results
    print(
        f"{'minori / hello':<22}{'':>10}{minori.rps / hello.rps:>10.2f}"
        f"{minori.percentile(50) / hello.percentile(50):>9.2f}"
        f"{minori.percentile(99) / hello.percentile(99):>9.2f}"
    )
    print(
        "\nCPU: share of one core used over the run, warm-up included. A client near 100% "
        "means the load generator, not the server, set the pace."
    )
    for r in results:
        if r.client_cpu >= 0.9:
            print(
                f"note: the load generator was saturated for {r.name!r}: its figures are a "
                "floor for that server, and the ratios understate the difference."
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per app")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent workers")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time first")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--seconds must be > 0, --concurrency >= 1, --warmup >= 0")

    with tempfile.TemporaryDirectory(prefix="minori-bench-") as tmp:
        database_url = f"sqlite://{Path(tmp) / 'bench.db'}"
        print("preparing a migrated SQLite database ...", file=sys.stderr)
        prepare_database(database_url)
        results = []
        for kind, label in [("minori", "minori GET /api/v1/me"), ("hello", "litestar GET /")]:
            print(f"running {label} ...", file=sys.stderr)
            results.append(run_one(kind, label, database_url, args))
    report(results, args)


if __name__ == "__main__":
    main()
