"""Throttles shared by every web server: failed logins and bad links counted per address.

The counts live in Redis when `BAROMETRE_REDIS_URL` is set (a sorted set per address, one
round trip per count), otherwise in the database (`throttle_hit` rows), so that the limit holds
across gunicorn workers and machines. A Redis that does not answer is replaced by the database
for that call (and logged): a throttle never takes the site down.

Each process also remembers the addresses it found over the limit (`blocked_here`), so that a
respondent's page asks nothing of the shared store: only a bad link does. An address refused by
one server is refused by another at its next bad link; the number of bad links answered "not
found" never exceeds the limit across all servers.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from flask import Flask, current_app, g
from sqlalchemy import delete, func, select

from survey.extensions import db
from survey.models import ThrottleHit, utcnow

log = logging.getLogger(__name__)

MAX_BLOCKED_HERE = 10_000
#: Counted attempts are kept at most this long (the periodic `throttle_cleanup` task).
KEEP_HITS = timedelta(days=1)


class Store(Protocol):
    def hit(self, name: str, key: str, now: datetime, window: float) -> tuple[int, datetime]:
        """Count one attempt; the attempts in the window and the oldest of them."""

    def count(self, name: str, key: str, now: datetime,
              window: float) -> tuple[int, datetime | None]: ...


class DatabaseStore:
    """Counts in the `throttle_hit` table, through the request's session (committed at once:
    callers count only where the request has nothing else pending)."""

    def hit(self, name: str, key: str, now: datetime, window: float) -> tuple[int, datetime]:
        session = db.session
        cutoff = now - timedelta(seconds=window)
        session.execute(delete(ThrottleHit).where(ThrottleHit.name == name,
                                                  ThrottleHit.key == key, ThrottleHit.at <= cutoff))
        session.add(ThrottleHit(name=name, key=key, at=now))
        session.flush()
        count, oldest = self._count(name, key, cutoff)
        session.commit()
        return count, oldest or now

    def count(self, name: str, key: str, now: datetime,
              window: float) -> tuple[int, datetime | None]:
        result = self._count(name, key, now - timedelta(seconds=window))
        db.session.commit()
        return result

    @staticmethod
    def _count(name: str, key: str, cutoff: datetime) -> tuple[int, datetime | None]:
        count, oldest = db.session.execute(
            select(func.count(), func.min(ThrottleHit.at))
            .where(ThrottleHit.name == name, ThrottleHit.key == key, ThrottleHit.at > cutoff)
        ).one()
        if isinstance(oldest, datetime) and oldest.tzinfo is None:  # an aggregate: stored UTC
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest


class RedisStore:
    """Counts in Redis: one sorted set per name and address, scored by time."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    @staticmethod
    def _key(name: str, key: str) -> str:
        return f"barometre:throttle:{name}:{key}"

    def hit(self, name: str, key: str, now: datetime, window: float) -> tuple[int, datetime]:
        stamp = now.timestamp()
        redis_key = self._key(name, key)
        pipe = self.client.pipeline(transaction=True)
        pipe.zremrangebyscore(redis_key, "-inf", stamp - window)
        pipe.zadd(redis_key, {uuid.uuid4().hex: stamp})
        pipe.zcard(redis_key)
        pipe.zrange(redis_key, 0, 0, withscores=True)
        pipe.expire(redis_key, int(window) + 1)
        _, _, count, oldest, _ = pipe.execute()
        first = oldest[0][1] if oldest else stamp
        return int(count), datetime.fromtimestamp(first, now.tzinfo)

    def count(self, name: str, key: str, now: datetime,
              window: float) -> tuple[int, datetime | None]:
        stamp = now.timestamp()
        redis_key = self._key(name, key)
        pipe = self.client.pipeline(transaction=True)
        pipe.zremrangebyscore(redis_key, "-inf", stamp - window)
        pipe.zcard(redis_key)
        pipe.zrange(redis_key, 0, 0, withscores=True)
        _, count, oldest = pipe.execute()
        return int(count), (datetime.fromtimestamp(oldest[0][1], now.tzinfo) if oldest else None)


