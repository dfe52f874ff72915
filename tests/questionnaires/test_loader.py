import textwrap
from pathlib import Path

import pytest

from questionnaires import (
    DefinitionError,
    DefinitionInvalid,
    Questionnaire,
    UnknownQuestionnaire,
    canonical_json,
    definition_sha256,
    get_bundled,
    list_bundled,
    load_definition,
    validate_file,
)

from .conftest import SMALL_DEFINITION

HEADER = """\
id: test
version: "1"
languages: [fr, en]
title: {fr: Titre, en: Title}
introduction: {fr: Intro, en: Intro}
"""

SCALE = "labels: {1: {fr: bas, en: low}, 5: {fr: haut, en: high}}"


def definition(pages: str) -> str:
    return HEADER + textwrap.dedent(pages)


def reported(path: Path) -> dict[str, list[str]]:
    """Messages by definition path."""
    found: dict[str, list[str]] = {}
    for error in validate_file(path):
        found.setdefault(error.path, []).append(error.message)
    return found


# -- the bundled definition ----------------------------------------------------------------------


def test_bundled_definitions_are_valid():
    bundled = list_bundled()
    assert [definition.key for definition in bundled] == ["nf-relation-client"]
    for entry in bundled:
        assert validate_file(entry.path) == []
        assert entry.path.name == f"{entry.key}.yaml"


def test_bundled_relation_client_definition():
    entry = list_bundled()[0]
    questionnaire = get_bundled("nf-relation-client")
    assert (entry.version, entry.languages) == (questionnaire.version, ("fr", "en"))
    assert entry.title == questionnaire.title["fr"]
    assert 3 <= len(questionnaire.pages) <= 5
    types = {question.type_name for _, question in questionnaire.questions()}
    assert types == {
        "rating",
        "nps",
        "single_choice",
        "multiple_choice",
        "yes_no",
        "text",
        "callback",
    }
    overall = questionnaire.overall_question()
    assert overall is not None and overall.required and overall.scale() == (1, 5)
    assert questionnaire.question("comment").max_length == 1000
    for _, question in questionnaire.questions():
        if question.type_name == "rating":
            assert question.satisfied == [4, 5]
            assert question.point_labels("fr")[1] == "Très insatisfait"
            assert question.point_labels("en")[5] == "Very satisfied"


def test_bundled_definition_shows_items_by_channel_and_complaint():
    questionnaire = get_bundled("nf-relation-client")
    phone = questionnaire.question("phone_wait")
    written = questionnaire.question("written_reply_time")
    handling = questionnaire.question("complaint_handling")
    assert questionnaire.is_shown(phone, {"channels_used": ["phone"]})
    assert not questionnaire.is_shown(phone, {"channels_used": ["email"]})
    assert questionnaire.is_shown(written, {"channels_used": ["letter"]})
    assert not questionnaire.is_shown(written, {"channels_used": ["phone", "chat"]})
    assert questionnaire.is_shown(handling, {"complaint": True})
    assert not questionnaire.is_shown(handling, {"complaint": False})


def test_unknown_bundled_key_names_the_known_ones():
    with pytest.raises(UnknownQuestionnaire) as caught:
        get_bundled("nope")
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == "no bundled questionnaire 'nope' (known: nf-relation-client)"


# -- reporting every error -----------------------------------------------------------------------

