"""One scoring run over every monitored animal: estrus, calving and health.

The run reads the last ``WINDOW`` + 2 hours of every collar and thermometer in a few bulk
queries (services.history), computes the features of all animals at once with numpy, asks
each predictor once for the whole herd, and only then touches single animals: those whose
scores or readings call for an alert. Two hours in a row at or above a threshold raise an
alert, as the models were evaluated (models_ml/livestock/train.py).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

import numpy as np

from core.alerts.models import AlertStatus, Severity
from core.i18n import Text
from core.plugin import PluginContext
from plugins.livestock import herd, services
from plugins.livestock.features import (
    HOUSING_CODES,
    NO_GROUP,
    WINDOW,
    Series,
    calving_features,
    estimate_onset,
    estrus_features,
)
from plugins.livestock.i18n import _, joined
from plugins.livestock.models import Animal, AnimalStatus, EventKind, Housing, Sex
from plugins.livestock.settings import LivestockSettings

HOURS = WINDOW + 2
"""Hours read per run: the current hour may not have reported yet, and two hours are scored."""
ESTRUS = "livestock.estrus"
CALVING = "livestock.calving"
HEALTH_VERSION = "livestock.health@rules-1"
"""Health alerts come from rules, not a model; their version names the rules."""
HEAT_RUMINATION_HOURS = 36
"""Rumination stays low this long after the onset of a heat."""


@dataclass
class Report:
    animals: int = 0
    estrus_scored: int = 0
    calving_scored: int = 0
    heats: int = 0
    calvings: int = 0
    health: int = 0
    resolved: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def threshold(ctx: PluginContext, name: str, override: float | None, key: str) -> float:
    if override is not None:
        return override
    recorded = ctx.predictors.get(name).metadata.data.get(key)
    if not isinstance(recorded, (int, float)):
        raise RuntimeError(f"{name}: the artifact records no {key}; set it in the settings")
    return float(recorded)


def local(zone: tzinfo, moment: datetime) -> str:
    return moment.astimezone(zone).strftime("%m/%d %H:%M")


def _current(values: np.ndarray) -> np.ndarray:
    """Per animal, the column of its current hour: the last, or the one before when this
    hour has not reported yet."""
    last = values.shape[1] - 1
    return np.where(np.isnan(values[:, last]), last - 1, last)


def _groups(animals: list[Animal], members: np.ndarray, minimum: int) -> np.ndarray:
    """A group label for each of ``members``: its farm's group when that group has at least
    ``minimum`` of them, else its farm when the farm has, else ``NO_GROUP``."""
    groups = [f"{animals[i].organization_id}|{animals[i].group}" for i in members]
    farms = [f"{animals[i].organization_id}|" for i in members]
    size = Counter(groups)
    farm_size = Counter(farms)
    labels = [
        g if size[g] >= minimum else f if farm_size[f] >= minimum else None
        for g, f in zip(groups, farms, strict=True)
    ]
    index = {k: i for i, k in enumerate(dict.fromkeys(k for k in labels if k is not None))}
    return np.array([NO_GROUP if k is None else index[k] for k in labels], dtype=np.int64)


def _twice(groups: np.ndarray) -> np.ndarray:
    """The groups of two rows per animal (this hour, the hour before): separate groups."""
    shifted = np.where(groups == NO_GROUP, NO_GROUP, groups + int(groups.max(initial=0)) + 1)
    return np.concatenate([groups, shifted])


async def score(
    ctx: PluginContext, due: datetime, organization_ids: list[str] | None = None
) -> Report:
    settings = services.settings_of(ctx)
    report = Report()
    clock = time.perf_counter()
    current = due.replace(minute=0, second=0, microsecond=0)
    inputs = await services.scoring_inputs(organization_ids, due)
    report.animals = len(inputs.animals)
    if not inputs.animals:
        return report
    data = await services.history(
        inputs.devices, len(inputs.animals), current - timedelta(hours=HOURS - 1), HOURS
    )
    report.seconds["load"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()

    states = {
        str(a.id): herd.reproductive_state(
            inputs.facts.get(str(a.id), []),
            due,
            settings,
            ctx.city_zone,
            detected_heats=inputs.heats.get(str(a.id), []),
        )
        for a in inputs.animals
    }
    report.seconds["records"] = round(time.perf_counter() - clock, 3)
    run = _Run(ctx, settings, due, inputs, data, states, report)
    await run.estrus()
    await run.calving()
    await run.health()
    await run.tidy()
    ctx.logger.info(
        "scored %d animals: %d heats, %d calvings, %d health alerts",
        report.animals,
        report.heats,
        report.calvings,
        report.health,
        extra={"seconds": report.seconds},
    )
    return report


class _Run:
    def __init__(
        self,
        ctx: PluginContext,
        settings: LivestockSettings,
        now: datetime,
        inputs: services.ScoringInputs,
        data: services.History,
        states: dict[str, herd.ReproState],
        report: Report,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.now = now
        self.inputs = inputs
        self.animals = inputs.animals
        self.data = data
        self.states = states
        self.report = report

    def _hour(self, column: int) -> datetime:
        return self.data.start + timedelta(hours=int(column))

    def _open(self, kind: str, animal: Animal) -> bool:
        alert = self.inputs.open_alerts.get((kind, str(animal.id)))
        return alert is not None and alert.status in services.OPEN

    # estrus

    async def estrus(self) -> None:
        clock = time.perf_counter()
        rows = np.array(sorted(self.inputs.collared), dtype=np.intp)
        if rows.size == 0:
            return
        at = _current(self.data.activity[rows])
        groups = _groups(self.animals, rows, self.settings.herd_group_min)
        episode = timedelta(hours=self.settings.episode_hours)
        since_heat = np.full(rows.size, np.nan)
        since_calving = np.full(rows.size, np.nan)
        housing = np.empty(rows.size, dtype=np.int64)
        for i, row in enumerate(rows):
            animal = self.animals[row]
            state = self.states[str(animal.id)]
            before = [
                e.at
                for e in self.inputs.facts.get(str(animal.id), [])
                if e.kind in (EventKind.HEAT, EventKind.INSEMINATION) and e.at <= self.now - episode
            ]
            before += [
                h for h in self.inputs.heats.get(str(animal.id), []) if h <= self.now - episode
            ]
            if before:
                since_heat[i] = (self.now - max(before)) / timedelta(days=1)
            if state.last_calving is not None:
                since_calving[i] = (self.now - state.last_calving) / timedelta(days=1)
            housing[i] = HOUSING_CODES[Housing(animal.housing).value]
        both = np.concatenate([rows, rows])
        features = estrus_features(
            self.data.activity,
            self.data.rumination,
            both,
            np.concatenate([at, at - 1]),
            _twice(groups),
            np.concatenate([since_heat, since_heat]),
            np.concatenate([since_calving, since_calving]),
            np.concatenate([housing, housing]),
        )
        self.report.seconds["estrus_features"] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()
        model = self.ctx.predictors.get(ESTRUS)
        scores = model.predict(features)
        self.report.seconds["estrus_predict"] = round(time.perf_counter() - clock, 3)
        self.report.estrus_scored = int(rows.size)
        loose = threshold(self.ctx, ESTRUS, self.settings.estrus_threshold, "operating_threshold")
        tied = threshold(
            self.ctx,
            ESTRUS,
            self.settings.estrus_threshold_tie_stall,
            "operating_threshold_tie_stall",
        )
        bar = np.where(housing == HOUSING_CODES["tie_stall"], tied, loose)
        now_scores, before_scores = scores[: rows.size], scores[rows.size :]
        for i in np.flatnonzero((now_scores >= bar) & (before_scores >= bar)):
            await self._heat(int(rows[i]), int(at[i]), float(now_scores[i]), model.version)

    async def _heat(self, row: int, at: int, probability: float, version: str) -> None:
        animal = self.animals[row]
        state = self.states[str(animal.id)]
        if herd.estrus_suppressed(
            state,
            self.now,
            self.settings,
            sex=Sex(animal.sex),
            status=AnimalStatus(animal.status),
            monitoring_since=animal.monitoring_since,
        ):
            return
        if self._open("estrus", animal):
            return
        latest = max(self.inputs.heats.get(str(animal.id), []), default=None)
        if latest is not None and self.now - latest < timedelta(hours=self.settings.episode_hours):
            return
        ratio = Series(self.data.activity[[row]], np.array([at])).ratio(
            np.array([0]), np.array([at])
        )
        back = int(estimate_onset(ratio, self.settings.onset_rise)[0])
        onset = self._hour(at - back)
        start, end = services.insemination_window(self.settings, onset)
        who = services.label(animal)
        alert = await self.ctx.alerts.raise_(
            organization_id=str(animal.organization_id),
            type="estrus",
            severity=Severity.MAJOR,
            title=_("In heat: {animal}", animal=who),
            body=_(
                "{animal} came into heat around {onset}. Inseminate between {start} and {end}.",
                animal=who,
                onset=local(self.ctx.city_zone, onset),
                start=local(self.ctx.city_zone, start),
                end=local(self.ctx.city_zone, end),
            ),
            subject=services.subject(animal),
            model_version=version,
            data={
                "icar": {"category": "Behaviour", "causes": ["Activity"]},
                "probability": round(probability, 3),
                "onset": onset.isoformat(),
                "inseminate_from": start.isoformat(),
                "inseminate_until": end.isoformat(),
                "housing": Housing(animal.housing).value,
            },
        )
        await services.record_heat(animal, onset, self.now, probability, version, str(alert.id))
        self.inputs.heats.setdefault(str(animal.id), []).append(onset)
        self.report.heats += 1

    # calving

    async def calving(self) -> None:
        clock = time.perf_counter()
        today = self.ctx.local_day(self.now)
        watched = [
            row
            for row in sorted(self.inputs.thermometers)
            if herd.calving_watched(
                self.states[str(self.animals[row].id)], today, self.settings, self.ctx.city_zone
            )
            and self.animals[row].sex is Sex.FEMALE
        ]
        if not watched:
            return
        rows = np.array(watched, dtype=np.intp)
        at = _current(self.data.temperature[rows])
        groups = _groups(self.animals, rows, self.settings.herd_group_min)
        due = np.array(
            [
                herd.days_to_due(self.states[str(self.animals[r].id)], self.now, self.settings)
                for r in rows
            ],
            dtype=float,
        )
        features = calving_features(
            self.data.temperature,
            np.concatenate([rows, rows]),
            np.concatenate([at, at - 1]),
            _twice(groups),
            np.concatenate([due, due]),
        )
        model = self.ctx.predictors.get(CALVING)
        scores = model.predict(features)
        self.report.seconds["calving"] = round(time.perf_counter() - clock, 3)
        self.report.calving_scored = int(rows.size)
        bar = threshold(self.ctx, CALVING, self.settings.calving_threshold, "operating_threshold")
        now_scores, before_scores = scores[: rows.size], scores[rows.size :]
        for i in np.flatnonzero((now_scores >= bar) & (before_scores >= bar)):
            animal = self.animals[int(rows[i])]
            if self._open("calving", animal):
                continue
            state = self.states[str(animal.id)]
            drop = float(features[i, 0]) if np.isfinite(features[i, 0]) else 0.0
            who = services.label(animal)
            expected = state.expected_calving.isoformat() if state.expected_calving else "?"
            # Nobody acknowledged it within the delay: the farm's members hear it again.
            members = await services.members_of(str(animal.organization_id))
            await self.ctx.alerts.raise_(
                organization_id=str(animal.organization_id),
                type="calving",
                severity=Severity.CRITICAL,
                title=_("Calving imminent: {animal}", animal=who),
                body=_(
                    "The body temperature of {animal} changed by {drop} °C in a day: she is "
                    "likely to calve within about a day (expected calving date: {expected}).",
                    animal=who,
                    drop=f"{drop:+.1f}",
                    expected=expected,
                ),
                subject=services.subject(animal),
                model_version=model.version,
                notify=[members, members],
                escalate_after=timedelta(minutes=self.settings.calving_escalate_after_minutes),
                data={
                    "icar": {"category": "Health", "causes": ["Parturition"]},
                    "probability": round(float(now_scores[i]), 3),
                    "temperature_change_24h": round(drop, 2),
                    "expected_calving": state.expected_calving.isoformat()
                    if state.expected_calving
                    else None,
                },
            )
            self.report.calvings += 1

    # health

    def _share(self, values: np.ndarray, rows: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The last ``health_hours`` against their baselines; NaN when too few came."""
        hours = self.settings.health_hours
        series = Series(values, at)
        recent = series.hours(rows, at, -hours + 1, 1)
        base = series.base(rows, at)[:, -hours:]
        enough = (~np.isnan(recent)).sum(axis=1) >= hours - 2
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.nansum(np.where(np.isnan(base), np.nan, recent), axis=1) / np.nansum(
                np.where(np.isnan(recent), np.nan, base), axis=1
            )
        return np.where(enough, share, np.nan)

    async def health(self) -> None:
        clock = time.perf_counter()
        collared = np.array(sorted(self.inputs.collared), dtype=np.intp)
        findings: dict[int, dict[str, Any]] = {}
        recovered: set[int] = set()
        if collared.size:
            at = _current(self.data.activity[collared])
            chewing = self._share(self.data.rumination, collared, at)
            moving = self._share(self.data.activity, collared, at)
            for i, row in enumerate(collared):
                found = findings.setdefault(int(row), {})
                if chewing[i] < self.settings.health_rumination_share:
                    found["LowerRumination"] = round(float(chewing[i]), 2)
                if moving[i] < self.settings.health_activity_share:
                    found["Inactivity"] = round(float(moving[i]), 2)
                if (
                    chewing[i] >= self.settings.health_rumination_share
                    and moving[i] >= self.settings.health_activity_share
                ):
                    recovered.add(int(row))
        thermometers = np.array(sorted(self.inputs.thermometers), dtype=np.intp)
        if thermometers.size:
            at = _current(self.data.temperature[thermometers])
            last4 = Series(self.data.temperature, at).hours(thermometers, at, -3, 1)
            hot = (last4 >= self.settings.fever_celsius).sum(axis=1) >= 3
            for i, row in enumerate(thermometers):
                if hot[i]:
                    findings.setdefault(int(row), {})["AnimalTemperature"] = round(
                        float(np.nanmax(last4[i])), 1
                    )
                elif int(row) not in self.inputs.collared:
                    recovered.add(int(row))
        self.report.seconds["health"] = round(time.perf_counter() - clock, 3)
        for row, causes in findings.items():
            animal = self.animals[row]
            if set(causes) == {"LowerRumination"} and self._in_heat(animal):
                continue  # a cow in heat ruminates less (DOMAIN.md): no illness
            if causes and not self._open("health", animal):
                await self._raise_health(animal, causes)
            elif not causes and row in recovered and self._open("health", animal):
                await self.ctx.alerts.resolve(
                    organization_id=str(animal.organization_id),
                    type="health",
                    subject=services.subject(animal),
                    note="Back to her usual.",
                )
                self.report.resolved += 1

    def _in_heat(self, animal: Animal) -> bool:
        if self._open("estrus", animal):
            return True
        latest = max(self.inputs.heats.get(str(animal.id), []), default=None)
        return latest is not None and self.now - latest < timedelta(hours=HEAT_RUMINATION_HOURS)

    async def _raise_health(self, animal: Animal, causes: dict[str, float]) -> None:
        hours = self.settings.health_hours
        parts: list[Text] = []
        if "LowerRumination" in causes:
            parts.append(
                _(
                    "rumination at {percent}% of her usual",
                    percent=round(causes["LowerRumination"] * 100),
                )
            )
        if "Inactivity" in causes:
            parts.append(
                _("activity at {percent}% of her usual", percent=round(causes["Inactivity"] * 100))
            )
        if "AnimalTemperature" in causes:
            parts.append(_("temperature {celsius} °C", celsius=causes["AnimalTemperature"]))
        findings = joined(parts)
        icar = list(causes)
        if "LowerRumination" in causes and "Inactivity" in causes:
            icar.append("EatingLess")
        who = services.label(animal)
        await self.ctx.alerts.raise_(
            organization_id=str(animal.organization_id),
            type="health",
            severity=Severity.MAJOR,
            title=_("Health check: {animal}", animal=who),
            body=_(
                "{animal}: {findings} over the last {hours} hours. Please take a look.",
                animal=who,
                findings=findings,
                hours=hours,
            ),
            subject=services.subject(animal),
            model_version=HEALTH_VERSION,
            data={"icar": {"category": "Health", "causes": icar}, **causes},
        )
        self.report.health += 1

    # housekeeping

    async def tidy(self) -> None:
        """Resolve estrus alerts whose insemination window has passed and calving alerts
        nobody answered with a calving in time."""
        by_id = {str(a.id): a for a in self.animals}
        for (kind, animal_id), alert in self.inputs.open_alerts.items():
            animal = by_id.get(animal_id)
            if animal is None or alert.status not in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED):
                continue
            note = None
            if kind == "estrus":
                until = alert.data.get("inseminate_until")
                if until and datetime.fromisoformat(until) < self.now:
                    note = "The insemination window has passed."
            elif kind == "calving" and self.now - alert.first_seen > timedelta(
                hours=self.settings.calving_alert_hours
            ):
                note = "No calving was recorded."
            if note:
                await self.ctx.alerts.resolve(
                    organization_id=str(animal.organization_id),
                    type=kind,
                    subject=services.subject(animal),
                    note=note,
                )
                self.report.resolved += 1
