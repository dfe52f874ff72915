"""The files jobs make for download (an auditor's pack, a poster's PDF): stored, then read back.

A worker stores an output in the database (`JobOutput`) with the job's end, and keeps a copy in
its instance folder; a web server reads its own copy when it has one, the database's otherwise
(the worker may run on another machine), and checks the SHA-256 either way, as a stored report
is checked (`survey.reporting.operations.stored_report_bytes`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.clients.scope import ALL_CLIENTS
from survey.files import private_folder, write_private
from survey.models import JobOutput

#: Where an instance folder keeps its copies: `<instance>/outputs/packs/12.zip`.
FOLDER = "outputs"
_NAME = re.compile(r"[a-z]+/[A-Za-z0-9][A-Za-z0-9._-]{0,150}")


class OutputError(ValueError):
    """An output is missing or was changed after it was made; the message says which."""


def _local_path(instance_path: str | Path, name: str) -> Path:
    if not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"output name {name!r} is not of the form 'folder/file'")
    return Path(instance_path) / FOLDER / name


def store_output(
    session: Session,
    name: str,
    content: bytes,
    *,
    mimetype: str,
    instance_path: str | Path,
    job_id: int | None = None,
) -> JobOutput:
    """Add the output `name` (replacing one of that name) and write its local copy; flushes,
    the caller (the worker, with the job's end) commits."""
    path = _local_path(instance_path, name)
    existing = session.scalar(select(JobOutput).where(JobOutput.name == name)
                              .execution_options(**{ALL_CLIENTS: True}))  # names are unique
    if existing is not None:
        session.delete(existing)
        session.flush()
    output = JobOutput(name=name, job_id=job_id, mimetype=mimetype,
                       sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                       content=content)  # fmt: skip
    session.add(output)
    session.flush()
    write_private(private_folder(path.parent) / path.name, content)
    return output


def find_output(session: Session, name: str) -> JobOutput | None:
    return session.scalar(select(JobOutput).where(JobOutput.name == name))


def output_bytes(output: JobOutput, instance_path: str | Path) -> bytes:
    """The output's bytes, from this machine's copy or else from the database, checked against
    the hash recorded when it was made (`OutputError` otherwise)."""
    path = _local_path(instance_path, output.name)
    content = path.read_bytes() if path.is_file() else None
    if content is None or hashlib.sha256(content).hexdigest() != output.sha256:
        content = output.content
        if hashlib.sha256(content).hexdigest() != output.sha256:
            raise OutputError(f"the file {output.name} was changed after it was made")
        # This machine's copy was missing (or damaged): keep the database's for next time.
        write_private(private_folder(path.parent) / path.name, content)
    return content
