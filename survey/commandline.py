"""What every command of `barometre` shares: its exit statuses and the application it runs in.

Exit status: 0 done; 1 failure of the system; 2 bad input, with a message that says what and
where.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask

from survey.config import ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(click.ClickException):
    """Input the user can correct: exit status 2."""

    exit_code = 2


class SystemFailure(click.ClickException):
    exit_code = 1


def get_app() -> Flask:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "app" not in root.obj:
        from survey import create_app

        try:
            root.obj["app"] = create_app()
        except ConfigurationError as exc:
            raise SystemFailure(str(exc)) from exc
    return root.obj["app"]


def check_database_ready(app: Flask) -> None:
    """Exit 1 with one line saying what to do when the database is unreachable, not created
    yet or at another revision than the code's (checked once per command)."""
    from survey.database import DatabaseNotReady, check_database

    root = click.get_current_context().find_root()
    if root.obj.get("database_checked"):
        return
    try:
        check_database(app.config["SQLALCHEMY_DATABASE_URI"])
    except DatabaseNotReady as exc:
        raise SystemFailure(str(exc)) from None
    root.obj["database_checked"] = True


def check_database_reachable(app: Flask) -> None:
    """Exit 1 with one line when the database server does not answer."""
    from survey.database import DatabaseNotReady, check_reachable

    try:
        check_reachable(app.config["SQLALCHEMY_DATABASE_URI"])
    except DatabaseNotReady as exc:
        raise SystemFailure(str(exc)) from None


def with_appcontext(func: F) -> F:
    """Run the command in the application's context, once its database is known to be ready."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = get_app()
        check_database_ready(app)
        with app.app_context():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
