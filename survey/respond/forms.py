"""The page forms: the questionnaire's WTForms classes with Flask-WTF's CSRF protection.

`questionnaires.forms` builds plain WTForms classes and decides what an answer is
(`clean_page_answers`); this module only adds CSRF, caches the classes (a frozen definition never
changes, so one class per definition, page and language serves every request) and turns stored
answers back into form values so that a returning respondent sees what they answered.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm

from questionnaires import Questionnaire, build_page_form_class
from questionnaires.questions import (
    CallbackQuestion,
    MultipleChoiceQuestion,
    Question,
    TextQuestion,
    YesNoQuestion,
)

_classes: dict[tuple[int, int, str], type[FlaskForm]] = {}
_classes_lock = threading.Lock()


def page_form_class(questionnaire: Questionnaire, page_index: int, lang: str) -> type[FlaskForm]:
    # `operations.load_questionnaire` keeps one parsed questionnaire per frozen definition for
    # the life of the process, so its identity names the definition's content.
    key = (id(questionnaire), page_index, lang)
    cached = _classes.get(key)
    if cached is not None:
        return cached
    page_class = build_page_form_class(questionnaire, page_index, lang)
    form_class = type(f"Respond{page_class.__name__}", (FlaskForm, page_class), {})
    with _classes_lock:
        return _classes.setdefault(key, form_class)


def form_values(questions: list[Question], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Stored answers of `questions` as the data of their form fields (for `Form(data=...)`)."""
    values: dict[str, Any] = {}
    for question in questions:
        answer = answers.get(question.code)
        if answer is None:
            continue
        if isinstance(question, CallbackQuestion):
            values[question.code] = "yes" if answer.get("requested") else "no"
            if answer.get("requested"):
                values[question.channel_field] = answer.get("channel")
                values[question.consent_field] = bool(answer.get("consent"))
        elif isinstance(question, YesNoQuestion):
            values[question.code] = "yes" if answer else "no"
        elif isinstance(question, MultipleChoiceQuestion):
            values[question.code] = list(answer)
        elif isinstance(question, TextQuestion):
            values[question.code] = answer
        else:  # ratings, NPS and single choices are radio groups of strings
            values[question.code] = str(answer)
    return values
