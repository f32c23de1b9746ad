"""The verdict on a spraying, from plain facts: no database here.

The Pesticide Use Standards ordinance (農薬使用基準, Art. 2; DOMAIN.md) forbids use on a crop
the label does not list, more than the label amount per area, a dilution below the label
minimum, use inside the label's "until N days before harvest" window, and more than the
label's number of uses per season for the product and for each active ingredient. Those,
and wind at or above the reject limit, **reject**. Wind above the warn limit, a licence or a
drone inspection expiring or overdue, and a flown spraying without that day's pre-flight
check **warn**. Every reason is reported, not only the first.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from core.i18n import Text
from plugins.drone_spraying.i18n import _
from plugins.drone_spraying.settings import DroneSprayingSettings

AREA_PER_10A_M2 = 1000.0
"""10 a (are) = 1,000 m²: the unit Japanese labels give amounts per."""


class Severity(StrEnum):
    REJECT = "reject"
    WARN = "warn"


class Outcome(StrEnum):
    OK = "ok"
    WARN = "warn"
    REJECT = "reject"


class Code(StrEnum):
    CROP_NOT_ON_LABEL = "crop_not_on_label"
    DILUTION_BELOW_MINIMUM = "dilution_below_minimum"
    AMOUNT_ABOVE_MAXIMUM = "amount_above_maximum"
    PRODUCT_USES_EXHAUSTED = "product_uses_exhausted"
    INGREDIENT_USES_EXHAUSTED = "ingredient_uses_exhausted"
    HARVEST_INSIDE_INTERVAL = "harvest_inside_interval"
    WIND_AT_OR_ABOVE_LIMIT = "wind_at_or_above_limit"
    WIND_ABOVE_WARNING = "wind_above_warning"
    LICENCE_EXPIRED = "licence_expired"
    LICENCE_EXPIRING = "licence_expiring"
    INSPECTION_OVERDUE = "inspection_overdue"
    INSPECTION_DUE_SOON = "inspection_due_soon"
    NO_PREFLIGHT_CHECK = "no_preflight_check"


def crop_key(crop: str) -> str:
    """Crop names compared the way people write them: width, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", crop).casefold().split())


def ingredient_key(name: str) -> str:
    return crop_key(name)


