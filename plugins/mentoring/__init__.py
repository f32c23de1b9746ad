"""New-entrant mentoring: questions with photos and instant similar answers, routing to
advisors with a service level, consultations with reminders and follow-ups, field-visit
reports, a community board with report-and-hide moderation, and retention check-ins.

Issue 9; the facts it rests on are in DOMAIN.md, "Consultation and community".
"""

from __future__ import annotations

from core.plugin import Plugin
from plugins.mentoring.controllers import ROUTES
from plugins.mentoring.demo import demo
from plugins.mentoring.feed import feed, sync
from plugins.mentoring.jobs import JOBS
from plugins.mentoring.kpis import KPIS
from plugins.mentoring.predictors import similar, topic
from plugins.mentoring.settings import MentoringSettings

plugin = Plugin(
    name="mentoring",
    version="1.0.0",
    title="New-entrant mentoring",
    settings=MentoringSettings,
    routes=ROUTES,
    models="plugins.mentoring.models",
    jobs=JOBS,
    predictors=[topic, similar],
    feed=feed,
    sync=sync,
    kpis=KPIS,
    demo=demo,
)
