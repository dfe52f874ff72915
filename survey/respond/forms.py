"""The page forms: the questionnaire's WTForms classes, and their CSRF token bound to the link.

`questionnaires.forms` builds plain WTForms classes and decides what an answer is
(`clean_page_answers`); this module caches the classes (a frozen definition never changes, so one
class per definition, page and language serves every request), issues and checks the CSRF token
of a respondent's page, and turns stored answers back into form values so that a returning
respondent sees what they answered.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping
from typing import Any

import wtforms

from questionnaires import Questionnaire, build_page_form_class
from questionnaires.questions import (
    CallbackQuestion,
    MultipleChoiceQuestion,
    Question,
    TextQuestion,
    YesNoQuestion,
)

_classes: dict[tuple[int, int, str], type[wtforms.Form]] = {}
_classes_lock = threading.Lock()


def page_form_class(
    questionnaire: Questionnaire, page_index: int, lang: str
) -> type[wtforms.Form]:
    # `operations.load_questionnaire` keeps one parsed questionnaire per frozen definition for
    # the life of the process, so its identity names the definition's content.
    key = (id(questionnaire), page_index, lang)
    cached = _classes.get(key)
    if cached is not None:
        return cached
    form_class = build_page_form_class(questionnaire, page_index, lang)
    with _classes_lock:
        return _classes.setdefault(key, form_class)


# --- CSRF ------------------------------------------------------------------------------------


def link_csrf_token(secret_key: str, link_token: str) -> str:
    """The CSRF token of every page of one link: HMAC-SHA256(secret key, purpose, link token).

    Bound to the link rather than to a session. Forging a submission takes the link token
    (128 random bits, known only to the respondent's message) and the server's key; whoever
    holds the link can answer it anyway, so binding the token to the link protects as much as
    binding it to a session, and needs no cookie: a respondent's pages set none, and a browser
    refusing cookies, or a session lost between two pages, never has a page refused.
    """
    message = b"respond-csrf\x00" + link_token.encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def link_csrf_token_matches(secret_key: str, link_token: str, submitted: str | None) -> bool:
    expected = link_csrf_token(secret_key, link_token)
    return submitted is not None and hmac.compare_digest(expected, submitted)


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
