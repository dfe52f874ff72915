"""Role checks for views: who may open what."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])

# Who may do what: an admin may do everything a manager may, a manager everything a reader may.
READERS = ("admin", "manager", "auditor")
MANAGERS = ("admin", "manager")
ADMINS = ("admin",)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Log in first (redirect), then 403 unless the user's role is one of `roles`."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def actor_label() -> str:
    """How the audit trail names whoever acts in this request."""
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"
