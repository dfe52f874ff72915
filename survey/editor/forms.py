"""The editor's forms: a submitted question or questionnaire form read into definition data, and
the schema's errors placed next to the fields they concern.

The fields depend on the question's type and on the questionnaire's languages (one box per
language for every text), so they are read from the request's form by name rather than declared
as WTForms classes. Names follow the definition's paths: ``label-fr`` is ``label.fr``,
``choices-2-label-en`` is ``choices[2].label.en``, ``labels-5-fr`` is ``labels.5.fr``. Values
are kept as typed when they cannot be read (``max: "five"``): the schema then says what is wrong
with them, in the same words as ``questionnaires validate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from questionnaires import DefinitionError
from questionnaires.questions import NOT_APPLICABLE
from survey.editor.problems import FIELD_NAMES, field_text, problem_text

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
"""The condition helper's operators; ``in`` tests that a multiple choice includes the value."""

# Fields each type has beyond the common ones, so that a type change drops the old type's.
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "rating": ("min", "max", "labels", "not_applicable", "satisfied", "index_weight", "overall"),
    "nps": ("labels",),
    "single_choice": ("choices", "satisfied"),
    "multiple_choice": ("choices", "max_selected"),
    "yes_no": ("satisfied",),
    "text": ("max_length", "multiline"),
    "callback": ("consent", "channels", "channel_label"),
}
COMMON_FIELDS = ("code", "type", "label", "chart_label", "help", "required", "show_if")


def _text(form: Mapping[str, Any], name: str, languages: list[str]) -> dict[str, str]:
    """A localized text from ``<name>-<lang>`` boxes; languages left blank are omitted (the
    schema reports them as missing)."""
    found = {}
    for lang in languages:
        value = (form.get(f"{name}-{lang}") or "").strip()
        if value:
            found[lang] = value
    return found


def _set_text(data: dict[str, Any], name: str, text: dict[str, str], *, optional: bool) -> None:
    if optional and not text:
        data.pop(name, None)
    else:
        data[name] = text


def _number(value: str) -> int | float | str:
    value = value.strip()
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if re.fullmatch(r"-?\d+[.,]\d+", value):
        return float(value.replace(",", "."))
    return value


def _set_optional(data: dict[str, Any], name: str, value: Any) -> None:
    if value is None or value == "" or value == []:
        data.pop(name, None)
    else:
        data[name] = value


def _checked(form: Mapping[str, Any], name: str) -> bool:
    return form.get(name) not in (None, "", "0", "off", "false")


def _values(text: str, *, numbers: bool) -> list[Any]:
    items = [item.strip() for item in re.split(r"[,;\s]+", text) if item.strip()]
    return [_number(item) if numbers else item for item in items]


def question_from_form(
    form: Any, question: dict[str, Any], languages: list[str]
) -> dict[str, Any]:
    """``question`` (definition data) updated from a submitted question form."""
    data = dict(question)
    data["code"] = (form.get("code") or "").strip()
    type_name = (form.get("type") or data.get("type") or "").strip()
    if type_name != data.get("type"):
        for name in TYPE_FIELDS.get(str(data.get("type")), ()):
            data.pop(name, None)
    data["type"] = type_name
    _set_text(data, "label", _text(form, "label", languages), optional=False)
    _set_text(data, "chart_label", _text(form, "chart_label", languages), optional=True)
    _set_text(data, "help", _text(form, "help", languages), optional=True)
    _set_optional(data, "required", True if _checked(form, "required") else None)
    _set_optional(data, "show_if", (form.get("show_if") or "").strip() or None)

    if type_name == "rating":
        low = _number(form.get("min") or "1")
        high = _number(form.get("max") or "5")
        # The schema's defaults are left out, as in a file written by hand.
        _set_optional(data, "min", None if low == 1 else low)
        _set_optional(data, "max", None if high == 5 else high)
        data["labels"] = _point_labels(form, low, high, languages)
        _set_optional(data, "not_applicable", True if _checked(form, "not_applicable") else None)
        _set_optional(data, "satisfied", _values(form.get("satisfied") or "", numbers=True))
        _set_optional(data, "index_weight", _number(form.get("index_weight") or "") or None)
        _set_optional(data, "overall", True if _checked(form, "overall") else None)
    elif type_name == "nps":
        labels = _point_labels(form, 0, 10, languages)
        _set_optional(data, "labels", labels or None)
    elif type_name in ("single_choice", "multiple_choice"):
        data["choices"] = _choices(form, languages)
        if type_name == "single_choice":
            _set_optional(data, "satisfied", _values(form.get("satisfied") or "", numbers=False))
        else:
            _set_optional(data, "max_selected", _number(form.get("max_selected") or "") or None)
    elif type_name == "yes_no":
        satisfied = form.get("satisfied") or ""
        _set_optional(data, "satisfied", {"yes": True, "no": False}.get(satisfied))
    elif type_name == "text":
        _set_optional(data, "max_length", _number(form.get("max_length") or "") or None)
        _set_optional(data, "multiline", None if _checked(form, "multiline") else False)
    elif type_name == "callback":
        data["consent"] = _text(form, "consent", languages)
        channels = list(form.getlist("channels")) if hasattr(form, "getlist") else []
        _set_optional(data, "channels", None if channels == ["phone", "email"] else channels)
        _set_text(data, "channel_label", _text(form, "channel_label", languages), optional=True)
    return data


