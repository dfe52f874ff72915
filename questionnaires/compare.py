"""Comparing two questionnaires: a readable diff, and the comparability of their items.

``diff`` lists what changed between two definitions (questionnaire texts, pages, questions added,
removed, moved or changed field by field), for a version history a person reads.

``comparability`` answers the question a yearly barometer asks: which items of last year can
still be compared with this year's? An item is compared by its code; its trend is broken when a
field of its type's ``trend_fields`` changed (wording, scale, point labels, choices, condition,
type), and an item of last year that is gone has no trend at all. Help texts, required-ness,
chart labels, order and pages do not break a trend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from questionnaires.schema import Questionnaire

__all__ = ["Change", "TrendBreak", "comparability", "diff"]

_QUESTIONNAIRE_FIELDS = ("version", "languages", "title", "introduction", "thank_you")


@dataclass(frozen=True)
class Change:
    """One difference between two definitions.

    ``kind`` is ``questionnaire`` (a field of the questionnaire itself), ``page`` (a page's
    title; ``page`` is its 0-based index), ``added``, ``removed``, ``moved`` or ``changed`` (a
    question, by ``code``; ``field`` names the changed field). ``before`` and ``after`` are the
    values (None when absent); for a move, the (page, position) pairs, 0-based.
    """

    kind: str
    code: str | None = None
    field: str | None = None
    page: int | None = None
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class TrendBreak:
    """An item of the previous questionnaire whose trend is broken: ``removed`` or ``changed``,
    with the fields that changed (``type``, ``label``, ``show_if``, ``min``…)."""

    code: str
    reason: str
    fields: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "fields": list(self.fields)}


def diff(before: Questionnaire, after: Questionnaire) -> list[Change]:
    """Every difference from ``before`` to ``after``, in reading order."""
    changes: list[Change] = []
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    for name in _QUESTIONNAIRE_FIELDS:
        if old.get(name) != new.get(name):
            changes.append(Change("questionnaire", field=name, before=old.get(name),
                                  after=new.get(name)))
    for index in range(max(len(old["pages"]), len(new["pages"]))):
        title_before = old["pages"][index]["title"] if index < len(old["pages"]) else None
        title_after = new["pages"][index]["title"] if index < len(new["pages"]) else None
        if title_before != title_after:
            changes.append(Change("page", page=index, field="title", before=title_before,
                                  after=title_after))

    places_before = _places(old)
    places_after = _places(new)
    for code, (place, question) in places_after.items():
        if code not in places_before:
            changes.append(Change("added", code=code, page=place[0], after=question))
            continue
        old_place, old_question = places_before[code]
        if old_place != place:
            changes.append(Change("moved", code=code, page=place[0], before=old_place,
                                  after=place))
        for name in dict.fromkeys([*old_question, *question]):
            if name != "code" and old_question.get(name) != question.get(name):
                changes.append(Change("changed", code=code, field=name, page=place[0],
                                      before=old_question.get(name), after=question.get(name)))
    for code, (place, question) in places_before.items():
        if code not in places_after:
            changes.append(Change("removed", code=code, page=place[0], before=question))
    return changes


def comparability(previous: Questionnaire, current: Questionnaire) -> list[TrendBreak]:
    """The items of ``previous`` that ``current`` no longer measures the same way, in
    ``previous``'s order; an empty list when every trend is kept."""
    current_by_code = {question.code: question for _, question in current.questions()}
    breaks = []
    for _, question in previous.questions():
        kept = current_by_code.get(question.code)
        if kept is None:
            breaks.append(TrendBreak(question.code, "removed"))
            continue
        before, after = question.trend_signature(), kept.trend_signature()
        changed = tuple(
            name for name in dict.fromkeys([*before, *after]) if before.get(name) != after.get(name)
        )
        if changed:
            breaks.append(TrendBreak(question.code, "changed", changed))
    return breaks


def _places(data: dict[str, Any]) -> dict[str, tuple[tuple[int, int], dict[str, Any]]]:
    return {
        question["code"]: ((page_index, index), question)
        for page_index, page in enumerate(data["pages"])
        for index, question in enumerate(page["questions"])
    }
