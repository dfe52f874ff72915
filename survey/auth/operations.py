"""Service functions for accounts: they flush, the caller commits once."""

from __future__ import annotations

import contextlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.auth.sessions import end_user_sessions
from survey.models import Role, User, utcnow

password_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# A hash to verify against when the account does not exist, so that timing does not tell.
_DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account request that cannot be honoured, with the reason."""


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"{email!r} is not a valid email address: {exc}") from exc


def generate_password() -> str:
    return secrets.token_urlsafe(15)


_ROLE_NAMES = ", ".join(role.value for role in Role)


def create_user(session: Session, email: str, role: str, password: str, *, actor: str) -> User:
    email = normalise_email(email)
    if role not in set(Role):
        raise AccountError(f"unknown role {role!r}: choose {_ROLE_NAMES}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(func.count()).where(User.email == email)):
        raise AccountError(f"an account already exists for {email}")
    user = User(email=email, role=role, password_hash=password_hasher.hash(password))
    session.add(user)
    session.flush()
    record_event(
        session,
        "user.create",
        actor=actor,
        object_type="user",
        object_id=user.id,
        summary={"role": role},
    )
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; failures count towards a lockout."""
    try:
        email = normalise_email(email)
    except AccountError:
        password_hasher.hash(password)  # keep timing alike
        return None
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        with contextlib.suppress(VerifyMismatchError):
            password_hasher.verify(_DUMMY_HASH, password)
        return None
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        return None
    try:
        password_hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session.flush()
        return None
    if not user.active:
        return None
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record_event(
        session,
        "user.login",
        actor=f"user:{user.id}",
        actor_id=user.id,
        object_type="user",
        object_id=user.id,
    )
    return user


# --- administration of accounts --------------------------------------------------------------


def find_user(session: Session, email: str) -> User:
    """The account of `email`, or an AccountError that names it."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise AccountError(f"no account for {email}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def _other_active_admins(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count()).where(User.role == Role.ADMIN.value, User.active.is_(True),
                                   User.id != user.id)
    ) or 0


def set_role(session: Session, user: User, role: str, *, actor: str,
             actor_id: int | None = None) -> bool:
    """Give `user` another role; False when it already had it (nothing recorded).

    The last active admin keeps the role: without one, no one could administer accounts.
    """
    if role not in set(Role):
        raise AccountError(f"unknown role {role!r}: choose {_ROLE_NAMES}")
    if user.role == role:
        return False
    if user.role == Role.ADMIN and user.active and not _other_active_admins(session, user):
        raise AccountError(f"{user.email} is the last active admin: make another admin first")
    previous, user.role = user.role, role
    record_event(session, "user.role_change", actor=actor, actor_id=actor_id,
                 object_type="user", object_id=user.id, summary={"from": previous, "to": role})
    return True


def set_active(session: Session, user: User, active: bool, *, actor: str,
               actor_id: int | None = None) -> bool:
    """Deactivate (or reactivate) an account; False when nothing changes.

    A deactivated user's open sessions stop working at their next request: the user loader
    refuses inactive accounts (`survey.auth.init_app`).
    """
    if user.active == active:
        return False
    if not active and user.role == Role.ADMIN and not _other_active_admins(session, user):
        raise AccountError(f"{user.email} is the last active admin: make another admin first")
    user.active = active
    if not active:
        end_user_sessions(session, user.id, "deactivated")
    if active:
        # A fresh start: a lockout earned before the deactivation should not outlive it.
        user.failed_logins = 0
        user.locked_until = None
    record_event(session, "user.reactivate" if active else "user.deactivate", actor=actor,
                 actor_id=actor_id, object_type="user", object_id=user.id,
                 summary={"role": user.role})
    return True


# --- passwords: change and reset ---------------------------------------------------------------

#: How long an emailed reset link works.
RESET_LIFETIME = timedelta(hours=1)


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise AccountError("the password must have at most 1024 characters")


def change_password(
    session: Session, user: User, current: str, new: str, *, keep_session: str | None = None
) -> int:
    """Set `user`'s password after checking the current one; ends their other sessions.

    Returns how many sessions were ended. Audited, without any password.
    """
    try:
        password_hasher.verify(user.password_hash, current)
    except (VerifyMismatchError, InvalidHashError) as exc:
        raise AccountError("the current password is wrong") from exc
    _check_new_password(new)
    if new == current:
        raise AccountError("the new password is the same as the current one")
    user.password_hash = password_hasher.hash(new)
    ended = end_user_sessions(session, user.id, "password_change", keep=keep_session)
    record_event(session, "user.password_change", actor=f"user:{user.id}", actor_id=user.id,
                 object_type="user", object_id=user.id, summary={"sessions_ended": ended})
    return ended


def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_password_reset(
    session: Session, user: User, *, actor: str, actor_id: int | None = None
) -> str:
    """A one-time reset token for `user`, valid `RESET_LIFETIME`; earlier ones stop working.

    Returns the token (to put in the emailed link); only its hash is stored. Audited.
    """
    from sqlalchemy import update

    from survey.models import PasswordReset

    if not user.active:
        raise AccountError(f"{user.email} is deactivated: reactivate the account first")
    now = utcnow()
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(user_id=user.id, token_hash=_token_hash(token),
                              created_by_id=actor_id, expires_at=now + RESET_LIFETIME))
    record_event(session, "user.password_reset_request", actor=actor, actor_id=actor_id,
                 object_type="user", object_id=user.id,
                 summary={"expires_in_minutes": int(RESET_LIFETIME.total_seconds() // 60)})
    session.flush()
    return token


def reset_target(session: Session, token: str) -> User | None:
    """The active user a reset token is for, while it is unused and unexpired; else None."""
    from survey.models import PasswordReset

    if not token or len(token) > 100:
        return None
    reset = session.scalar(select(PasswordReset).where(
        PasswordReset.token_hash == _token_hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    user = session.get(User, reset.user_id)
    return user if user is not None and user.active else None


def reset_password(session: Session, token: str, new: str) -> User:
    """Set a new password with a reset token, once; ends every session of the account."""
    from survey.models import PasswordReset

    user = reset_target(session, token)
    if user is None:
        raise AccountError("this reset link is unknown, used or expired: ask for a new one")
    _check_new_password(new)
    reset = session.scalar(select(PasswordReset).where(
        PasswordReset.token_hash == _token_hash(token)))
    reset.used_at = utcnow()  # type: ignore[union-attr]  # found by reset_target
    user.password_hash = password_hasher.hash(new)
    user.failed_logins = 0
    user.locked_until = None
    ended = end_user_sessions(session, user.id, "password_reset")
    record_event(session, "user.password_reset", actor=f"user:{user.id}", actor_id=user.id,
                 object_type="user", object_id=user.id, summary={"sessions_ended": ended})
    session.flush()
    return user
