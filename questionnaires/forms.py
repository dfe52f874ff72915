"""Asking a questionnaire page by page with WTForms.

The web layer renders ``build_page_form_class(...)`` (adding its own CSRF token), shows only
``visible_questions(...)``, and on submission calls ``clean_page_answers(...)``, the single
authority on what is accepted: the generated fields carry no validators, because whether a
question is shown, and therefore required, depends on earlier answers.

Navigation skips pages where no question is shown (``next_page_index``,
``previous_page_index``, ``is_last_page``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import wtforms

from questionnaires.localized import builtin_text
from questionnaires.questions import FormData, Question
from questionnaires.schema import Questionnaire

__all__ = [
    "build_page_form_class",
    "clean_page_answers",
    "is_last_page",
    "next_page_index",
    "previous_page_index",
    "visible_questions",
]

NON_ANSWER_FIELDS = frozenset({"csrf_token"})
"""Submitted fields that are not answers and are ignored (the web layer's CSRF token)."""


def build_page_form_class(
    questionnaire: Questionnaire, page_index: int, lang: str
) -> type[wtforms.Form]:
    """A ``wtforms.Form`` subclass with one field per question of the page (named by its code;
    callback questions add ``<code>_channel`` and ``<code>_consent``), labels in ``lang``.

    Rating, NPS, single-choice and yes/no questions are radio groups and multiple choices are
    checkbox groups, to be wrapped in a fieldset whose legend is the field's label. The class
    attribute ``questions`` maps each field name to its question (for ``required``, ``help``…).
    """
    questionnaire.check_language(lang)
    page = questionnaire.page(page_index)
    attributes: dict[str, Any] = {}
    questions: dict[str, Question] = {}
    for question in page.questions:
        for name, field in question.form_fields(lang).items():
            attributes[name] = field
            questions[name] = question
    attributes["questions"] = questions
    class_name = f"Page{page_index}Form"
    return type(class_name, (wtforms.Form,), attributes)


def visible_questions(
    questionnaire: Questionnaire, page_index: int, answers: Mapping[str, Any]
) -> list[Question]:
    """The questions of the page shown given ``answers`` (the answers to earlier pages)."""
    questionnaire.page(page_index)  # an unknown page is an error, not an empty one
    return questionnaire.visible_by_page(answers)[page_index]


def clean_page_answers(
    questionnaire: Questionnaire,
    page_index: int,
    form_data: Mapping[str, Sequence[str]] | Any,
    answers_so_far: Mapping[str, Any],
    *,
    lang: str | None = None,
    ignore: Iterable[str] = NON_ANSWER_FIELDS,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a submitted page.

    ``form_data`` is a ``MultiDict`` (``request.form``) or a mapping of field name → list of
    values; ``answers_so_far`` the stored answers of the whole questionnaire. Returns
    ``(answers, errors)``:

    - ``answers``: ``answers_so_far`` updated with this page, JSON-ready (see ``questions`` for
      each type's stored value). Answers to hidden questions are dropped, on this page and
      later ones (a changed answer may hide questions answered before going back).
      An unanswered question has no key.
    - ``errors``: form field name → message in ``lang`` (default: the questionnaire's first
      language), for an error summary. Field names are question codes, except a callback's
      ``<code>_channel`` / ``<code>_consent`` and unknown fields, reported by their name.
      Unknown fields, values outside a scale or a list of choices, and required questions left
      unanswered (only when shown) are errors.

    When there are errors, ``answers`` still holds the valid answers of the page, so that the
    page can be shown again with what the respondent entered.
    """
    lang = questionnaire.check_language(lang or questionnaire.languages[0])
    submitted = _as_lists(form_data)
    page = questionnaire.page(page_index)
    errors: dict[str, str] = {}

    expected = {name for question in page.questions for name in question.field_names()}
    for name in submitted:
        if name not in expected and name not in ignore:
            errors[name] = builtin_text("error_unknown_field", lang, field=name)

    # The page's own previous answers (when the respondent came back) are replaced; whether its
    # questions are shown depends only on earlier pages.
    page_codes = {question.code for question in page.questions}
    others = {code: value for code, value in answers_so_far.items() if code not in page_codes}
    shown_before = questionnaire.shown_answers(others)
    page_answers: dict[str, Any] = {}
    for question in page.questions:
        if not questionnaire.is_shown(question, shown_before):
            continue
        cleaned = question.clean(submitted, lang)
        errors.update(cleaned.errors)
        if cleaned.answer is not None:
            page_answers[question.code] = cleaned.answer
        elif question.required and not cleaned.errors:
            label = question.label[lang]
            errors[question.code] = builtin_text("error_required", lang, label=label)

    # Later answers stay unless this page's answers now hide them.
    merged = questionnaire.shown_answers({**others, **page_answers})
    return merged, errors


def next_page_index(
    questionnaire: Questionnaire, page_index: int, answers: Mapping[str, Any]
) -> int | None:
    """The next page with a question to show, or None after the last one."""
    visible = questionnaire.visible_by_page(answers)
    for candidate in range(page_index + 1, len(questionnaire.pages)):
        if visible[candidate]:
            return candidate
    return None


def previous_page_index(
    questionnaire: Questionnaire, page_index: int, answers: Mapping[str, Any]
) -> int | None:
    """The previous page with a question to show, or None before the first one."""
    visible = questionnaire.visible_by_page(answers)
    for candidate in range(page_index - 1, -1, -1):
        if visible[candidate]:
            return candidate
    return None


def is_last_page(questionnaire: Questionnaire, page_index: int, answers: Mapping[str, Any]) -> bool:
    """Whether submitting this page completes the questionnaire."""
    return next_page_index(questionnaire, page_index, answers) is None


def _as_lists(form_data: Any) -> FormData:
    if hasattr(form_data, "getlist"):  # werkzeug's MultiDict and WTForms' wrappers
        return {name: list(form_data.getlist(name)) for name in form_data}
    lists: dict[str, list[str]] = {}
    for name, values in form_data.items():
        if isinstance(values, str):
            raise TypeError(
                f"form data for '{name}' must be a list of values, not the text {values!r}"
            )
        lists[name] = [str(value) for value in values]
    return lists
