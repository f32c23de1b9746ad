"""The mentoring plugin's settings, with their defaults and where each default comes from.

Operators change them in ``plugins.toml`` under ``[plugins.mentoring.settings]``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Hours = Annotated[int, msgspec.Meta(ge=1, le=24 * 14)]
Minutes = Annotated[int, msgspec.Meta(ge=5, le=24 * 60)]


class MentoringSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    answer_sla_hours: Hours = 24
    """A question without an advisor's answer for this long escalates to the next advisor
    (issue 9, "Service levels"). The escalated question gets the same time again."""

    inactivity_days: Annotated[int, msgspec.Meta(ge=7, le=365)] = 30
    """An entrant with no activity for this long is "at risk": the weekly retention job asks
    their mentor to check in (issue 9, "Retention"). About 35 % of new farmers quit within
    four years (DOMAIN.md, nou-biz.com report)."""

    nudge_every_days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 7
    """An entrant still inactive is nudged again after this long (the job runs weekly)."""

    checkin_cadence_days: Annotated[int, msgspec.Meta(ge=1, le=180)] = 14
    """Default check-in cadence of a new mentorship."""

    consultation_minutes: Minutes = 40
    """Default length of a consultation: Nagano runs 40-minute video consultations by
    appointment (DOMAIN.md, "Consultation and community")."""

    slot_step_minutes: Minutes = 30
    """Free slots offered by ``GET /availability`` start this often within a window."""

    booking_horizon_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 60
    """How far ahead a consultation may be booked."""

    reminder_minutes_before: tuple[Minutes, ...] = (24 * 60, 60)
    """Reminders before a consultation, each sent exactly once: 24 h and 1 h (issue 9)."""

    meeting_link_template: str = "https://meet.jit.si/minori-{room}"
    """The video meeting link of a consultation. ``{room}`` is an unguessable room name made
    per consultation, ``{consultation_id}`` its id. Point it at the city's own video service;
    the default is a public Jitsi Meet room, which needs no account."""

    similar_limit: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5
    """How many similar answered questions ``/questions/similar`` returns."""

    similar_min_score: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.12
    """Suggestions scoring below this cosine similarity are not shown."""

    similar_candidates: Annotated[int, msgspec.Meta(ge=0, le=20000)] = 2000
    """How many recently answered questions (besides the seed library) are compared."""

    report_hide_threshold: Annotated[int, msgspec.Meta(ge=1, le=100)] = 3
    """Reports from this many different people hide a community post until a moderator
    looks at it."""

    max_photos: Annotated[int, msgspec.Meta(ge=0, le=20)] = 6
    """Photos per question, answer or field-visit report."""

    max_text_length: Annotated[int, msgspec.Meta(ge=100, le=20000)] = 4000
    """Longest question, answer or post, in characters."""