BROKEN = """\
id: Broken Id
version: "1"
languages: [fr, en]
title: {fr: Titre}
introduction: {fr: Intro, en: Intro, de: Hallo}
colour: blue
pages:
  - questions:
      - code: q1
        type: rating
        label: {fr: Un, en: One}
        min: 5
        max: 1
        labels: {1: {fr: a, en: a}, 5: {fr: b, en: b}}
      - code: q2
        type: rating
        label: {fr: Deux, en: Two}
        labels: {1: {fr: a, en: a}, 3: {fr: m, en: m}, 5: {fr: b, en: b}}
        satisfied: [5, 6]
      - code: q1
        type: slider
        label: {fr: Trois, en: Three}
      - code: Q4
        type: yes_no
        label: {fr: Quatre}
      - code: q5
        label: {fr: Cinq, en: Five}
      - code: q6
        type: yes_no
        label: {fr: Six, en: Six}
        show_if: q2 == 1
        shown: yes
  - questions:
      - code: q7
        type: text
        label: {fr: Sept, en: Seven}
        show_if: q2 == 1 and q1 ==
      - code: q8
        type: single_choice
        label: {fr: Huit, en: Eight}
        show_if: answered(q9) or q10 == 'x'
        choices:
          - {value: a, label: {fr: A, en: A}}
      - code: q10
        type: nps
        label: {fr: Dix, en: Ten}
"""


def test_every_error_is_reported_with_its_path_and_line(write_definition):
    path = write_definition(BROKEN)
    errors = validate_file(path)
    expected = [
        ("id", "'Broken Id' is not valid: use lower-case letters, digits and '-'", 1),
        ("title", "missing text for language 'en'", 4),
        ("introduction", "text in undeclared language 'de' (the questionnaire declares fr, en)", 5),
        ("colour", "unknown field (check its spelling)", 6),
        (
            "pages[0].questions[0].max",
            "the scale is inverted or empty: max (1) must be above min (5)",
            13,
        ),
        (
            "pages[0].questions[1].labels",
            "label both ends (1 and 5) or every point of the scale (missing: [2, 4])",
            18,
        ),
        ("pages[0].questions[1].satisfied", "satisfied values [6] are outside the scale 1..5", 19),
        ("pages[0].questions[2].code", "code 'q1' is already used by pages[0].questions[0]", 20),
        (
            "pages[0].questions[2].type",
            "unknown question type 'slider' (known: rating, nps, single_choice, "
            "multiple_choice, yes_no, text, callback)",
            21,
        ),
        (
            "pages[0].questions[3].code",
            "'Q4' is not valid: use lower-case letters, digits and '_', starting with a letter",
            23,
        ),
        ("pages[0].questions[3].label", "missing text for language 'en'", 25),
        (
            "pages[0].questions[4].type",
            "this field is required (one of: rating, nps, single_choice, multiple_choice, "
            "yes_no, text, callback)",
            26,
        ),
        (
            "pages[0].questions[5].show_if",
            "refers to 'q2' on the same page; a condition can only use answers from earlier pages",
            31,
        ),
        ("pages[0].questions[5].shown", "unknown field (check its spelling)", 32),
        (
            "pages[1].questions[0].show_if",
            "expected a value, found the end of the condition (at character 18)",
            37,
        ),
        ("pages[1].questions[1].show_if", "refers to unknown question 'q9'", 41),
        (
            "pages[1].questions[1].show_if",
            "refers to 'q10', which is not asked before this question",
            41,
        ),
        (
            "pages[1].questions[1].choices",
            "List should have at least 2 items after validation, not 1",
            43,
        ),
    ]
    assert sorted((e.path, e.message, e.line) for e in errors) == sorted(expected)
    assert all(error.file == str(path) for error in errors)


def test_error_prints_as_file_path_message():
    error = DefinitionError("def.yaml", "pages[1].questions[3].show_if", "refers to unknown 'q9'")
    assert str(error) == "def.yaml: pages[1].questions[3].show_if: refers to unknown 'q9'"
    assert str(DefinitionError("def.yaml", "", "file not found")) == "def.yaml: file not found"


def test_load_definition_raises_with_every_error(write_definition):
    path = write_definition(BROKEN)
    with pytest.raises(DefinitionInvalid) as caught:
        load_definition(path)
    assert caught.value.errors == validate_file(path)
    assert str(caught.value).startswith("invalid questionnaire definition (18 errors):\n")
    assert f"{path}: colour: unknown field (check its spelling)" in str(caught.value)


