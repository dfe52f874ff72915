"""Slowing down the guessing of links: bad tokens counted per client address.

A token has 192 random bits, so guessing one is hopeless; the throttle keeps a scanner from
costing database look-ups and filling logs. Counts are shared by every server process and
machine (`survey.throttle`: Redis or the database). Behind a reverse proxy, set
`BAROMETRE_TRUSTED_PROXIES` so that `remote_addr` is the client's address and not the proxy's.

`BadTokenThrottle` is the same rule counted in one process's memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from survey.throttle import SharedThrottle, throttle

DEFAULT_LIMIT = 20
DEFAULT_WINDOW_SECONDS = 600.0
MAX_TRACKED_ADDRESSES = 10_000


class BadTokenThrottle:
    """At most `limit` bad tokens per address in any `window` seconds; beyond, the address is
    refused (HTTP 429) until its oldest counted attempt leaves the window."""

    def __init__(self, limit: int = DEFAULT_LIMIT, window: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str, now: float | None = None) -> int | None:
        """Seconds until `address` may try again, or None when it is not refused."""
        now = time.monotonic() if now is None else now
        with self._lock:
            attempts = self._attempts.get(address)
            if attempts is None:
                return None
            self._forget_old(attempts, now)
            if len(attempts) < self.limit:
                return None
            return max(1, int(attempts[0] + self.window - now) + 1)

    def record_failure(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            attempts = self._attempts.pop(address, None) or deque()
            self._forget_old(attempts, now)
            attempts.append(now)
            self._attempts[address] = attempts  # most recently seen last
            while len(self._attempts) > MAX_TRACKED_ADDRESSES:
                self._attempts.popitem(last=False)

    def _forget_old(self, attempts: deque[float], now: float) -> None:
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()


def app_throttle(name: str, limit: int, window: float) -> SharedThrottle:
    """The application's shared throttle called `name` (`survey.throttle.throttle`)."""
    return throttle(name, limit, window)


def link_throttle() -> SharedThrottle:
    """The one throttle of bad personal-link tokens (survey and opt-out links)."""
    return throttle("respond_bad_token", DEFAULT_LIMIT, DEFAULT_WINDOW_SECONDS)
