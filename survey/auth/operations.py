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
