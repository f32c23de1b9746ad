"""Fixtures of the mobile facade's tests.

The clock starts at the wall clock here (and moves only when a test says so): rows the ORM
dates itself (``created_at``) and rows dated by the app's clock then agree, which delta sync
compares.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))
