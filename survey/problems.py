"""Refusals worded in the reader's language from their reason code.

Services raise errors that keep an English message (for the command line) and carry a ``reason``
and its ``params``; each page family keeps its catalogue of sentences, one per reason (the
sampling's in `survey.frame.problems`, the editor's in `survey.editor.problems`), and words the
values its own way. This is what they share: look the sentence up, fill it, escape everything,
and never show a sentence that cannot be filled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape


def worded_problem(error: Any, sentences: Mapping[str, Any],
                   word_value: Callable[[str, Any], Any], *, fallback: str) -> Markup:
    """`error`'s sentence of `sentences` (by its ``reason``) filled with its ``params``, each
    worded by ``word_value(name, value)``; the `fallback` sentence for a reason without words
    here, or raised with other values than its sentence names."""
    reason = str(getattr(error, "reason", "") or "")
    params = {name: word_value(name, value)
              for name, value in dict(getattr(error, "params", {}) or {}).items()}
    try:
        return escape(str(sentences.get(reason) or sentences[fallback])) % params
    except (KeyError, TypeError, ValueError):
        return escape(str(sentences[fallback]))
