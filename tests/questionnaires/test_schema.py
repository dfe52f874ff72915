import pytest
from pydantic import ValidationError

from questionnaires import QUESTION_TYPES, get_bundled, load_definition
from questionnaires.questions import RatingQuestion


def test_questions_iterate_in_order_with_their_page(small):
    assert [(page, question.code) for page, question in small.questions()] == [
        (0, "channels"),
        (0, "reason"),
        (0, "complaint"),
        (1, "wait"),
        (1, "handling"),
        (2, "overall"),
        (2, "nps"),
        (2, "comment"),
        (2, "contact"),
    ]


def test_every_question_type_is_registered_and_used_in_the_fixture(small):
    assert set(QUESTION_TYPES) == {
        "rating",
        "nps",
        "single_choice",
        "multiple_choice",
        "yes_no",
        "text",
        "callback",
    }
    assert {question.type_name for _, question in small.questions()} == set(QUESTION_TYPES)
    for name, question_class in QUESTION_TYPES.items():
        assert question_class.type_name == name


def test_unknown_question_is_a_clear_error(small):
    with pytest.raises(KeyError, match="questionnaire 'small' has no question 'q99'"):
        small.question("q99")


def test_analysis_indicators_follow_the_contract(small):
    assert small.analysis_indicators() == [
        {"name": "overall_mean", "kind": "mean", "item": "overall"},
        {"name": "overall_satisfied", "kind": "proportion", "item": "overall", "values": [4, 5]},
        {"name": "reason_satisfied", "kind": "proportion", "item": "reason", "values": ["solved"]},
        {"name": "wait_mean", "kind": "mean", "item": "wait"},
        {"name": "wait_satisfied", "kind": "proportion", "item": "wait", "values": [4, 5]},
        {"name": "handling_mean", "kind": "mean", "item": "handling"},
        {"name": "nps", "kind": "nps", "item": "nps"},
        {"name": "index", "kind": "index", "items": {"wait": 2, "handling": 1}, "scale": [1, 5]},
    ]


def test_bundled_indicators_name_existing_items_once():
    questionnaire = get_bundled("nf-relation-client")
    indicators = questionnaire.analysis_indicators()
    names = [indicator["name"] for indicator in indicators]
    assert len(names) == len(set(names))
    assert names[:2] == ["overall_mean", "overall_satisfied"]
    (index,) = [indicator for indicator in indicators if indicator["kind"] == "index"]
    assert index["scale"] == [1, 5]
    assert "overall" not in index["items"]
    assert index["items"]["answer_reliability"] == 2
    assert all(isinstance(questionnaire.question(code), RatingQuestion) for code in index["items"])
    assert {"name": "nps", "kind": "nps", "item": "nps"} in indicators


def test_yes_no_satisfied_becomes_a_proportion_of_ones():
    questionnaire = load_definition(
        """\
id: yn
version: "1"
languages: [en]
title: {en: T}
introduction: {en: I}
pages:
  - questions:
      - {code: solved, type: yes_no, label: {en: "Solved?"}, satisfied: true}
      - {code: recommend, type: nps, label: {en: Recommend}}
"""
    )
    assert questionnaire.analysis_indicators() == [
        {"name": "solved_satisfied", "kind": "proportion", "item": "solved", "values": [1]},
        {"name": "recommend_nps", "kind": "nps", "item": "recommend"},
    ]
    assert questionnaire.analysis_record({"solved": True, "recommend": 7}) == {
        "solved": 1,
        "recommend": 7,
    }


def test_data_dictionary_describes_every_exported_column(small):
    dictionary = {entry["code"]: entry for entry in small.data_dictionary("en")}
    assert list(dictionary) == [
        "channels_phone",
        "channels_email",
        "channels_letter",
        "reason",
        "complaint",
        "wait",
        "handling",
        "overall",
        "nps",
        "comment",
        "contact",
        "contact_channel",
    ]
    assert dictionary["channels_email"] == {
        "code": "channels_email",
        "question": "channels",
        "label": "Channels used – Email",
        "type": "multiple_choice",
        "value_labels": {1: "Yes", 0: "No"},
    }
    assert dictionary["wait"]["value_labels"] == {
        1: "1 – Very dissatisfied",
        2: "2",
        3: "3",
        4: "4",
        5: "5 – Very satisfied",
    }
    assert dictionary["wait"]["note"] == "'Not applicable' is exported as a blank cell"
    assert "note" not in dictionary["handling"]
    assert dictionary["reason"]["value_labels"] == {"solved": "Solved", "pending": "Pending"}
    assert dictionary["complaint"]["value_labels"] == {1: "Yes", 0: "No"}
    assert dictionary["nps"]["value_labels"][10] == "10 – Extremely likely"
    assert dictionary["comment"]["value_labels"] == {}
    assert dictionary["contact_channel"]["value_labels"] == {
        "phone": "By phone",
        "email": "By email",
    }
    assert small.data_dictionary("fr")[3]["label"] == "Motif"
    with pytest.raises(ValueError, match="not offered in 'de'"):
        small.data_dictionary("de")


