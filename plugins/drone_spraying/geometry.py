"""Field boundaries and flight tracks: areas on the ellipsoid, swaths in metres.

- A field's area is the geodesic area of its GeoJSON polygon on the WGS84 ellipsoid
  (``pyproj.Geod``, Karney's algorithm), so it needs no projection at all.
- A track is turned into the passes that sprayed: a GeoJSON ``LineString`` sprays along its
  whole length, a ``MultiLineString`` (or a ``FeatureCollection`` of lines) along each part;
  a CSV track sprays on every segment whose flow at its start is above the threshold.
- Each pass is buffered by half the swath width (flat ends, round joins) in a Lambert
  azimuthal *equal-area* projection centred on the field, the passes are united (an overlap
  is sprayed once), and intersected with the field: areas measured there are true areas.

The CSV format (a header row, then one row per GPS fix; extra columns are ignored)::

    time,lat,lon,altitude,flow
    2026-06-10T06:00:00+09:00,33.1801,129.7202,3.0,0.0
    2026-06-10T06:00:02+09:00,33.1801,129.7204,3.1,1.6

``time`` is RFC 3339 (a time without an offset is read in the city's time zone) or Unix
seconds; ``lat``/``lon`` in degrees (WGS84); ``altitude`` in metres above take-off;
``flow`` in L/min (0 when the pump is off).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from core.i18n import Text
from plugins.drone_spraying.i18n import _

GEOD = Geod(ellps="WGS84")
CSV_COLUMNS = ("time", "lat", "lon", "altitude", "flow")


class GeometryError(ValueError):
    """Bad geometry in a request: ``pointer`` is relative to the geometry's own field."""

    def __init__(self, pointer: str, detail: Text) -> None:
        super().__init__(detail.render("en"))
        self.pointer = pointer
        self.detail = detail


# ---------------------------------------------------------------------------- fields


def _position(value: Any, pointer: str) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    ):
        raise GeometryError(pointer, _("a position is [longitude, latitude]"))
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
        raise GeometryError(pointer, _("longitude or latitude out of range"))
    return lon, lat


def _ring(value: Any, pointer: str) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) < 4:
        raise GeometryError(pointer, _("a ring needs at least four positions"))
    ring = [_position(p, f"{pointer}/{i}") for i, p in enumerate(value)]
    if ring[0] != ring[-1]:
        raise GeometryError(pointer, _("a ring must end where it starts"))
    return ring


def boundary_from_geojson(value: Any) -> Polygon | MultiPolygon:
    """A field boundary from a GeoJSON ``Polygon`` or ``MultiPolygon`` (or a ``Feature`` of
    one), checked: closed rings, positions in range, no self-intersection."""
    if isinstance(value, dict) and value.get("type") == "Feature":
        inner = boundary_from_geojson(value.get("geometry"))
        return inner
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise GeometryError("/type", _("a boundary is a GeoJSON Polygon or MultiPolygon"))
    coordinates = value.get("coordinates")
    if value["type"] == "Polygon":
        polygons = [coordinates]
        pointers = ["/coordinates"]
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise GeometryError("/coordinates", _("a MultiPolygon needs polygons"))
        polygons = coordinates
        pointers = [f"/coordinates/{i}" for i in range(len(coordinates))]
    parts = []
    for rings, pointer in zip(polygons, pointers, strict=True):
        if not isinstance(rings, list) or not rings:
            raise GeometryError(pointer, _("a polygon needs an outer ring"))
        checked = [_ring(r, f"{pointer}/{i}") for i, r in enumerate(rings)]
        parts.append(Polygon(checked[0], checked[1:]))
    geometry: Polygon | MultiPolygon = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    if not geometry.is_valid or geometry.is_empty:
        raise GeometryError("/coordinates", _("the polygon crosses itself or has no area"))
    return geometry


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    """Area on the WGS84 ellipsoid in square metres (holes subtracted)."""
    area, _perimeter = GEOD.geometry_area_perimeter(geometry)
    return abs(area)


def centroid(geometry: BaseGeometry) -> tuple[float, float]:
    """(latitude, longitude) of the shape's centre; plenty for a field a few hundred metres
    across."""
    point = geometry.centroid
    return point.y, point.x


# ---------------------------------------------------------------------------- tracks


@dataclass
class Fix:
    lon: float
    lat: float
    time: datetime | None = None
    altitude: float | None = None
    flow: float | None = None


@dataclass
class Track:
    """Parsed flight track: every fix in order, and the runs of fixes that sprayed."""

    fixes: list[Fix] = field(default_factory=list)
    passes: list[list[Fix]] = field(default_factory=list)


