"""Instant answers: how long ``GET /api/v1/mentoring/questions/similar`` takes while a question
is typed, with 0 to a few thousand answered questions in the database beside the seed library.

For each size (``--sizes``), a throw-away SQLite database (PostgreSQL with ``--postgres``) is
migrated and seeded with one farm, one member and that many answered community questions
(texts from the seed corpus, each with an advisor's answer); the real app (plugins from
``plugins.toml``, jobs off) is driven in process with Litestar's test client, one request at a
time, for ``--requests`` queries cycling through the corpus paraphrases. It prints p50, p95 and
max latency in ms per size, and the one-off cost of loading both predictors.

    .venv/bin/python bench/mentoring_similar.py [--sizes 0,500,2000] [--requests 60] [--postgres]

A benchmark, never a test: it prints figures and asserts nothing. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-that-is-long-enough-for-hs256"  # noqa: S105 (a throw-away database)
PASSWORD = "bench password 1234"  # noqa: S105
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def settings_for(url: str) -> Any:
    from core.settings import load_settings

    return load_settings(
        {"MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml")},
        database_url=url,
        secret_key=SECRET,
        log_level="WARNING",
        log_json=False,
    )


async def seed(settings: Any, answered: int) -> None:
    from core.clock import SystemClock
    from core.db import bound, migrate, open_database, tortoise_config
    from core.identity.models import Organization, OrganizationKind, Role, User
    from core.identity.services import hash_password
    from core.registry import PluginRegistry
    from models_ml.mentoring import data
    from plugins.mentoring.models import Answer, Category, Question, QuestionStatus, Visibility

    registry = PluginRegistry.load(settings, SystemClock())
    config = tortoise_config(settings.database_url, [p.plugin for p in registry.active if p.plugin])
    await migrate(config)
    context = await open_database(config)
    try:
        with bound(context):
            farm = await Organization.create(name="Bench Farm", kind=OrganizationKind.FARM)
            member = await User.create(
                username="bench-farmer", password_hash=hash_password(PASSWORD), role=Role.MEMBER
            )
            await member.organizations.add(farm)
            advisor = await User.create(
                username="bench-advisor", password_hash=hash_password(PASSWORD), role=Role.ADVISOR
            )
            items = data.corpus()
            now = datetime.now(UTC)
            questions, answers = [], []
            for n in range(answered):
                item = items[n % len(items)]
                at = now - timedelta(minutes=n)
                question = Question(
                    id=uuid.uuid4(),
                    organization_id=farm.id,
                    asker_id=member.id,
                    text=f"{item.question} ({n})",
                    language=item.language,
                    category=Category(item.category),
                    visibility=Visibility.COMMUNITY,
                    status=QuestionStatus.ANSWERED,
                    answered_at=at,
                    created_at=at,
                    updated_at=at,
                )
                questions.append(question)
                answers.append(
                    Answer(
                        id=uuid.uuid4(),
                        question_id=question.id,
                        organization_id=farm.id,
                        author_id=advisor.id,
                        by_advisor=True,
                        text=item.answer,
                        created_at=at,
                        updated_at=at,
                    )
                )
            for start in range(0, len(questions), 500):
                await Question.bulk_create(questions[start : start + 500])
                await Answer.bulk_create(answers[start : start + 500])
    finally:
        await context.close_connections()


async def measure(settings: Any, requests: int) -> tuple[list[float], float]:
    from litestar.testing import AsyncTestClient

    from core.app import create_app
    from models_ml.mentoring import data

    queries = [p for item in data.corpus() for p in item.paraphrases]
    app = create_app(settings, run_jobs=False)
    async with AsyncTestClient(app=app) as client:
        token = (
            await client.post(
                "/api/v1/auth/token", json={"username": "bench-farmer", "password": PASSWORD}
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        began = time.perf_counter()
        first = await client.get(
            "/api/v1/mentoring/questions/similar", params={"q": "牛"}, headers=headers
        )
        assert first.status_code == 200, first.text
        cold = (time.perf_counter() - began) * 1000
        latencies = []
        for n in range(requests):
            began = time.perf_counter()
            answer = await client.get(
                "/api/v1/mentoring/questions/similar",
                params={"q": queries[n % len(queries)]},
                headers=headers,
            )
            latencies.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"similar answered {answer.status_code}: {answer.text}")
    return latencies, cold


def database_url(postgres: str | None, folder: str, size: int) -> tuple[str, Any]:
    if not postgres:
        return f"sqlite://{folder}/similar-{size}.db", None
    import asyncpg

    name = f"minori_bench_similar_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(postgres.replace("postgres://", "postgresql://", 1))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = postgres.rsplit("/", 1)[0]
    return f"{base}/{name}", lambda: asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,500,2000")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_PG_URL, default=None)
    args = parser.parse_args()

    import sklearn.linear_model  # noqa: F401
    import skops.io  # noqa: F401  (imported first: the load times below exclude imports)

    from core.ml.artifacts import load

    for name in ("topic", "similar"):
        began = time.perf_counter()
        load(ROOT / "models_ml" / "artifacts" / "mentoring" / name, predictor=f"mentoring.{name}")
        print(f"load mentoring.{name}: {(time.perf_counter() - began) * 1000:.0f} ms")

    print(f"{'answered':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'first ms':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            url, drop = database_url(args.postgres, folder, size)
            try:
                settings = settings_for(url)
                asyncio.run(seed(settings, size))
                latencies, cold = asyncio.run(measure(settings, args.requests))
            finally:
                if drop is not None:
                    drop()
            ordered = sorted(latencies)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            print(
                f"{size:>9} {statistics.median(ordered):>8.1f} {p95:>8.1f} "
                f"{ordered[-1]:>8.1f} {cold:>9.0f}"
            )


if __name__ == "__main__":
    main()
