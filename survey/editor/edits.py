"""Changes to a draft's definition data, as pure functions: each takes the data and returns a
new copy with one change made (the caller keeps the old one for undo).

A draft may be invalid while it is written (a question without its English label, a condition
naming a question not written yet): these functions only refuse what would lose the data's shape
(an index out of range), and leave every other check to the schema (`check_definition`).
Positions are 0-based.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from questionnaires.library import library_question
from questionnaires.problems import Problem
from questionnaires.questions import QUESTION_TYPES

Data = dict[str, Any]


class EditError(Problem):
    """A change that cannot be made to the draft's data: the English message, and its reason
    code and values for a page in its reader's language (`survey.editor.problems`)."""


def _copy(data: Data) -> Data:
    return copy.deepcopy(data)


def _pages(data: Data) -> list[dict[str, Any]]:
    pages = data.get("pages")
    if not isinstance(pages, list):
        data["pages"] = pages = []
    return pages


def _page(data: Data, page: int) -> dict[str, Any]:
    pages = _pages(data)
    if not 0 <= page < len(pages) or not isinstance(pages[page], dict):
        raise EditError(f"there is no page {page + 1}", "no_page", page=page + 1)
    return pages[page]


def _questions(data: Data, page: int) -> list[dict[str, Any]]:
    found = _page(data, page)
    questions = found.get("questions")
    if not isinstance(questions, list):
        found["questions"] = questions = []
    return questions


def _question(data: Data, page: int, index: int) -> dict[str, Any]:
    questions = _questions(data, page)
    if not 0 <= index < len(questions):
        raise EditError(f"there is no question {index + 1} on page {page + 1}", "no_question",
                        question=index + 1, page=page + 1)
    return questions[index]


def codes(data: Data) -> list[str]:
    """Every question code of the data, in order."""
    return [
        question.get("code")
        for page in _pages(data)
        if isinstance(page, dict)
        for question in page.get("questions") or []
        if isinstance(question, dict) and isinstance(question.get("code"), str)
    ]


def free_code(data: Data, stem: str) -> str:
    """``stem``, or ``stem_2``, ``stem_3``… the first that no question uses."""
    stem = re.sub(r"[^a-z0-9_]", "_", stem.lower()).strip("_") or "question"
    if not stem[0].isalpha():
        stem = f"q_{stem}"
    used = set(codes(data))
    if stem not in used:
        return stem
    number = 2
    while f"{stem}_{number}" in used:
        number += 1
    return f"{stem}_{number}"


def _empty_text(data: Data) -> dict[str, str]:
    # A text to be written: the schema reports it as missing in every declared language.
    return {}


def new_question(data: Data, type_name: str) -> dict[str, Any]:
    """A question of type ``type_name`` with the least the type needs, texts left to write."""
    if type_name not in QUESTION_TYPES:
        raise EditError(f"unknown question type '{type_name}' (known: {', '.join(QUESTION_TYPES)})",
                        "unknown_question_type", type=type_name)
    question: dict[str, Any] = {
        "code": free_code(data, type_name), "type": type_name, "label": _empty_text(data),
    }
    if type_name == "rating":
        question["labels"] = {1: _empty_text(data), 5: _empty_text(data)}
    elif type_name in ("single_choice", "multiple_choice"):
        question["choices"] = [
            {"value": "a", "label": _empty_text(data)},
            {"value": "b", "label": _empty_text(data)},
        ]
    elif type_name == "callback":
        question["consent"] = _empty_text(data)
    return question


# --- the questionnaire ------------------------------------------------------------------------


def set_texts(data: Data, values: dict[str, Any]) -> Data:
    """Set the questionnaire's own fields (``version``, ``title``, ``introduction``,
    ``thank_you``); a text with no language written is removed (``thank_you`` is optional)."""
    changed = _copy(data)
    for name, value in values.items():
        if name not in ("version", "title", "introduction", "thank_you"):
            raise EditError(f"'{name}' is not a text of the questionnaire", "not_a_text",
                            name=name)
        blank = isinstance(value, dict) and not any(str(text).strip() for text in value.values())
        if blank and name == "thank_you":
            changed.pop(name, None)
        else:
            changed[name] = value
    return changed


# --- pages ------------------------------------------------------------------------------------


def add_page(data: Data) -> Data:
    changed = _copy(data)
    _pages(changed).append({"title": _empty_text(changed), "questions": []})
    return changed


def set_page_title(data: Data, page: int, title: dict[str, str] | None) -> Data:
    changed = _copy(data)
    found = _page(changed, page)
    if title is None or not any(text.strip() for text in title.values()):
        found.pop("title", None)
    else:
        found["title"] = title
    return changed


def move_page(data: Data, page: int, offset: int) -> Data:
    changed = _copy(data)
    pages = _pages(changed)
    _page(changed, page)
    target = page + offset
    if not 0 <= target < len(pages):
        raise EditError(f"page {page + 1} cannot move further", "page_cannot_move",
                        page=page + 1)
    pages.insert(target, pages.pop(page))
    return changed


def delete_page(data: Data, page: int) -> Data:
    changed = _copy(data)
    _page(changed, page)
    del _pages(changed)[page]
    return changed


# --- questions --------------------------------------------------------------------------------


def add_question(data: Data, page: int, question: dict[str, Any]) -> Data:
    """Append ``question`` (from ``new_question`` or the library) to ``page``."""
    changed = _copy(data)
    _questions(changed, page).append(copy.deepcopy(question))
    return changed


def add_library_question(data: Data, page: int, code: str) -> Data:
    try:
        question = library_question(code)
    except KeyError as error:
        raise EditError(str(error.args[0]), "unknown_library_question", code=code) from None
    if code in codes(data):
        raise EditError(f"the questionnaire already has a question '{code}'",
                        "library_question_present", code=code)
    return add_question(data, page, question)


def replace_question(data: Data, page: int, index: int, question: dict[str, Any]) -> Data:
    changed = _copy(data)
    _question(changed, page, index)
    _questions(changed, page)[index] = copy.deepcopy(question)
    return changed


def move_question(data: Data, page: int, index: int, offset: int) -> Data:
    """Move a question up (``offset`` -1) or down (+1); past the top or bottom of its page it
    goes to the end of the previous page or the start of the next one."""
    changed = _copy(data)
    question = _question(changed, page, index)
    questions = _questions(changed, page)
    target = index + offset
    if 0 <= target < len(questions):
        questions.insert(target, questions.pop(index))
        return changed
    other = page + (1 if offset > 0 else -1)
    if not 0 <= other < len(_pages(changed)):
        raise EditError("the question cannot move further", "question_cannot_move")
    questions.pop(index)
    if offset > 0:
        _questions(changed, other).insert(0, question)
    else:
        _questions(changed, other).append(question)
    return changed


def duplicate_question(data: Data, page: int, index: int) -> Data:
    """A copy just after the question, under a code no question uses."""
    changed = _copy(data)
    copied = copy.deepcopy(_question(changed, page, index))
    copied["code"] = free_code(changed, str(copied.get("code") or "question"))
    _questions(changed, page).insert(index + 1, copied)
    return changed


def delete_question(data: Data, page: int, index: int) -> Data:
    changed = _copy(data)
    _question(changed, page, index)
    del _questions(changed, page)[index]
    return changed


def question_at(data: Data, page: int, index: int) -> dict[str, Any]:
    return copy.deepcopy(_question(data, page, index))