def _point_labels(
    form: Mapping[str, Any], low: Any, high: Any, languages: list[str]
) -> dict[int, dict[str, str]]:
    if not (isinstance(low, int) and isinstance(high, int)) or not 0 <= high - low <= 10:
        return {}
    labels = {}
    for point in range(low, high + 1):
        text = _text(form, f"labels-{point}", languages)
        if text:
            labels[point] = text
    return labels


def _choices(form: Mapping[str, Any], languages: list[str]) -> list[dict[str, Any]]:
    choices = []
    index = 0
    while f"choices-{index}-value" in form:
        value = (form.get(f"choices-{index}-value") or "").strip()
        label = _text(form, f"choices-{index}-label", languages)
        if value or label:  # a row left blank (the one offered for a new choice) is no choice
            choices.append({"value": value, "label": label})
        index += 1
    return choices


def condition_text(operator: str, code: str, value: str, possible: frozenset[object] | None
                   ) -> str:
    """A ``show_if`` built by the helper: question, operator and value. The value is written
    as the answer's kind (number, text, true/false), as the condition compares kinds."""
    if operator not in OPERATORS:
        raise ValueError(f"unknown operator '{operator}'")
    literal = _literal(value.strip(), possible)
    if operator in ("in", "not in"):
        return f"{literal} {operator} {code}"
    return f"{code} {operator} {literal}"


def possible_values(question: Any) -> frozenset[object] | None:
    """The answers a condition may compare a question (definition data) with, read even from a
    question that does not validate yet (by its type)."""
    from pydantic import ValidationError

    from questionnaires.questions import QUESTION_TYPES

    if not isinstance(question, dict) or question.get("type") not in QUESTION_TYPES:
        return None
    try:
        return QUESTION_TYPES[question["type"]].model_validate(question).possible_values()
    except ValidationError:
        if question["type"] in ("yes_no", "callback"):
            return frozenset({True, False})
        return None


def _literal(value: str, possible: frozenset[object] | None) -> str:
    lowered = value.lower()
    if possible and lowered in ("true", "false", "yes", "no", "oui", "non") and (
        True in possible or False in possible
    ):
        return "true" if lowered in ("true", "yes", "oui") else "false"
    if re.fullmatch(r"-?\d+(\.\d+)?", value) and value != NOT_APPLICABLE:
        return value
    return "'" + value.replace("'", "’") + "'"


def field_id(path: str, prefix: str) -> str | None:
    """The form field name of an error's ``path`` under ``prefix`` (``pages[0].questions[2]``),
    or None when the error is elsewhere."""
    if path != prefix and not path.startswith((prefix + ".", prefix + "[")):
        return None
    rest = path[len(prefix):]
    return re.sub(r"\[(\d+)\]|\.", lambda m: f"-{m.group(1)}" if m.group(1) else "-", rest
                  ).strip("-") or "question"


def errors_by_field(errors: list[DefinitionError], prefix: str) -> dict[str, list[str]]:
    """Messages of the errors under ``prefix``, by form field name, in the page's language."""
    found: dict[str, list[str]] = {}
    for error in errors:
        name = field_id(error.path, prefix)
        if name is not None:
            found.setdefault(name, []).append(problem_text(error))
    return found


def field_names(errors: list[DefinitionError], prefix: str) -> dict[str, str]:
    """The form field names of the errors under ``prefix``, each with the field said in words
    (``choices › 2 › wording › English``) for the summary that links to it."""
    names: dict[str, str] = {}
    for error in errors:
        name = field_id(error.path, prefix)
        if name is not None:
            rest = error.path[len(prefix):].lstrip(".")
            names[name] = field_text(rest) if rest else str(FIELD_NAMES["questions"])
    return names


def located_errors(errors: list[DefinitionError]) -> list[dict[str, Any]]:
    """Each error with where it is: the page and question (1-based, for people) and the field,
    for the summary that links every error to its place."""
    located = []
    for error in errors:
        match = re.match(r"pages\[(\d+)\](?:\.questions\[(\d+)\])?\.?(.*)", error.path)
        page = int(match.group(1)) if match else None
        question = int(match.group(2)) if match and match.group(2) is not None else None
        field = match.group(3) if match else error.path
        located.append({"page": page, "question": question, "field": field_text(field),
                        "path": error.path, "message": problem_text(error),
                        "reason": error.reason, "params": error.params})
    return located
