"""Failed sign-ins per client address: the account lockout stops guessing one password, this stops
one client trying one password on many accounts. In memory, per process: a restart forgets it,
the lockout (in the database) does not."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class LoginThrottle:
    def __init__(self, limit: int = 20, window_seconds: float = 600) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures[address]
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, address: str, now: float | None = None) -> bool:
        with self._lock:
            return len(self._recent(address, now or time.monotonic())) >= self.limit

    def failed(self, address: str, now: float | None = None) -> None:
        with self._lock:
            self._recent(address, now or time.monotonic()).append(now or time.monotonic())
