"""An animal's reproductive state derived from its events, and the rules that hold estrus
alerts back. Pure functions of the records and the time: no database here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from plugins.livestock.models import AnimalStatus, EventKind, Housing, Sex
from plugins.livestock.settings import LivestockSettings


class State(StrEnum):
    HEIFER = "heifer"
    """Never calved (on record)."""
    FRESH = "fresh"
    """Calved within the no-estrus period."""
    OPEN = "open"
    INSEMINATED = "inseminated"
    """Inseminated since calving, pregnancy not confirmed yet."""
    PREGNANT = "pregnant"
    DRY = "dry"
    """Pregnant and dried off before calving."""
    INACTIVE = "inactive"
    """Sold, culled or dead."""


class Suppression(StrEnum):
    """Why no estrus alert is raised for an animal now."""

    INACTIVE = "inactive"
    MALE = "male"
    LEARNING = "learning"
    AFTER_CALVING = "after_calving"
    PREGNANT = "pregnant"
    LATE_GESTATION = "late_gestation"


@dataclass(frozen=True, slots=True)
class EventFact:
    kind: EventKind
    at: datetime
    pregnant: bool | None = None


@dataclass(frozen=True, slots=True)
class ReproState:
    state: State
    last_calving: datetime | None
    days_in_milk: int | None
    last_heat: datetime | None
    """The latest heat on record: observed, inseminated or found by the collar."""
    last_insemination: datetime | None
    """The latest insemination since the last calving."""
    pregnant: bool
    conception: datetime | None
    """The insemination a positive pregnancy check confirmed."""
    days_pregnant: int | None
    expected_calving: date | None
    gestation_day: int | None
    """Days since the last insemination since calving, confirmed or not."""


def _days(now: datetime, then: datetime) -> int:
    return (now - then) // timedelta(days=1)


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The farm's calendar day of a moment (the city's time zone)."""
    return moment.astimezone(zone).date()


def reproductive_state(
    events: Iterable[EventFact],
    now: datetime,
    settings: LivestockSettings,
    zone: tzinfo,
    *,
    detected_heats: Iterable[datetime] = (),
    status: AnimalStatus = AnimalStatus.ACTIVE,
) -> ReproState:
    """The state at ``now`` from the events up to it, in time order."""
    ordered = sorted((e for e in events if e.at <= now), key=lambda e: e.at)
    last_calving = next((e.at for e in reversed(ordered) if e.kind is EventKind.CALVING), None)
    since = [e for e in ordered if last_calving is None or e.at > last_calving]
    inseminations = [e.at for e in since if e.kind is EventKind.INSEMINATION]
    last_insemination = inseminations[-1] if inseminations else None
    checks = [e for e in since if e.kind is EventKind.PREGNANCY_CHECK]
    dried = any(e.kind is EventKind.DRY_OFF for e in since)

    conception = None
    pregnant = False
    if checks and checks[-1].pregnant:
        before = [at for at in inseminations if at <= checks[-1].at]
        conception = before[-1] if before else None
        pregnant = True
    heats = [e.at for e in ordered if e.kind in (EventKind.HEAT, EventKind.INSEMINATION)]
    heats += [at for at in detected_heats if at <= now]
    last_heat = max(heats) if heats else None

    expected = None
    if conception is not None:
        expected = local_date(conception + timedelta(days=settings.gestation_days), zone)
    if status is not AnimalStatus.ACTIVE:
        state = State.INACTIVE
    elif pregnant:
        state = State.DRY if dried else State.PREGNANT
    elif last_insemination is not None:
        state = State.INSEMINATED
    elif last_calving is None:
        state = State.HEIFER
    elif _days(now, last_calving) < settings.no_estrus_after_calving_days:
        state = State.FRESH
    else:
        state = State.OPEN
    return ReproState(
        state=state,
        last_calving=last_calving,
        days_in_milk=_days(now, last_calving) if last_calving and not dried else None,
        last_heat=last_heat,
        last_insemination=last_insemination,
        pregnant=pregnant,
        conception=conception,
        days_pregnant=_days(now, conception) if conception else None,
        expected_calving=expected,
        gestation_day=_days(now, last_insemination) if last_insemination else None,
    )


