"""A customer's answers as the questions and labels they were asked with, never raw codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from questionnaires import Questionnaire
from questionnaires.localized import builtin_text, localize
from questionnaires.questions import (
    NOT_APPLICABLE,
    CallbackQuestion,
    MultipleChoiceQuestion,
    NpsQuestion,
    RatingQuestion,
    TextQuestion,
    YesNoQuestion,
)


@dataclass(frozen=True)
class ShownAnswer:
    code: str
    question: str
    answer: str
    is_text: bool = False  # a free comment: shown as the customer wrote it


def shown_answer(question: Any, value: Any, lang: str) -> str:
    """One answer in words, in `lang`."""
    if isinstance(question, CallbackQuestion):
        if not isinstance(value, Mapping) or not value.get("requested"):
            return builtin_text("no", lang)
        channel = question.channel_labels(lang).get(value.get("channel"), "")
        return f"{builtin_text('yes', lang)} — {channel}" if channel else builtin_text("yes", lang)
    if isinstance(question, RatingQuestion | NpsQuestion):
        if value == NOT_APPLICABLE:
            return builtin_text("not_applicable", lang)
        low, high = question.scale()
        label = question.point_labels(lang).get(value)
        number = f"{value}/{high}"
        # A labelled point reads "2/5 – Dissatisfied"; a bare one just "7/10".
        if label and label != str(value):
            return f"{number} – {label.split(' – ', 1)[-1]}"
        return number
    if isinstance(question, YesNoQuestion):
        return builtin_text("yes" if value else "no", lang)
    if isinstance(question, MultipleChoiceQuestion):
        labels = question.choice_labels(lang)
        return ", ".join(labels.get(v, str(v)) for v in (value or []))
    labels = question.value_labels(lang) if hasattr(question, "value_labels") else {}
    if isinstance(value, int | str) and value in labels:
        return labels[value]
    return str(value)


def shown_answers(questionnaire: Questionnaire, answers: Mapping[str, Any],
                  lang: str) -> list[ShownAnswer]:
    """Every answered question that the customer saw, in questionnaire order."""
    shown = questionnaire.shown_answers(answers)
    rows = []
    for _, question in questionnaire.questions():
        if question.code not in shown:
            continue
        label = localize(question.label, lang) or question.code
        rows.append(ShownAnswer(question.code, label, shown_answer(question, shown[question.code],
                                                                   lang),
                                is_text=isinstance(question, TextQuestion)))
    return rows
