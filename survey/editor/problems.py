"""The editor's refusals in the page's language.

`questionnaires` names every problem of a definition with a stable ``reason`` and its values
(:mod:`questionnaires.problems`), as do the editor's own refusals (``EditorError``,
``EditError``); their English messages are the command line's. A page words them here, from
Babel's catalogue, so that a French page shows no English sentence and no internal name: the
place of an error (page, question, field) is said in words too.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from survey.problems import worded_problem

#: Each reason a person can meet in the editor, worded with its values (``%(name)s``).
PROBLEMS = {
    # texts and languages
    "missing_language": _l("The text is missing in %(missing)s."),
    "undeclared_language": _l("Text in %(undeclared)s, a language the questionnaire does not "
                              "declare (it declares %(declared)s)."),
    "missing_and_undeclared_language": _l("The text is missing in %(missing)s, and written in "
                                          "%(undeclared)s, a language the questionnaire does "
                                          "not declare (it declares %(declared)s)."),
    "unsupported_language": _l("Unsupported language: %(languages)s (supported: "
                               "%(supported)s)."),
    "languages_repeated": _l("A language is repeated: %(languages)s."),
    "chart_label_too_long": _l("A chart label has at most %(max)s characters (too long in "
                               "%(languages)s)."),
    # scales and choices
    "labels_outside_scale": _l("Labels for points %(points)s, outside the scale %(low)s to "
                               "%(high)s."),
    "labels_incomplete": _l("Label both ends of the scale (%(low)s and %(high)s) or every "
                            "point (missing: %(missing)s)."),
    "values_outside_scale": _l("Values %(values)s are outside the scale %(low)s to %(high)s."),
    "values_repeated": _l("Values are repeated: %(values)s."),
    "scale_inverted": _l("The scale is inverted or empty: the maximum (%(high)s) must be "
                         "above the minimum (%(low)s)."),
    "scale_too_long": _l("A scale has at most 11 points (%(low)s to %(high)s has "
                         "%(points)s)."),
    "choices_repeated": _l("Each choice needs a value of its own; repeated: %(values)s."),
    "satisfied_not_a_choice": _l("The “satisfied” values %(values)s are not among the "
                                 "choices."),
    "channels_repeated": _l("A way of contacting is repeated: %(values)s."),
    # the schema's own checks
    "required": _l("This field is required."),
    "unknown_field": _l("Unknown field “%(name)s” (check its spelling)."),
    "unknown_question_type": _l("Unknown question type “%(type)s”."),
    "question_type_required": _l("Choose the question's type."),
    "bad_code": _l("“%(value)s” cannot be a code: use lower-case letters, digits and “_”, "
                   "starting with a letter."),
    "bad_value_name": _l("“%(value)s” cannot be a value: use lower-case letters, digits and "
                         "“_”."),
    "bad_key": _l("“%(value)s” cannot be a key: use lower-case letters, digits and “-”."),
    "not_whole_number": _l("Enter a whole number."),
    "not_number": _l("Enter a number."),
    "not_boolean": _l("Enter yes or no."),
    "not_text": _l("Enter a text."),
    "not_list": _l("Enter a list."),
    "not_mapping": _l("This part of the questionnaire is not laid out as expected."),
    "text_too_short": _l("The text is too short (at least %(min_length)s characters)."),
    "text_too_long": _l("The text is too long (at most %(max_length)s characters)."),
    "too_few_items": _l("Give at least %(min_length)s."),
    "too_many_items": _l("Give at most %(max_length)s."),
    "not_above": _l("Enter a number above %(gt)s."),
    "below_minimum": _l("Enter a number of at least %(ge)s."),
    "not_below": _l("Enter a number below %(lt)s."),
    "above_maximum": _l("Enter a number of at most %(le)s."),
    "not_one_of": _l("Choose one of: %(expected)s."),
    "invalid": _l("This value is not valid."),
    # across questions
    "code_repeated": _l("The code %(code)s is already used by question %(question)s of page "
                        "%(page)s."),
    "column_clash": _l("The question %(code)s produces the field or column %(name)s, which "
                       "clashes with the question %(owner)s."),
    "overall_repeated": _l("Only one question can be the overall item; %(code)s already is."),
    "index_scales_differ": _l("Index items must share one scale: %(low)s to %(high)s differs "
                              "from %(code)s (%(reference_low)s to %(reference_high)s)."),
    # conditions
    "condition_unknown_question": _l("The condition refers to an unknown question, %(code)s."),
    "condition_later_question": _l("The condition refers to %(code)s, which is not asked "
                                   "before this question."),
    "condition_same_page": _l("The condition refers to %(code)s on the same page; a condition "
                              "can only use answers from earlier pages."),
    "condition_impossible_value": _l("%(value)s is never an answer to %(code)s (possible: "
                                     "%(possible)s)."),
    "condition_attribute": _l("Character %(character)s: “.” is not allowed in a condition."),
    "condition_single_equals": _l("Character %(character)s: use “==” to compare."),
    "condition_colon": _l("Character %(character)s: “:” is not allowed in a condition."),
    "condition_backslash": _l("Character %(character)s: backslashes are not allowed in "
                              "texts."),
    "condition_unterminated_text": _l("Character %(character)s: a text is not closed (missing "
                                      "closing quote)."),
    "condition_character": _l("Character %(character)s: “%(found)s” is not allowed in a "
                              "condition."),
    "condition_underscore": _l("Character %(character)s: “%(name)s” is not allowed (names "
                               "cannot start with “_”)."),
    "condition_capital_boolean": _l("Character %(character)s: write true or false in lower "
                                    "case, not “%(name)s”."),
    "condition_keyword": _l("Character %(character)s: “%(name)s” is not allowed in a "
                            "condition."),
    "condition_too_deep": _l("The condition nests parentheses or “not” more than %(maximum)s "
                             "levels deep: write it more simply."),
    "condition_expected": _l("Character %(character)s: “%(expected)s” expected, %(found)s "
                             "found."),
    "condition_empty": _l("The condition is empty."),
    "condition_unexpected": _l("Character %(character)s: %(found)s is unexpected."),
    "condition_not_without_in": _l("Character %(character)s: “in” expected after “not”, "
                                   "%(found)s found."),
    "condition_in_needs_list": _l("Character %(character)s: “in” needs a list ([1, 2]) or a "
                                  "multiple-choice question on its right."),
    "condition_value_expected": _l("Character %(character)s: a value expected, %(found)s "
                                   "found."),
    "condition_call": _l("Character %(character)s: “%(name)s” cannot be called; the only "
                         "function is answered(code)."),
    "condition_answered_argument": _l("Character %(character)s: answered() takes a question "
                                      "code, %(found)s found."),
    "condition_subscript": _l("Character %(character)s: subscripts are not allowed."),
    "condition_answered_alone": _l("Character %(character)s: answered is a function: write "
                                   "answered(code)."),
    "condition_list_items": _l("Character %(character)s: a list may only contain numbers, "
                               "texts, true or false."),
    "condition_name_alone": _l("Character %(character)s: %(code)s alone is not a condition: "
                               "compare it (%(code)s == …) or write answered(%(code)s)."),
    "condition_value_alone": _l("Character %(character)s: a value alone is not a condition."),
    "condition_compared": _l("Character %(character)s: a condition cannot be compared; "
                             "combine conditions with “and” or “or”."),
    # files
    "not_json": _l("The frozen copy is not JSON."),
    "id_not_file_name": _l("The key must be the file's name, %(name)s."),
    "file_not_found": _l("The file cannot be found."),
    "file_is_directory": _l("This is a folder, not a definition file."),
    "file_unreadable": _l("The file cannot be read."),
    "not_utf8": _l("The file is not UTF-8 text (line %(line)s): save it as UTF-8."),
    "yaml_error": _l("The file is not valid YAML."),
    "yaml_syntax": _l("YAML syntax error on line %(line)s, column %(column)s."),
    "empty_definition": _l("The file is empty: a definition has a key, a version, languages, "
                           "a title and pages."),
    "not_a_mapping": _l("The file does not hold a definition (a key, a version, languages, a "
                        "title and pages)."),
    # the editor's own refusals
    "no_page": _l("There is no page %(page)s."),
    "no_question": _l("There is no question %(question)s on page %(page)s."),
    "not_a_text": _l("This is not a text of the questionnaire."),
    "page_cannot_move": _l("Page %(page)s cannot move further."),
    "question_cannot_move": _l("The question cannot move further."),
    "unknown_library_question": _l("The library has no question %(code)s."),
    "library_question_present": _l("The questionnaire already has a question %(code)s."),
    "no_draft": _l("There is no questionnaire draft %(key)s."),
    "no_version": _l("No version of the questionnaire %(key)s has been frozen."),
    "no_version_number": _l("Version %(number)s of the questionnaire %(key)s has not been "
                            "frozen."),
    "bad_draft_key": _l("“%(key)s” cannot be a questionnaire's key: use lower-case letters, "
                        "digits and “-” (at most 64)."),
    "template_key": _l("%(key)s is the key of a template: give the copy a key of its own."),
    "draft_exists": _l("A draft %(key)s already exists."),
    "unknown_template": _l("There is no template %(key)s."),
    "nothing_to_undo": _l("There is no change to undo."),
    "draft_has_errors": _l("The draft has errors: correct them before freezing it."),
    "bad_version_number": _l("The version after “@” is a number."),
    "draft_not_frozen": _l("The questionnaire %(key)s is a draft: freeze it first."),
    "unknown_questionnaire": _l("There is no questionnaire %(key)s."),
    "no_previous_campaign": _l("The campaign has no previous campaign to compare with."),
    "campaign_launched": _l("Only a campaign in draft can change its questionnaire."),
    "refused": _l("This cannot be done."),
}

#: The definition's field names, as a person reads them where an error is.
FIELD_NAMES = {
    "id": _l("key"),
    "version": _l("version"),
    "languages": _l("languages"),
    "title": _l("title"),
    "introduction": _l("introduction"),
    "thank_you": _l("thank-you message"),
    "pages": _l("pages"),
    "questions": _l("questions"),
    "code": _l("code"),
    "type": _l("question type"),
    "label": _l("wording"),
    "chart_label": _l("chart label"),
    "help": _l("help text"),
    "required": _l("answer required"),
    "show_if": _l("condition"),
    "min": _l("lowest point"),
    "max": _l("highest point"),
    "labels": _l("labels of the scale"),
    "not_applicable": _l("“not applicable” option"),
    "satisfied": _l("satisfied answers"),
    "index_weight": _l("weight in the index"),
    "overall": _l("overall item"),
    "choices": _l("choices"),
    "value": _l("value"),
    "max_selected": _l("most choices allowed"),
    "max_length": _l("longest answer"),
    "multiline": _l("several lines"),
    "consent": _l("consent"),
    "channels": _l("ways of contacting"),
    "channel_label": _l("wording of the ways of contacting"),
}

LANGUAGE_NAMES = {"fr": _l("French"), "en": _l("English")}


# Values that are names the author wrote (codes, keys, typed values): shown as code, as the
# editor shows codes everywhere, never taken for words of the sentence.
_AS_CODE = ("code", "owner", "key", "name", "value", "values", "expected", "possible", "type",
            "reference", "campaign", "points")


def problem_text(error: Any) -> Markup:
    """A refusal or a definition's error in the reader's language, from its ``reason`` and
    ``params``; a reason without words here says only that the value is not valid (never the
    English message). Markup: the author's names are set as ``<code>``, everything escaped."""
    fallback = "invalid" if getattr(error, "reason", None) else "refused"
    return worded_problem(error, PROBLEMS, _word_value, fallback=fallback)


def _word_value(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name in ("missing", "undeclared", "declared", "languages", "supported"):
        return escape(_languages(str(value)))
    if name == "found":
        return escape(_("the end of the condition")) if value == "" \
            else Markup("“<code>%s</code>”") % value
    if name in _AS_CODE:
        return Markup("<code>%s</code>") % value
    return escape(value)


def _languages(codes: str) -> str:
    return ", ".join(str(LANGUAGE_NAMES.get(code.strip(), code.strip()))
                     for code in codes.split(",") if code.strip())


def field_text(field: str) -> str:
    """A definition's path inside a question or the questionnaire (``choices[1].label.en``)
    in words: ``choices › 2 › wording › English``."""
    words = []
    for step in re.findall(r"\[(\d+)\]|([^.\[\]]+)", field):
        index, name = step
        if index:
            words.append(str(int(index) + 1))
        elif name in LANGUAGE_NAMES:
            words.append(str(LANGUAGE_NAMES[name]))
        elif name.isdigit():
            words.append(_("point %(point)s", point=name))
        else:
            words.append(str(FIELD_NAMES.get(name, name)))
    return " › ".join(words)
