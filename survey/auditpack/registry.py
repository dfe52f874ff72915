"""The pack's sections that other features add: each registers a function that gives its files.

A feature registers at import time of a module the application imports (its views or commands
module), for example::

    from survey.auditpack.registry import register_pack_section

    def performance_files(session, campaign):
        return {"criteria.csv": criteria_csv(session, campaign)}

    register_pack_section("performance", performance_files)

Its files go in the pack under ``<name>/``, are listed in the manifest with their SHA-256, and are
checked by `barometre audit verify-pack` like every other file. A section that fails is named in
the manifest with its error instead of stopping the pack. Files must hold no personal data of
the customer base (emails, phones, names): the pack is handed to an auditor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.models import Campaign

#: `build(session, campaign)` → file name (relative, "/" separated) → content.
SectionBuilder = Callable[[Session, Campaign], dict[str, bytes]]

# The sections the pack itself builds: a registered one may not take their folder.
CORE_SECTIONS = ("report", "export", "questionnaire", "plan", "followups", "audit")
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,3}")


@dataclass(frozen=True)
class PackSection:
    name: str
    build: SectionBuilder


_SECTIONS: dict[str, PackSection] = {}


def register_pack_section(name: str, build: SectionBuilder) -> None:
    """Add the section `name` (lower-case letters, digits, `-`, `_`) to every pack from now on.

    Registering the same name again replaces its builder (a module imported twice in tests).
    """
    if not _NAME.fullmatch(name) or name in CORE_SECTIONS or name == "manifest.json":
        raise ValueError(f"pack section name {name!r}: lower-case letters, digits, '-' or '_', "
                         f"and none of {', '.join(CORE_SECTIONS)}")
    _SECTIONS[name] = PackSection(name, build)


def unregister_pack_section(name: str) -> None:
    _SECTIONS.pop(name, None)


def registered_sections() -> list[PackSection]:
    """The registered sections, by name (a pack lists its files in a stable order)."""
    return [_SECTIONS[name] for name in sorted(_SECTIONS)]


def check_file_name(section: str, name: str) -> str:
    """`name` as a path inside the section's folder, refused when it could leave it."""
    if not _FILE.fullmatch(name) or any(part in (".", "..") for part in name.split("/")):
        raise ValueError(f"pack section {section!r}: file name {name!r} is not a plain relative "
                         "path (letters, digits, '.', '-', '_', at most four levels)")
    return f"{section}/{name}"
