"""Refusals that carry a stable reason code and its values beside their English words.

The command line prints a refusal's English message (``questionnaires validate``); a web page
words the same refusal in its reader's language from the ``reason`` and ``params``
(``survey.editor.problems``), so that a French page never shows an English sentence. This package
stays free of Flask and Babel: it only names the reasons.

Values in ``params`` are plain data people can read in any language (codes, numbers, lists of
them already joined with ", "), never English words.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["Problem", "joined"]


class Problem(ValueError):
    """A value refused, with ``message`` in English, ``reason`` its stable code and ``params``
    the values its message names. pydantic keeps the instance of a ValueError raised by a
    validator, so the reason reaches :class:`questionnaires.loader.DefinitionError`."""

    def __init__(self, message: str, reason: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.params = params


def joined(values: Iterable[object]) -> str:
    """Values as a reader writes a list of them: ``1, 2, 3`` (no brackets, no quotes)."""
    return ", ".join(str(value) for value in values)
