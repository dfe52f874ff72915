"""Diff and comparability of two questionnaires (pure, no database)."""

from __future__ import annotations

import copy

from questionnaires import check_definition, definition_data, get_bundled
from questionnaires.compare import comparability, diff
from questionnaires.library import LIBRARY, library_question


def _template_data() -> dict:
    return definition_data(get_bundled("nf-relation-client"))


def _load(data: dict):
    questionnaire, errors = check_definition(data)
    assert errors == []
    return questionnaire


def test_an_unchanged_questionnaire_keeps_every_trend() -> None:
    template = get_bundled("nf-relation-client")
    assert comparability(template, template) == []
    assert diff(template, template) == []


def test_a_changed_wording_scale_or_condition_breaks_the_item_trend() -> None:
    data = _template_data()
    changed = copy.deepcopy(data)
    questions = {q["code"]: q for page in changed["pages"] for q in page["questions"]}
    questions["courtesy"]["label"]["fr"] = "Nos conseillers ont-ils été aimables ?"
    questions["phone_wait"]["show_if"] = "'chat' in channels_used"
    questions["contact_reason"]["choices"].pop()
    # Help, required-ness and a chart label do not change what is measured.
    questions["overall"]["help"] = {"fr": "Une seule réponse", "en": "One answer"}
    questions["overall"]["chart_label"] = {"fr": "Global", "en": "Overall"}
    for page in changed["pages"]:
        page["questions"] = [q for q in page["questions"] if q["code"] != "confidentiality"]

    breaks = {item.code: item for item in comparability(_load(data), _load(changed))}
    assert set(breaks) == {"courtesy", "phone_wait", "contact_reason", "confidentiality"}
    assert breaks["courtesy"].fields == ("label",)
    assert breaks["phone_wait"].fields == ("show_if",)
    assert breaks["contact_reason"].fields == ("choices",)
    assert breaks["confidentiality"].reason == "removed"


def test_the_diff_says_what_was_added_removed_moved_and_changed() -> None:
    data = _template_data()
    changed = copy.deepcopy(data)
    changed["title"]["en"] = "Our service"
    first = changed["pages"][0]["questions"]
    first.insert(0, first.pop())  # complaint moves to the top of its page
    changed["pages"][1]["questions"] = changed["pages"][1]["questions"][1:]  # ease_of_reaching
    changed["pages"][0]["questions"].append({
        "code": "visit", "type": "yes_no", "label": {"fr": "Visite ?", "en": "Visit?"},
    })
    courtesy = next(q for p in changed["pages"] for q in p["questions"] if q["code"] == "courtesy")
    courtesy["required"] = True

    changes = diff(_load(data), _load(changed))
    kinds = {(c.kind, c.code, c.field) for c in changes}
    assert ("questionnaire", None, "title") in kinds
    assert ("moved", "complaint", None) in kinds
    assert ("removed", "ease_of_reaching", None) in kinds
    assert ("added", "visit", None) in kinds
    assert ("changed", "courtesy", "required") in kinds
    required = next(c for c in changes if c.code == "courtesy")
    assert (required.before, required.after) == (False, True)


def test_every_library_question_is_valid_on_its_own() -> None:
    for entry in LIBRARY:
        question = library_question(entry.code)
        assert question["code"] == entry.code and "show_if" not in question
        data = {"id": "lib", "version": "1", "languages": ["fr", "en"],
                "title": {"fr": "T", "en": "T"}, "introduction": {"fr": "I", "en": "I"},
                "pages": [{"questions": [question]}]}
        assert check_definition(data)[1] == [], entry.code


def test_a_chart_label_is_short_and_in_every_language() -> None:
    data = _template_data()
    question = data["pages"][0]["questions"][0]
    question["chart_label"] = {"fr": "x" * 41, "en": "Channels"}
    _, errors = check_definition(data, "draft")
    paths = {error.path: error.message for error in errors}
    assert "at most 40 characters (too long in fr)" in paths["pages[0].questions[0].chart_label"]
    question["chart_label"] = {"fr": "Canaux"}
    _, errors = check_definition(data, "draft")
    paths = {error.path: error.message for error in errors}
    assert "missing text for language 'en'" in paths["pages[0].questions[0].chart_label"]
