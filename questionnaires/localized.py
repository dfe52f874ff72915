"""Localized texts of a definition and the built-in wording shared by every questionnaire.

A definition writes each text once per language (``{fr: ..., en: ...}``). The languages a
questionnaire may declare are the ones the platform itself speaks: besides the author's texts, a
respondent sees built-in words (yes/no, "Not applicable", error messages) that live here. Adding a
language means adding its column to ``BUILTIN_TEXTS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, ValidationInfo

from questionnaires.problems import Problem, joined

SUPPORTED_LANGUAGES: tuple[str, ...] = ("fr", "en")

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _has_every_declared_language(text: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    # The questionnaire's `languages` are only known while validating the whole definition, so
    # the loader passes them in the validation context; without it (a text validated on its own)
    # any supported language is accepted.
    declared = (info.context or {}).get("languages") or SUPPORTED_LANGUAGES
    missing = [lang for lang in declared if lang not in text]
    undeclared = [lang for lang in text if lang not in declared]
    problems = []
    if missing:
        problems.append(f"missing text for language {_quoted(missing)}")
    if undeclared:
        problems.append(
            f"text in undeclared language {_quoted(undeclared)} "
            f"(the questionnaire declares {', '.join(declared)})"
        )
    if missing and undeclared:
        raise Problem("; ".join(problems), "missing_and_undeclared_language",
                      missing=joined(missing), undeclared=joined(undeclared),
                      declared=joined(declared))
    if missing:
        raise Problem(problems[0], "missing_language", missing=joined(missing))
    if undeclared:
        raise Problem(problems[0], "undeclared_language", undeclared=joined(undeclared),
                      declared=joined(declared))
    return text


def _quoted(languages: list[str]) -> str:
    return ", ".join(f"'{lang}'" for lang in languages)


LocalizedText = Annotated[dict[str, NonEmptyText], AfterValidator(_has_every_declared_language)]
"""A text given once per declared language: ``{"fr": "Bonjour", "en": "Hello"}``."""


BUILTIN_TEXTS: dict[str, dict[str, str]] = {
    "yes": {"fr": "Oui", "en": "Yes"},
    "no": {"fr": "Non", "en": "No"},
    "not_applicable": {"fr": "Non concerné", "en": "Not applicable"},
    "nps_low": {"fr": "Pas du tout probable", "en": "Not at all likely"},
    "nps_high": {"fr": "Très probable", "en": "Extremely likely"},
    "channel_phone": {"fr": "Par téléphone", "en": "By phone"},
    "channel_email": {"fr": "Par e-mail", "en": "By email"},
    "callback_channel": {
        "fr": "Comment préférez-vous être contacté ?",
        "en": "How would you prefer to be contacted?",
    },
    # Error messages, shown next to the question they are about: short, never the question
    # repeated. The error summary at the top of the page names the question before them
    # (``error_in_summary``), because it is read out of context.
    "error_required": {
        "fr": "Veuillez répondre à cette question.",
        "en": "Please answer this question.",
    },
    "error_not_a_choice": {
        "fr": "Veuillez choisir une des réponses proposées.",
        "en": "Please choose one of the answers offered.",
    },
    "error_single_value": {
        "fr": "Veuillez choisir une seule réponse.",
        "en": "Please choose only one answer.",
    },
    "error_too_many_choices": {
        "fr": "Veuillez choisir au plus {maximum} réponses.",
        "en": "Please choose at most {maximum} answers.",
    },
    "error_too_long": {
        "fr": "Votre réponse doit faire au plus {maximum} caractères (elle en fait {length}).",
        "en": "Your answer must be at most {maximum} characters long (it is {length}).",
    },
    "error_in_summary": {
        "fr": "{label} : {message}",
        "en": "{label}: {message}",
    },
    "error_callback_channel": {
        "fr": "Veuillez indiquer comment vous préférez être contacté.",
        "en": "Please tell us how you would prefer to be contacted.",
    },
    "error_callback_consent": {
        "fr": "Pour être recontacté, veuillez cocher la case d’accord.",
        "en": "To be contacted, please tick the box to give your agreement.",
    },
    "error_unknown_field": {
        "fr": "Le champ « {field} » ne fait pas partie de cette page.",
        "en": "The field “{field}” is not part of this page.",
    },
}


def localize(text: Mapping[str, str], lang: str) -> str:
    """The text in ``lang``; a validated definition has every declared language."""
    try:
        return text[lang]
    except KeyError:
        raise LookupError(f"no text in language '{lang}' (available: {', '.join(text)})") from None


def builtin_text(key: str, lang: str, **params: object) -> str:
    """Built-in wording ``key`` in ``lang``, with ``{placeholders}`` filled from ``params``."""
    return localize(BUILTIN_TEXTS[key], lang).format(**params)
