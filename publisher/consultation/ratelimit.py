"""Sliding-window counters for the consultation's rate limits (per client address, per contact).

Held in the memory of the one `publisher serve` process that takes comments; times come from the
caller, so tests pass their own clock.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta


class SlidingWindow:
    def __init__(self, limit: int, span: timedelta, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.span = span
        self.max_keys = max_keys
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: datetime) -> bool:
        """Count one hit for `key` unless it is over its limit within the window."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._forget_idle(now)
                hits = self._hits[key] = deque()
            start = now - self.span
            while hits and hits[0] <= start:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def _forget_idle(self, now: datetime) -> None:
        start = now - self.span
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= start]:
            del self._hits[key]
