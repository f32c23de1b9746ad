"""A fixed-window attempt counter for the auth routes.

It counts in this process; behind several replicas each one counts on its own, which still
bounds guessing to ``limit * replicas`` per window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from core.clock import Clock
from core.errors import TooManyRequests


class AttemptLimiter:
    def __init__(self, clock: Clock, limit: int, window_s: int = 60) -> None:
        self.clock = clock
        self.limit = limit
        self.window_s = window_s
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, keys: Iterable[str]) -> None:
        """Count one attempt under every key; 429 when any key is over its limit."""
        now = self.clock.now().timestamp()
        window = int(now // self.window_s)
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        over = False
        for key in keys:
            start, count = self._windows.get(key, (window, 0))
            count = count + 1 if start == window else 1
            self._windows[key] = (window, count)
            over = over or count > self.limit
        if over:
            raise TooManyRequests(max(1, math.ceil((window + 1) * self.window_s - now)))
