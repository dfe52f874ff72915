"""Shared helpers of the frame tests: a session in an application context, CSV builders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from survey.extensions import db


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield db.session
        db.session.rollback()


def csv_bytes(
    rows: Sequence[Sequence[str]], *, delimiter: str = ";", encoding: str = "windows-1252"
) -> bytes:
    """Rows (header first) as CSV bytes, quoting cells that need it."""
    import csv
    import io

    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


HEADER = ["N° client", "Courriel", "Téléphone", "Langue", "Date dernier contact", "Segment"]
