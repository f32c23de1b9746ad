"""Everything the mentoring routes, jobs, feed, KPI and demo do with the database.

Who sees what (each rule is one queryset builder below):

- **Questions** (:func:`visible_questions`): a member sees community questions and the
  questions they asked themselves (in their own organizations); an advisor sees the
  questions routed to them (now or earlier), those open to all advisors (no single advisor
  holds them) and community questions; an admin sees all.
- **Entrant profiles, consultations, follow-ups, field reports**: a member sees their own
  (in their own organizations: core tenancy); advisors see entrant profiles (an entrant
  joins the mentoring service to be seen by advisors) and the consultations, follow-ups and
  reports they are part of; admins see all.
- **Community threads**: every user sees the threads and replies that are not hidden; a
  hidden post stays visible to its author and to staff.

Anything else answers 404, exactly like an unknown id.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core import tenancy
from core.alerts.models import Severity
from core.alerts.service import Subject
from core.clock import zone_named
from core.errors import Conflict, Invalid, NotFound
from core.identity.access import Principal
from core.identity.models import Organization, Role, User
from core.media.services import media_url
from core.pagination import decode_cursor, encode_cursor, page
from core.plugin import PluginContext
from plugins.mentoring import schemas
from plugins.mentoring.i18n import _
from plugins.mentoring.models import (
    AdvisorProfile,
    Answer,
    Category,
    Consultation,
    ConsultationReminder,
    ConsultationStatus,
    EntrantProfile,
    FieldVisitReport,
    FollowUp,
    Mentorship,
    Mode,
    PostReport,
    Question,
    QuestionRoute,
    QuestionStatus,
    Reply,
    RouteReason,
    Thread,
    Visibility,
)

PLUGIN = "mentoring"
TOPIC = "mentoring.topic"
SIMILAR = "mentoring.similar"
OVERDUE_ALERT = "answer_overdue"
QUESTION_SUBJECT = "mentoring.question"
EXCERPT = 60
BATCH = 200
"""Rows a job handles per run and kind; the next run takes the rest."""

CATEGORY_LABELS = {
    Category.CROPS_SOIL: _("crops and soil"),
    Category.PESTS_DISEASES: _("pests and diseases"),
    Category.LIVESTOCK_HEALTH: _("livestock health"),
    Category.FISHERIES_AQUACULTURE: _("fisheries and aquaculture"),
    Category.MACHINERY: _("machinery"),
    Category.SUBSIDIES_PAPERWORK: _("subsidies and paperwork"),
    Category.MARKETING: _("marketing"),
    Category.HUNTING_TRAPS: _("hunting and traps"),
}


# --- small helpers -------------------------------------------------------------------------


def _now(ctx: PluginContext) -> datetime:
    return ctx.clock.now()


def _person(user: User | None) -> schemas.Person | None:
    if user is None:
        return None
    return schemas.Person(str(user.id), user.display_name or user.username)


def _must_person(user: User) -> schemas.Person:
    person = _person(user)
    assert person is not None
    return person


def _photos(ids: Iterable[str]) -> list[schemas.Photo]:
    return [
        schemas.Photo(id=i, url=media_url(i), thumbnail_url=media_url(i, thumbnail=True))
        for i in ids
    ]


def excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def local_time(moment: datetime, timezone: str | None) -> str:
    """A time for a message, in the reader's time zone."""
    return moment.astimezone(zone_named(timezone)).strftime("%Y-%m-%d %H:%M")


def _id(raw: str | None, pointer: str) -> uuid.UUID:
    key = tenancy.parse_id(raw or "")
    if key is None:
        raise Invalid.field(pointer, _("unknown or not accessible"))
    return key


def _check_length(ctx: PluginContext, text: str, pointer: str) -> str:
    text = text.strip()
    if not text:
        raise Invalid.field(pointer, _("must not be empty"))
    limit = ctx.settings.max_text_length
    if len(text) > limit:
        raise Invalid.field(pointer, _("longer than {limit} characters", limit=limit))
    return text


def _check_photos(ctx: PluginContext, photo_ids: Sequence[str], pointer: str) -> list[str]:
    limit = ctx.settings.max_photos
    if len(photo_ids) > limit:
        raise Invalid.field(pointer, _("at most {limit} photos", limit=limit))
    return list(dict.fromkeys(photo_ids))


async def _attach(
    ctx: PluginContext,
    principal: Principal,
    photo_ids: Sequence[str],
    kind: str,
    object_id: str,
    organization_id: str,
    pointer: str,
) -> None:
    for index, photo_id in enumerate(photo_ids):
        await ctx.media.attach(
            photo_id, principal, kind, object_id, organization_id, pointer=f"{pointer}/{index}"
        )


async def _users(ids: Iterable[Any]) -> dict[str, User]:
    wanted = {str(i) for i in ids if i is not None}
    if not wanted:
        return {}
    return {str(u.id): u for u in await User.filter(id__in=list(wanted))}


async def _touch(user_id: str | uuid.UUID, at: datetime) -> None:
    """Record an entrant's activity (the retention rule reads it)."""
    await EntrantProfile.filter(user_id=user_id).update(last_active_at=at, updated_at=at)


async def _advisor_ids() -> list[str]:
    ids = await User.filter(role=Role.ADVISOR, is_active=True).values_list("id", flat=True)
    return [str(i) for i in ids]


async def _organization_for(principal: Principal, organization_id: str | None, pointer: str) -> str:
    """The member's organization a new record belongs to."""
    if organization_id is not None:
        organization = await tenancy.referenced(
            Organization.all(), organization_id, principal, pointer, field=None
        )
        return str(organization.id)
    organizations = sorted(principal.organization_ids)
    if len(organizations) != 1:
        raise Invalid.field(pointer, _("name the organization this is for"))
    return organizations[0]


# --- entrants ------------------------------------------------------------------------------


def visible_entrants(principal: Principal) -> QuerySet[EntrantProfile]:
    if principal.role is Role.MEMBER:
        return tenancy.scope(EntrantProfile.filter(user_id=principal.user_id), principal)
    return EntrantProfile.all()


async def _mentors(profile_ids: Iterable[Any]) -> dict[str, User]:
    rows = await Mentorship.filter(
        entrant_id__in=list(profile_ids), ended_at__isnull=True
    ).prefetch_related("advisor")
    return {str(m.entrant_id): m.advisor for m in rows}


def _inactive_days(profile: EntrantProfile, now: datetime) -> int:
    return max(0, (now - profile.last_active_at).days)