def test_load_definition_accepts_a_path_given_as_text(write_definition):
    path = write_definition(SMALL_DEFINITION)
    assert load_definition(str(path)).id == "small"
    assert load_definition(SMALL_DEFINITION.encode()).id == "small"


def test_condition_referring_to_a_later_page(write_definition):
    path = write_definition(
        definition(
            f"""\
            pages:
              - questions:
                  - {{code: a, type: yes_no, label: {{fr: A, en: A}}, show_if: b == 1}}
              - questions:
                  - {{code: b, type: rating, label: {{fr: B, en: B}}, {SCALE}}}
                  - {{code: c, type: yes_no, label: {{fr: C, en: C}}, show_if: answered(c)}}
            """
        )
    )
    assert reported(path) == {
        "pages[0].questions[0].show_if": ["refers to 'b', which is not asked before this question"],
        "pages[1].questions[1].show_if": ["refers to 'c', which is not asked before this question"],
    }


def test_condition_comparing_with_an_impossible_answer(write_definition):
    path = write_definition(
        definition(
            f"""\
            pages:
              - questions:
                  - code: channels
                    type: multiple_choice
                    label: {{fr: Canaux, en: Channels}}
                    choices:
                      - {{value: phone, label: {{fr: Tél, en: Phone}}}}
                      - {{value: email, label: {{fr: Mél, en: Email}}}}
                  - {{code: score, type: rating, label: {{fr: N, en: N}}, {SCALE}}}
                  - {{code: ok, type: yes_no, label: {{fr: O, en: O}}}}
              - questions:
                  - code: a
                    type: text
                    label: {{fr: A, en: A}}
                    show_if: "'fax' in channels or score in [5, 6] or ok == 'yes' or score < 9"
            """
        )
    )
    assert reported(path) == {
        "pages[1].questions[0].show_if": [
            "'fax' is never an answer to 'channels' (possible: 'email', 'phone')",
            "6 is never an answer to 'score' (possible: 1, 2, 3, 4, 5)",
            "'yes' is never an answer to 'ok' (possible: False, True)",
        ]
    }


def test_one_overall_item_and_one_index_scale(write_definition):
    path = write_definition(
        definition(
            f"""\
            pages:
              - questions:
                  - {{code: a, type: rating, label: {{fr: A, en: A}}, {SCALE}, overall: true,
                      index_weight: 1}}
                  - {{code: b, type: rating, label: {{fr: B, en: B}}, {SCALE}, overall: true}}
                  - code: c
                    type: rating
                    label: {{fr: C, en: C}}
                    max: 7
                    labels: {{1: {{fr: bas, en: low}}, 7: {{fr: haut, en: high}}}}
                    index_weight: 1
            """
        )
    )
    assert reported(path) == {
        "pages[0].questions[1].overall": [
            "only one question can be the overall item; 'a' already is"
        ],
        "pages[0].questions[2].index_weight": [
            "index items must share one scale: 1..7 differs from 'a' (1..5)"
        ],
    }


def test_compound_question_columns_must_not_clash_with_codes(write_definition):
    path = write_definition(
        definition(
            """\
            pages:
              - questions:
                  - code: contact_channel
                    type: text
                    label: {fr: A, en: A}
                  - code: contact
                    type: callback
                    label: {fr: B, en: B}
                    consent: {fr: Oui, en: Yes}
            """
        )
    )
    assert reported(path) == {
        "pages[0].questions[1].code": [
            "'contact' produces the field or column 'contact_channel', which clashes with "
            "question 'contact_channel'"
        ]
    }


