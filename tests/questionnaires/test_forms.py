import pytest
import wtforms
from werkzeug.datastructures import MultiDict

from questionnaires import (
    build_page_form_class,
    clean_page_answers,
    get_bundled,
    is_last_page,
    next_page_index,
    previous_page_index,
    visible_questions,
)

FIRST, CONDITIONAL, LAST = 0, 1, 2
PAGE_ONE = {"channels": ["phone"], "complaint": True}


def clean(questionnaire, page, data, so_far=None, lang="en"):
    return clean_page_answers(questionnaire, page, data, so_far or {}, lang=lang)


def options(field):
    return [(choice.value, choice.label) for choice in field.iter_choices()]


# -- form classes --------------------------------------------------------------------------------


def test_form_class_has_a_localized_field_per_question(small):
    form = build_page_form_class(small, LAST, "fr")()
    assert isinstance(form, wtforms.Form)
    assert [field.name for field in form] == [
        "overall",
        "nps",
        "comment",
        "contact",
        "contact_channel",
        "contact_consent",
    ]
    assert form.overall.label.text == "Satisfaction globale"
    assert options(form.overall) == [
        ("1", "1 – Très insatisfait"),
        ("2", "2"),
        ("3", "3"),
        ("4", "4"),
        ("5", "5 – Très satisfait"),
    ]
    assert [value for value, _ in options(form.nps)] == [str(point) for point in range(11)]
    assert options(form.nps)[0][1] == "0 – Pas du tout probable"
    assert options(form.contact) == [("yes", "Oui"), ("no", "Non")]
    assert options(form.contact_channel) == [("phone", "Par téléphone"), ("email", "Par e-mail")]
    assert form.contact_consent.label.text == "J’accepte."
    assert 'maxlength="20"' in form.comment()
    assert type(form).questions["contact_channel"] is small.question("contact")


def test_rating_and_nps_render_as_radio_groups(small):
    form = build_page_form_class(small, CONDITIONAL, "en")()
    assert form.wait.type == "RadioField"
    assert options(form.wait)[-1] == ("na", "Not applicable")
    rendered = form.wait()
    assert rendered.count('type="radio"') == 6
    assert build_page_form_class(small, LAST, "en")().nps.type == "RadioField"


def test_multiple_choice_renders_as_checkboxes(small):
    form = build_page_form_class(small, FIRST, "en")(MultiDict([("channels", "email")]))
    rendered = form.channels()
    assert rendered.count('type="checkbox"') == 3
    assert rendered.count("checked") == 1
    assert [choice.selected for choice in form.channels.iter_choices()] == [False, True, False]
    assert options(form.reason) == [("solved", "Solved"), ("pending", "Pending")]


def test_form_class_refuses_an_unknown_language_or_page(small):
    with pytest.raises(ValueError, match="not offered in 'de'"):
        build_page_form_class(small, FIRST, "de")
    with pytest.raises(IndexError, match="has pages 0..2, not 3"):
        build_page_form_class(small, 3, "fr")


def test_bundled_pages_build_in_both_languages():
    questionnaire = get_bundled("nf-relation-client")
    for lang in questionnaire.languages:
        for page_index in range(len(questionnaire.pages)):
            form = build_page_form_class(questionnaire, page_index, lang)()
            for field in form:
                assert field.label.text
                field()  # renders


# -- accepting valid answers ---------------------------------------------------------------------


def test_accepts_a_valid_first_page(small):
    answers, errors = clean(
        small,
        FIRST,
        MultiDict(
            [
                ("channels", "letter"),
                ("channels", "phone"),
                ("reason", "solved"),
                ("complaint", "yes"),
                ("csrf_token", "t"),
            ]
        ),
    )
    assert errors == {}
    # multiple choices are stored in the definition's order
    assert answers == {"channels": ["phone", "letter"], "reason": "solved", "complaint": True}


def test_accepts_a_plain_mapping_of_lists(small):
    answers, errors = clean(small, FIRST, {"complaint": ["no"], "reason": [""]})
    assert (answers, errors) == ({"complaint": False}, {})


