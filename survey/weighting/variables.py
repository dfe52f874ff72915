"""The frame variables of one customer: the one place that reads a customer's attributes.

Every margin, calibration cell and representativeness table goes through
`customer_variables`, so that when the customer file's declared survey variables are read some
other way, only this function changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MISSING_LEVEL = "(none)"
"""The level of a customer without a value, as the strata write it."""

MAX_LEVELS = 20
"""A variable with more levels than this is an identifier or a free text, not a frame variable
to weight on or to report response rates by (the report's domains use the same limit)."""

LANGUAGE = "language"


def level_text(value: Any) -> str:
    """A value as a level: trimmed text, ``(none)`` when blank, ``yes``/``no`` for booleans."""
    if value is None:
        return MISSING_LEVEL
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or MISSING_LEVEL


def customer_variables(
    attributes: Mapping[str, Any] | None, language: str | None
) -> dict[str, str]:
    """The frame variables of one customer, ``{variable: level}``.

    Today the customer's stored attributes (the columns the import kept) and its language.
    """
    variables = {str(name): level_text(value) for name, value in (attributes or {}).items()}
    if language is not None:
        variables[LANGUAGE] = level_text(language)
    return variables