def entrant_out(
    ctx: PluginContext, profile: EntrantProfile, mentor: User | None
) -> schemas.Entrant:
    days = _inactive_days(profile, _now(ctx))
    return schemas.Entrant(
        id=str(profile.id),
        user=_must_person(profile.user),
        organization_id=str(profile.organization_id),
        sector=profile.sector,
        start_year=profile.start_year,
        region=profile.region,
        goals=profile.goals,
        language=profile.language,
        last_active_at=profile.last_active_at,
        inactive_days=days,
        at_risk=days >= ctx.settings.inactivity_days,
        mentor=_person(mentor),
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


async def _entrant_with_mentor(ctx: PluginContext, profile: EntrantProfile) -> schemas.Entrant:
    await profile.fetch_related("user")
    mentors = await _mentors([profile.id])
    return entrant_out(ctx, profile, mentors.get(str(profile.id)))


async def create_entrant(
    ctx: PluginContext, principal: Principal, data: schemas.EntrantCreate
) -> schemas.Entrant:
    if principal.is_admin:
        if data.user_id is None:
            raise Invalid.field("/user_id", _("name the member whose profile this is"))
        user = await User.get_or_none(id=_id(data.user_id, "/user_id"), role=Role.MEMBER)
        if user is None:
            raise Invalid.field("/user_id", _("unknown or not accessible"))
        organizations = [
            str(o) for o in await user.organizations.all().values_list("id", flat=True)
        ]
        if data.organization_id is not None:
            if data.organization_id not in organizations:
                raise Invalid.field("/organization_id", _("unknown or not accessible"))
            organization_id = data.organization_id
        elif len(organizations) == 1:
            organization_id = organizations[0]
        else:
            raise Invalid.field("/organization_id", _("name the organization this is for"))
    else:
        if data.user_id not in (None, principal.user_id):
            raise Invalid.field("/user_id", _("members create their own profile"))
        user = await User.get(id=principal.user_id)
        organization_id = await _organization_for(
            principal, data.organization_id, "/organization_id"
        )
    now = _now(ctx)
    try:
        profile = await EntrantProfile.create(
            user=user,
            organization_id=organization_id,
            sector=data.sector,
            start_year=data.start_year,
            region=data.region,
            goals=data.goals,
            language=data.language,
            last_active_at=now,
            created_at=now,
            updated_at=now,
        )
    except IntegrityError:
        raise Conflict(_("This member has an entrant profile already.")) from None
    return await _entrant_with_mentor(ctx, profile)


async def update_entrant(
    ctx: PluginContext, principal: Principal, entrant_id: str, data: schemas.EntrantUpdate
) -> schemas.Entrant:
    profile = await tenancy.get(visible_entrants(principal), entrant_id, principal, write=True)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    for key, value in changes.items():
        setattr(profile, key, value)
    profile.updated_at = _now(ctx)
    await profile.save()
    return await _entrant_with_mentor(ctx, profile)


async def get_entrant(ctx: PluginContext, principal: Principal, entrant_id: str) -> schemas.Entrant:
    profile = await _get(visible_entrants(principal), entrant_id)
    return await _entrant_with_mentor(ctx, profile)


async def list_entrants(
    ctx: PluginContext,
    principal: Principal,
    at_risk: bool | None,
    cursor: str | None,
    limit: int,
) -> schemas.EntrantList:
    queryset = visible_entrants(principal)
    threshold = _now(ctx) - timedelta(days=ctx.settings.inactivity_days)
    if at_risk is True:
        queryset = queryset.filter(last_active_at__lte=threshold)
    elif at_risk is False:
        queryset = queryset.filter(last_active_at__gt=threshold)
    rows, next_cursor = await page(queryset.prefetch_related("user"), cursor, limit)
    mentors = await _mentors([r.id for r in rows])
    return schemas.EntrantList(
        [entrant_out(ctx, r, mentors.get(str(r.id))) for r in rows], next_cursor
    )


async def _get(queryset: QuerySet[Any], object_id: str) -> Any:
    """One row of a visibility queryset, or 404 like an unknown id."""
    key = tenancy.parse_id(object_id)
    found = await queryset.get_or_none(id=key) if key is not None else None
    if found is None:
        raise NotFound(f"No {queryset.model.__name__.lower()} with id {object_id}.")
    return found


# --- advisors ------------------------------------------------------------------------------


def _windows(raw: Any) -> list[schemas.Window]:
    return msgspec.convert(raw or [], list[schemas.Window])


def _check_windows(windows: Sequence[schemas.Window], pointer: str) -> list[dict[str, Any]]:
    for index, window in enumerate(windows):
        if window.end <= window.start:
            raise Invalid.field(f"{pointer}/{index}/end", _("must be after start"))
    return [msgspec.to_builtins(w) for w in windows]


def _check_timezone(name: str, pointer: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid.field(pointer, _("not a time zone name (e.g. Asia/Tokyo)")) from None
    return name


async def _open_loads(advisor_ids: Iterable[Any] | None = None) -> Counter[str]:
    queryset = Question.filter(status=QuestionStatus.OPEN, assigned_advisor_id__isnull=False)
    if advisor_ids is not None:
        queryset = queryset.filter(assigned_advisor_id__in=list(advisor_ids))
    rows = (
        await queryset.annotate(n=Count("id"))
        .group_by("assigned_advisor_id")
        .values("assigned_advisor_id", "n")
    )
    return Counter({str(r["assigned_advisor_id"]): int(r["n"]) for r in rows})


def advisor_out(profile: AdvisorProfile, load: int) -> schemas.Advisor:
    return schemas.Advisor(
        id=str(profile.user_id),
        display_name=profile.user.display_name or profile.user.username,
        expertise=list(profile.expertise),
        languages=list(profile.languages),
        region=profile.region,
        timezone=profile.timezone,
        availability=_windows(profile.availability),
        accepting=profile.accepting,
        open_questions=load,
    )


async def create_advisor(
    ctx: PluginContext, principal: Principal, data: schemas.AdvisorCreate
) -> schemas.Advisor:
    user_id = data.user_id or principal.user_id
    if principal.role is Role.ADVISOR and user_id != principal.user_id:
        raise Invalid.field("/user_id", _("advisors create their own profile"))
    user = await User.get_or_none(id=_id(user_id, "/user_id"), role=Role.ADVISOR)
    if user is None:
        raise Invalid.field("/user_id", _("not an advisor"))
    now = _now(ctx)
    try:
        profile = await AdvisorProfile.create(
            user=user,
            expertise=[c.value for c in dict.fromkeys(data.expertise)],
            languages=list(dict.fromkeys(data.languages)),
            region=data.region,
            timezone=_check_timezone(data.timezone, "/timezone"),
            availability=_check_windows(data.availability, "/availability"),
            accepting=data.accepting,
            created_at=now,
            updated_at=now,
        )
    except IntegrityError:
        raise Conflict(_("This advisor has a profile already.")) from None
    return advisor_out(profile, 0)


async def update_advisor(
    ctx: PluginContext, principal: Principal, advisor_id: str, data: schemas.AdvisorUpdate
) -> schemas.Advisor:
    if principal.role is Role.ADVISOR and advisor_id != principal.user_id:
        raise NotFound(f"No advisorprofile with id {advisor_id}.")
    key = tenancy.parse_id(advisor_id)
    profile = (
        await AdvisorProfile.get_or_none(user_id=key).prefetch_related("user") if key else None
    )
    if profile is None:
        raise NotFound(f"No advisorprofile with id {advisor_id}.")
    if data.expertise is not None:
        profile.expertise = [c.value for c in dict.fromkeys(data.expertise)]
    if data.languages is not None:
        profile.languages = list(dict.fromkeys(data.languages))
    if data.region is not None:
        profile.region = data.region
    if data.timezone is not None:
        profile.timezone = _check_timezone(data.timezone, "/timezone")
    if data.availability is not None:
        profile.availability = _check_windows(data.availability, "/availability")
    if data.accepting is not None:
        profile.accepting = data.accepting
    profile.updated_at = _now(ctx)
    await profile.save()
    loads = await _open_loads([profile.user_id])
    return advisor_out(profile, loads[str(profile.user_id)])


async def list_advisors(category: Category | None, language: str | None) -> list[schemas.Advisor]:
    profiles = await AdvisorProfile.filter(
        user__is_active=True, user__role=Role.ADVISOR
    ).prefetch_related("user")
    loads = await _open_loads()
    out = []
    for profile in sorted(profiles, key=lambda p: (p.user.display_name, str(p.user_id))):
        if category is not None and category.value not in profile.expertise:
            continue
        if language is not None and language not in profile.languages:
            continue
        out.append(advisor_out(profile, loads[str(profile.user_id)]))
    return out


async def _advisor_profile(advisor_id: str | None, pointer: str) -> AdvisorProfile:
    key = tenancy.parse_id(advisor_id or "")
    profile = (
        await AdvisorProfile.get_or_none(
            user_id=key, user__is_active=True, user__role=Role.ADVISOR
        ).prefetch_related("user")
        if key
        else None
    )
    if profile is None:
        if pointer.startswith("/"):
            raise Invalid.field(pointer, _("unknown or not accessible"))
        raise Invalid.parameter(pointer, _("unknown or not accessible"))
    return profile


def _fits_availability(profile: AdvisorProfile, start: datetime, end: datetime) -> bool:
    zone = zone_named(profile.timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_end.date() != local_start.date() and local_end.time() != time(0):
        return False
    first = local_start.strftime("%H:%M")
    last = "24:00" if local_end.time() == time(0) else local_end.strftime("%H:%M")
    return any(
        w.weekday == local_start.weekday() and w.start <= first and last <= w.end
        for w in _windows(profile.availability)
    )


async def _booked(advisor_id: Any, start: datetime, end: datetime) -> list[Consultation]:
    return await Consultation.filter(
        advisor_id=advisor_id,
        status=ConsultationStatus.BOOKED,
        starts_at__lt=end,
        ends_at__gt=start,
    )


async def availability(
    ctx: PluginContext,
    advisor_id: str,
    start: datetime | None,
    end: datetime | None,
    minutes: int | None,
) -> schemas.Availability:
    profile = await _advisor_profile(advisor_id, "advisor_id")
    now = _now(ctx)
    length = timedelta(minutes=minutes or ctx.settings.consultation_minutes)
    step = timedelta(minutes=ctx.settings.slot_step_minutes)
    start = max(start or now, now)
    end = min(
        end or start + timedelta(days=7), now + timedelta(days=ctx.settings.booking_horizon_days)
    )
    if end - start > timedelta(days=31):
        raise Invalid.parameter("to", _("at most 31 days after from"))
    zone = zone_named(profile.timezone)
    busy = await _booked(profile.user_id, start, end + length)
    slots: list[schemas.Slot] = []
    day = start.astimezone(zone).date()
    while datetime.combine(day, time(), tzinfo=zone) < end:
        for window in _windows(profile.availability):
            if window.weekday != day.weekday():
                continue
            opens = datetime.combine(day, time.fromisoformat(window.start), tzinfo=zone)
            closes = (
                datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
                if window.end == "24:00"
                else datetime.combine(day, time.fromisoformat(window.end), tzinfo=zone)
            )
            slot = opens
            while slot + length <= closes:
                slot_utc = slot.astimezone(UTC)
                slot_end = slot_utc + length
                if (
                    slot_utc >= start
                    and slot_utc < end
                    and not any(c.starts_at < slot_end and c.ends_at > slot_utc for c in busy)
                ):
                    slots.append(schemas.Slot(slot_utc, slot_end))
                slot += step
        day += timedelta(days=1)
    slots.sort(key=lambda s: s.starts_at)
    return schemas.Availability(str(profile.user_id), int(length.total_seconds() // 60), slots)


# --- routing -------------------------------------------------------------------------------


async def mentor_of(profile: EntrantProfile | None) -> str | None:
    if profile is None:
        return None
    mentorship = await Mentorship.get_or_none(entrant_id=profile.id, ended_at__isnull=True)
    return str(mentorship.advisor_id) if mentorship else None


async def route_candidates(
    category: str,
    language: str,
    region: str,
    mentor_id: str | None,
    exclude: Iterable[str] = (),
) -> list[tuple[str, RouteReason]]:
    """Advisors for a question, best first: the entrant's own mentor, then advisors with
    the category as expertise, who speak the entrant's language, from their region, with
    the lightest load of open questions."""
    excluded = {str(e) for e in exclude}
    profiles = [
        p
        for p in await AdvisorProfile.filter(
            accepting=True, user__is_active=True, user__role=Role.ADVISOR
        )
        if str(p.user_id) not in excluded
    ]
    loads = await _open_loads([p.user_id for p in profiles])

    def key(p: AdvisorProfile) -> tuple[int, int, int, int, int, str]:
        user_id = str(p.user_id)
        return (
            0 if user_id == mentor_id else 1,
            0 if category in p.expertise else 1,
            0 if language in p.languages else 1,
            0 if region and p.region == region else 1,
            loads[user_id],
            user_id,
        )

    return [
        (str(p.user_id), RouteReason.MENTOR if str(p.user_id) == mentor_id else RouteReason.MATCH)
        for p in sorted(profiles, key=key)
    ]


# --- questions -----------------------------------------------------------------------------


def visible_questions(principal: Principal) -> QuerySet[Question]:
    """The questions the caller may read (see the module docstring)."""
    if principal.is_admin:
        return Question.all()
    if principal.role is Role.ADVISOR:
        routed = QuestionRoute.filter(advisor_id=principal.user_id).values("question_id")
        return Question.filter(
            Q(assigned_advisor_id=principal.user_id)
            | Q(assigned_advisor_id__isnull=True)
            | Q(visibility=Visibility.COMMUNITY)
            | Q(id__in=Subquery(routed))
        )
    own = Q(asker_id=principal.user_id, organization_id__in=list(principal.organization_ids))
    return Question.filter(Q(visibility=Visibility.COMMUNITY) | own)


def _own_questions(principal: Principal) -> QuerySet[Question]:
    """The questions the caller may close: their own (admins: any)."""
    if principal.is_admin:
        return Question.all()
    return tenancy.scope(Question.filter(asker_id=principal.user_id), principal, write=True)


QUESTION_RELATIONS = ("asker", "assigned_advisor", "answers__author", "routes__advisor")


def answer_out(answer: Answer) -> schemas.Answer:
    return schemas.Answer(
        id=str(answer.id),
        question_id=str(answer.question_id),
        author=_must_person(answer.author),
        by_advisor=answer.by_advisor,
        text=answer.text,
        photos=_photos(answer.photo_ids),
        accepted=answer.accepted,
        created_at=answer.created_at,
    )


def question_out(
    question: Question, suggestions: Sequence[schemas.Suggestion] = ()
) -> schemas.Question:
    answers = sorted(question.answers, key=lambda a: (a.created_at, str(a.id)))
    routes = sorted(question.routes, key=lambda r: (r.created_at, str(r.id)))
    return schemas.Question(
        id=str(question.id),
        organization_id=str(question.organization_id),
        asker=_must_person(question.asker),
        text=question.text,
        language=question.language,
        category=question.category,
        category_source=question.category_source,
        category_confidence=question.category_confidence,
        model_version=question.model_version,
        visibility=question.visibility,
        status=question.status,
        assigned_advisor=_person(question.assigned_advisor),
        due_at=question.due_at,
        escalations=question.escalations,
        answered_at=question.answered_at,
        resolved_at=question.resolved_at,
        self_served=question.self_served,
        self_served_with=question.self_served_with,
        photos=_photos(question.photo_ids),
        answers=[answer_out(a) for a in answers],
        routes=[schemas.Route(_must_person(r.advisor), r.reason, r.created_at) for r in routes],
        suggestions=list(suggestions),
        created_at=question.created_at,
        updated_at=question.updated_at,
    )


async def _reload(question_id: Any) -> Question:
    return await Question.get(id=question_id).prefetch_related(*QUESTION_RELATIONS)


async def _notify(
    ctx: PluginContext,
    user_ids: Iterable[str],
    title: Any,
    body: Any,
    data: dict[str, Any],
) -> None:
    """Inbox and push for these users; call inside the transaction of the cause."""
    await ctx.notifier.notify(
        list(dict.fromkeys(str(u) for u in user_ids)), title=title, body=body, data=data
    )


@dataclass(frozen=True, slots=True)
class _Answered:
    """An answered question as a suggestion."""

    id: str
    text: str
    answer: str
    category: str
    language: str


ANSWERED_CACHE = 32
_answered: OrderedDict[tuple[str, str], tuple[list[_Answered], Any, Any]] = OrderedDict()
"""Vectors of answered questions, by model version and the exact (id, updated_at) list they
were made from: a keystroke costs one small query, not thousands of rows and their vectors.
An answer or an acceptance changes the question's ``updated_at``, hence the key."""


async def _answered_vectors(
    predictor: Any, queryset: QuerySet[Question], limit: int
) -> tuple[list[_Answered], Any, Any]:
    from models_ml.mentoring.similar import vectors

    rows = (
        await queryset.order_by("-answered_at", "-id").limit(limit).values_list("id", "updated_at")
    )
    if not rows:
        return [], None, None
    key = (predictor.version, hashlib.sha256(repr(rows).encode()).hexdigest())
    cached = _answered.get(key)
    if cached is not None:
        _answered.move_to_end(key)
        return cached
    ids = [r[0] for r in rows]
    questions = {q.id: q for q in await Question.filter(id__in=ids)}
    best = await _best_answers(ids)
    entries = [
        _Answered(
            str(i),
            questions[i].text,
            best[str(i)],
            questions[i].category.value,
            questions[i].language,
        )
        for i in ids
        if i in questions and str(i) in best
    ]
    if not entries:
        return [], None, None
    question_vectors, answer_vectors = vectors(
        predictor.estimator, [(e.text, e.answer) for e in entries]
    )
    _answered[key] = (entries, question_vectors, answer_vectors)
    while len(_answered) > ANSWERED_CACHE:
        _answered.popitem(last=False)
    return entries, question_vectors, answer_vectors


async def suggest(
    ctx: PluginContext,
    principal: Principal,
    text: str,
    *,
    limit: int | None = None,
    exclude: Any = None,
) -> list[schemas.Suggestion]:
    """Answered questions like ``text``: the seed library and the answered questions the
    caller may read, scored alike (``mentoring.similar``)."""
    from models_ml.mentoring.similar import score_vectors

    settings = ctx.settings
    limit = limit or settings.similar_limit
    predictor = ctx.predictors.get(SIMILAR)
    found = [
        schemas.Suggestion(
            id=f"library:{m.id}",
            kind="library",
            question=m.question,
            answer=m.answer,
            category=m.category,
            language=m.language,
            score=m.score,
        )
        for m in predictor.predict(text)
    ]
    if settings.similar_candidates:
        queryset = visible_questions(principal).filter(
            status__in=[QuestionStatus.ANSWERED, QuestionStatus.RESOLVED], self_served=False
        )
        if exclude is not None:
            queryset = queryset.exclude(id=exclude)
        entries, questions, answers = await _answered_vectors(
            predictor, queryset, settings.similar_candidates
        )
        if entries:
            scores = score_vectors(predictor.estimator, text, questions, answers)
            found += [
                schemas.Suggestion(
                    id=f"question:{e.id}",
                    kind="question",
                    question=e.text,
                    answer=e.answer,
                    category=e.category,
                    language=e.language,
                    score=round(s, 4),
                )
                for e, s in zip(entries, scores, strict=True)
                if s >= settings.similar_min_score
            ]
    found.sort(key=lambda s: (-s.score, s.id))
    return found[:limit]


async def _best_answers(question_ids: Sequence[Any]) -> dict[str, str]:
    """Per question, the text of its accepted answer, else its first advisor answer."""
    if not question_ids:
        return {}
    best: dict[str, tuple[int, datetime, str]] = {}
    for answer in await Answer.filter(question_id__in=list(question_ids)):
        rank = 0 if answer.accepted else 1 if answer.by_advisor else 2
        current = best.get(str(answer.question_id))
        candidate = (rank, answer.created_at, answer.text)
        if current is None or candidate[:2] < current[:2]:
            best[str(answer.question_id)] = candidate
    return {k: v[2] for k, v in best.items() if v[0] < 2}


async def similar(
    ctx: PluginContext, principal: Principal, text: str, limit: int | None
) -> schemas.SuggestionList:
    text = text.strip()
    if not text:
        raise Invalid.parameter("q", _("must not be empty"))
    if len(text) > ctx.settings.max_text_length:
        raise Invalid.parameter(
            "q", _("longer than {limit} characters", limit=ctx.settings.max_text_length)
        )
    items = await suggest(ctx, principal, text, limit=limit)
    return schemas.SuggestionList(items, ctx.predictors.get(SIMILAR).version)


async def ask(
    ctx: PluginContext, principal: Principal, data: schemas.QuestionCreate
) -> schemas.Question:
    """Post a question: classify it, route it, attach its photos, tell the advisor, and
    answer with the suggestions of the library."""
    text = _check_length(ctx, data.text, "/text")
    photo_ids = _check_photos(ctx, data.photo_ids, "/photo_ids")
    organization_id = await _organization_for(principal, data.organization_id, "/organization_id")
    asker = await User.get(id=principal.user_id)
    profile = await EntrantProfile.get_or_none(user_id=principal.user_id)
    language = profile.language if profile else (asker.locale or "ja")[:2]
    if data.category is not None:
        category, source, confidence, version = data.category, "asker", None, None
    else:
        topic = ctx.predictors.get(TOPIC)
        guess = topic.predict(text)
        category, source = Category(guess.category), "model"
        confidence, version = guess.confidence, topic.version
    mentor = await mentor_of(profile)
    candidates = await route_candidates(
        category.value, language, profile.region if profile else "", mentor
    )
    advisor_id, reason = candidates[0] if candidates else (None, None)
    now = _now(ctx)
    async with in_transaction():
        question = await Question.create(
            organization_id=organization_id,
            asker=asker,
            text=text,
            language=language,
            category=category,
            category_source=source,
            category_confidence=confidence,
            model_version=version,
            visibility=data.visibility,
            assigned_advisor_id=advisor_id,
            due_at=now + timedelta(hours=ctx.settings.answer_sla_hours),
            photo_ids=photo_ids,
            created_at=now,
            updated_at=now,
        )
        await _attach(
            ctx,
            principal,
            photo_ids,
            QUESTION_SUBJECT,
            str(question.id),
            organization_id,
            "/photo_ids",
        )
        if advisor_id is not None and reason is not None:
            await QuestionRoute.create(
                question=question, advisor_id=advisor_id, reason=reason, created_at=now
            )
        recipients = [advisor_id] if advisor_id else await _advisor_ids()
        await _notify(
            ctx,
            recipients,
            _("New question: {category}", category=CATEGORY_LABELS[category]),
            _(
                "{asker} asks: {text}",
                asker=asker.display_name or asker.username,
                text=excerpt(text),
            ),
            {"kind": "question_routed", "question_id": str(question.id)},
        )
        await _touch(principal.user_id, now)
    ctx.notifier.wake()
    suggestions = await suggest(ctx, principal, text, exclude=question.id)
    return question_out(await _reload(question.id), suggestions)


async def get_question(
    ctx: PluginContext, principal: Principal, question_id: str
) -> schemas.Question:
    question = await _get(visible_questions(principal), question_id)
    await question.fetch_related(*QUESTION_RELATIONS)
    suggestions: list[schemas.Suggestion] = []
    if question.status is QuestionStatus.OPEN and str(question.asker_id) == principal.user_id:
        suggestions = await suggest(ctx, principal, question.text, exclude=question.id)
    return question_out(question, suggestions)


async def list_questions(
    principal: Principal,
    *,
    status: QuestionStatus | None,
    category: Category | None,
    mine: bool,
    cursor: str | None,
    limit: int,
) -> schemas.QuestionList:
    queryset = visible_questions(principal)
    if status is not None:
        queryset = queryset.filter(status=status)
    if category is not None:
        queryset = queryset.filter(category=category)
    if mine:
        if principal.role is Role.ADVISOR:
            queryset = queryset.filter(assigned_advisor_id=principal.user_id)
        else:
            queryset = queryset.filter(asker_id=principal.user_id)
    rows, next_cursor = await page(
        queryset.prefetch_related(*QUESTION_RELATIONS), cursor, limit, newest_first=True
    )
    return schemas.QuestionList([question_out(q) for q in rows], next_cursor)


async def answer(
    ctx: PluginContext, principal: Principal, question_id: str, data: schemas.AnswerCreate
) -> schemas.Answer:
    question = await _get(visible_questions(principal), question_id)
    if question.status is QuestionStatus.RESOLVED:
        raise Conflict(_("This question is resolved."))
    text = _check_length(ctx, data.text, "/text")
    photo_ids = _check_photos(ctx, data.photo_ids, "/photo_ids")
    by_advisor = principal.role in (Role.ADVISOR, Role.ADMIN)
    author = await User.get(id=principal.user_id)
    now = _now(ctx)
    first_advisor_answer = by_advisor and question.status is QuestionStatus.OPEN
    async with in_transaction():
        created = await Answer.create(
            question=question,
            organization_id=question.organization_id,
            author=author,
            by_advisor=by_advisor,
            text=text,
            photo_ids=photo_ids,
            created_at=now,
            updated_at=now,
        )
        await _attach(
            ctx,
            principal,
            photo_ids,
            "mentoring.answer",
            str(created.id),
            str(question.organization_id),
            "/photo_ids",
        )
        changes: dict[str, Any] = {"updated_at": now}
        if first_advisor_answer:
            changes.update(status=QuestionStatus.ANSWERED, answered_at=now, due_at=None)
        await Question.filter(id=question.id).update(**changes)
        if str(question.asker_id) != principal.user_id:
            await _notify(
                ctx,
                [str(question.asker_id)],
                _("Your question was answered"),
                _(
                    "{author} wrote: {text}",
                    author=author.display_name or author.username,
                    text=excerpt(text),
                ),
                {"kind": "question_answered", "question_id": str(question.id)},
            )
        if principal.role is Role.MEMBER:
            await _touch(principal.user_id, now)
    ctx.notifier.wake()
    if first_advisor_answer:
        await _resolve_overdue(
            ctx, question, _("Answered by {author}.", author=author.display_name)
        )
    created.author = author
    return answer_out(created)


async def _resolve_overdue(ctx: PluginContext, question: Question, note: Any) -> None:
    await ctx.alerts.resolve(
        organization_id=str(question.organization_id),
        type=OVERDUE_ALERT,
        subject=Subject(QUESTION_SUBJECT, str(question.id)),
        note=note.render("en") if hasattr(note, "render") else str(note),
    )


async def accept(ctx: PluginContext, principal: Principal, answer_id: str) -> schemas.Question:
    """The asker accepts an answer: the question is resolved."""
    if principal.is_admin:
        queryset = Answer.all()
    else:
        queryset = tenancy.scope(
            Answer.filter(question__asker_id=principal.user_id), principal, write=True
        )
    chosen = await _get(queryset, answer_id)
    question = await Question.get(id=chosen.question_id)
    now = _now(ctx)
    async with in_transaction():
        await Answer.filter(id=chosen.id).update(accepted=True, updated_at=now)
        if question.status is not QuestionStatus.RESOLVED:
            await Question.filter(id=question.id).update(
                status=QuestionStatus.RESOLVED, resolved_at=now, due_at=None, updated_at=now
            )
        if str(chosen.author_id) != principal.user_id:
            await _notify(
                ctx,
                [str(chosen.author_id)],
                _("Your answer helped"),
                _("The asker accepted your answer: {text}", text=excerpt(chosen.text)),
                {"kind": "answer_accepted", "question_id": str(question.id)},
            )
        await _touch(principal.user_id, now)
    ctx.notifier.wake()
    await _resolve_overdue(ctx, question, _("Resolved by the asker."))
    return question_out(await _reload(question.id))


async def self_served(
    ctx: PluginContext, principal: Principal, question_id: str, data: schemas.SelfServed
) -> schemas.Question:
    """A suggestion solved the question: close it as self-served."""
    question = await _get(_own_questions(principal), question_id)
    if question.status is QuestionStatus.RESOLVED:
        raise Conflict(_("This question is resolved."))
    kind, _sep, ref = data.suggestion_id.partition(":")
    valid = False
    if kind == "library":
        library = ctx.predictors.get(SIMILAR).estimator
        valid = ref in library["ids"]
    elif kind == "question":
        key = tenancy.parse_id(ref)
        valid = (
            key is not None
            and key != question.id
            and await visible_questions(principal)
            .filter(id=key, status__in=[QuestionStatus.ANSWERED, QuestionStatus.RESOLVED])
            .exists()
        )
    if not valid:
        raise Invalid.field("/suggestion_id", _("unknown or not accessible"))
    now = _now(ctx)
    async with in_transaction():
        await Question.filter(id=question.id).update(
            status=QuestionStatus.RESOLVED,
            self_served=True,
            self_served_with=data.suggestion_id,
            resolved_at=now,
            due_at=None,
            updated_at=now,
        )
        await _touch(principal.user_id, now)
    await _resolve_overdue(ctx, question, _("Solved by a suggested answer."))
    return question_out(await _reload(question.id))


async def escalate_overdue(ctx: PluginContext, at: datetime) -> int:
    """Move every open question past its answer time to the next advisor (or to all
    advisors when none is left), tell the asker, and raise an ``answer_overdue`` alert."""
    hours = ctx.settings.answer_sla_hours
    escalated = 0
    due = (
        await Question.filter(status=QuestionStatus.OPEN, due_at__lte=at)
        .order_by("due_at")
        .limit(BATCH)
        .prefetch_related("asker")
    )
    for question in due:
        tried = await QuestionRoute.filter(question_id=question.id).values_list(
            "advisor_id", flat=True
        )
        profile = await EntrantProfile.get_or_none(user_id=question.asker_id)
        candidates = await route_candidates(
            question.category.value,
            question.language,
            profile.region if profile else "",
            await mentor_of(profile),
            exclude=[str(t) for t in tried],
        )
        next_id = candidates[0][0] if candidates else None
        async with in_transaction():
            claimed = await Question.filter(
                id=question.id, status=QuestionStatus.OPEN, escalations=question.escalations
            ).update(
                escalations=question.escalations + 1,
                assigned_advisor_id=next_id,
                due_at=at + timedelta(hours=hours) if next_id else None,
                updated_at=at,
            )
            if not claimed:
                continue
            if next_id is not None:
                await QuestionRoute.create(
                    question_id=question.id,
                    advisor_id=next_id,
                    reason=RouteReason.ESCALATION,
                    created_at=at,
                )
            advisor = (await _users([next_id])).get(str(next_id)) if next_id else None
            await _notify(
                ctx,
                [next_id] if next_id else await _advisor_ids(),
                _("Escalated question: {category}", category=CATEGORY_LABELS[question.category]),
                _(
                    "Unanswered for {hours} h: {text}",
                    hours=hours,
                    text=excerpt(question.text),
                ),
                {"kind": "question_escalated", "question_id": str(question.id)},
            )
            await _notify(
                ctx,
                [str(question.asker_id)],
                _("Your question was passed on"),
                _(
                    "No answer yet after {hours} h, so {advisor} will look at it now.",
                    hours=hours,
                    advisor=(advisor.display_name or advisor.username)
                    if advisor
                    else _("every advisor"),
                ),
                {"kind": "question_escalated", "question_id": str(question.id)},
            )
        ctx.notifier.wake()
        escalated += 1
        asker = question.asker.display_name or question.asker.username
        await ctx.alerts.raise_(
            organization_id=str(question.organization_id),
            type=OVERDUE_ALERT,
            severity=Severity.WARNING if next_id else Severity.MAJOR,
            title=_("Question unanswered for {hours} h", hours=hours),
            body=(
                _(
                    "{asker}'s question on {category} was passed to {advisor}.",
                    asker=asker,
                    category=CATEGORY_LABELS[question.category],
                    advisor=advisor.display_name or advisor.username,
                )
                if advisor
                else _(
                    "{asker}'s question on {category} has no advisor left: "
                    "it is open to all advisors.",
                    asker=asker,
                    category=CATEGORY_LABELS[question.category],
                )
            ),
            subject=Subject(QUESTION_SUBJECT, str(question.id), excerpt(question.text)),
            data={
                "question_id": str(question.id),
                "escalations": question.escalations + 1,
                "advisor_id": next_id,
            },
            notify=[[]],  # the advisor and the asker were told above, in their own words
        )
    return escalated


# --- mentorships ---------------------------------------------------------------------------


def visible_mentorships(principal: Principal, *, write: bool = False) -> QuerySet[Mentorship]:
    if principal.is_admin:
        return Mentorship.all()
    if principal.role is Role.ADVISOR:
        return Mentorship.filter(advisor_id=principal.user_id) if write else Mentorship.all()
    return tenancy.scope(
        Mentorship.filter(entrant__user_id=principal.user_id), principal, write=write
    )


MENTORSHIP_RELATIONS = ("advisor", "entrant__user")


def mentorship_out(ctx: PluginContext, mentorship: Mentorship) -> schemas.Mentorship:
    since = mentorship.last_check_in_at or mentorship.started_at
    due = mentorship.ended_at is None and since + timedelta(days=mentorship.cadence_days) <= _now(
        ctx
    )
    return schemas.Mentorship(
        id=str(mentorship.id),
        entrant_id=str(mentorship.entrant_id),
        entrant=_must_person(mentorship.entrant.user),
        advisor=_must_person(mentorship.advisor),
        organization_id=str(mentorship.organization_id),
        cadence_days=mentorship.cadence_days,
        started_at=mentorship.started_at,
        ended_at=mentorship.ended_at,
        last_check_in_at=mentorship.last_check_in_at,
        check_in_due=due,
    )


async def create_mentorship(
    ctx: PluginContext, principal: Principal, data: schemas.MentorshipCreate
) -> schemas.Mentorship:
    entrant = await EntrantProfile.get_or_none(id=_id(data.entrant_id, "/entrant_id"))
    if entrant is None:
        raise Invalid.field("/entrant_id", _("unknown or not accessible"))
    if principal.role is Role.ADVISOR:
        if data.advisor_id not in (None, principal.user_id):
            raise Invalid.field("/advisor_id", _("advisors start their own mentorships"))
        advisor_id = principal.user_id
    else:
        if data.advisor_id is None:
            raise Invalid.field("/advisor_id", _("name the advisor"))
        advisor_id = data.advisor_id
    advisor = await User.get_or_none(
        id=_id(advisor_id, "/advisor_id"), role=Role.ADVISOR, is_active=True
    )
    if advisor is None:
        raise Invalid.field("/advisor_id", _("not an advisor"))
    now = _now(ctx)
    async with in_transaction():
        await EntrantProfile.filter(id=entrant.id).select_for_update().first()
        if await Mentorship.filter(entrant_id=entrant.id, ended_at__isnull=True).exists():
            raise Conflict(_("This entrant has a mentor already; end that mentorship first."))
        mentorship = await Mentorship.create(
            organization_id=entrant.organization_id,
            advisor=advisor,
            entrant=entrant,
            cadence_days=data.cadence_days or ctx.settings.checkin_cadence_days,
            started_at=now,
            created_at=now,
            updated_at=now,
        )
        await _notify(
            ctx,
            [str(entrant.user_id)],
            _("You have a mentor"),
            _(
                "{advisor} is your mentor now and will check in regularly.",
                advisor=advisor.display_name or advisor.username,
            ),
            {"kind": "mentorship_started", "mentorship_id": str(mentorship.id)},
        )
    ctx.notifier.wake()
    await mentorship.fetch_related(*MENTORSHIP_RELATIONS)
    return mentorship_out(ctx, mentorship)


async def list_mentorships(
    ctx: PluginContext, principal: Principal, active: bool | None
) -> list[schemas.Mentorship]:
    queryset = visible_mentorships(principal)
    if active is True:
        queryset = queryset.filter(ended_at__isnull=True)
    elif active is False:
        queryset = queryset.filter(ended_at__isnull=False)
    rows = await queryset.order_by("started_at", "id").prefetch_related(*MENTORSHIP_RELATIONS)
    return [mentorship_out(ctx, m) for m in rows]


async def check_in(
    ctx: PluginContext, principal: Principal, mentorship_id: str, data: schemas.CheckIn
) -> schemas.Mentorship:
    mentorship = await _get(visible_mentorships(principal, write=True), mentorship_id)
    if mentorship.ended_at is not None:
        raise Conflict(_("This mentorship has ended."))
    now = _now(ctx)
    mentorship.last_check_in_at = now
    mentorship.updated_at = now
    await mentorship.save(update_fields=["last_check_in_at", "updated_at"])
    await mentorship.fetch_related(*MENTORSHIP_RELATIONS)
    return mentorship_out(ctx, mentorship)


async def end_mentorship(
    ctx: PluginContext, principal: Principal, mentorship_id: str
) -> schemas.Mentorship:
    mentorship = await _get(visible_mentorships(principal, write=True), mentorship_id)
    if mentorship.ended_at is None:
        now = _now(ctx)
        mentorship.ended_at = now
        mentorship.updated_at = now
        await mentorship.save(update_fields=["ended_at", "updated_at"])
    await mentorship.fetch_related(*MENTORSHIP_RELATIONS)
    return mentorship_out(ctx, mentorship)


# --- consultations -------------------------------------------------------------------------

MODE_LABELS = {
    Mode.VIDEO: _("video call"),
    Mode.PHONE: _("phone call"),
    Mode.FIELD_VISIT: _("field visit"),
}

CONSULTATION_RELATIONS = ("advisor", "entrant__user", "follow_ups__advisor")


def visible_consultations(principal: Principal, *, write: bool = False) -> QuerySet[Consultation]:
    if principal.is_admin:
        return Consultation.all()
    if principal.role is Role.ADVISOR:
        return Consultation.filter(advisor_id=principal.user_id)
    return tenancy.scope(
        Consultation.filter(entrant__user_id=principal.user_id), principal, write=write
    )


def follow_up_out(follow_up: FollowUp) -> schemas.FollowUp:
    return schemas.FollowUp(
        id=str(follow_up.id),
        consultation_id=str(follow_up.consultation_id),
        entrant_id=str(follow_up.entrant_id),
        advisor=_must_person(follow_up.advisor),
        title=follow_up.title,
        due_on=follow_up.due_on,
        done_at=follow_up.done_at,
        created_at=follow_up.created_at,
    )


async def _reminders_sent(consultation_ids: Sequence[Any]) -> dict[str, list[int]]:
    sent: dict[str, list[int]] = {}
    for reminder in await ConsultationReminder.filter(consultation_id__in=list(consultation_ids)):
        sent.setdefault(str(reminder.consultation_id), []).append(reminder.minutes_before)
    return {k: sorted(v, reverse=True) for k, v in sent.items()}


def consultation_out(
    consultation: Consultation, principal: Principal, reminders: Sequence[int] = ()
) -> schemas.Consultation:
    follow_ups = sorted(consultation.follow_ups, key=lambda f: (f.created_at, str(f.id)))
    return schemas.Consultation(
        id=str(consultation.id),
        organization_id=str(consultation.organization_id),
        advisor=_must_person(consultation.advisor),
        entrant_id=str(consultation.entrant_id),
        entrant=_must_person(consultation.entrant.user),
        starts_at=consultation.starts_at,
        ends_at=consultation.ends_at,
        minutes=int((consultation.ends_at - consultation.starts_at).total_seconds() // 60),
        mode=consultation.mode,
        status=consultation.status,
        topic=consultation.topic,
        meeting_link=consultation.meeting_link,
        question_id=str(consultation.question_id) if consultation.question_id else None,
        notes=consultation.notes if principal.role is not Role.MEMBER else None,
        summary=consultation.summary,
        follow_ups=[follow_up_out(f) for f in follow_ups],
        reminders_sent=list(reminders),
        created_at=consultation.created_at,
        updated_at=consultation.updated_at,
    )


async def _consultation(principal: Principal, consultation_id: Any) -> schemas.Consultation:
    consultation = await Consultation.get(id=consultation_id).prefetch_related(
        *CONSULTATION_RELATIONS
    )
    reminders = await _reminders_sent([consultation.id])
    return consultation_out(consultation, principal, reminders.get(str(consultation.id), []))


def meeting_link(ctx: PluginContext, consultation_id: uuid.UUID, mode: Mode) -> str | None:
    if mode is not Mode.VIDEO:
        return None
    try:
        return ctx.settings.meeting_link_template.format(
            room=secrets.token_hex(10), consultation_id=consultation_id
        )
    except (KeyError, IndexError, ValueError):
        ctx.logger.error("meeting_link_template is not a valid template; no link made")
        return None


async def book(
    ctx: PluginContext, principal: Principal, data: schemas.ConsultationCreate
) -> schemas.Consultation:
    """Book a consultation within the advisor's weekly availability, refusing any overlap
    with another booked consultation of the same advisor or the same entrant."""
    settings = ctx.settings
    if data.starts_at.tzinfo is None:
        raise Invalid.field("/starts_at", _("give the time with its UTC offset"))
    if principal.role is Role.MEMBER:
        entrant = await tenancy.scope(
            EntrantProfile.filter(user_id=principal.user_id), principal, write=True
        ).get_or_none()
        if entrant is None:
            raise Invalid.field("/entrant_id", _("create your entrant profile first"))
        if data.entrant_id not in (None, str(entrant.id)):
            raise Invalid.field("/entrant_id", _("unknown or not accessible"))
        advisor = await _advisor_profile(data.advisor_id, "/advisor_id")
    else:
        if principal.role is Role.ADVISOR:
            if data.advisor_id not in (None, principal.user_id):
                raise Invalid.field("/advisor_id", _("advisors book their own consultations"))
            advisor = await _advisor_profile(principal.user_id, "/advisor_id")
        else:
            advisor = await _advisor_profile(data.advisor_id, "/advisor_id")
        entrant = await EntrantProfile.get_or_none(id=_id(data.entrant_id, "/entrant_id"))
        if entrant is None:
            raise Invalid.field("/entrant_id", _("unknown or not accessible"))
    question_id = None
    if data.question_id is not None:
        key = _id(data.question_id, "/question_id")
        if not await visible_questions(principal).filter(id=key, asker_id=entrant.user_id).exists():
            raise Invalid.field("/question_id", _("unknown or not accessible"))
        question_id = key
    now = _now(ctx)
    start = data.starts_at.astimezone(UTC)
    end = start + timedelta(minutes=data.minutes or settings.consultation_minutes)
    if start <= now:
        raise Invalid.field("/starts_at", _("must be in the future"))
    if start > now + timedelta(days=settings.booking_horizon_days):
        raise Invalid.field(
            "/starts_at", _("at most {days} days ahead", days=settings.booking_horizon_days)
        )
    if not _fits_availability(advisor, start, end):
        raise Invalid.field("/starts_at", _("outside the advisor's availability"))
    consultation_id = uuid.uuid4()
    async with in_transaction():
        # One booking at a time per advisor and per entrant: row locks on PostgreSQL (always
        # advisor first, so two bookings cannot deadlock); SQLite runs one write at a time.
        await AdvisorProfile.filter(id=advisor.id).select_for_update().first()
        await EntrantProfile.filter(id=entrant.id).select_for_update().first()
        clash = (
            await Consultation.filter(
                status=ConsultationStatus.BOOKED, starts_at__lt=end, ends_at__gt=start
            )
            .filter(Q(advisor_id=advisor.user_id) | Q(entrant_id=entrant.id))
            .order_by("starts_at")
            .first()
        )
        if clash is not None:
            if clash.advisor_id == advisor.user_id:
                raise Conflict(
                    _("The advisor is already booked at that time."),
                    extra={"conflict": "advisor"},
                )
            raise Conflict(
                _("The entrant already has a consultation at that time."),
                extra={"conflict": "entrant"},
            )
        consultation = await Consultation.create(
            id=consultation_id,
            organization_id=entrant.organization_id,
            advisor_id=advisor.user_id,
            entrant=entrant,
            booked_by_id=principal.user_id,
            question_id=question_id,
            starts_at=start,
            ends_at=end,
            mode=data.mode,
            topic=data.topic,
            meeting_link=meeting_link(ctx, consultation_id, data.mode),
            created_at=now,
            updated_at=now,
        )
        others = [u for u in (str(advisor.user_id), str(entrant.user_id)) if u != principal.user_id]
        for user in (await _users(others)).values():
            await _notify(
                ctx,
                [str(user.id)],
                _("Consultation booked: {when}", when=local_time(start, user.timezone)),
                _(
                    "{mode} about {topic}",
                    mode=MODE_LABELS[data.mode],
                    topic=excerpt(data.topic) or "-",
                ),
                {"kind": "consultation_booked", "consultation_id": str(consultation.id)},
            )
        if principal.role is Role.MEMBER:
            await _touch(entrant.user_id, now)
    ctx.notifier.wake()
    return await _consultation(principal, consultation.id)


async def get_consultation(principal: Principal, consultation_id: str) -> schemas.Consultation:
    found = await _get(visible_consultations(principal), consultation_id)
    return await _consultation(principal, found.id)


async def list_consultations(
    principal: Principal,
    *,
    status: ConsultationStatus | None,
    start: datetime | None,
    end: datetime | None,
    cursor: str | None,
    limit: int,
) -> schemas.ConsultationList:
    """By start time (then id); ``start``/``end`` bound the start time."""
    queryset = visible_consultations(principal)
    if status is not None:
        queryset = queryset.filter(status=status)
    if start is not None:
        queryset = queryset.filter(starts_at__gte=start)
    if end is not None:
        queryset = queryset.filter(starts_at__lt=end)
    if cursor:
        values = decode_cursor(cursor)
        try:
            after, last = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (IndexError, ValueError):
            raise Invalid.parameter("cursor", "not a cursor this service issued") from None
        queryset = queryset.filter(Q(starts_at__gt=after) | Q(starts_at=after, id__gt=last))
    rows = (
        await queryset.order_by("starts_at", "id")
        .limit(limit + 1)
        .prefetch_related(*CONSULTATION_RELATIONS)
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].starts_at.isoformat(), rows[-1].id)
    reminders = await _reminders_sent([c.id for c in rows])
    return schemas.ConsultationList(
        [consultation_out(c, principal, reminders.get(str(c.id), [])) for c in rows],
        next_cursor,
    )


async def cancel(
    ctx: PluginContext, principal: Principal, consultation_id: str, data: schemas.CancelConsultation
) -> schemas.Consultation:
    consultation = await _get(visible_consultations(principal, write=True), consultation_id)
    if consultation.status is not ConsultationStatus.BOOKED:
        raise Conflict(_("Only a booked consultation can be cancelled."))
    now = _now(ctx)
    if consultation.starts_at <= now:
        raise Conflict(_("This consultation has started already."))
    await consultation.fetch_related("entrant")
    async with in_transaction():
        claimed = await Consultation.filter(
            id=consultation.id, status=ConsultationStatus.BOOKED
        ).update(status=ConsultationStatus.CANCELLED, closed_at=now, updated_at=now)
        if not claimed:
            raise Conflict(_("Only a booked consultation can be cancelled."))
        others = [
            u
            for u in (str(consultation.advisor_id), str(consultation.entrant.user_id))
            if u != principal.user_id
        ]
        for user in (await _users(others)).values():
            await _notify(
                ctx,
                [str(user.id)],
                _(
                    "Consultation cancelled: {when}",
                    when=local_time(consultation.starts_at, user.timezone),
                ),
                _("Reason: {reason}", reason=data.reason or "-"),
                {"kind": "consultation_cancelled", "consultation_id": str(consultation.id)},
            )
    ctx.notifier.wake()
    return await _consultation(principal, consultation.id)


async def complete(
    ctx: PluginContext,
    principal: Principal,
    consultation_id: str,
    data: schemas.CompleteConsultation,
) -> schemas.Consultation:
    """The advisor closes a consultation that took place (or was missed): notes for staff,
    a summary and follow-up tasks for the entrant, who is told at once."""
    consultation = await _get(visible_consultations(principal, write=True), consultation_id)
    if consultation.status is not ConsultationStatus.BOOKED:
        raise Conflict(_("This consultation is closed already."))
    now = _now(ctx)
    if consultation.starts_at > now:
        raise Conflict(_("This consultation has not started yet."))
    await consultation.fetch_related("entrant__user", "advisor")
    entrant_user = consultation.entrant.user
    status = (
        ConsultationStatus.COMPLETED if data.outcome == "completed" else ConsultationStatus.NO_SHOW
    )
    async with in_transaction():
        claimed = await Consultation.filter(
            id=consultation.id, status=ConsultationStatus.BOOKED
        ).update(
            status=status,
            notes=data.notes,
            summary=data.summary,
            closed_at=now,
            updated_at=now,
        )
        if not claimed:
            raise Conflict(_("This consultation is closed already."))
        for index, task in enumerate(data.follow_ups):
            await FollowUp.create(
                organization_id=consultation.organization_id,
                consultation_id=consultation.id,
                entrant_id=consultation.entrant_id,
                advisor_id=consultation.advisor_id,
                title=task.title,
                due_on=task.due_on,
                created_at=now + timedelta(microseconds=index),  # listed in the given order
                updated_at=now,
            )
        advisor_name = consultation.advisor.display_name or consultation.advisor.username
        if status is ConsultationStatus.COMPLETED:
            await _notify(
                ctx,
                [str(entrant_user.id)],
                _("Summary of your consultation with {advisor}", advisor=advisor_name),
                _(
                    "{summary} Follow-up tasks: {count}.",
                    summary=data.summary or "-",
                    count=len(data.follow_ups),
                ),
                {"kind": "consultation_summary", "consultation_id": str(consultation.id)},
            )
            await _touch(entrant_user.id, now)
        else:
            await _notify(
                ctx,
                [str(entrant_user.id)],
                _("Missed consultation"),
                _(
                    "{advisor} waited for you at {when}. Book a new time in the app.",
                    advisor=advisor_name,
                    when=local_time(consultation.starts_at, entrant_user.timezone),
                ),
                {"kind": "consultation_missed", "consultation_id": str(consultation.id)},
            )
    ctx.notifier.wake()
    return await _consultation(principal, consultation.id)


def _lead(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


async def send_reminders(ctx: PluginContext, at: datetime) -> int:
    """Send each due reminder of every booked consultation, exactly once.

    A reminder is due once its moment (start minus its lead) has come, if the consultation
    was booked before that moment (a booking 3 h ahead gets only the 1 h reminder) and no
    later reminder is due yet (a server down for a day does not send a stale 24 h reminder
    next to the 1 h one). Each is claimed by a unique row written in the same transaction as
    its notifications: a restarted scheduler, a second process or a repeated run finds the
    claim and sends nothing again.
    """
    leads = sorted(set(ctx.settings.reminder_minutes_before), reverse=True)
    if not leads:
        return 0
    upcoming = (
        await Consultation.filter(
            status=ConsultationStatus.BOOKED,
            starts_at__gt=at,
            starts_at__lte=at + timedelta(minutes=leads[0]),
        )
        .order_by("starts_at")
        .limit(BATCH)
        .prefetch_related("entrant__user", "advisor")
    )
    sent = 0
    for consultation in upcoming:
        for index, lead in enumerate(leads):
            moment = consultation.starts_at - timedelta(minutes=lead)
            if moment > at or consultation.created_at > moment:
                continue
            later = leads[index + 1] if index + 1 < len(leads) else None
            if later is not None and consultation.starts_at - timedelta(minutes=later) <= at:
                continue
            try:
                async with in_transaction():
                    await ConsultationReminder.create(
                        consultation_id=consultation.id, minutes_before=lead, created_at=at
                    )
                    for user in (consultation.entrant.user, consultation.advisor):
                        await _notify(
                            ctx,
                            [str(user.id)],
                            _("Consultation in {lead}", lead=_lead(lead)),
                            _(
                                "{mode} at {when}. {link}",
                                mode=MODE_LABELS[consultation.mode],
                                when=local_time(consultation.starts_at, user.timezone),
                                link=consultation.meeting_link or "",
                            ),
                            {
                                "kind": "consultation_reminder",
                                "consultation_id": str(consultation.id),
                                "minutes_before": lead,
                            },
                        )
            except IntegrityError:
                continue  # claimed already: sent by an earlier run
            sent += 1
    if sent:
        ctx.notifier.wake()
    return sent


# --- follow-ups and field-visit reports ----------------------------------------------------


def visible_follow_ups(principal: Principal, *, write: bool = False) -> QuerySet[FollowUp]:
    if principal.is_admin:
        return FollowUp.all()
    if principal.role is Role.ADVISOR:
        return FollowUp.filter(advisor_id=principal.user_id)
    return tenancy.scope(
        FollowUp.filter(entrant__user_id=principal.user_id), principal, write=write
    )


async def list_follow_ups(
    principal: Principal, done: bool | None, cursor: str | None, limit: int
) -> schemas.FollowUpList:
    queryset = visible_follow_ups(principal)
    if done is True:
        queryset = queryset.filter(done_at__isnull=False)
    elif done is False:
        queryset = queryset.filter(done_at__isnull=True)
    rows, next_cursor = await page(queryset.prefetch_related("advisor"), cursor, limit)
    return schemas.FollowUpList([follow_up_out(f) for f in rows], next_cursor)


async def follow_up_done(
    ctx: PluginContext, principal: Principal, follow_up_id: str
) -> schemas.FollowUp:
    follow_up = await _get(visible_follow_ups(principal, write=True), follow_up_id)
    if follow_up.done_at is None:
        now = _now(ctx)
        follow_up.done_at = now
        follow_up.updated_at = now
        await follow_up.save(update_fields=["done_at", "updated_at"])
        if principal.role is Role.MEMBER:
            await _touch(principal.user_id, now)
    await follow_up.fetch_related("advisor")
    return follow_up_out(follow_up)


def visible_field_reports(principal: Principal) -> QuerySet[FieldVisitReport]:
    if principal.is_admin:
        return FieldVisitReport.all()
    if principal.role is Role.ADVISOR:
        mentees = Mentorship.filter(advisor_id=principal.user_id, ended_at__isnull=True)
        return FieldVisitReport.filter(
            Q(advisor_id=principal.user_id)
            | Q(entrant_id__in=Subquery(mentees.values("entrant_id")))
        )
    return tenancy.scope(FieldVisitReport.filter(entrant__user_id=principal.user_id), principal)


def field_report_out(report: FieldVisitReport) -> schemas.FieldReport:
    return schemas.FieldReport(
        id=str(report.id),
        organization_id=str(report.organization_id),
        entrant_id=str(report.entrant_id),
        advisor=_must_person(report.advisor),
        consultation_id=str(report.consultation_id) if report.consultation_id else None,
        visited_at=report.visited_at,
        findings=report.findings,
        recommendations=report.recommendations,
        photos=_photos(report.photo_ids),
        created_at=report.created_at,
    )


async def create_field_report(
    ctx: PluginContext, principal: Principal, data: schemas.FieldReportCreate
) -> schemas.FieldReport:
    if data.visited_at.tzinfo is None:
        raise Invalid.field("/visited_at", _("give the time with its UTC offset"))
    entrant = await EntrantProfile.get_or_none(id=_id(data.entrant_id, "/entrant_id"))
    if entrant is None:
        raise Invalid.field("/entrant_id", _("unknown or not accessible"))
    consultation_id = None
    if data.consultation_id is not None:
        key = _id(data.consultation_id, "/consultation_id")
        if (
            not await visible_consultations(principal)
            .filter(id=key, entrant_id=entrant.id)
            .exists()
        ):
            raise Invalid.field("/consultation_id", _("unknown or not accessible"))
        consultation_id = key
    findings = _check_length(ctx, data.findings, "/findings")
    photo_ids = _check_photos(ctx, data.photo_ids, "/photo_ids")
    advisor = await User.get(id=principal.user_id)
    now = _now(ctx)
    async with in_transaction():
        report = await FieldVisitReport.create(
            organization_id=entrant.organization_id,
            consultation_id=consultation_id,
            advisor=advisor,
            entrant=entrant,
            visited_at=data.visited_at.astimezone(UTC),
            findings=findings,
            recommendations=data.recommendations,
            photo_ids=photo_ids,
            created_at=now,
        )
        await _attach(
            ctx,
            principal,
            photo_ids,
            "mentoring.field_report",
            str(report.id),
            str(entrant.organization_id),
            "/photo_ids",
        )
        await _notify(
            ctx,
            [str(entrant.user_id)],
            _(
                "Field-visit report from {advisor}",
                advisor=advisor.display_name or advisor.username,
            ),
            _("Recommendations: {text}", text=excerpt(data.recommendations or findings)),
            {"kind": "field_report", "field_report_id": str(report.id)},
        )
    ctx.notifier.wake()
    report.advisor = advisor
    return field_report_out(report)


async def get_field_report(principal: Principal, field_report_id: str) -> schemas.FieldReport:
    report = await _get(visible_field_reports(principal), field_report_id)
    await report.fetch_related("advisor")
    return field_report_out(report)


async def list_field_reports(
    principal: Principal, cursor: str | None, limit: int
) -> schemas.FieldReportList:
    rows, next_cursor = await page(
        visible_field_reports(principal).prefetch_related("advisor"),
        cursor,
        limit,
        newest_first=True,
    )
    return schemas.FieldReportList([field_report_out(r) for r in rows], next_cursor)


# --- community -----------------------------------------------------------------------------


def _staff(principal: Principal) -> bool:
    return principal.role in (Role.ADVISOR, Role.ADMIN)


def visible_threads(principal: Principal) -> QuerySet[Thread]:
    if _staff(principal):
        return Thread.all()
    return Thread.filter(Q(hidden=False) | Q(author_id=principal.user_id))


def visible_replies(principal: Principal) -> QuerySet[Reply]:
    if _staff(principal):
        return Reply.all()
    return Reply.filter(
        Q(hidden=False) | Q(author_id=principal.user_id),
        Q(thread__hidden=False) | Q(thread__author_id=principal.user_id),
    )


def reply_out(reply: Reply) -> schemas.Reply:
    return schemas.Reply(
        id=str(reply.id),
        thread_id=str(reply.thread_id),
        author=_must_person(reply.author),
        body=reply.body,
        hidden=reply.hidden,
        created_at=reply.created_at,
    )


def thread_out(thread: Thread, replies: Sequence[Reply] | None, reply_count: int) -> schemas.Thread:
    return schemas.Thread(
        id=str(thread.id),
        author=_must_person(thread.author),
        title=thread.title,
        body=thread.body,
        category=thread.category,
        hidden=thread.hidden,
        reply_count=reply_count,
        replies=[reply_out(r) for r in replies or ()],
        last_activity_at=thread.last_activity_at,
        created_at=thread.created_at,
    )


def _author_organization(principal: Principal) -> str | None:
    organizations = sorted(principal.organization_ids)
    return organizations[0] if organizations else None


async def create_thread(
    ctx: PluginContext, principal: Principal, data: schemas.ThreadCreate
) -> schemas.Thread:
    body = _check_length(ctx, data.body, "/body")
    title = data.title.strip()
    if not title:
        raise Invalid.field("/title", _("must not be empty"))
    now = _now(ctx)
    thread = await Thread.create(
        organization_id=_author_organization(principal),
        author_id=principal.user_id,
        title=title,
        body=body,
        category=data.category,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
    )
    if principal.role is Role.MEMBER:
        await _touch(principal.user_id, now)
    await thread.fetch_related("author")
    return thread_out(thread, [], 0)


async def list_threads(
    principal: Principal, category: Category | None, cursor: str | None, limit: int
) -> schemas.ThreadList:
    queryset = visible_threads(principal)
    if category is not None:
        queryset = queryset.filter(category=category)
    rows, next_cursor = await page(
        queryset.prefetch_related("author"), cursor, limit, newest_first=True
    )
    counts = Counter(
        str(t)
        for t in await visible_replies(principal)
        .filter(thread_id__in=[r.id for r in rows])
        .values_list("thread_id", flat=True)
    )
    return schemas.ThreadList([thread_out(t, None, counts[str(t.id)]) for t in rows], next_cursor)


async def get_thread(principal: Principal, thread_id: str) -> schemas.Thread:
    thread = await _get(visible_threads(principal), thread_id)
    await thread.fetch_related("author")
    replies = (
        await visible_replies(principal)
        .filter(thread_id=thread.id)
        .order_by("created_at", "id")
        .prefetch_related("author")
    )
    return thread_out(thread, replies, len(replies))


async def reply(
    ctx: PluginContext, principal: Principal, thread_id: str, data: schemas.ReplyCreate
) -> schemas.Reply:
    thread = await _get(visible_threads(principal), thread_id)
    body = _check_length(ctx, data.body, "/body")
    now = _now(ctx)
    author = await User.get(id=principal.user_id)
    async with in_transaction():
        created = await Reply.create(
            thread=thread,
            organization_id=_author_organization(principal),
            author=author,
            body=body,
            created_at=now,
            updated_at=now,
        )
        await Thread.filter(id=thread.id).update(last_activity_at=now, updated_at=now)
        if str(thread.author_id) != principal.user_id:
            await _notify(
                ctx,
                [str(thread.author_id)],
                _("New reply to {title}", title=excerpt(thread.title)),
                _(
                    "{author} wrote: {text}",
                    author=author.display_name or author.username,
                    text=excerpt(body),
                ),
                {"kind": "thread_reply", "thread_id": str(thread.id)},
            )
        if principal.role is Role.MEMBER:
            await _touch(principal.user_id, now)
    ctx.notifier.wake()
    created.author = author
    return reply_out(created)


async def report_post(
    ctx: PluginContext,
    principal: Principal,
    kind: str,
    post_id: str,
    data: schemas.Report,
) -> schemas.Reported:
    """Report a thread or a reply; reports from ``report_hide_threshold`` different people
    hide it until a moderator decides. Reporting twice counts once."""
    model: type[Thread] | type[Reply]
    if kind == "thread":
        model, visible = Thread, visible_threads(principal)
    else:
        model, visible = Reply, visible_replies(principal)
    post = await _get(visible, post_id)
    now = _now(ctx)
    try:
        async with in_transaction():
            await PostReport.create(
                reporter_id=principal.user_id,
                target_kind=kind,
                target_id=post.id,
                reason=data.reason,
                created_at=now,
            )
    except IntegrityError:
        pass  # this person reported it already
    reports = await PostReport.filter(target_kind=kind, target_id=post.id).count()
    hide = reports >= ctx.settings.report_hide_threshold
    await model.filter(id=post.id).update(
        report_count=reports, hidden=post.hidden or hide, updated_at=now
    )
    return schemas.Reported(reports=reports, hidden=post.hidden or hide)


async def moderate(
    ctx: PluginContext, principal: Principal, kind: str, post_id: str, data: schemas.Moderation
) -> schemas.Thread | schemas.Reply:
    """Staff hide or restore a post; restoring clears its reports (a moderator looked)."""
    now = _now(ctx)
    if kind == "thread":
        thread = await _get(Thread.all(), post_id)
        async with in_transaction():
            await Thread.filter(id=thread.id).update(
                hidden=data.hidden, updated_at=now, **({} if data.hidden else {"report_count": 0})
            )
            if not data.hidden:
                await PostReport.filter(target_kind=kind, target_id=thread.id).delete()
        return await get_thread(principal, str(thread.id))
    found = await _get(Reply.all(), post_id)
    async with in_transaction():
        await Reply.filter(id=found.id).update(
            hidden=data.hidden, updated_at=now, **({} if data.hidden else {"report_count": 0})
        )
        if not data.hidden:
            await PostReport.filter(target_kind=kind, target_id=found.id).delete()
    updated = await Reply.get(id=found.id).prefetch_related("author")
    return reply_out(updated)


# --- retention -----------------------------------------------------------------------------

SECTOR_CATEGORY = {
    "crops": Category.CROPS_SOIL,
    "livestock": Category.LIVESTOCK_HEALTH,
    "fisheries": Category.FISHERIES_AQUACULTURE,
    "aquaculture": Category.FISHERIES_AQUACULTURE,
}


async def retention_nudges(ctx: PluginContext, at: datetime) -> int:
    """Ask the mentor of every entrant inactive for ``inactivity_days`` to check in (an
    entrant without a mentor: the advisor routing would pick for their sector), at most once
    every ``nudge_every_days`` per entrant. The nudge is claimed on the profile in the
    transaction that writes the notification."""
    settings = ctx.settings
    threshold = at - timedelta(days=settings.inactivity_days)
    # A weekly job fires at nearly the same time each week: allow an hour of jitter.
    again = at - timedelta(days=settings.nudge_every_days) + timedelta(hours=1)
    candidates = (
        await EntrantProfile.filter(last_active_at__lte=threshold)
        .filter(Q(nudged_at__isnull=True) | Q(nudged_at__lte=again))
        .order_by("last_active_at")
        .limit(BATCH)
        .prefetch_related("user")
    )
    nudged = 0
    for profile in candidates:
        mentor_id = await mentor_of(profile)
        if mentor_id is None:
            ranked = await route_candidates(
                SECTOR_CATEGORY[profile.sector.value].value, profile.language, profile.region, None
            )
            mentor_id = ranked[0][0] if ranked else None
        if mentor_id is None:
            continue
        days = _inactive_days(profile, at)
        name = profile.user.display_name or profile.user.username
        async with in_transaction():
            unchanged = (
                Q(nudged_at__isnull=True)
                if profile.nudged_at is None
                else Q(nudged_at=profile.nudged_at)
            )
            claimed = await EntrantProfile.filter(unchanged, id=profile.id).update(nudged_at=at)
            if not claimed:
                continue
            await _notify(
                ctx,
                [mentor_id],
                _("Check in with {entrant}", entrant=name),
                _(
                    "{entrant} has had no activity in Minori for {days} days. "
                    "A short call or message may help.",
                    entrant=name,
                    days=days,
                ),
                {"kind": "retention_nudge", "entrant_id": str(profile.id), "inactive_days": days},
            )
        nudged += 1
    if nudged:
        ctx.notifier.wake()
    return nudged


# --- the advisor's overview ----------------------------------------------------------------


async def at_risk(ctx: PluginContext, principal: Principal) -> list[schemas.AtRisk]:
    now = _now(ctx)
    queryset = EntrantProfile.filter(
        last_active_at__lte=now - timedelta(days=ctx.settings.inactivity_days)
    )
    if principal.role is Role.ADVISOR:
        mine = Mentorship.filter(advisor_id=principal.user_id, ended_at__isnull=True)
        mentored = Mentorship.filter(ended_at__isnull=True)
        queryset = queryset.filter(
            Q(id__in=Subquery(mine.values("entrant_id")))
            | ~Q(id__in=Subquery(mentored.values("entrant_id")))
        )
    rows = await queryset.order_by("last_active_at", "id").prefetch_related("user")
    mentors = await _mentors([r.id for r in rows])
    return [
        schemas.AtRisk(
            entrant_id=str(r.id),
            entrant=_must_person(r.user),
            organization_id=str(r.organization_id),
            last_active_at=r.last_active_at,
            inactive_days=_inactive_days(r, now),
            mentor=_person(mentors.get(str(r.id))),
        )
        for r in rows
    ]


async def overview(ctx: PluginContext, principal: Principal) -> schemas.Overview:
    now = _now(ctx)
    mine = Question.filter(status=QuestionStatus.OPEN)
    if principal.role is Role.ADVISOR:
        mine = mine.filter(assigned_advisor_id=principal.user_id)
    upcoming = await list_consultations(
        principal,
        status=ConsultationStatus.BOOKED,
        start=now,
        end=now + timedelta(days=7),
        cursor=None,
        limit=50,
    )
    mentorships = await list_mentorships(ctx, principal, active=True)
    if principal.role is Role.ADVISOR:
        mentorships = [m for m in mentorships if m.advisor.id == principal.user_id]
    return schemas.Overview(
        open_questions=await mine.count(),
        overdue_questions=await mine.filter(due_at__lte=now).count(),
        pool_questions=await Question.filter(
            status=QuestionStatus.OPEN, assigned_advisor_id__isnull=True
        ).count(),
        upcoming_consultations=upcoming.items,
        pending_follow_ups=await visible_follow_ups(principal).filter(done_at__isnull=True).count(),
        at_risk=await at_risk(ctx, principal),
        check_ins_due=[m for m in mentorships if m.check_in_due],
    )


# --- KPI -----------------------------------------------------------------------------------


async def kpi_parts(start: datetime, end: datetime) -> schemas.KPIParts:
    """Completed video and phone consultations that started in ``[start, end)``, and
    questions whose first advisor answer came in it."""
    done = Consultation.filter(
        status=ConsultationStatus.COMPLETED, starts_at__gte=start, starts_at__lt=end
    )
    video = await done.filter(mode=Mode.VIDEO).count()
    phone = await done.filter(mode=Mode.PHONE).count()
    answered = await Question.filter(answered_at__gte=start, answered_at__lt=end).count()
    return schemas.KPIParts(
        start=start,
        end=end,
        online_consultations=video + phone + answered,
        consultations=video + phone,
        video=video,
        phone=phone,
        answered_questions=answered,
    )


# --- feed and sync -------------------------------------------------------------------------


async def answered_since(principal: Principal, since: datetime) -> list[Question]:
    """The caller's own questions an advisor answered since ``since``, not yet resolved."""
    return (
        await Question.filter(
            asker_id=principal.user_id, status=QuestionStatus.ANSWERED, answered_at__gte=since
        )
        .order_by("-answered_at", "-id")
        .limit(3)
    )


async def upcoming(principal: Principal, now: datetime, until: datetime) -> list[Consultation]:
    return (
        await visible_consultations(principal)
        .filter(status=ConsultationStatus.BOOKED, starts_at__gt=now, starts_at__lt=until)
        .order_by("starts_at", "id")
        .limit(3)
        .prefetch_related("advisor", "entrant__user")
    )


async def pending_follow_ups(principal: Principal) -> tuple[int, FollowUp | None]:
    queryset = visible_follow_ups(principal).filter(done_at__isnull=True)
    count = await queryset.count()
    latest = await queryset.order_by("-created_at", "-id").first() if count else None
    return count, latest


async def routed_open(principal: Principal, now: datetime) -> tuple[int, int, Question | None]:
    """Open questions routed to an advisor: how many, how many past their time, the
    oldest."""
    waiting = await Question.filter(
        status=QuestionStatus.OPEN, assigned_advisor_id=principal.user_id
    ).order_by("created_at", "id")
    overdue = sum(1 for q in waiting if q.due_at is not None and q.due_at <= now)
    return len(waiting), overdue, waiting[0] if waiting else None


def _builtins(value: Any) -> dict[str, Any]:
    return msgspec.to_builtins(value, builtin_types=(datetime, date))


async def changes(
    principal: Principal, since: datetime | None
) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
    """For offline use: the caller's questions (asked, or routed to them), consultations
    and follow-ups changed since ``since`` (everything when None). Nothing is deleted."""
    if principal.role is Role.ADVISOR:
        questions = visible_questions(principal).filter(
            Q(assigned_advisor_id=principal.user_id)
            | Q(
                id__in=Subquery(
                    QuestionRoute.filter(advisor_id=principal.user_id).values("question_id")
                )
            )
        )
    elif principal.is_admin:
        questions = Question.filter(asker_id=principal.user_id)
    else:
        questions = _own_questions(principal)
    consultations = visible_consultations(principal)
    follow_ups = visible_follow_ups(principal)
    if since is not None:
        questions = questions.filter(updated_at__gte=since)
        consultations = consultations.filter(updated_at__gte=since)
        follow_ups = follow_ups.filter(updated_at__gte=since)
    question_rows = await questions.order_by("updated_at", "id").prefetch_related(
        *QUESTION_RELATIONS
    )
    consultation_rows = await consultations.order_by("updated_at", "id").prefetch_related(
        *CONSULTATION_RELATIONS
    )
    reminders = await _reminders_sent([c.id for c in consultation_rows])
    follow_up_rows = await follow_ups.order_by("updated_at", "id").prefetch_related("advisor")
    return {
        "questions": ([_builtins(question_out(q)) for q in question_rows], []),
        "consultations": (
            [
                _builtins(consultation_out(c, principal, reminders.get(str(c.id), [])))
                for c in consultation_rows
            ],
            [],
        ),
        "follow_ups": ([_builtins(follow_up_out(f)) for f in follow_up_rows], []),
    }
