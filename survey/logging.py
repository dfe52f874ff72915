"""Structured logs: one JSON line per request and per sent batch, with no personal data.

Every logger under `survey` writes to standard error through one JSON formatter, so that
journald, Docker or a log shipper can parse the lines without a grammar. A line carries the
message and the `fields` a caller passes (`log.info("...", extra={"fields": {...}})`); the
request line names the URL *rule* (`/r/<token>`), never the path itself, because respondents'
personal tokens live in paths.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

ROOT_LOGGER = "survey"
REQUEST_LOGGER = "survey.requests"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _JsonHandler(logging.StreamHandler):
    """Marks the handler as ours, so that building the application twice adds it once."""


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on standard error for every `survey.*` logger (idempotent)."""
    logger = logging.getLogger(ROOT_LOGGER)
    if not any(isinstance(handler, _JsonHandler) for handler in logger.handlers):
        handler = _JsonHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)


def init_app(app: Flask) -> None:
    configure_logging()
    requests = logging.getLogger(REQUEST_LOGGER)

    @app.before_request
    def start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        requests.info("request", extra={"fields": request_fields(response)})
        return response


def request_fields(response: Response) -> dict[str, Any]:
    started = g.get("request_started")
    rule = request.url_rule.rule if request.url_rule is not None else None
    return {
        "event": "request",
        "method": request.method,
        # An unmatched path (a 404) may be anything a client typed: it is not logged either.
        "path": rule or "<unmatched>",
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": None if started is None else
        round((time.perf_counter() - started) * 1000, 1),
        "user_id": _user_id(),
    }


def _user_id() -> int | None:
    # The user Flask-Login already loaded for this request, if any: logging must not load one
    # (a database query on every respondent page).
    user = g.get("_login_user")
    return user.id if user is not None and user.is_authenticated else None
