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


def create_user(session: Session, email: str, role: str, password: str, *, actor: str) -> User:
    email = normalise_email(email)
    if role not in set(Role):
        raise AccountError(f"unknown role {role!r}: choose admin, manager or auditor")
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
        raise AccountError(f"unknown role {role!r}: choose admin, manager or auditor")
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
    if active:
        # A fresh start: a lockout earned before the deactivation should not outlive it.
        user.failed_logins = 0
        user.locked_until = None
    record_event(session, "user.reactivate" if active else "user.deactivate", actor=actor,
                 actor_id=actor_id, object_type="user", object_id=user.id,
                 summary={"role": user.role})
    return True