@dataclass(frozen=True)
class TrackMeasure:
    point_count: int
    pass_count: int
    swath_width_m: float
    distance_m: float
    sprayed_area_m2: float
    inside_area_m2: float | None
    field_area_m2: float | None
    coverage: float | None
    outside_share: float | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    spraying_s: float | None
    sprayed_paths: list[list[list[float]]]


def _times(value: Any, count: int, pointer: str) -> list[datetime | None]:
    if value is None:
        return [None] * count
    if not isinstance(value, list) or len(value) != count:
        raise GeometryError(pointer, _("give one time per position"))
    return [_time(v, f"{pointer}/{i}", UTC) for i, v in enumerate(value)]


def _time(value: Any, pointer: str, zone: tzinfo) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / 1000 if value > 1e11 else float(value)
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            return _time(number, pointer, zone)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise GeometryError(pointer, _("not an RFC 3339 time")) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    raise GeometryError(pointer, _("not an RFC 3339 time"))


def _line(coordinates: Any, times: Any, pointer: str) -> list[Fix]:
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise GeometryError(pointer, _("a line needs at least two positions"))
    stamps = _times(times, len(coordinates), pointer.replace("coordinates", "times"))
    fixes = []
    for i, (position, stamp) in enumerate(zip(coordinates, stamps, strict=True)):
        lon, lat = _position(position, f"{pointer}/{i}")
        altitude = (
            position[2] if len(position) > 2 and isinstance(position[2], int | float) else None
        )
        fixes.append(Fix(lon, lat, stamp, altitude))
    return fixes


def _geometry_lines(geometry: Any, times: Any, pointer: str) -> list[list[Fix]]:
    if not isinstance(geometry, dict):
        raise GeometryError(pointer or "/", _("a track is a GeoJSON LineString or MultiLineString"))
    kind = geometry.get("type")
    if kind == "LineString":
        return [_line(geometry.get("coordinates"), times, f"{pointer}/coordinates")]
    if kind == "MultiLineString":
        parts = geometry.get("coordinates")
        if not isinstance(parts, list) or not parts:
            raise GeometryError(f"{pointer}/coordinates", _("a MultiLineString needs lines"))
        if times is not None and (not isinstance(times, list) or len(times) != len(parts)):
            raise GeometryError(f"{pointer}/times", _("give one time per position"))
        return [
            _line(part, times[i] if times is not None else None, f"{pointer}/coordinates/{i}")
            for i, part in enumerate(parts)
        ]
    raise GeometryError(f"{pointer}/type", _("a track is a GeoJSON LineString or MultiLineString"))


def track_from_geojson(value: Any, max_points: int) -> Track:
    """Passes from GeoJSON: a line sprays along its whole length. A ``Feature`` may carry
    one time per position in ``properties.coordTimes`` (what GPX converters write) or
    ``properties.times``."""
    lines: list[list[Fix]] = []
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list) or not features:
            raise GeometryError("/features", _("a FeatureCollection needs features"))
        for i, feature in enumerate(features):
            lines += _feature_lines(feature, f"/features/{i}")
    elif isinstance(value, dict) and value.get("type") == "Feature":
        lines = _feature_lines(value, "")
    else:
        lines = _geometry_lines(value, None, "")
    fixes = [fix for line in lines for fix in line]
    if len(fixes) > max_points:
        raise GeometryError("", _("more than {count} positions", count=max_points))
    return Track(fixes=fixes, passes=lines)