def estrus_suppressed(
    state: ReproState,
    now: datetime,
    settings: LivestockSettings,
    *,
    sex: Sex,
    status: AnimalStatus,
    monitoring_since: datetime | None,
) -> Suppression | None:
    """Why an estrus alert must not be raised now, or None when it may be (DOMAIN.md:
    a learning period per animal, none 0-10 days after calving, none for pregnant animals
    nor from gestation day 271)."""
    if status is not AnimalStatus.ACTIVE:
        return Suppression.INACTIVE
    if sex is Sex.MALE:
        return Suppression.MALE
    if monitoring_since is None or now - monitoring_since < timedelta(days=settings.learning_days):
        return Suppression.LEARNING
    if state.last_calving is not None and now - state.last_calving < timedelta(
        days=settings.no_estrus_after_calving_days
    ):
        return Suppression.AFTER_CALVING
    if state.pregnant:
        return Suppression.PREGNANT
    if (
        state.gestation_day is not None
        and state.gestation_day >= settings.no_estrus_from_gestation_day
    ):
        return Suppression.LATE_GESTATION
    return None


def calving_watched(
    state: ReproState, today: date, settings: LivestockSettings, zone: tzinfo
) -> bool:
    """Whether the calving predictor looks at this animal: pregnant and due within the watch
    days (or overdue), or with no insemination on record since her last calving long ago."""
    if state.state is State.INACTIVE:
        return False
    if state.expected_calving is not None:
        return (state.expected_calving - today).days <= settings.calving_watch_days
    if state.last_insemination is not None:
        expected = local_date(state.last_insemination, zone) + timedelta(
            days=settings.gestation_days
        )
        return (expected - today).days <= settings.calving_watch_days
    if state.last_calving is not None:
        # Calved recently and not inseminated since: she cannot be about to calve.
        return (today - local_date(state.last_calving, zone)).days > settings.gestation_days - 30
    return True


def days_to_due(state: ReproState, now: datetime, settings: LivestockSettings) -> float | None:
    """Days from now to the expected calving (confirmed, else from the last insemination)."""
    if state.conception is not None:
        basis = state.conception
    elif state.last_insemination is not None:
        basis = state.last_insemination
    else:
        return None
    return (basis + timedelta(days=settings.gestation_days) - now) / timedelta(days=1)


def housing_estrus_note(housing: Housing) -> str:
    """How far estrus detection can be trusted for this housing (shown with the animal)."""
    return "limited" if housing is Housing.TIE_STALL else "full"


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    day: date
    kind: str
    """``expected_heat``, ``pregnancy_check`` or ``calving_due``."""
    until: date | None = None


def calendar(
    state: ReproState, settings: LivestockSettings, zone: tzinfo
) -> Sequence[CalendarEntry]:
    """What the breeding calendar expects for one animal: the next heat a cycle after the
    last (when not pregnant), the pregnancy check 30-40 days after an unconfirmed
    insemination, the calving from the confirmed one."""
    entries: list[CalendarEntry] = []
    if state.state is State.INACTIVE:
        return entries
    if not state.pregnant and state.last_heat is not None:
        next_heat = state.last_heat + timedelta(days=settings.cycle_days)
        entries.append(CalendarEntry(local_date(next_heat, zone), "expected_heat"))
    if state.state is State.INSEMINATED and state.last_insemination is not None:
        start = local_date(state.last_insemination, zone)
        entries.append(
            CalendarEntry(
                start + timedelta(days=settings.pregnancy_check_from_days),
                "pregnancy_check",
                start + timedelta(days=settings.pregnancy_check_to_days),
            )
        )
    if state.expected_calving is not None:
        entries.append(CalendarEntry(state.expected_calving, "calving_due"))
    return entries
