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


def with_appcontext(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with get_app().app_context():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