def test_analysis_record_blanks_not_applicable_unanswered_and_hidden(small):
    answers = {
        "channels": ["email"],
        "complaint": False,
        "wait": 4,  # hidden: the respondent did not phone
        "handling": 2,  # hidden: no complaint
        "overall": "na",
        "nps": 9,
        "contact": {"requested": True, "channel": "phone", "consent": True},
    }
    record = small.analysis_record(answers)
    assert record == {
        "channels_phone": 0,
        "channels_email": 1,
        "channels_letter": 0,
        "reason": None,
        "complaint": 0,
        "wait": None,
        "handling": None,
        "overall": None,
        "nps": 9,
        "comment": None,
        "contact": 1,
        "contact_channel": "phone",
    }
    assert list(record) == [entry["code"] for entry in small.data_dictionary("fr")]


def test_not_applicable_is_kept_apart_from_unanswered_in_stored_answers(small):
    answers = {"channels": ["phone"], "wait": "na"}
    assert small.shown_answers(answers) == answers
    assert small.analysis_record(answers)["wait"] is None
    assert small.analysis_record({"channels": ["phone"], "wait": 3})["wait"] == 3


def test_conditions_on_a_callback_see_whether_it_was_requested():
    questionnaire = load_definition(
        """\
id: cb
version: "1"
languages: [en]
title: {en: T}
introduction: {en: I}
pages:
  - questions:
      - {code: contact, type: callback, label: {en: "Call?"}, consent: {en: OK}, channels: [phone]}
  - questions:
      - {code: when, type: text, label: {en: "When?"}, show_if: contact == true}
"""
    )
    when = questionnaire.question("when")
    assert questionnaire.is_shown(when, {"contact": {"requested": True, "channel": "phone"}})
    assert not questionnaire.is_shown(when, {"contact": {"requested": False}})
    assert not questionnaire.is_shown(when, {})


def test_rating_questions_validate_on_their_own():
    labels = {1: {"fr": "a", "en": "a"}, 5: {"fr": "b", "en": "b"}}
    base = {"code": "q", "type": "rating", "label": {"fr": "Q", "en": "Q"}, "labels": labels}
    assert RatingQuestion.model_validate(base).scale() == (1, 5)
    with pytest.raises(ValidationError, match="max \\(1\\) must be above min \\(1\\)"):
        RatingQuestion.model_validate({**base, "max": 1})
    with pytest.raises(ValidationError, match="at most 11 points"):
        RatingQuestion.model_validate(
            {
                **base,
                "min": 0,
                "max": 11,
                "labels": {0: {"fr": "a", "en": "a"}, 11: {"fr": "b", "en": "b"}},
            }
        )
    with pytest.raises(ValidationError, match=r"labels for points \[7\] outside the scale 1..5"):
        RatingQuestion.model_validate({**base, "labels": {**labels, 7: {"fr": "c", "en": "c"}}})
    with pytest.raises(ValidationError, match="satisfied values are repeated"):
        RatingQuestion.model_validate({**base, "satisfied": [4, 4]})
    with pytest.raises(ValidationError, match="use .==. to compare \\(at character 4\\)"):
        RatingQuestion.model_validate({**base, "show_if": "q1 = 2"})


def test_texts_in_every_supported_language_by_default():
    with pytest.raises(ValidationError, match="missing text for language 'en'"):
        RatingQuestion.model_validate(
            {
                "code": "q",
                "type": "rating",
                "label": {"fr": "Q"},
                "labels": {1: {"fr": "a", "en": "a"}, 5: {"fr": "b", "en": "b"}},
            }
        )


def test_questionnaire_texts(small):
    assert small.text("title", "en") == "Small questionnaire"
    assert small.text("thank_you", "fr") == ""
    with pytest.raises(ValueError, match="is not offered in 'it'"):
        small.text("title", "it")
