"""Changing a programme's survey method: what its reports state about who commissioned and
conducted the survey, its objectives, incentives, subcontracting, data validation and cleaning
rules, and limitations (ISO 20252's reporting requirements). Flushes; the caller commits."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.models import Programme

#: The method's fields, in the order the page and the report show them.
METHOD_FIELDS = ("commissioned_by", "conducted_by", "objectives", "incentives",
                 "subcontracting", "validation", "limitations")
#: The longest text a field takes: a paragraph or two, not a document.
MAX_LENGTH = 2000


class MethodError(ValueError):
    """The method cannot be saved as given: the message names the field."""


def method_of(programme: Programme) -> dict[str, str | None]:
    """The programme's method, field by field (None: the report's default sentence)."""
    return {name: getattr(programme, f"method_{name}") for name in METHOD_FIELDS}


def update_method(
    session: Session,
    programme: Programme,
    values: Mapping[str, str | None],
    *,
    actor: str,
    actor_id: int | None = None,
) -> list[str]:
    """Set the fields of `values` (blank or spaces: back to the default) and record one
    ``programme.method`` event naming the fields changed; returns them (none: no event)."""
    unknown = sorted(set(values) - set(METHOD_FIELDS))
    if unknown:
        raise MethodError(f"{unknown[0]}: not a field of the method "
                          f"({', '.join(METHOD_FIELDS)})")
    changed = []
    for name, value in values.items():
        text = (value or "").strip().replace("\r\n", "\n") or None
        if text is not None and len(text) > MAX_LENGTH:
            raise MethodError(f"{name}: at most {MAX_LENGTH} characters, got {len(text)}")
        if getattr(programme, f"method_{name}") != text:
            setattr(programme, f"method_{name}", text)
            changed.append(name)
    if changed:
        session.flush()
        record_event(
            session, "programme.method", actor=actor, actor_id=actor_id,
            object_type="programme", object_id=programme.id,
            summary={"programme": programme.name, "fields": changed},
        )  # fmt: skip
    return changed
