"""The printable forms of the reports: the record book as CSV, the neighbour notice as text.

Both are rendered in the reader's language. The CSV starts with a byte order mark so that
spreadsheet programs set to Japanese open it as UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, tzinfo

from core.identity.models import Organization
from plugins.drone_spraying import schemas
from plugins.drone_spraying.i18n import _
from plugins.drone_spraying.rules import number
from plugins.drone_spraying.services import NoticeItem

RECORD_BOOK_COLUMNS = (
    ("date", _("Date")),
    ("time", _("Time")),
    ("field", _("Field")),
    ("crop", _("Crop")),
    ("pesticide", _("Pesticide")),
    ("registration_number", _("Registration number")),
    ("active_ingredients", _("Active ingredients")),
    ("purpose", _("Purpose")),
    ("dilution", _("Dilution (times)")),
    ("amount", _("Amount used")),
    ("unit", _("Unit")),
    ("amount_per_10a", _("Amount per 10 a")),
    ("area_a", _("Area sprayed (a)")),
    ("operator", _("Operator")),
    ("drone", _("Drone registration")),
    ("wind_speed_ms", _("Wind (m/s)")),
    ("temperature_c", _("Temperature (°C)")),
    ("record_id", _("Record")),
    ("version", _("Version")),
)


def _optional(value: float | None) -> str:
    return "" if value is None else number(value)


def record_book_csv(book: schemas.RecordBook, language: str, zone: tzinfo) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title.render(language) for _key, title in RECORD_BOOK_COLUMNS])
    for row in book.rows:
        start = row.started_at.astimezone(zone)
        end = row.ended_at.astimezone(zone)
        writer.writerow(
            [
                row.date.isoformat(),
                f"{start:%H:%M}-{end:%H:%M}",
                row.field,
                row.crop,
                row.pesticide,
                row.registration_number,
                " / ".join(row.active_ingredients),
                row.purpose,
                number(row.dilution),
                number(row.amount),
                row.unit,
                number(row.amount_per_10a),
                number(row.area_a),
                row.operator,
                row.drone,
                _optional(row.wind_speed_ms),
                _optional(row.temperature_c),
                row.record_id,
                row.version,
            ]
        )
    return out.getvalue()


def neighbour_notice(
    organization: Organization,
    day: date,
    items: Sequence[NoticeItem],
    language: str,
    zone: tzinfo,
) -> str:
    """A notice for schools, hospitals, beekeepers and organic farms nearby: date, time,
    fields, products, purpose and whom to call (Hikawa town notice, DOMAIN.md)."""
    lines = [
        _("Notice of pesticide spraying by drone").render(language),
        "",
        _(
            "{organization} will spray pesticides by drone as follows.",
            organization=organization.name,
        ).render(language),
        "",
        _("Date: {date}", date=day.isoformat()).render(language),
    ]
    for number_, item in enumerate(items, start=1):
        start = item.started_at.astimezone(zone)
        end = item.ended_at.astimezone(zone)
        place = f"{item.field} ({item.location})" if item.location else item.field
        products = ", ".join(
            _("{name} (registration No. {number})", name=name, number=reg).render(language)
            for name, reg in item.products
        )
        lines += [
            "",
            f"{number_}. "
            + _("Time: {start} to {end}", start=f"{start:%H:%M}", end=f"{end:%H:%M}").render(
                language
            ),
            "   " + _("Field: {field}", field=place).render(language),
            "   " + _("Pesticide: {products}", products=products).render(language),
        ]
        if item.purpose:
            lines.append("   " + _("Purpose: {purpose}", purpose=item.purpose).render(language))
        if item.contact:
            lines.append("   " + _("Contact: {contact}", contact=item.contact).render(language))
    lines += [
        "",
        _(
            "While we spray, please keep windows closed, bring in laundry, and keep bees and "
            "animals away from the fields."
        ).render(language),
        _("If the wind is strong we will postpone the spraying.").render(language),
        "",
    ]
    return "\n".join(lines)