def test_weights_must_be_positive_and_languages_supported(write_definition):
    path = write_definition(
        """\
        id: test
        version: "1"
        languages: [fr, de, fr]
        title: {fr: Titre}
        introduction: {fr: Intro}
        pages:
          - questions:
              - {code: a, type: rating, label: {fr: A}, labels: {1: {fr: a}, 5: {fr: b}},
                  index_weight: 0}
              - {code: b, type: text, label: {fr: B}, max_length: 0}
        """
    )
    found = reported(path)
    assert found["languages"] == ["unsupported language(s) ['de']; supported: fr, en"]
    assert found["pages[0].questions[0].index_weight"] == ["Input should be greater than 0"]
    assert found["pages[0].questions[1].max_length"] == [
        "Input should be greater than or equal to 1"
    ]
    assert "title" not in found  # texts are checked against the supported declared languages


# -- files and YAML ------------------------------------------------------------------------------


def test_yaml_syntax_error_gives_the_line(write_definition):
    path = write_definition(HEADER + "pages:\n  - questions: [\n      code: a\n")
    (error,) = validate_file(path)
    assert error.path.startswith("line ")
    assert error.message.startswith("YAML syntax error: ")
    assert error.line == int(error.path.split()[1].rstrip(","))
    assert error.line >= 7


def test_yaml_indentation_error(write_definition):
    path = write_definition("id: test\n  version: 1\n")
    (error,) = validate_file(path)
    assert (error.path, error.line) == ("line 2, column 10", 2)
    assert "mapping values are not allowed here" in error.message


def test_duplicated_keys_are_refused(write_definition):
    path = write_definition(HEADER + "title: {fr: Encore, en: Again}\npages: []\n")
    (error,) = validate_file(path)
    assert error.path == "line 6, column 1"
    assert error.message == "YAML syntax error: duplicated key 'title' (first on line 4)"


def test_missing_file(tmp_path):
    path = tmp_path / "missing.yaml"
    assert [str(error) for error in validate_file(path)] == [f"{path}: file not found"]


def test_file_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes((HEADER + "# é\n").encode("latin-1"))
    (error,) = validate_file(path)
    assert error.path == ""
    assert error.message == (
        "not UTF-8 text: byte 0xe9 on line 6 cannot be decoded; save the file as UTF-8"
    )


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL_DEFINITION.encode("utf-8"))
    assert validate_file(path) == []


@pytest.mark.parametrize(
    ("text", "found"), [("", "an empty file"), ("- a\n- b\n", "a list"), ("3\n", "a int")]
)
def test_a_definition_is_a_mapping(write_definition, text, found):
    (error,) = validate_file(write_definition(text))
    assert error.message.endswith(f"not {found}")


def test_yes_and_no_stay_words(write_definition):
    # YAML 1.1 would read these choice values as booleans.
    path = write_definition(
        definition(
            """\
            pages:
              - questions:
                  - code: a
                    type: single_choice
                    label: {fr: A, en: A}
                    choices:
                      - {value: yes, label: {fr: Oui, en: Yes}}
                      - {value: no, label: {fr: Non, en: No}}
                      - {value: off, label: {fr: Éteint, en: Off}}
            """
        )
    )
    assert load_definition(path).question("a").choice_values() == ["yes", "no", "off"]


# -- freezing ------------------------------------------------------------------------------------

SMALL_SHA256 = "a256b6e5f08396da9178d5bea308ec32e88c203ac36df026786a4726328217f0"


def test_sha256_of_the_small_definition_is_stable(small):
    assert definition_sha256(small) == SMALL_SHA256


def test_canonical_json_is_compact_sorted_utf8(small):
    data = canonical_json(small)
    assert data.startswith(b'{"id":"small","introduction":{"en":"Hello","fr":"Bonjour"}')
    assert "Très insatisfait".encode() in data
    assert b": " not in data and b"\n" not in data
    assert b'"required":false' not in data  # defaults are left out


