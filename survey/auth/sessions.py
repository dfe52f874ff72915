"""Server-side staff sessions: revocable, with an absolute lifetime counted from login.

The signed cookie carries a random session id (`SESSION_KEY`); the `user_session` table keeps
its SHA-256. A request is logged in only while that row exists, is not ended, and was created
less than `SESSION_LIFETIME` seconds ago (8 h by default) — however often the person comes
back. Logout ends the row; deactivation and a password change end every row of the account
(a password change keeps the session that made it), so a cookie copied before any of those is
refused afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey.models import User, UserSession, utcnow

SESSION_KEY = "sid"
SESSION_LIFETIME_SECONDS = 8 * 3600


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User) -> str:
    """Record a new session of `user`; returns the id to put in the cookie (flushes)."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, token_hash=_hash(token)))
    session.flush()
    return token


def session_user(
    session: Session,
    token: str | None,
    user_id: int,
    *,
    lifetime_seconds: int = SESSION_LIFETIME_SECONDS,
    now: datetime | None = None,
) -> User | None:
    """The active user whose open, unexpired session `token` is, when it is `user_id`'s."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    now = now or utcnow()
    row = session.execute(
        select(UserSession, User)
        .join(User, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    record, user = row
    if (
        record.user_id != user_id
        or record.ended_at is not None
        or record.created_at <= now - timedelta(seconds=lifetime_seconds)
        or not user.active
    ):
        return None
    return user


def end_session(session: Session, token: str | None, reason: str = "logout") -> None:
    """End the session `token` (logout); nothing when it is unknown or already ended."""
    if not token or not isinstance(token, str):
        return
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def end_user_sessions(
    session: Session, user_id: int, reason: str, *, keep: str | None = None
) -> int:
    """End every open session of the account but `keep`'s; how many were ended."""
    statement = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if keep:
        statement = statement.where(UserSession.token_hash != _hash(keep))
    result = session.execute(statement.values(ended_at=utcnow(), end_reason=reason))
    return result.rowcount or 0
