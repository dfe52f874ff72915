"""An import's rejects are shown as translated sentences, whatever English sentence the importer
recorded (tests/frame/test_import.py checks the recorded sentences themselves)."""

from __future__ import annotations

import pytest

from survey.frame.reasons import reason_code, reason_text

RECORDED = [
    ("the external id is required", "external_id_required", "L’identifiant du client manque."),
    ("invalid email: An email address must have an @-sign.", "email_no_at",
     "L’adresse e-mail n’a pas de @."),
    ("invalid email: no domain", "email_domain",
     "Le domaine de l’adresse e-mail (après le @) n’est pas valide."),
    ("invalid phone number: not a phone number (The string supplied did not seem to be a phone "
     "number.)", "phone_not_a_number", "Ce n’est pas un numéro de téléphone."),
    ("invalid phone number: not a valid phone number (no such number range)", "phone_no_range",
     "Ce numéro de téléphone n’existe pas (aucune tranche de numéros ne lui correspond)."),
    ("not a date: write 2025-04-25 or 25/04/2025 (day first)", "date_format",
     "Ce n’est pas une date : écrivez 2025-04-25 ou 25/04/2025 (le jour d’abord)."),
    ("duplicate email: already on line 2 (the first row wins)", "duplicate",
     "Déjà présent ligne 2 du fichier (la première ligne est gardée)."),
    ("the line has 3 fields, the header 6", "field_count",
     "La ligne a 3 champs alors que l’en-tête en a 6."),
    ("'nord' is not a value of survey variable 'site' (allowed: est, ouest)", "variable_value",
     "« nord » n’est pas une valeur de la variable d’enquête site (valeurs admises : est, ouest)."),
]


@pytest.mark.parametrize(("reason", "code", "french"), RECORDED)
def test_a_recorded_reason_reads_as_a_french_sentence(app, reason, code, french) -> None:
    assert reason_code(reason)[0] == code
    with app.test_request_context("/?lang=fr"):
        assert reason_text(reason) == french


def test_a_reason_of_no_known_form_is_shown_as_it_is(app) -> None:
    with app.test_request_context("/?lang=fr"):
        assert reason_text("something new") == "something new"
    assert reason_code("something new") == (None, {})