def test_reordering_and_reformatting_yaml_does_not_change_the_hash():
    reordered = textwrap.dedent(
        """\
        pages:
          - questions:
              - type: multiple_choice
                code: channels
                choices:
                  - label: {en: Phone, fr: Téléphone}
                    value: phone
                  - {value: email, label: {fr: E-mail, en: Email}}
                  - {value: letter, label: {fr: Courrier, en: Letter}}
                max_selected: 2
                label: {en: Channels used, fr: Canaux utilisés}
                required: false
        languages: [fr, en]
        introduction:
          en: Hello
          fr: Bonjour
        title: {en: Small, fr: Petit}
        version: "1"
        id: small
        """
    )
    original = textwrap.dedent(
        """\
        id: small
        version: "1"
        languages: [fr, en]
        title: {fr: Petit, en: Small}
        introduction: {fr: Bonjour, en: Hello}
        pages:
          - questions:
              - code: channels
                type: multiple_choice
                label: {fr: Canaux utilisés, en: Channels used}
                max_selected: 2
                choices:
                  - {value: phone, label: {fr: Téléphone, en: Phone}}
                  - {value: email, label: {fr: E-mail, en: Email}}
                  - {value: letter, label: {fr: Courrier, en: Letter}}
        """
    )
    assert definition_sha256(load_definition(reordered)) == definition_sha256(
        load_definition(original)
    )
    changed = original.replace("Canaux utilisés", "Canaux")
    assert definition_sha256(load_definition(changed)) != definition_sha256(
        load_definition(original)
    )
    reordered_choices = (
        original.replace("phone, label: {fr: Téléphone, en: Phone}", "x")
        .replace(
            "letter, label: {fr: Courrier, en: Letter}", "phone, label: {fr: Téléphone, en: Phone}"
        )
        .replace("value: x}", "value: letter, label: {fr: Courrier, en: Letter}}")
    )
    assert definition_sha256(load_definition(reordered_choices)) != definition_sha256(
        load_definition(original)
    )


def test_frozen_copy_loads_back_identical(small):
    frozen = canonical_json(small)
    thawed = Questionnaire.from_canonical_json(frozen)
    assert thawed == small
    assert canonical_json(thawed) == frozen
    assert thawed.question("wait").condition.evaluate({"channels": ["phone"]})


def test_frozen_copy_is_checked():
    with pytest.raises(DefinitionInvalid, match="<frozen copy>: not JSON"):
        Questionnaire.from_canonical_json(b"{not json")
    with pytest.raises(DefinitionInvalid, match="<frozen copy>: pages: this field is required"):
        Questionnaire.from_canonical_json(
            b'{"id":"x","version":"1","languages":["fr"],"title":{"fr":"T"},'
            b'"introduction":{"fr":"I"}}'
        )


@pytest.mark.parametrize(
    "condition",
    ["(" * 5000 + "a == true" + ")" * 5000, "not " * 5000 + "a == true",
     "not (" * 2000 + "a == true" + ")" * 2000],
)
def test_a_deeply_nested_show_if_is_an_error_not_a_crash(tmp_path, condition) -> None:
    """Issue #23: thousands of parentheses or 'not' raised RecursionError."""
    from questionnaires.conditions import MAX_NESTING, ConditionError, parse_condition

    path = tmp_path / "deep.yaml"
    path.write_text(
        "id: x\nversion: '1'\nlanguages: [fr]\ntitle: {fr: T}\nintroduction: {fr: I}\n"
        "pages:\n  - questions:\n      - {code: a, type: yes_no, label: {fr: A}}\n"
        f"      - {{code: b, type: yes_no, label: {{fr: B}}, show_if: '{condition}'}}\n",
        encoding="utf-8",
    )
    messages = reported(path)["pages[0].questions[1].show_if"]
    assert any(f"more than {MAX_NESTING} levels" in message for message in messages)
    nested = "(" * MAX_NESTING + "a == true" + ")" * MAX_NESTING
    assert parse_condition(nested).evaluate({"a": True})
    with pytest.raises(ConditionError):
        parse_condition("(" + nested + ")")