def test_accepts_ratings_and_not_applicable(small):
    answers, errors = clean(small, CONDITIONAL, {"wait": ["na"], "handling": ["2"]}, PAGE_ONE)
    assert errors == {}
    assert answers == {**PAGE_ONE, "wait": "na", "handling": 2}


def test_accepts_a_valid_last_page(small):
    data = {
        "overall": ["5"],
        "nps": ["0"],
        "comment": ["  Bien\r\nmerci  "],
        "contact": ["yes"],
        "contact_channel": ["email"],
        "contact_consent": ["y"],
    }
    answers, errors = clean(small, LAST, data, PAGE_ONE)
    assert errors == {}
    assert answers == {
        **PAGE_ONE,
        "overall": 5,
        "nps": 0,
        "comment": "Bien\nmerci",
        "contact": {"requested": True, "channel": "email", "consent": True},
    }


def test_callback_refused_needs_no_channel_nor_consent(small):
    answers, errors = clean(
        small, LAST, {"overall": ["3"], "contact": ["no"], "contact_channel": ["phone"]}, PAGE_ONE
    )
    assert errors == {}
    assert answers["contact"] == {"requested": False}


def test_text_length_counts_line_breaks_once(small):
    exactly_twenty = "a" * 9 + "\r\n" + "b" * 10
    answers, errors = clean(small, LAST, {"overall": ["3"], "comment": [exactly_twenty]})
    assert errors == {}
    assert answers["comment"] == "a" * 9 + "\n" + "b" * 10


# -- refusing invalid answers, with a message per field ------------------------------------------


@pytest.mark.parametrize(
    ("page", "data", "field", "message"),
    [
        (
            FIRST,
            {"channels": ["fax"]},
            "channels",
            "Please choose one of the answers offered.",
        ),
        (
            FIRST,
            {"channels": ["phone", "email", "letter"]},
            "channels",
            "Please choose at most 2 answers.",
        ),
        (
            FIRST,
            {"reason": ["lost"]},
            "reason",
            "Please choose one of the answers offered.",
        ),
        (
            FIRST,
            {"reason": ["solved", "pending"]},
            "reason",
            "Please choose only one answer.",
        ),
        (
            FIRST,
            {"complaint": ["maybe"]},
            "complaint",
            "Please choose one of the answers offered.",
        ),
        (FIRST, {"complaint": [""]}, "complaint", "Please answer this question."),
        (FIRST, {"surprise": ["1"]}, "surprise", "The field “surprise” is not part of this page."),
        (
            CONDITIONAL,
            {"wait": ["6"]},
            "wait",
            "Please choose one of the answers offered.",
        ),
        (
            CONDITIONAL,
            {"wait": ["0"]},
            "wait",
            "Please choose one of the answers offered.",
        ),
        (
            CONDITIONAL,
            {"wait": ["4.5"]},
            "wait",
            "Please choose one of the answers offered.",
        ),
        (
            CONDITIONAL,
            {"handling": ["na"]},
            "handling",
            "Please choose one of the answers offered.",
        ),
        (CONDITIONAL, {"handling": [" "]}, "handling", "Please answer this question."),
        (
            LAST,
            {"overall": ["3"], "nps": ["11"]},
            "nps",
            "Please choose one of the answers offered.",
        ),
        (
            LAST,
            {"overall": ["3"], "nps": ["-1"]},
            "nps",
            "Please choose one of the answers offered.",
        ),
        (
            LAST,
            {"overall": ["3"], "comment": ["x" * 21]},
            "comment",
            "Your answer must be at most 20 characters long (it is 21).",
        ),
        (
            LAST,
            {"overall": ["3"], "contact": ["perhaps"]},
            "contact",
            "Please choose one of the answers offered.",
        ),
        (
            LAST,
            {"overall": ["3"], "contact": ["yes"], "contact_consent": ["y"]},
            "contact_channel",
            "Please tell us how you would prefer to be contacted.",
        ),
        (
            LAST,
            {
                "overall": ["3"],
                "contact": ["yes"],
                "contact_channel": ["fax"],
                "contact_consent": ["y"],
            },
            "contact_channel",
            "Please tell us how you would prefer to be contacted.",
        ),
        (
            LAST,
            {"overall": ["3"], "contact": ["yes"], "contact_channel": ["phone"]},
            "contact_consent",
            "To be contacted, please tick the box to give your agreement.",
        ),
        (LAST, {"overall": []}, "overall", "Please answer this question."),
    ],
)
def test_refuses_invalid_answers_with_a_message(small, page, data, field, message):
    # Every required question shown on the page is answered, unless `data` says otherwise.
    required_answers = {
        FIRST: {"complaint": ["no"]},
        CONDITIONAL: {"handling": ["3"]},
        LAST: {"overall": ["3"]},
    }[page]
    answers, errors = clean(small, page, {**required_answers, **data}, PAGE_ONE)
    assert errors == {field: message}
    assert field not in answers


