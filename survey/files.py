"""Files barometre writes under its instance folder: for the service user only.

The database, the outbox's messages (recipients and personal links), the generated reports and
the exports hold personal or confidential data: each is created with mode 0600 (folders 0700),
whatever the process's umask, and written whole (a temporary file renamed into place).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create `path` (and its parents) if missing; a folder it creates is 0700."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is filtered by the umask
    return path


def write_private(path: Path, content: bytes) -> None:
    """Write `content` to `path` whole, mode 0600 (replacing any earlier file)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 when it does not exist (a database file, before the
    database engine creates it with the umask's mode); leave an existing file as it is."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(descriptor)
