"""Slowing down the guessing of links: bad tokens counted per client address.

A token has 192 random bits, so guessing one is hopeless; the throttle keeps a scanner from
costing database look-ups and filling logs. Counts live in memory, per server process: with
several gunicorn workers an address gets up to `limit` tries in each, which is still negligible
against 2^192. Behind a reverse proxy, configure werkzeug's `ProxyFix` so that `remote_addr` is the
client's address and not the proxy's.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from flask import current_app

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


def app_throttle(name: str, limit: int, window: float) -> BadTokenThrottle:
    """The application's throttle called `name`, made on first use; the configuration keys
    `<NAME>_LIMIT` and `<NAME>_WINDOW` override the given limit and window."""
    throttle = current_app.extensions.get(f"throttle:{name}")
    if throttle is None:
        key = name.upper()
        throttle = current_app.extensions.setdefault(
            f"throttle:{name}",
            BadTokenThrottle(
                limit=current_app.config.get(f"{key}_LIMIT", limit),
                window=current_app.config.get(f"{key}_WINDOW", window),
            ),
        )
    return throttle


def link_throttle() -> BadTokenThrottle:
    """The one throttle of bad personal-link tokens (survey and opt-out links)."""
    return app_throttle("respond_bad_token", DEFAULT_LIMIT, DEFAULT_WINDOW_SECONDS)