def test_error_messages_are_localized(small):
    _, errors = clean(small, LAST, {"nps": ["12"]}, PAGE_ONE, lang="fr")
    assert errors == {
        "nps": "Veuillez choisir une des réponses proposées.",
        "overall": "Veuillez répondre à cette question.",
    }


def test_valid_answers_are_kept_when_others_are_refused(small):
    answers, errors = clean(small, LAST, {"overall": ["4"], "nps": ["12"]}, PAGE_ONE)
    assert list(errors) == ["nps"]
    assert answers["overall"] == 4


def test_language_defaults_to_the_first_declared(small):
    _, errors = clean_page_answers(small, FIRST, {}, {})
    assert errors == {"complaint": "Veuillez répondre à cette question."}


def test_form_data_values_must_be_lists(small):
    with pytest.raises(TypeError, match="form data for 'complaint' must be a list of values"):
        clean(small, FIRST, {"complaint": "yes"})


# -- hidden questions ----------------------------------------------------------------------------


def test_required_applies_only_to_shown_questions(small):
    answers, errors = clean(small, CONDITIONAL, {}, {"complaint": False})
    assert errors == {}
    assert answers == {"complaint": False}


def test_answers_to_hidden_questions_are_dropped(small):
    # `wait` is shown only to phone users, `handling` only after a complaint.
    answers, errors = clean(
        small,
        CONDITIONAL,
        {"wait": ["5"], "handling": ["1"]},
        {"channels": ["email"], "complaint": False},
    )
    assert errors == {}
    assert answers == {"channels": ["email"], "complaint": False}


def test_changing_an_earlier_answer_drops_later_answers_it_hides(small):
    so_far = {**PAGE_ONE, "wait": 2, "handling": 1, "overall": 3}
    answers, errors = clean(small, FIRST, {"channels": ["email"], "complaint": ["yes"]}, so_far)
    assert errors == {}
    assert answers == {"channels": ["email"], "complaint": True, "handling": 1, "overall": 3}


def test_a_resubmitted_page_replaces_its_previous_answers(small):
    so_far = {"channels": ["phone"], "reason": "solved", "complaint": True}
    answers, _ = clean(small, FIRST, {"channels": ["letter"], "complaint": ["no"]}, so_far)
    assert answers == {"channels": ["letter"], "complaint": False}


def test_visible_questions(small):
    codes = lambda answers: [q.code for q in visible_questions(small, CONDITIONAL, answers)]  # noqa: E731
    assert codes({}) == []
    assert codes({"channels": ["phone", "email"]}) == ["wait"]
    assert codes(PAGE_ONE) == ["wait", "handling"]
    assert [q.code for q in visible_questions(small, FIRST, {})] == [
        "channels",
        "reason",
        "complaint",
    ]


# -- navigation ----------------------------------------------------------------------------------


def test_navigation_skips_pages_without_a_shown_question(small):
    nothing_conditional = {"channels": ["email"], "complaint": False}
    assert next_page_index(small, FIRST, nothing_conditional) == LAST
    assert previous_page_index(small, LAST, nothing_conditional) == FIRST
    assert next_page_index(small, FIRST, PAGE_ONE) == CONDITIONAL
    assert previous_page_index(small, LAST, PAGE_ONE) == CONDITIONAL
    assert previous_page_index(small, FIRST, PAGE_ONE) is None
    assert next_page_index(small, LAST, PAGE_ONE) is None


def test_is_last_page(small):
    assert is_last_page(small, LAST, {})
    assert not is_last_page(small, CONDITIONAL, {})
    assert not is_last_page(small, FIRST, {})
