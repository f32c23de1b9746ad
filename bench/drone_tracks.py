"""How long the drone spraying plugin takes to measure a flight track, by track size.

    .venv/bin/python bench/drone_tracks.py [--sizes 1000,10000,50000] [--repeat 3]

For each size, a lawn-mower flight over a 400 m x 200 m field near Sasebo (passes 5 m apart,
the pump off on the turns, fixes evenly spaced along each pass) is written as the plugin's CSV
and measured with the plugin's own code: ``track_from_csv`` (parsing and checking every row)
then ``measure`` (buffering the passes in an equal-area projection, union, intersection with
the field, geodesic field area). It prints the best of ``--repeat`` runs for each step and
how far the measured coverage and sprayed area are from the true ones (the flight sprays the
field exactly once over, so both are known). No server, no database: this is the CPU cost a
track import adds to its request. Figures compare only between runs on the same machine.
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import UTC, datetime, timedelta

from plugins.drone_spraying import geometry

A, F = 6378137.0, 1 / 298.257223563
E2 = F * (2 - F)
LAT0, LON0 = 33.18, 129.72
PHI = math.radians(LAT0)
M = A * (1 - E2) / (1 - E2 * math.sin(PHI) ** 2) ** 1.5
N = A / math.sqrt(1 - E2 * math.sin(PHI) ** 2)
WIDTH, HEIGHT, SWATH = 400.0, 200.0, 5.0


def lonlat(east: float, north: float) -> tuple[float, float]:
    return LON0 + math.degrees(east / (N * math.cos(PHI))), LAT0 + math.degrees(north / M)


def field() -> geometry.BaseGeometry:
    ring = [
        list(lonlat(x, y)) for x, y in ((0, 0), (WIDTH, 0), (WIDTH, HEIGHT), (0, HEIGHT), (0, 0))
    ]
    return geometry.boundary_from_geojson({"type": "Polygon", "coordinates": [ring]})


def track(points: int) -> str:
    passes = int(HEIGHT / SWATH)
    per_pass = max(2, points // passes)
    start = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)
    rows = ["time,lat,lon,altitude,flow"]
    for k in range(passes):
        y = SWATH / 2 + k * SWATH
        for i in range(per_pass):
            x = WIDTH * i / (per_pass - 1)
            if k % 2:
                x = WIDTH - x
            lon, lat = lonlat(x, y)
            flow = 1.6 if i < per_pass - 1 else 0.0
            moment = start + timedelta(seconds=len(rows))
            rows.append(f"{moment.isoformat()},{lat:.8f},{lon:.8f},3.0,{flow}")
    return "\n".join(rows)


def best(repeat: int, work: object) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    boundary = field()
    print(
        f"{'points':>8} {'CSV KiB':>8} {'parse ms':>9} {'measure ms':>11} {'total ms':>9}"
        f" {'area err %':>11} {'coverage err %':>15}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        text = track(size)
        parse_s, parsed = best(
            args.repeat, lambda t=text: geometry.track_from_csv(t, 0.0, UTC, 10**7)
        )
        measure_s, result = best(args.repeat, lambda p=parsed: geometry.measure(p, SWATH, boundary))
        area_error = (result.sprayed_area_m2 / (WIDTH * HEIGHT) - 1) * 100
        coverage_error = (result.coverage - 1) * 100
        print(
            f"{result.point_count:>8} {len(text) / 1024:>8.0f} {parse_s * 1000:>9.1f}"
            f" {measure_s * 1000:>11.1f} {(parse_s + measure_s) * 1000:>9.1f}"
            f" {area_error:>11.4f} {coverage_error:>15.4f}"
        )


if __name__ == "__main__":
    main()
