"""The editor's errors in the page's language (issue #17): every reason the schema, the condition
parser and the editor can give has words in both catalogues, and a draft with one error of each
kind is shown in French without an English sentence, while the command line keeps its English."""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

from flask_babel import force_locale

from questionnaires import check_definition
from questionnaires import loader as loader_module
from questionnaires.conditions import _REFUSED_CHARACTERS
from questionnaires.loader import definition_data, get_bundled
from survey import PROJECT_ROOT
from survey.editor.forms import located_errors
from survey.editor.problems import FIELD_NAMES, PROBLEMS, field_text
from tests.editor.test_views import BASE, log_in

# Words of English that a French sentence never holds.
ENGLISH = {"the", "and", "with", "from", "this", "that", "which", "is", "are", "of", "to", "by",
           "missing", "text", "language", "label", "labels", "both", "ends", "scale", "must",
           "refers", "unknown", "field", "required", "not", "valid", "use", "expected", "found"}


def broken_definition() -> dict:
    """The bundled questionnaire with one error of each kind a manager meets."""
    data = copy.deepcopy(definition_data(get_bundled("nf-relation-client")))
    pages = data["pages"]
    del pages[0]["questions"][1]["label"]["en"]                       # a text missing
    pages[1]["questions"][0]["labels"] = {1: {"fr": "Mal", "en": "Bad"},
                                          3: {"fr": "Moyen", "en": "Fair"}}  # labels incomplete
    pages[1]["questions"][1]["max"] = 0                                # scale inverted
    pages[1]["questions"][2]["show_if"] = "'phone' in"                 # condition syntax
    pages[1]["questions"][3]["show_if"] = "no_such_question == 1"     # unknown question
    pages[2]["questions"][0]["code"] = "Courtoisie"                    # bad code
    pages[2]["questions"][1]["code"] = "confidentiality"               # code repeated
    pages[2]["questions"][3]["colour"] = "blue"                        # unknown field
    pages[2]["questions"][4]["chart_label"] = {"fr": "x" * 80, "en": "x"}  # chart label too long
    pages[2]["questions"][5]["max"] = "five"                           # not a number
    pages[3]["questions"][2]["type"] = "slider"                        # unknown type
    return data


def _reasons_in_source() -> set[str]:
    """Every reason code written in `questionnaires` and the editor's services."""
    found: set[str] = set()
    calls = {"Problem": 1, "ConditionError": 2, "EditError": 1, "_Found": 2}
    files = [*sorted((PROJECT_ROOT / "questionnaires").glob("*.py")),
             PROJECT_ROOT / "survey" / "editor" / "edits.py",
             PROJECT_ROOT / "survey" / "editor" / "operations.py"]
    for path in files:
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                arguments = [keyword.value for keyword in node.keywords if keyword.arg == "reason"]
                if name in calls and len(node.args) > calls[name]:
                    arguments.append(node.args[calls[name]])
                for argument in arguments:
                    found |= {c.value for c in ast.walk(argument)
                              if isinstance(c, ast.Constant) and isinstance(c.value, str)}
            elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                  and any(getattr(t, "id", "") == "reason" for t in node.targets)):
                found.add(node.value.value)
    found |= {reason for _message, reason in _REFUSED_CHARACTERS.values()}
    found |= {reason for _hint, reason in loader_module._PATTERN_HINTS.values()}
    found |= {reason for reason, _names in loader_module._PYDANTIC_REASONS.values()}
    return found


def test_every_reason_has_words_in_both_languages(app) -> None:
    reasons = _reasons_in_source()
    assert {"labels_incomplete", "condition_empty", "nothing_to_undo", "bad_code"} <= reasons
    assert not reasons - set(PROBLEMS), "reasons without words on a page"
    with app.test_request_context("/"):
        for catalogue in (PROBLEMS, FIELD_NAMES):
            for reason, text in catalogue.items():
                with force_locale("fr"):
                    french = str(text)
                with force_locale("en"):
                    english = str(text)
                assert french and english, reason
                if len(english.split()) > 2:
                    assert french != english, f"{reason} has no French"


def test_a_broken_draft_is_worded_in_french_with_its_place(app) -> None:
    _questionnaire, errors = check_definition(broken_definition(), "draft")
    reasons = {error.reason for error in errors}
    assert {"missing_language", "labels_incomplete", "scale_inverted", "condition_value_expected",
            "condition_unknown_question", "bad_code", "unknown_field", "chart_label_too_long",
            "not_whole_number", "unknown_question_type"} <= reasons, reasons
    assert "invalid" not in reasons
    with app.test_request_context("/"), force_locale("fr"):
        located = located_errors(errors)
        for error, shown in zip(errors, located, strict=True):
            words = re.findall(r"[A-Za-z]+", f"{shown['message']} {shown['field']}")
            english = sorted({word for word in words if word.lower() in ENGLISH})
            assert not english, f"{error.path} ({error.reason}): {shown['message']!r}"
        by_reason = {error.reason: shown for error, shown in zip(errors, located, strict=True)}
        assert by_reason["labels_incomplete"]["message"] == (
            "Donnez un libellé aux deux extrémités de l’échelle (1 et 5) ou à chacun de ses "
            "points (manquants : 2, 4, 5).")
        assert by_reason["missing_language"]["message"] == "Le texte manque en anglais."
        assert by_reason["missing_language"]["field"] == "libellé"
        assert (by_reason["missing_language"]["page"], by_reason["missing_language"]["question"]
                ) == (0, 1)
        assert by_reason["condition_value_expected"]["message"] == (
            "Caractère 11 : une valeur est attendue au lieu de la fin de la condition.")
        assert field_text("choices[1].label.en") == "réponses proposées › 2 › libellé › anglais"


def test_the_command_line_keeps_english_messages_with_the_place(app) -> None:
    _questionnaire, errors = check_definition(broken_definition(), "draft.yaml")
    lines = [str(error) for error in errors]
    assert "draft.yaml: pages[1].questions[0].labels: label both ends (1 and 5) or every point " \
           "of the scale (missing: [2, 4, 5])" in lines
    assert any(line.startswith("draft.yaml: pages[0].questions[1].label: missing text for "
                               "language 'en'") for line in lines)


def test_the_editor_pages_say_a_broken_draft_in_french(app, client) -> None:
    from survey.editor import operations as editor
    from survey.extensions import db

    log_in(app, client)
    with app.app_context():
        editor.create_draft(db.session, "casse", data=broken_definition(), actor="test",
                            source="test")
        db.session.commit()
    page = client.get(f"{BASE}/drafts/casse?lang=fr")
    assert "Donnez un libellé aux deux extrémités" in page.text
    assert "label both ends" not in page.text and "missing text" not in page.text
    question = client.get(f"{BASE}/drafts/casse/pages/1/questions/0?lang=fr")
    assert "Donnez un libellé aux deux extrémités" in question.text
    assert ">libellés de l’échelle</a>" in question.text
    # French sets its colons apart: "libellé : Le texte", "Français : …".
    assert ">libellés de l’échelle</a> : Donnez" in question.text
    assert "Français : " in page.text and "</a> : " in page.text and "</a>: " not in page.text
    english = client.get(f"{BASE}/drafts/casse/pages/1/questions/0?lang=en")
    assert "Label both ends of the scale (1 and 5) or every point" in english.text
    assert ">labels of the scale</a>: Label" in english.text
    refused = client.post(f"{BASE}/drafts/casse/undo?lang=fr", follow_redirects=True)
    assert "Il n’y a aucune modification à annuler." in refused.text
