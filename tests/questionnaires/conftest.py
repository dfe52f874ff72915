"""A small definition using every question type, shared by the questionnaire tests."""

import textwrap

import pytest

from questionnaires import Questionnaire, load_definition

SMALL_DEFINITION = textwrap.dedent(
    """\
    id: small
    version: "1"
    languages: [fr, en]
    title: {fr: Petit questionnaire, en: Small questionnaire}
    introduction: {fr: Bonjour, en: Hello}
    pages:
      - title: {fr: Vous, en: You}
        questions:
          - code: channels
            type: multiple_choice
            label: {fr: Canaux utilisés, en: Channels used}
            max_selected: 2
            choices:
              - {value: phone, label: {fr: Téléphone, en: Phone}}
              - {value: email, label: {fr: E-mail, en: Email}}
              - {value: letter, label: {fr: Courrier, en: Letter}}
          - code: reason
            type: single_choice
            label: {fr: Motif, en: Reason}
            satisfied: [solved]
            choices:
              - {value: solved, label: {fr: Résolu, en: Solved}}
              - {value: pending, label: {fr: En cours, en: Pending}}
          - code: complaint
            type: yes_no
            required: true
            label: {fr: Une réclamation, en: A complaint}
      - questions:
          - code: wait
            type: rating
            show_if: "'phone' in channels"
            label: {fr: Attente, en: Waiting time}
            labels:
              1: {fr: Très insatisfait, en: Very dissatisfied}
              5: {fr: Très satisfait, en: Very satisfied}
            not_applicable: true
            satisfied: [4, 5]
            index_weight: 2
          - code: handling
            type: rating
            show_if: complaint == true
            required: true
            label: {fr: Traitement, en: Handling}
            labels:
              1: {fr: Très insatisfait, en: Very dissatisfied}
              5: {fr: Très satisfait, en: Very satisfied}
            index_weight: 1
      - questions:
          - code: overall
            type: rating
            required: true
            overall: true
            label: {fr: Satisfaction globale, en: Overall satisfaction}
            labels:
              1: {fr: Très insatisfait, en: Very dissatisfied}
              5: {fr: Très satisfait, en: Very satisfied}
            satisfied: [4, 5]
          - code: nps
            type: nps
            label: {fr: Recommandation, en: Recommendation}
          - code: comment
            type: text
            max_length: 20
            label: {fr: Commentaire, en: Comment}
          - code: contact
            type: callback
            label: {fr: Être recontacté, en: Be contacted}
            consent: {fr: J’accepte., en: I agree.}
    """
)


@pytest.fixture
def small() -> Questionnaire:
    return load_definition(SMALL_DEFINITION)


@pytest.fixture
def write_definition(tmp_path):
    """Write YAML text (dedented) to a file and return its path."""

    def write(text: str, name: str = "definition.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
