"""Serving with gunicorn, from the command line (`barometre serve`, `barometre demo`)."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

# One worker process per core: a request is mostly Python, which one process runs on one core at
# a time. Threads let a worker compute while a request waits on its database. With SQLite,
# two are enough: every transaction holds the single write lock, so more threads only queue on
# it and lengthen the waits; PostgreSQL requests wait longer (a round trip per statement, a
# flushed commit) without excluding each other, so four overlap better
# (`bench/bench_respond.py` measured 2 and 4 on both).
GUNICORN_WORKERS = 2


def gunicorn_threads(database_url: str) -> int:
    return 2 if database_url.startswith("sqlite") else 4


class BarometreServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from survey import create_app

        return create_app()


def run_gunicorn(host: str, port: int, workers: int, **options: Any) -> None:
    BarometreServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": gunicorn_threads(os.environ.get("BAROMETRE_DATABASE_URL", "sqlite")),
            "timeout": 60,
            "accesslog": None,
            **options,
        }
    ).run()
