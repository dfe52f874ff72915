"""Role checks for views: who may open what.

The role sets below are the whole access policy; views name one of them in `roles_required`,
and templates and the navigation ask `may_open(endpoint)`, which reads the set the view was
given, so that a link is shown exactly when its page would open.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])

# Who may do what: an admin may do everything a manager may, a manager everything a reader may.
# The centre's staff: they read every page of the survey's conduct (customers' data for managers
# and admins only).
READERS = ("admin", "manager", "auditor")
MANAGERS = ("admin", "manager")
ADMINS = ("admin",)
# A client's own staff (issue #16): what a client's quality manager reads of their survey, in
# aggregate only: the dashboard, each campaign's key figures and fieldwork rates, the reports,
# the follow-up figures (and the published results, which are public). Never a customer's
# contact or answers row by row: no customer base, follow-up, outbox, export, auditor's pack,
# audit trail, weighting, sample plan or questionnaire editor.
CLIENT_VIEWER = "client_viewer"
VIEWERS = (*READERS, CLIENT_VIEWER)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Log in first (redirect), then 403 unless the user's role is one of `roles`."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def may_open(endpoint: str) -> bool:
    """Whether the signed-in person's role opens `endpoint` (a view without `roles_required`
    is open to whoever is signed in: its own checks, if any, are finer than a role)."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    roles = getattr(view, "allowed_roles", None)
    if roles is None:
        return True
    return bool(current_user.is_authenticated and current_user.role in roles)


def actor_label() -> str:
    """How the audit trail names whoever acts in this request."""
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"
