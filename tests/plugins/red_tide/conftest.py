"""The red tide tests start at 18:00 in Japan (09:00 UTC) on 2026-11-26: counts of the day
can be entered at once, and the next 07:00 bulletin is 13 hours ahead."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
