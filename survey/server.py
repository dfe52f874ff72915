"""Serving with gunicorn, from the command line (`barometre serve`, `barometre demo`)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

# One worker process per core: a request is mostly Python, which one process runs on one core at
# a time. Two threads per worker let one request compute while another waits on the database;
# more only queue, on the GIL or, with SQLite, on the database's single write lock, and make
# waits longer (`bench/bench_respond.py` measured both).
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 2


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
            "threads": GUNICORN_THREADS,
            "timeout": 60,
            "accesslog": None,
            **options,
        }
    ).run()