def number(value: float) -> str:
    """A quantity for people: no trailing zeros, at most three decimals."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


class Reason(msgspec.Struct, frozen=True):
    code: Code
    severity: Severity
    pointer: str
    text: Text
    data: dict[str, Any] = {}


@dataclass(frozen=True)
class LabelRule:
    crop: str
    min_dilution: float | None
    max_amount_per_10a: float
    phi_days: int | None
    max_uses: int | None
    ingredient_max_uses: dict[str, int]


@dataclass(frozen=True)
class ProductLine:
    pesticide_id: str
    name: str
    ingredients: tuple[str, ...]
    unit: str
    dilution: float
    amount: float
    label: LabelRule | None
    """The label's rule for the season's crop; None when the crop is not on the label."""


@dataclass(frozen=True)
class Plan:
    flown: bool
    """Done (flown) rather than planned."""
    crop: str
    area_m2: float
    spray_day: date
    planned_harvest: date | None
    wind_ms: float | None
    products: tuple[ProductLine, ...]
    operator_name: str | None = None
    licence_expires: date | None = None
    drone_name: str | None = None
    inspection_due: date | None = None
    preflight_checked: bool | None = None
    """None: not applicable (no drone, or planned)."""


@dataclass
class SeasonUses:
    """Uses already counted in the season (other records than the one being judged)."""

    products: dict[str, int] = field(default_factory=dict)
    ingredients: dict[str, int] = field(default_factory=dict)


def earliest_harvest(spray_day: date, phi_days: int | None) -> date | None:
    """ "Until N days before harvest": sprayed on day D, the crop may be harvested on D + N."""
    return None if phi_days is None else spray_day + timedelta(days=phi_days)


def judge(plan: Plan, uses: SeasonUses, settings: DroneSprayingSettings) -> list[Reason]:
    """Every reason to refuse or warn about ``plan``; rejects first, in the body's order."""
    reasons: list[Reason] = []
    new_product_uses: dict[str, int] = {}
    new_ingredient_uses: dict[str, int] = {}
    for line in plan.products:
        new_product_uses[line.pesticide_id] = new_product_uses.get(line.pesticide_id, 0) + 1
        for ingredient in line.ingredients:
            key = ingredient_key(ingredient)
            new_ingredient_uses[key] = new_ingredient_uses.get(key, 0) + 1

    reported_ingredients: set[str] = set()
    for index, line in enumerate(plan.products):
        at = f"/products/{index}"
        label = line.label
        if label is None:
            reasons.append(
                Reason(
                    Code.CROP_NOT_ON_LABEL,
                    Severity.REJECT,
                    f"{at}/pesticide_id",
                    _(
                        "{product} is not registered for {crop}: the label does not list "
                        "this crop.",
                        product=line.name,
                        crop=plan.crop,
                    ),
                    {"product": line.name, "crop": plan.crop},
                )
            )
            continue
        if label.min_dilution is not None and line.dilution < label.min_dilution:
            reasons.append(
                Reason(
                    Code.DILUTION_BELOW_MINIMUM,
                    Severity.REJECT,
                    f"{at}/dilution",
                    _(
                        "{product}: diluted {dilution} times, below the label's minimum of "
                        "{minimum} times.",
                        product=line.name,
                        dilution=number(line.dilution),
                        minimum=number(label.min_dilution),
                    ),
                    {"dilution": line.dilution, "minimum": label.min_dilution},
                )
            )
        rate = line.amount / (plan.area_m2 / AREA_PER_10A_M2) if plan.area_m2 > 0 else float("inf")
        if rate > label.max_amount_per_10a * (1 + 1e-9):
            reasons.append(
                Reason(
                    Code.AMOUNT_ABOVE_MAXIMUM,
                    Severity.REJECT,
                    f"{at}/amount",
                    _(
                        "{product}: {rate} {unit} per 10 a, above the label's maximum of "
                        "{maximum} {unit} per 10 a.",
                        product=line.name,
                        rate=number(rate),
                        unit=line.unit,
                        maximum=number(label.max_amount_per_10a),
                    ),
                    {"rate_per_10a": round(rate, 6), "maximum": label.max_amount_per_10a},
                )
            )
        used = uses.products.get(line.pesticide_id, 0)
        if (
            label.max_uses is not None
            and used + new_product_uses[line.pesticide_id] > label.max_uses
        ):
            reasons.append(
                Reason(
                    Code.PRODUCT_USES_EXHAUSTED,
                    Severity.REJECT,
                    f"{at}/pesticide_id",
                    _(
                        "{product}: used {used} times this season already; the label allows "
                        "{maximum}.",
                        product=line.name,
                        used=used,
                        maximum=label.max_uses,
                    ),
                    {"used": used, "maximum": label.max_uses},
                )
            )
        limits = {ingredient_key(k): (k, v) for k, v in label.ingredient_max_uses.items()}
        for ingredient in line.ingredients:
            key = ingredient_key(ingredient)
            if key not in limits or key in reported_ingredients:
                continue
            name, limit = limits[key]
            used = uses.ingredients.get(key, 0)
            if used + new_ingredient_uses[key] > limit:
                reported_ingredients.add(key)
                reasons.append(
                    Reason(
                        Code.INGREDIENT_USES_EXHAUSTED,
                        Severity.REJECT,
                        f"{at}/pesticide_id",
                        _(
                            "{ingredient}: used {used} times this season already in products "
                            "that contain it; the label of {product} allows {maximum} in all.",
                            ingredient=name,
                            used=used,
                            product=line.name,
                            maximum=limit,
                        ),
                        {"ingredient": name, "used": used, "maximum": limit},
                    )
                )
        earliest = earliest_harvest(plan.spray_day, label.phi_days)
        if (
            earliest is not None
            and plan.planned_harvest is not None
            and plan.planned_harvest < earliest
        ):
            reasons.append(
                Reason(
                    Code.HARVEST_INSIDE_INTERVAL,
                    Severity.REJECT,
                    "/season_id",
                    _(
                        "{product} may be used until {days} days before harvest: the harvest "
                        "planned on {harvest} is before {earliest}.",
                        product=line.name,
                        days=label.phi_days,
                        harvest=plan.planned_harvest.isoformat(),
                        earliest=earliest.isoformat(),
                    ),
                    {
                        "phi_days": label.phi_days,
                        "planned_harvest": plan.planned_harvest.isoformat(),
                        "earliest_harvest": earliest.isoformat(),
                    },
                )
            )

    wind = plan.wind_ms
    if wind is not None and wind >= settings.wind_reject_ms:
        reasons.append(
            Reason(
                Code.WIND_AT_OR_ABOVE_LIMIT,
                Severity.REJECT,
                "/wind_speed_ms",
                _(
                    "Wind {wind} m/s is at or above the limit of {limit} m/s: do not spray.",
                    wind=number(wind),
                    limit=number(settings.wind_reject_ms),
                ),
                {"wind_speed_ms": wind, "limit": settings.wind_reject_ms},
            )
        )
    elif wind is not None and wind > settings.wind_warn_ms:
        reasons.append(
            Reason(
                Code.WIND_ABOVE_WARNING,
                Severity.WARN,
                "/wind_speed_ms",
                _(
                    "Wind {wind} m/s is above {limit} m/s: spray drifts more, take care.",
                    wind=number(wind),
                    limit=number(settings.wind_warn_ms),
                ),
                {"wind_speed_ms": wind, "limit": settings.wind_warn_ms},
            )
        )

    if plan.licence_expires is not None:
        days = (plan.licence_expires - plan.spray_day).days
        params = {"operator": plan.operator_name or "", "date": plan.licence_expires.isoformat()}
        if days < 0:
            reasons.append(
                Reason(
                    Code.LICENCE_EXPIRED,
                    Severity.WARN,
                    "/operator_id",
                    _("The licence of {operator} expired on {date}.", **params),
                    {"licence_expires": params["date"]},
                )
            )
        elif days <= settings.licence_warning_days:
            reasons.append(
                Reason(
                    Code.LICENCE_EXPIRING,
                    Severity.WARN,
                    "/operator_id",
                    _("The licence of {operator} expires on {date}.", **params),
                    {"licence_expires": params["date"]},
                )
            )
    if plan.inspection_due is not None:
        days = (plan.inspection_due - plan.spray_day).days
        params = {"drone": plan.drone_name or "", "date": plan.inspection_due.isoformat()}
        if days < 0:
            reasons.append(
                Reason(
                    Code.INSPECTION_OVERDUE,
                    Severity.WARN,
                    "/drone_id",
                    _("The inspection of drone {drone} was due on {date}.", **params),
                    {"inspection_due": params["date"]},
                )
            )
        elif days <= settings.inspection_warning_days:
            reasons.append(
                Reason(
                    Code.INSPECTION_DUE_SOON,
                    Severity.WARN,
                    "/drone_id",
                    _("The inspection of drone {drone} is due on {date}.", **params),
                    {"inspection_due": params["date"]},
                )
            )
    if plan.flown and plan.preflight_checked is False:
        reasons.append(
            Reason(
                Code.NO_PREFLIGHT_CHECK,
                Severity.WARN,
                "/drone_id",
                _(
                    "No pre-flight check of drone {drone} is recorded for {date}.",
                    drone=plan.drone_name or "",
                    date=plan.spray_day.isoformat(),
                ),
                {"day": plan.spray_day.isoformat()},
            )
        )
    order = {Severity.REJECT: 0, Severity.WARN: 1}
    return sorted(reasons, key=lambda r: order[r.severity])


def outcome(reasons: list[Reason]) -> Outcome:
    if any(r.severity is Severity.REJECT for r in reasons):
        return Outcome.REJECT
    return Outcome.WARN if reasons else Outcome.OK
