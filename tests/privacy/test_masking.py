"""Emails and phone numbers in free text, in the shapes customers write them (issue #23)."""

from __future__ import annotations

import pytest

from survey.privacy.masking import (
    EMAIL_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    looks_personal,
    mask_personal_data,
)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("rappelez-moi au 06 - 12 - 34 - 56 - 78 svp", PHONE_PLACEHOLDER),
        ("zéro six 12 34 56 78 après 18 h", PHONE_PLACEHOLDER),
        ("zéro six douze trente-quatre cinquante-six soixante-dix-huit", PHONE_PLACEHOLDER),
        ("au 06.12.34.56.78", PHONE_PLACEHOLDER),
        ("+33 6 12 34 56 78", PHONE_PLACEHOLDER),
        ("from London: +44 20 7946 0958", PHONE_PLACEHOLDER),
        ("0612345678", PHONE_PLACEHOLDER),
        ("écrivez à jean.dupont@example.fr", EMAIL_PLACEHOLDER),
        ("jean.dupont(at)gmail.com", EMAIL_PLACEHOLDER),
        ("jean at mail dot com", EMAIL_PLACEHOLDER),
        ("jean [at] mail [dot] fr", EMAIL_PLACEHOLDER),
        ("jean arobase orange point fr", EMAIL_PLACEHOLDER),
        ("jean @ gmail . com", EMAIL_PLACEHOLDER),
        ("write to me at jean.dupont@example.org", EMAIL_PLACEHOLDER),
    ],
)
def test_contacts_are_hidden_in_every_usual_shape(text: str, hidden: str) -> None:
    masked = mask_personal_data(text)
    assert hidden in masked
    assert not any(ch.isdigit() for ch in masked.replace("18 h", ""))
    for word in ("dupont", "gmail", "mail dot", "orange", "douze", "34"):
        assert word not in masked
    assert mask_personal_data(masked) == masked  # idempotent: the purge stores this


@pytest.mark.parametrize(
    "text",
    [
        "En 2025, 3 appels et 2 courriels.",
        "Un client sur deux attend 12 minutes.",
        "see you at home. Thanks",
        "Commande 12345 livrée le 03/04/2025.",
        "Très bien, merci à vous.",
    ],
)
def test_ordinary_sentences_stay_as_written(text: str) -> None:
    assert mask_personal_data(text) == text


def test_cells_that_look_personal() -> None:
    assert looks_personal("pro@societe.fr") == "email"
    assert looks_personal("06 12 34 56 78") == "phone"
    assert looks_personal("particulier") is None
    assert looks_personal("75001") is None
