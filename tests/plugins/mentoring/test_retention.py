"""Retention: the weekly job asks mentors to check in on entrants gone quiet for 30 days,
driven by the clock; the advisor's overview lists the entrants at risk."""

from __future__ import annotations

from datetime import timedelta

from core.clock import FakeClock
from tests.plugins.mentoring.support import (
    BASE,
    advance,
    advisor_profile,
    ask,
    entrant_profile,
    notifications,
    run_job,
)
from tests.support import Api


async def test_a_quiet_entrant_gets_their_mentor_to_check_in_once_a_week(
    api: Api, clock: FakeClock
) -> None:
    await advisor_profile(api)
    farmer = await entrant_profile(api, "farmer")
    fisher = await entrant_profile(api, "fisher", sector="fisheries")
    mentored = await api.post(
        f"{BASE}/mentorships", "advisor", json={"entrant_id": farmer["id"], "cadence_days": 14}
    )
    assert mentored.status_code == 201, mentored.text
    twice = await api.post(f"{BASE}/mentorships", "advisor", json={"entrant_id": farmer["id"]})
    assert twice.status_code == 409

    advance(api, clock, timedelta(days=29))
    await ask(api, "fisher", "漁協への加入条件を知りたい")  # the fisher stays active
    run_job(api, "retention")
    assert notifications(api, "advisor", "retention_nudge") == []
    overview = (await api.get(f"{BASE}/overview", as_="advisor")).json()
    assert overview["at_risk"] == []
    # Two weeks without a check-in: the mentorship says so.
    assert [m["entrant_id"] for m in overview["check_ins_due"]] == [farmer["id"]]

    advance(api, clock, timedelta(days=2))  # 31 days without activity
    run_job(api, "retention")
    [nudge] = notifications(api, "advisor", "retention_nudge")
    assert nudge["title"] == "Check in with farmer"
    assert nudge["entrant_id"] == farmer["id"] and nudge["inactive_days"] == 31
    overview = (await api.get(f"{BASE}/overview", as_="advisor")).json()
    assert [(r["entrant_id"], r["inactive_days"]) for r in overview["at_risk"]] == [
        (farmer["id"], 31)
    ]
    assert overview["at_risk"][0]["mentor"]["display_name"] == "advisor"
    at_risk = await api.get(f"{BASE}/entrants", as_="advisor", params={"at_risk": "true"})
    assert [e["id"] for e in at_risk.json()["items"]] == [farmer["id"]]
    assert at_risk.json()["items"][0]["at_risk"] is True

    run_job(api, "retention")  # run again the same day: no second nudge
    advance(api, clock, timedelta(days=3))
    run_job(api, "retention")
    assert len(notifications(api, "advisor", "retention_nudge")) == 1

    advance(api, clock, timedelta(days=4))  # a week after the first nudge: ask again
    run_job(api, "retention")
    assert len(notifications(api, "advisor", "retention_nudge")) == 2

    checked = await api.post(
        f"{BASE}/mentorships/{mentored.json()['id']}/check-ins", "advisor", json={"note": "電話"}
    )
    assert checked.status_code == 200 and checked.json()["check_in_due"] is False
    # The entrant comes back: no longer at risk, no more nudges.
    await ask(api, "farmer", "みかんの剪定の時期は？")
    advance(api, clock, timedelta(days=7))
    run_job(api, "retention")
    assert len(notifications(api, "advisor", "retention_nudge")) == 2
    assert (await api.get(f"{BASE}/overview", as_="advisor")).json()["at_risk"] == []
    entrant = (await api.get(f"{BASE}/entrants/{farmer['id']}", as_="farmer")).json()
    assert entrant["at_risk"] is False and entrant["inactive_days"] == 7
    assert entrant["mentor"]["display_name"] == "advisor"
    # Members do not see the overview.
    assert (await api.get(f"{BASE}/overview", as_="farmer")).status_code == 403
    del fisher