def _feature_lines(feature: Any, pointer: str) -> list[list[Fix]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise GeometryError(pointer or "/", _("not a GeoJSON Feature"))
    properties = feature.get("properties") or {}
    times = properties.get("coordTimes", properties.get("times"))
    return _geometry_lines(feature.get("geometry"), times, f"{pointer}/geometry")


def track_from_csv(text: str, flow_threshold: float, zone: tzinfo, max_points: int) -> Track:
    """Fixes from the documented CSV; a segment sprays when the flow at its start is above
    ``flow_threshold``. Errors name the line (1 is the header)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise GeometryError("", _("the CSV is empty")) from None
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise GeometryError("", _("line 1: missing columns {columns}", columns=", ".join(missing)))
    column = {name: header.index(name) for name in CSV_COLUMNS}
    fixes: list[Fix] = []
    for number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(fixes) >= max_points:
            raise GeometryError("", _("more than {count} positions", count=max_points))
        try:
            values = {name: row[index].strip() for name, index in column.items()}
        except IndexError:
            raise GeometryError("", _("line {line}: too few columns", line=number)) from None
        numbers: dict[str, float] = {}
        for name in ("lat", "lon", "altitude", "flow"):
            try:
                numbers[name] = float(values[name]) if values[name] else 0.0
            except ValueError:
                raise GeometryError(
                    "", _("line {line}: {column} is not a number", line=number, column=name)
                ) from None
            if not math.isfinite(numbers[name]):
                raise GeometryError(
                    "", _("line {line}: {column} is not a number", line=number, column=name)
                )
        if not (-90 <= numbers["lat"] <= 90 and -180 <= numbers["lon"] <= 180):
            raise GeometryError(
                "", _("line {line}: longitude or latitude out of range", line=number)
            )
        try:
            moment = _time(values["time"], "", zone)
        except GeometryError:
            raise GeometryError(
                "", _("line {line}: time is not an RFC 3339 time", line=number)
            ) from None
        if fixes and fixes[-1].time and moment < fixes[-1].time:
            raise GeometryError("", _("line {line}: time goes backwards", line=number))
        fixes.append(
            Fix(numbers["lon"], numbers["lat"], moment, numbers["altitude"], numbers["flow"])
        )
    if len(fixes) < 2:
        raise GeometryError("", _("a track needs at least two positions"))
    passes: list[list[Fix]] = []
    current: list[Fix] = []
    for here, there in itertools.pairwise(fixes):
        if (here.flow or 0.0) > flow_threshold:
            if not current:
                current = [here]
            current.append(there)
        elif current:
            passes.append(current)
            current = []
    if current:
        passes.append(current)
    return Track(fixes=fixes, passes=passes)


def _projector(lat: float, lon: float) -> Transformer:
    return Transformer.from_crs(
        "EPSG:4326",
        f"+proj=laea +lat_0={lat:.8f} +lon_0={lon:.8f} +datum=WGS84 +units=m +no_defs",
        always_xy=True,
    )


def _project(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def forward(coordinates: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coordinates[:, 0], coordinates[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, forward)


def _span(fixes: Sequence[Fix]) -> float | None:
    if len(fixes) < 2 or fixes[0].time is None or fixes[-1].time is None:
        return None
    return (fixes[-1].time - fixes[0].time).total_seconds()


def measure(track: Track, swath_width_m: float, boundary: BaseGeometry | None) -> TrackMeasure:
    """What a track sprayed: area (overlaps once), the part inside the field, the field's
    coverage and the share sprayed outside it, distance flown, duration and spraying time."""
    if boundary is not None:
        lat, lon = centroid(boundary)
    else:
        lat = sum(f.lat for f in track.fixes) / len(track.fixes)
        lon = sum(f.lon for f in track.fixes) / len(track.fixes)
    transformer = _projector(lat, lon)

    flown = LineString([(f.lon, f.lat) for f in track.fixes]) if len(track.fixes) > 1 else None
    distance = 0.0
    if flown is not None:
        distance = GEOD.geometry_length(flown)

    swaths = []
    paths = []
    for run in track.passes:
        points = [(f.lon, f.lat) for f in run]
        if len(set(points)) < 2:
            continue
        paths.append([[round(x, 7), round(y, 7)] for x, y in points])
        line = _project(LineString(points), transformer)
        swaths.append(line.buffer(swath_width_m / 2, cap_style="flat", join_style="round"))
    sprayed = shapely.union_all(swaths) if swaths else Polygon()
    sprayed_area = float(sprayed.area)

    inside_area = coverage = outside_share = field_area = None
    if boundary is not None:
        field_shape = _project(boundary, transformer)
        field_area = geodesic_area_m2(boundary)
        inside_area = float(sprayed.intersection(field_shape).area) if swaths else 0.0
        coverage = min(inside_area / field_area, 1.0) if field_area > 0 else None
        outside_share = (sprayed_area - inside_area) / sprayed_area if sprayed_area > 0 else 0.0

    spraying = None
    if all(f.time is not None for f in track.fixes) and track.fixes:
        spraying = sum(_span(run) or 0.0 for run in track.passes)
    times = [f.time for f in track.fixes if f.time is not None]
    started = min(times) if times else None
    ended = max(times) if times else None
    return TrackMeasure(
        point_count=len(track.fixes),
        pass_count=len(paths),
        swath_width_m=swath_width_m,
        distance_m=distance,
        sprayed_area_m2=sprayed_area,
        inside_area_m2=inside_area,
        field_area_m2=field_area,
        coverage=coverage,
        outside_share=outside_share,
        started_at=started,
        ended_at=ended,
        duration_s=(ended - started).total_seconds() if started and ended else None,
        spraying_s=spraying,
        sprayed_paths=paths,
    )


def boundary_geometry(value: Any) -> BaseGeometry:
    """A stored (already checked) boundary as a shape."""
    return shape(value)
