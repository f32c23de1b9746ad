"""Alert latency: from a trigger reading to the push arriving at the FCM stand-in.

A trigger is a ``door`` = 1 reading of a ``sensors.probe`` (tests/sensors.py), which raises a
critical alert pushed to the organization's one member, who has one FCM registration token.
Every trigger uses a device of its own, so every trigger opens a NEW alert (a repeat on an
open alert only counts and pushes nothing). The push goes through the real firebase-admin
sender (``tests/fcm_server.py: fcm_sender``) to the local FCM v1 stand-in (``fcm_server``),
both in the app's server process, as the patched ``FCM_URL`` requires; that process reports
each arrival back over a pipe and the push is matched to its trigger by the reading id it
carries (``data.reading``).

Times: the benchmark takes the send time with ``time.monotonic_ns()`` just before the POST
(or the MQTT publish); the server process converts each arrival to the same clock. Both are
CLOCK_MONOTONIC, which Linux keeps system-wide, so they compare across processes.

Cases, each ``--triggers`` triggers sent one at a time (the next after the previous push
arrived, or after a timeout): HTTP ``POST /api/v1/ingest`` and MQTT QoS 1 publish, on an idle
server and under background load: a separate process drives ``POST /api/v1/ingest`` at half
the readings/s a short calibration measured (64 connections, batches of 100, closed loop).

MQTT goes through a Mosquitto started for the run on a free loopback port unless
``--mqtt-url`` names a broker. Each case also shows where the machine's CPU went.

    .venv/bin/python bench/alert_latency.py [--triggers 500] [--backend sqlite|postgres|both]
                                            [--skip-mqtt] [--plugins repo|sensors]

A benchmark, never a test: it prints figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    DEFAULT_MQTT_URL,
    DEFAULT_PG_URL,
    HOST,
    PLUGIN_SETS,
    CpuMeter,
    IngestTally,
    bench_settings,
    cpu_seconds,
    cpu_summary,
    fresh_database,
    ingest_worker,
    mqtt_broker,
    percentile,
    postgres_reachable,
    seed,
    server_process,
    wait_for_quiet,
)

PUSH_TOKEN = "bench-farmer-phone"  # noqa: S105 (an FCM registration token of the stand-in)
TRIGGER_TIMEOUT_S = 5.0
CALIBRATION_WORKERS = 64
BACKGROUND_WORKERS = 32
BACKGROUND_BATCH = 100
BACKGROUND_MAX_S = 600.0
WARMUP_TRIGGERS = 5
TRIGGER_ID = re.compile(r"(?:warm-up|idle|loaded)-(?:http|mqtt)-\d+")


# the server process: the app and the FCM stand-in together


def serve_with_fcm(
    overrides: dict[str, Any], database_url: str, arrivals: Connection, port: int
) -> None:
    import logging

    import uvicorn

    from core.app import create_app
    from tests.fcm_server import fcm_sender, fcm_server

    logging.basicConfig(level=logging.WARNING)
    with fcm_server() as fcm, fcm_sender() as sender:
        threading.Thread(target=_report_arrivals, args=(fcm, arrivals), daemon=True).start()
        app = create_app(
            bench_settings(database_url, **overrides), run_jobs=False, push_sender=sender
        )
        uvicorn.run(
            app, host=HOST, port=port, log_config=None, access_log=False, log_level="warning"
        )


def _report_arrivals(fcm: Any, arrivals: Connection) -> None:
    """Send ``(arrival monotonic ns, reading id, alert id)`` for every push the stand-in
    records. It stamps arrivals with ``time.perf_counter()``; the offset to
    ``time.monotonic()`` is taken here (both are CLOCK_MONOTONIC on Linux: it is ~0)."""
    sent = 0
    while True:
        try:
            received = fcm.wait_for(sent + 1, timeout=1.0)
        except AssertionError:
            continue
        offset = time.monotonic() - time.perf_counter()
        for push in received[sent:]:
            data = push.message.get("data", {})
            # The body names the reading ("Reading <id> says the door is open.", in the
            # farmer's language): find the trigger's id in it.
            body = push.message.get("notification", {}).get("body", "")
            found = TRIGGER_ID.search(body)
            reading = data.get("reading") or (found.group(0) if found else body)
            arrivals.send((round((push.at + offset) * 1e9), reading, data.get("alert_id")))
        sent = len(received)


class Arrivals:
    """The pushes the server process reports, awaited by reading id."""

    def __init__(self, connection: Connection, loop: asyncio.AbstractEventLoop) -> None:
        self.connection = connection
        self.loop = loop
        self.waiting: dict[str, asyncio.Future[int]] = {}
        self.seen: dict[str, int] = {}
        self.unexpected = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def expect(self, reading: str) -> asyncio.Future[int]:
        future = self.loop.create_future()
        with self._lock:
            if reading in self.seen:
                future.set_result(self.seen[reading])
            else:
                self.waiting[reading] = future
        return future

    def _read(self) -> None:
        while True:
            try:
                at, reading, _alert = self.connection.recv()
            except (EOFError, OSError):
                return
            with self._lock:
                if reading in self.seen:
                    self.unexpected += 1  # a second push for one trigger
                self.seen[reading] = at
                future = self.waiting.pop(reading, None)
            if future is not None:
                self.loop.call_soon_threadsafe(_resolve, future, at)


def _resolve(future: asyncio.Future[int], at: int) -> None:
    if not future.done():
        future.set_result(at)


# the background load, in a process of its own (so the trigger sender keeps its timing)


def load_process(
    base_url: str,
    devices: list[tuple[str, str]],
    rate: float | None,
    seconds: float,
    stop: Any,
    results: Connection,
) -> None:
    """Closed loop at full speed (``rate`` None: the calibration) or paced at ``rate``
    readings/s, for ``seconds`` once every connection had an answer (and, at full speed,
    a second of warm-up) or until ``stop`` is set; reports the readings/s accepted."""

    async def run() -> tuple[float, IngestTally]:
        tally = IngestTally()
        cap = time.monotonic() + BACKGROUND_MAX_S
        if rate is None:
            workers, interval = devices[:CALIBRATION_WORKERS], None
        else:
            workers = devices[:BACKGROUND_WORKERS]
            interval = len(workers) * BACKGROUND_BATCH / rate
        run_tag = uuid.uuid4().hex[:6]  # reading ids unique across load runs
        stopping = False
        tasks = [
            asyncio.create_task(
                ingest_worker(
                    base_url,
                    key,
                    f"{run_tag}-{i}",
                    BACKGROUND_BATCH,
                    tally,
                    cap,
                    cap,
                    interval,
                    stop=lambda: stopping,
                    phase=(interval or 0.0) * i / len(workers),
                )
            )
            for i, (_device, key) in enumerate(workers)
        ]
        # Measured from when every connection has had an answer until stopped.
        while time.monotonic() < cap:
            if tally.requests >= len(workers):
                break
            await asyncio.sleep(0.01)
        results.send("ready")
        if rate is None:
            await asyncio.sleep(1.0)  # the calibration's warm-up
        measured_from, accepted_before = time.monotonic(), tally.accepted
        end = min(cap, measured_from + seconds)
        while time.monotonic() < end:  # stop is a multiprocessing.Event: poll it
            if stop.is_set():
                break
            await asyncio.sleep(0.02)
        rate_seen = (tally.accepted - accepted_before) / (time.monotonic() - measured_from)
        stopping = True
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return rate_seen, tally

    rate_seen, tally = asyncio.run(run())
    results.send((rate_seen, tally.accepted, tally.errors, tally.error_samples))


@dataclass
class Background:
    process: multiprocessing.process.BaseProcess
    stop: Any
    results: Connection

    def finish(self, stop: bool = True) -> tuple[float, int, int, list[str]]:
        """Stop the load (or, ``stop`` False, let it run its time); its outcome."""
        if stop:
            self.stop.set()
        outcome = self.results.recv() if self.results.poll(120) else (float("nan"), 0, 0, [])
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
        return outcome  # type: ignore[no-any-return]


def start_load(
    base_url: str, devices: list[tuple[str, str]], rate: float | None, seconds: float
) -> Background:
    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    receive, send = spawn.Pipe(duplex=False)
    process = spawn.Process(
        target=load_process, args=(base_url, devices, rate, seconds, stop, send), daemon=True
    )
    process.start()
    if not receive.poll(60) or receive.recv() != "ready":
        raise SystemExit("the load generator did not get going within 60 s")
    return Background(process, stop, receive)


# triggers


@dataclass
class Latencies:
    label: str
    values_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    """HTTP: the 202 answer (the reading committed) after the POST was sent."""
    missing: int = 0
    failed: int = 0
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)


def door_reading(reading_id: str) -> dict[str, Any]:
    return {"id": reading_id, "ts": datetime.now(UTC).isoformat(), "metric": "door", "value": 1}


async def http_triggers(
    base_url: str, devices: list[tuple[str, str]], tag: str, arrivals: Arrivals, gap_s: float
) -> Latencies:
    result = Latencies(f"HTTP {tag.split('-')[0]}")
    began = time.monotonic()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        for i, (_device_id, key) in enumerate(devices):
            reading = f"{tag}-{i}"
            body = json.dumps({"readings": [door_reading(reading)]}).encode()
            headers = {"Authorization": f"Device {key}", "Content-Type": "application/json"}
            pushed = arrivals.expect(reading)
            sent = time.monotonic_ns()
            response = await client.post("/api/v1/ingest", content=body, headers=headers)
            answered = time.monotonic_ns()
            if response.status_code != 202 or response.json()["accepted"] != 1:
                result.failed += 1
                continue
            result.answer_ms.append((answered - sent) / 1e6)
            try:
                at = await asyncio.wait_for(pushed, TRIGGER_TIMEOUT_S)
            except TimeoutError:
                result.missing += 1
                continue
            result.values_ms.append((at - sent) / 1e6)
            await asyncio.sleep(gap_s)
    result.seconds = time.monotonic() - began
    return result


async def mqtt_triggers(
    mqtt_url: str,
    organization_id: str,
    devices: list[tuple[str, str]],
    tag: str,
    arrivals: Arrivals,
    gap_s: float,
) -> Latencies:
    import aiomqtt

    result = Latencies(f"MQTT {tag.split('-')[0]}")
    began = time.monotonic()
    parts = urlsplit(mqtt_url)
    async with aiomqtt.Client(
        parts.hostname or HOST,
        parts.port or 1883,
        identifier=f"minori-bench-trigger-{uuid.uuid4().hex[:8]}",
    ) as client:
        for i, (device_id, _key) in enumerate(devices):
            reading = f"{tag}-{i}"
            payload = json.dumps(door_reading(reading))
            pushed = arrivals.expect(reading)
            sent = time.monotonic_ns()
            await client.publish(f"minori/{organization_id}/{device_id}/up", payload, qos=1)
            try:
                at = await asyncio.wait_for(pushed, TRIGGER_TIMEOUT_S)
            except TimeoutError:
                result.missing += 1
                continue
            result.values_ms.append((at - sent) / 1e6)
            await asyncio.sleep(gap_s)
    result.seconds = time.monotonic() - began
    return result


# one backend


@dataclass
class Run:
    backend: str
    label: str
    cases: list[Latencies] = field(default_factory=list)
    calibration: float = float("nan")
    target: float = float("nan")
    background: float = float("nan")
    background_errors: int = 0
    background_samples: list[str] = field(default_factory=list)
    unexpected_pushes: int = 0
    server_cpu: float | None = None
    wall_s: float = 0.0


def run_backend(backend: str, args: argparse.Namespace) -> Run:
    import aiomqtt

    began = time.monotonic()
    kinds = ["HTTP"] + ([] if args.skip_mqtt else ["MQTT"])
    per_case = args.triggers
    with fresh_database(backend, args.pg_url, "alerts", args.plugins) as database:
        run = Run(backend, database.label)
        background_devices = 64
        seeded = seed(
            database.url,
            devices=background_devices + (per_case * 2 + WARMUP_TRIGGERS) * len(kinds),
            push_token=PUSH_TOKEN,
            plugin_set=args.plugins,
        )
        load_devices = seeded.devices[:background_devices]
        trigger_devices = seeded.devices[background_devices:]
        tag = uuid.uuid4().hex[:10]
        overrides: dict[str, Any] = {"plugin_set": args.plugins}
        if not args.skip_mqtt:
            overrides |= {
                "mqtt_url": args.mqtt_url,
                "mqtt_client_id": f"minori-bench-{tag}",
                "mqtt_share_group": f"bench{tag}",
            }
        spawn = multiprocessing.get_context("spawn")
        receive, send = spawn.Pipe(duplex=False)
        try:
            with server_process(serve_with_fcm, overrides, database.url, send) as (
                base_url,
                process,
            ):
                if not args.skip_mqtt:
                    wait_for_consumer(base_url)
                assert process.pid is not None
                cpu_before = cpu_seconds(process.pid)

                async def all_cases() -> None:
                    arrivals = Arrivals(receive, asyncio.get_running_loop())

                    load_pid: list[int | None] = [None]

                    async def cases(state: str, offset: int, count: int = per_case) -> None:
                        for index, kind in enumerate(kinds):
                            meter = CpuMeter(
                                {"server": process.pid, "bench": os.getpid(), "load": load_pid[0]}
                            )
                            start = offset + index * count
                            devices = trigger_devices[start : start + count]
                            print(f"{backend}: {kind} {state} ...", file=sys.stderr)
                            if kind == "HTTP":
                                case = await http_triggers(
                                    base_url, devices, f"{state}-http", arrivals, args.gap
                                )
                            else:
                                case = await mqtt_triggers(
                                    args.mqtt_url,
                                    seeded.organization_id,
                                    devices,
                                    f"{state}-mqtt",
                                    arrivals,
                                    args.gap,
                                )
                            if state != "warm-up":
                                case.cpu = meter.read()
                                run.cases.append(case)

                    # The first pushes after start-up open connections and warm caches.
                    await cases("warm-up", 2 * len(kinds) * per_case, WARMUP_TRIGGERS)
                    await cases("idle", 0)
                    print(f"{backend}: calibrating ...", file=sys.stderr)
                    calibration = await asyncio.to_thread(
                        start_load, base_url, load_devices, None, args.calibration
                    )
                    run.calibration = (await asyncio.to_thread(calibration.finish, False))[0]
                    run.target = run.calibration / 2
                    background = await asyncio.to_thread(
                        start_load, base_url, load_devices, run.target, BACKGROUND_MAX_S
                    )
                    load_pid[0] = background.process.pid
                    await asyncio.sleep(1.0)
                    try:
                        await cases("loaded", len(kinds) * per_case)
                    finally:
                        outcome = await asyncio.to_thread(background.finish)
                    run.background, _accepted, run.background_errors, run.background_samples = (
                        outcome
                    )
                    run.unexpected_pushes = arrivals.unexpected

                asyncio.run(all_cases())
                cpu_after = cpu_seconds(process.pid)
                if cpu_before is not None and cpu_after is not None:
                    run.server_cpu = cpu_after - cpu_before
        finally:
            if not args.skip_mqtt:
                asyncio.run(forget_session(args.mqtt_url, overrides["mqtt_client_id"], aiomqtt))
    run.wall_s = time.monotonic() - began
    return run


def wait_for_consumer(base_url: str) -> None:
    deadline = time.monotonic() + 30
    state = "?"
    while time.monotonic() < deadline:
        state = httpx.get(f"{base_url}/health/ready", timeout=5).json()["checks"]["mqtt"]
        if state == "ok":
            return
        time.sleep(0.05)
    raise SystemExit(f"the app's MQTT consumer did not subscribe within 30 s: {state}")


async def forget_session(url: str, client_id: str, aiomqtt: Any) -> None:
    parts = urlsplit(url)
    async with aiomqtt.Client(
        parts.hostname or HOST, parts.port or 1883, identifier=client_id, clean_session=True
    ):
        pass


# the report


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print(
        f"\nTrigger to push at the FCM stand-in, {args.triggers} triggers per case, one at a "
        f"time ({args.gap * 1000:g} ms after the previous push); a new device (a new alert) per "
        "trigger; send and arrival times on time.monotonic_ns() (CLOCK_MONOTONIC, system-wide "
        f"on Linux). Python {platform.python_version()}, {os.cpu_count()} CPUs.\n"
    )
    print(
        f"{'backend':<11}{'case':<14}{'pushes':>7}{'missing':>8}{'p50 ms':>8}{'p90 ms':>8}"
        f"{'p99 ms':>8}{'max ms':>8}{'goal p99':>14}{'202 p50':>9}{'202 p99':>9}{'took s':>8}"
    )
    for run in runs:
        for case in run.cases:
            v = case.values_ms
            goal = 100 if "idle" in case.label else 250
            met = "" if not v else ("met" if percentile(v, 99) < goal else "NOT met")
            answers = case.answer_ms
            print(
                f"{run.label:<11}{case.label:<14}{len(v):>7}{case.missing + case.failed:>8}"
                f"{percentile(v, 50):>8.1f}{percentile(v, 90):>8.1f}{percentile(v, 99):>8.1f}"
                f"{max(v, default=float('nan')):>8.1f}{f'<{goal} {met}':>14}"
                f"{fmt(percentile(answers, 50)):>9}{fmt(percentile(answers, 99)):>9}"
                f"{case.seconds:>8.1f}"
            )
            print(f"{'':<25}CPU in cores: {cpu_summary(case.cpu)}")
        print(
            f"{run.label:<11}background: calibrated {run.calibration:.0f} readings/s "
            f"(closed loop, {CALIBRATION_WORKERS} connections, batches of {BACKGROUND_BATCH}), "
            f"target {run.target:.0f}/s, achieved {run.background:.0f}/s "
            f"({BACKGROUND_WORKERS} paced connections), {run.background_errors} errors"
        )
        for sample in run.background_samples:
            print(f"    background error: {sample}")
        if run.unexpected_pushes:
            print(f"    {run.unexpected_pushes} triggers were pushed more than once")
        print(f"{run.label:<11}run took {run.wall_s:.0f} s\n")
    broker = (
        "a Mosquitto of the benchmark's own (stock limits)"
        if args.mqtt_url == "private"
        else args.mqtt_url
    )
    print(
        "202 p50/p99: HTTP only, the answer to the trigger's POST (its reading committed). "
        f"missing: no 202 or no push within {TRIGGER_TIMEOUT_S:g} s. MQTT broker: {broker}. "
        "CPU in cores over each case (1.00 = one core busy): server = the app and the FCM "
        "stand-in, bench = the trigger sender, load = the background load process, "
        "other = everything else on the machine."
    )
    if any(c.cpu.get("other", 0) >= 0.25 for r in runs for c in r.cases):
        print(
            "note: other processes used a quarter of a core or more during some cases; the "
            "machine was shared, so those latencies are high and noisy. Run again on an idle "
            "machine to compare."
        )


def fmt(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triggers", type=int, default=500, help="triggers per case")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--skip-mqtt", action="store_true", help="only the HTTP cases")
    parser.add_argument("--gap", type=float, default=0.005, help="seconds between triggers")
    parser.add_argument(
        "--calibration", type=float, default=3.0, help="seconds of full-speed ingest"
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
        help="before each backend, wait up to this many seconds for an idle machine",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL admin URL")
    parser.add_argument(
        "--mqtt-url",
        default=DEFAULT_MQTT_URL,
        help="private (default): a Mosquitto of this benchmark's own on a free loopback port; "
        "or a broker, e.g. mqtt://127.0.0.1:1883 (every consumer there gets the messages)",
    )
    args = parser.parse_args(argv)
    if args.triggers < 1 or args.gap < 0 or args.calibration <= 0:
        parser.error("--triggers must be >= 1, --gap >= 0, --calibration > 0")

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and (why := postgres_reachable(args.pg_url)):
        print(f"skipping PostgreSQL: not reachable at {args.pg_url} ({why})", file=sys.stderr)
        backends.remove("postgres")
    began = time.monotonic()
    runs = []
    failures = []
    for backend in backends:
        wait_for_quiet(args.wait_idle)
        try:
            with mqtt_broker("none" if args.skip_mqtt else args.mqtt_url) as url:
                runs.append(
                    run_backend(backend, argparse.Namespace(**{**vars(args), "mqtt_url": url}))
                )
        except SystemExit as exc:  # one backend failing still reports the others
            print(f"{backend}: stopped: {exc}", file=sys.stderr)
            failures.append(f"{backend}: {exc}")
    report(runs, args)
    for failure in failures:
        print(f"not measured: {failure}")
    print(f"total {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
