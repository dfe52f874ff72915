"""Questionnaire definitions: schema, loader, display conditions and the WTForms builder.

Depends on nothing else in barometre, so that definitions can be checked on their own
(``barometre questionnaires validate FILE...``).
"""

from questionnaires.conditions import Condition, ConditionError, parse_condition
from questionnaires.forms import (
    build_page_form_class,
    clean_page_answers,
    is_last_page,
    next_page_index,
    previous_page_index,
    visible_questions,
)
from questionnaires.loader import (
    BundledDefinition,
    DefinitionError,
    DefinitionInvalid,
    UnknownQuestionnaire,
    canonical_json,
    check_definition,
    definition_data,
    definition_sha256,
    definition_yaml,
    get_bundled,
    list_bundled,
    load_definition,
    validate_file,
)
from questionnaires.questions import NOT_APPLICABLE, QUESTION_TYPES, Question
from questionnaires.schema import Page, Questionnaire

__all__ = [
    "NOT_APPLICABLE",
    "QUESTION_TYPES",
    "BundledDefinition",
    "Condition",
    "ConditionError",
    "DefinitionError",
    "DefinitionInvalid",
    "Page",
    "Question",
    "Questionnaire",
    "UnknownQuestionnaire",
    "build_page_form_class",
    "canonical_json",
    "check_definition",
    "clean_page_answers",
    "definition_data",
    "definition_sha256",
    "definition_yaml",
    "get_bundled",
    "is_last_page",
    "list_bundled",
    "load_definition",
    "next_page_index",
    "parse_condition",
    "previous_page_index",
    "validate_file",
    "visible_questions",
]
