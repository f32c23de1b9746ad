"""The mentoring plugin's part of the demo city: three advisors, twelve new entrants (two
fishers and a Vietnamese-speaking trainee among them), sixty questions from the seed
corpus, consultations around this week, a small community board, and two entrants who
have gone quiet.

Three questions have waited longer than the answer time, so the first run of the
escalation (the simulation runs it on the demo clock) passes them on and raises
``answer_overdue`` alerts at once; a consultation starting about an hour after start-up
gets its 1 h reminder within the first minutes.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from core.demo import DemoCity, DemoSpec, Simulator
from core.identity.access import Principal
from core.identity.models import OrganizationKind, Role, User
from core.plugin import PluginContext
from plugins.mentoring import schemas, services
from plugins.mentoring.models import (
    AdvisorProfile,
    Answer,
    Category,
    Consultation,
    ConsultationStatus,
    EntrantProfile,
    FollowUp,
    Mentorship,
    Mode,
    Question,
    QuestionRoute,
    QuestionStatus,
    Reply,
    Sector,
    Thread,
    Visibility,
)

TOKYO = ZoneInfo("Asia/Tokyo")
SEED = 9
WEEKDAYS = [
    {"weekday": d, "start": s, "end": e}
    for d in range(5)
    for s, e in (("09:00", "12:00"), ("13:00", "17:00"))
]

ADVISORS = [
    # username, display name, expertise, languages, region, note
    (
        "advisor",
        "相談員 山田",
        ["crops_soil", "pests_diseases", "subsidies_paperwork", "marketing", "machinery"],
        ["ja", "en"],
        "北部",
    ),
    (
        "advisor_kato",
        "相談員 加藤",
        ["livestock_health", "fisheries_aquaculture", "hunting_traps", "machinery"],
        ["ja"],
        "南部",
    ),
    (
        "advisor_tran",
        "相談員 チャン (Trần Thị Mai)",
        ["crops_soil", "pests_diseases", "livestock_health", "subsidies_paperwork"],
        ["vi", "ja", "en"],
        "中央",
    ),
]

# username, display name, organization, kind, sector, start year, region, language, goals,
# mentor, days since last activity, question categories (None: any of the farm ones)
ENTRANTS = [
    (
        "entrant_tanaka",
        "田中 翔太",
        "田中みかん園",
        "farm",
        "crops",
        2024,
        "北部",
        "ja",
        "みかんとじゃがいもで安定した経営にしたい",
        "advisor",
        1,
        ["crops_soil", "pests_diseases"],
    ),
    (
        "entrant_suzuki",
        "鈴木 美咲",
        "すずきいちご農園",
        "farm",
        "crops",
        2025,
        "中央",
        "ja",
        "いちごの観光農園を開きたい",
        "advisor",
        2,
        ["marketing", "pests_diseases"],
    ),
    (
        "entrant_ito",
        "伊藤 大輔",
        "伊藤牧場",
        "farm",
        "livestock",
        2023,
        "北部",
        "ja",
        "和牛繁殖で母牛30頭を目指す",
        "advisor_kato",
        0,
        ["livestock_health"],
    ),
    (
        "entrant_watanabe",
        "渡辺 彩",
        "渡辺製茶",
        "farm",
        "crops",
        2025,
        "北部",
        "ja",
        "世知原茶を継いで直販を増やす",
        "advisor",
        3,
        ["crops_soil", "subsidies_paperwork"],
    ),
    (
        "entrant_yamamoto",
        "山本 健",
        "山本畜産",
        "farm",
        "livestock",
        2024,
        "南部",
        "ja",
        "子牛の事故率を下げたい",
        "advisor_kato",
        1,
        ["livestock_health", "machinery"],
    ),
    (
        "entrant_nakamura",
        "中村 葵",
        "なかむら農園",
        "farm",
        "crops",
        2026,
        "南部",
        "ja",
        "アスパラのハウスを2棟に増やす",
        "advisor",
        0,
        ["subsidies_paperwork", "crops_soil"],
    ),
    (
        "entrant_kobayashi",
        "小林 拓海",
        "小林丸",
        "fishery",
        "fisheries",
        2025,
        "宇久島",
        "ja",
        "一本釣りで独立する",
        "advisor_kato",
        2,
        ["fisheries_aquaculture", "machinery"],
    ),
    (
        "entrant_yoshida",
        "吉田 陽菜",
        "吉田水産",
        "fishery",
        "aquaculture",
        2024,
        "南部",
        "ja",
        "カキとブリの養殖を軌道に乗せる",
        "advisor_kato",
        1,
        ["fisheries_aquaculture", "marketing"],
    ),
    (
        "entrant_nguyen",
        "Nguyễn Văn An",
        "ひかり農園",
        "farm",
        "crops",
        2025,
        "中央",
        "vi",
        "Học trồng rau trong nhà kính và ở lại Nhật làm nông",
        "advisor_tran",
        1,
        None,
    ),
    (
        "entrant_matsumoto",
        "松本 蓮",
        "松本農園",
        "farm",
        "crops",
        2024,
        "北部",
        "ja",
        "イノシシ被害を減らしてわな猟も覚える",
        "advisor",
        4,
        ["hunting_traps", "crops_soil"],
    ),
    (
        "entrant_inoue",
        "井上 さくら",
        "井上ファーム",
        "farm",
        "crops",
        2023,
        "中央",
        "ja",
        "野菜セットの定期便を軌道に乗せる",
        "advisor",
        41,
        ["marketing", "crops_soil"],
    ),
    (
        "entrant_kimura",
        "木村 悠斗",
        "木村牧場",
        "farm",
        "livestock",
        2022,
        "南部",
        "ja",
        "肥育まで一貫経営にしたい",
        "advisor_kato",
        36,
        ["livestock_health"],
    ),
]

QUESTIONS = 60
OVERDUE = 3
OPEN_RECENT = 9

THREADS = [
    (
        "entrant_tanaka",
        "北部で秋じゃがの種いもを共同購入しませんか",
        "送料を抑えたいので、10月の秋作用にまとめて注文できる方を探しています。",
        "crops_soil",
        [
            ("entrant_watanabe", "参加したいです。ニシユタカを20kgお願いします。"),
            ("entrant_matsumoto", "うちも20kgほしいです。"),
        ],
    ),
    (
        "entrant_yoshida",
        "赤潮情報の通知、皆さんどうしていますか",
        "県の情報を毎朝見ていますが見落としが心配です。良い方法があれば教えてください。",
        "fisheries_aquaculture",
        [
            ("entrant_kobayashi", "漁協のLINEと市のブイの情報を両方見ています。"),
            ("advisor_kato", "市のテレメータブイの値はこのアプリでも通知されます。"),
        ],
    ),
    (
        "entrant_matsumoto",
        "箱わなの餌付け、何日くらいかかりましたか",
        "米ぬかで始めて5日目ですが、まだ奥まで入りません。",
        "hunting_traps",
        [("entrant_tanaka", "うちは10日くらいかかりました。焦らない方がいいですよ。")],
    ),
    (
        "entrant_nguyen",
        "Xin chào, tôi là thực tập sinh ở Sasebo",
        "Tôi đang học trồng cà chua trong nhà kính. Rất vui được làm quen với mọi người!",
        None,
        [("advisor_tran", "Chào An! Có câu hỏi gì cứ hỏi nhé.")],
    ),
]


def _principal(user: User, organization_id: str | None) -> Principal:
    return Principal(
        str(user.id),
        user.role,
        frozenset({organization_id} if organization_id else set()),
        user.timezone,
    )


async def seed(ctx: PluginContext, city: DemoCity) -> None:
    advisors: dict[str, User] = {}
    for username, name, expertise, languages, region in ADVISORS:
        user = await city.user(
            username, Role.ADVISOR, display_name=name, note=f"advisor (mentoring): {region}"
        )
        advisors[username] = user
        await AdvisorProfile.get_or_create(
            user=user,
            defaults={
                "expertise": expertise,
                "languages": languages,
                "region": region,
                "availability": WEEKDAYS,
            },
        )
    entrants: dict[str, tuple[User, EntrantProfile]] = {}
    now = ctx.clock.now()
    fresh = False
    for (
        username,
        name,
        org_name,
        kind,
        sector,
        year,
        region,
        language,
        goals,
        mentor,
        idle,
        _c,
    ) in ENTRANTS:
        organization = await city.organization(org_name, OrganizationKind(kind), region=region)
        note = {
            "entrant_kobayashi": "fisher (mentoring)",
            "entrant_yoshida": "fish farmer (mentoring)",
            "entrant_nguyen": "Vietnamese-speaking trainee (mentoring)",
            "entrant_inoue": "entrant at risk (mentoring)",
        }.get(username, "")
        user = await city.user(
            username,
            Role.MEMBER,
            organization,
            display_name=name,
            locale=language,
            note=note,
        )
        profile, created = await EntrantProfile.get_or_create(
            user=user,
            defaults={
                "organization": organization,
                "sector": Sector(sector),
                "start_year": year,
                "region": region,
                "goals": goals,
                "language": language,
                "last_active_at": now - timedelta(days=idle, hours=3),
                "created_at": now - timedelta(days=120),
                "updated_at": now,
            },
        )
        fresh = fresh or created
        entrants[username] = (user, profile)
        if created:
            await Mentorship.create(
                organization=organization,
                advisor=advisors[mentor],
                entrant=profile,
                cadence_days=ctx.settings.checkin_cadence_days,
                started_at=now - timedelta(days=90),
                last_check_in_at=now - timedelta(days=min(idle, 20)),
                created_at=now - timedelta(days=90),
                updated_at=now,
            )
    if not fresh:
        return  # an earlier start seeded the rest
    async with in_transaction():  # one commit for some two hundred rows
        await _questions(ctx, now, advisors, entrants)
        await _consultations(ctx, now, advisors, entrants)
        await _community(now, advisors, entrants)


def _corpus_items() -> list:
    from models_ml.mentoring import data

    return list(data.corpus())


async def _questions(
    ctx: PluginContext,
    now: datetime,
    advisors: dict[str, User],
    entrants: dict[str, tuple[User, EntrantProfile]],
) -> None:
    rng = random.Random(SEED)  # noqa: S311 - a reproducible demo, not a secret
    items = _corpus_items()
    by_category: dict[str, list] = {}
    for item in items:
        if item.language == "ja":
            by_category.setdefault(item.category, []).append(item)
    vietnamese = [i for i in items if i.language == "vi"]
    for pool in (*by_category.values(), vietnamese):
        rng.shuffle(pool)
    plan: list[tuple[str, object]] = []
    for entrant in itertools.cycle(ENTRANTS):
        if len(plan) >= QUESTIONS:
            break
        username, categories = entrant[0], entrant[11]
        pool = vietnamese if categories is None else by_category[rng.choice(categories)]
        if pool:
            plan.append((username, pool.pop()))
    topic = ctx.predictors.get(services.TOPIC)
    sla = timedelta(hours=ctx.settings.answer_sla_hours)
    # A few recent open ones, three past their answer time, and history.
    recent = overdue = 0
    for username, item in plan:
        user, profile = entrants[username]
        idle = next(e[10] for e in ENTRANTS if e[0] == username)
        if idle < 7 and recent < OPEN_RECENT:
            recent += 1
            asked = now - timedelta(hours=rng.uniform(1, 20))
            status = QuestionStatus.OPEN
        elif idle < 7 and overdue < OVERDUE:
            overdue += 1
            asked = now - sla - timedelta(hours=rng.uniform(1, 5))
            status = QuestionStatus.OPEN
        else:
            asked = now - timedelta(days=max(idle, 1) + rng.uniform(0, 40))
            status = QuestionStatus.RESOLVED if rng.random() < 0.5 else QuestionStatus.ANSWERED
        guess = topic.predict(item.question)
        mentor = await services.mentor_of(profile)
        candidates = await services.route_candidates(
            guess.category, profile.language, profile.region, mentor
        )
        advisor_id = candidates[0][0] if candidates else None
        reason = candidates[0][1] if candidates else None
        self_served = status is QuestionStatus.RESOLVED and rng.random() < 0.15
        answered_at = (
            None
            if status is QuestionStatus.OPEN or self_served
            else (asked + timedelta(hours=rng.uniform(1, 20)))
        )
        question = await Question.create(
            organization_id=profile.organization_id,
            asker=user,
            text=item.question,
            language=item.language,
            category=Category(guess.category),
            category_confidence=guess.confidence,
            model_version=topic.version,
            visibility=Visibility.COMMUNITY if rng.random() < 0.35 else Visibility.ADVISORS,
            status=status,
            assigned_advisor_id=advisor_id,
            due_at=asked + sla if status is QuestionStatus.OPEN else None,
            answered_at=answered_at,
            resolved_at=(answered_at or asked + timedelta(hours=1))
            if status is QuestionStatus.RESOLVED
            else None,
            self_served=self_served,
            self_served_with=f"library:{item.id}" if self_served else None,
            created_at=asked,
            updated_at=answered_at or asked,
        )
        if advisor_id and reason:
            await QuestionRoute.create(
                question=question, advisor_id=advisor_id, reason=reason, created_at=asked
            )
        if answered_at is not None and advisor_id:
            await Answer.create(
                question=question,
                organization_id=profile.organization_id,
                author_id=advisor_id,
                by_advisor=True,
                text=item.answer,
                accepted=status is QuestionStatus.RESOLVED,
                created_at=answered_at,
                updated_at=answered_at,
            )


def _slot(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=TOKYO).astimezone(UTC)


async def _consultations(
    ctx: PluginContext,
    now: datetime,
    advisors: dict[str, User],
    entrants: dict[str, tuple[User, EntrantProfile]],
) -> None:
    local_now = now.astimezone(TOKYO)
    plan = [
        (-3, 10, "entrant_ito", "advisor_kato", Mode.VIDEO, "分娩前の母牛の管理"),
        (-2, 14, "entrant_suzuki", "advisor", Mode.VIDEO, "観光農園の開園準備"),
        (-2, 10, "entrant_kobayashi", "advisor_kato", Mode.PHONE, "船外機の中古購入"),
        (-1, 15, "entrant_nguyen", "advisor_tran", Mode.VIDEO, "Trồng cà chua trong nhà kính"),
        (-1, 10, "entrant_watanabe", "advisor", Mode.FIELD_VISIT, "茶園の土壌診断"),
        (1, 10, "entrant_yoshida", "advisor_kato", Mode.VIDEO, "カキの直販の始め方"),
        (2, 14, "entrant_nakamura", "advisor", Mode.VIDEO, "ハウス増設の補助金申請"),
        (3, 11, "entrant_yamamoto", "advisor_kato", Mode.PHONE, "子牛の下痢の再発"),
        (4, 13, "entrant_tanaka", "advisor", Mode.VIDEO, "秋じゃがの作付け計画"),
    ]
    minutes = timedelta(minutes=ctx.settings.consultation_minutes)
    for offset, hour, entrant, advisor, mode, topic in plan:
        day = local_now + timedelta(days=offset)
        start = _slot(day, hour)
        past = start + minutes <= now
        await _consultation(
            ctx,
            now,
            advisors[advisor],
            entrants[entrant][1],
            start,
            mode,
            topic,
            status=ConsultationStatus.COMPLETED if past else ConsultationStatus.BOOKED,
        )
    # One starting about an hour after start-up: its 1 h reminder goes out in the first
    # minutes of the demo; one a day ahead gets its 24 h reminder soon after.
    soon = (now + timedelta(minutes=65)).replace(second=0, microsecond=0)
    await _consultation(
        ctx,
        now,
        advisors["advisor"],
        entrants["entrant_matsumoto"][1],
        soon,
        Mode.VIDEO,
        "箱わなの設置場所の相談",
        status=ConsultationStatus.BOOKED,
    )
    tomorrow = (now + timedelta(hours=24, minutes=20)).replace(second=0, microsecond=0)
    await _consultation(
        ctx,
        now,
        advisors["advisor_tran"],
        entrants["entrant_nguyen"][1],
        tomorrow,
        Mode.VIDEO,
        "Chuẩn bị thi kỹ năng đặc định",
        status=ConsultationStatus.BOOKED,
    )


async def _consultation(
    ctx: PluginContext,
    now: datetime,
    advisor: User,
    entrant: EntrantProfile,
    start: datetime,
    mode: Mode,
    topic: str,
    *,
    status: ConsultationStatus,
) -> None:
    import uuid

    cid = uuid.uuid4()
    end = start + timedelta(minutes=ctx.settings.consultation_minutes)
    booked = min(now, start) - timedelta(days=3)
    consultation = await Consultation.create(
        id=cid,
        organization_id=entrant.organization_id,
        advisor=advisor,
        entrant=entrant,
        booked_by_id=entrant.user_id,
        starts_at=start,
        ends_at=end,
        mode=mode,
        status=status,
        topic=topic,
        meeting_link=services.meeting_link(ctx, cid, mode),
        summary="要点を確認し、次回までの作業を決めました。"
        if status is ConsultationStatus.COMPLETED
        else "",
        notes="順調。次回は現地確認。" if status is ConsultationStatus.COMPLETED else "",
        closed_at=end if status is ConsultationStatus.COMPLETED else None,
        created_at=booked,
        updated_at=end if status is ConsultationStatus.COMPLETED else booked,
    )
    if status is ConsultationStatus.COMPLETED:
        await FollowUp.create(
            organization_id=entrant.organization_id,
            consultation=consultation,
            entrant=entrant,
            advisor=advisor,
            title="相談内容を踏まえて作業計画を見直し、写真を送る",
            due_on=(end + timedelta(days=7)).date(),
            created_at=end,
            updated_at=end,
        )


async def _community(
    now: datetime,
    advisors: dict[str, User],
    entrants: dict[str, tuple[User, EntrantProfile]],
) -> None:
    people = {**{k: v[0] for k, v in entrants.items()}, **advisors}
    for hours_ago, (author, title, body, category, replies) in zip(
        (70, 40, 20, 6), THREADS, strict=True
    ):
        posted = now - timedelta(hours=hours_ago)
        user = people[author]
        organization = entrants[author][1].organization_id if author in entrants else None
        thread = await Thread.create(
            organization_id=organization,
            author=user,
            title=title,
            body=body,
            category=Category(category) if category else None,
            last_activity_at=posted + timedelta(hours=len(replies)),
            created_at=posted,
            updated_at=posted,
        )
        for offset, (replier, text) in enumerate(replies, start=1):
            at = posted + timedelta(hours=offset)
            await Reply.create(
                thread=thread,
                organization_id=entrants[replier][1].organization_id
                if replier in entrants
                else None,
                author=people[replier],
                body=text,
                created_at=at,
                updated_at=at,
            )


NEW_QUESTIONS = [
    ("entrant_tanaka", "みかんの葉に白い小さな虫が付いて、すす病のように黒くなってきました。"),
    ("entrant_kobayashi", "船外機から白い煙が出るようになりました。すぐ修理が必要ですか？"),
    ("entrant_nguyen", "Lá cà chua trong nhà kính bị vàng và có đốm, phải làm sao?"),
    ("entrant_ito", "子牛が哺乳の後にお腹が張って元気がありません。"),
    ("entrant_suzuki", "いちご狩りの料金はどうやって決めればいいですか？"),
    ("entrant_matsumoto", "くくりわなにシカがかかりましたが、止め刺しの手順に自信がありません。"),
]


async def simulate(ctx: PluginContext, city: DemoCity, sim: Simulator) -> None:
    """Run the service levels on the demo clock; now and then an entrant asks and an
    advisor answers, so pushes and feed cards keep changing."""
    users = {
        u.username: u
        for u in await User.filter(username__in=[e[0] for e in ENTRANTS] + [a[0] for a in ADVISORS])
    }
    profiles = {
        str(p.user_id): p
        for p in await EntrantProfile.filter(user_id__in=[u.id for u in users.values()])
    }
    await services.retention_nudges(ctx, sim.clock.now())
    asks = itertools.cycle(NEW_QUESTIONS)
    for tick in itertools.count():
        await sim.sleep(timedelta(minutes=2))
        now = sim.clock.now()
        await services.escalate_overdue(ctx, now)
        await services.send_reminders(ctx, now)
        if tick % 45 == 10:
            username, text = next(asks)
            user = users[username]
            profile = profiles[str(user.id)]
            await services.ask(
                ctx,
                _principal(user, str(profile.organization_id)),
                schemas.QuestionCreate(text=text),
            )
        if tick % 45 == 30:
            waiting = (
                await Question.filter(status=QuestionStatus.OPEN, assigned_advisor_id__isnull=False)
                .order_by("created_at")
                .first()
            )
            if waiting is not None:
                advisor = await User.get(id=waiting.assigned_advisor_id)
                await services.answer(
                    ctx,
                    _principal(advisor, None),
                    str(waiting.id),
                    schemas.AnswerCreate(
                        text="写真ありがとうございます。状況から見て、まず次の点を確認してください。詳しくはオンライン相談で一緒に見ましょう。"
                    ),
                )


demo = DemoSpec(seed=seed, simulate=simulate)