def store_for(app: Flask) -> Store:
    store = app.extensions.get("barometre_throttle_store")
    if store is None:
        url = app.config.get("REDIS_URL")
        store = RedisStore(url) if url else DatabaseStore()
        app.extensions["barometre_throttle_store"] = store
    return store


class SharedThrottle:
    """At most `limit` failures per key in any `window` seconds, across every server; beyond,
    the key is refused (HTTP 429) until its oldest counted failure leaves the window."""

    def __init__(self, name: str, limit: int, window: float, store: Store) -> None:
        self.name, self.limit, self.window, self.store = name, int(limit), float(window), store
        self._blocked: OrderedDict[str, float] = OrderedDict()  # key -> monotonic time freed
        self._lock = threading.Lock()

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.store, method)(*args)
        except Exception as error:  # noqa: BLE001 - Redis down: the database counts instead
            if isinstance(self.store, DatabaseStore):
                raise
            log.warning("throttle %s: Redis did not answer (%s); counting in the database",
                        self.name, type(error).__name__)
            return getattr(DatabaseStore(), method)(*args)

    def blocked_here(self, key: str) -> int | None:
        """Seconds until `key` may try again, as this process knows it (no round trip)."""
        with self._lock:
            until = self._blocked.get(key)
            if until is None:
                return None
            left = until - time.monotonic()
            if left <= 0:
                del self._blocked[key]
                return None
            return max(1, int(left) + 1)

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, asking the shared store; None when allowed."""
        here = self.blocked_here(key)
        if here is not None:
            return here
        now = utcnow()
        count, oldest = self._call("count", self.name, key, now, self.window)
        if count < self.limit or oldest is None:
            return None
        return self._block(key, oldest, now)

    def record_failure(self, key: str) -> int | None:
        """Count a failure; seconds to wait when this very attempt is beyond the limit (the
        caller refuses it), else None. Reaching the limit blocks the key's next attempts."""
        now = utcnow()
        count, oldest = self._call("hit", self.name, key, now, self.window)
        if count < self.limit:
            return None
        retry = self._block(key, oldest, now)
        return retry if count > self.limit else None

    def _block(self, key: str, oldest: datetime, now: datetime) -> int:
        left = max(1.0, (oldest - now).total_seconds() + self.window)
        with self._lock:
            self._blocked.pop(key, None)
            self._blocked[key] = time.monotonic() + left
            while len(self._blocked) > MAX_BLOCKED_HERE:
                self._blocked.popitem(last=False)
        return max(1, int(left) + 1)

    def record_later(self, key: str) -> None:
        """Count a failure once the request's own transaction has ended (`after_request`):
        for a failure found while a transaction holds SQLite's write lock."""
        pending = g.setdefault("_barometre_throttle_failures", [])
        pending.append((self, key))


def throttle(name: str, limit: int, window: float) -> SharedThrottle:
    """The application's throttle called `name`, made on first use; the configuration keys
    `<NAME>_LIMIT` and `<NAME>_WINDOW` override the given limit and window."""
    app = current_app
    found = app.extensions.get(f"throttle:{name}")
    if found is None:
        key = name.upper()
        found = app.extensions.setdefault(
            f"throttle:{name}",
            SharedThrottle(name, app.config.get(f"{key}_LIMIT", limit),
                           app.config.get(f"{key}_WINDOW", window), store_for(app)),
        )
    return found


def init_app(app: Flask) -> None:
    @app.after_request
    def record_pending_failures(response: Any) -> Any:
        for shared, key in g.pop("_barometre_throttle_failures", []):
            try:
                shared.record_failure(key)
            except Exception:  # noqa: BLE001 - a count lost is better than an answer lost
                db.session.rollback()
                log.exception("throttle %s: a failure could not be counted", shared.name)
        return response


def forget_old_hits(session: Any, now: datetime) -> int:
    """Delete the database's counted attempts older than `KEEP_HITS`; how many."""
    return session.execute(delete(ThrottleHit).where(ThrottleHit.at < now - KEEP_HITS)).rowcount
