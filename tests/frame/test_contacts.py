"""The fast paths accept and normalise exactly what email-validator and phonenumbers do."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.frame.contacts import (
    ContactError,
    checked_email,
    checked_phone,
    fast_email,
    fast_phone,
    is_mobile,
    mask_email,
    mask_phone,
    normalise_email,
    normalise_phone,
)


def library_email(value: str) -> str | None:
    try:
        return normalise_email(value)
    except ContactError:
        return None


def library_phone(value: str) -> str | None:
    try:
        return normalise_phone(value)
    except ContactError:
        return None


def email_corpus(count: int, seed: int) -> list[str]:
    """Addresses near the fast path's edges: dots, hyphens, digits, case, special-use domains."""
    rng = random.Random(seed)
    local_chars = string.ascii_letters + string.digits + "._+-" + "é!#'"
    domain_chars = string.ascii_lowercase + string.digits + "-" + "."
    tlds = ["fr", "com", "FR", "test", "local", "invalid", "x", "c0m", "onion", "paris", "io"]
    corpus = []
    for _ in range(count):
        local = "".join(rng.choice(local_chars) for _ in range(rng.randint(0, 12)))
        labels = [
            "".join(rng.choice(domain_chars) for _ in range(rng.randint(0, 10)))
            for _ in range(rng.randint(1, 3))
        ]
        if rng.random() < 0.02:
            labels[0] = "a" * rng.randint(60, 70)
        if rng.random() < 0.02:
            local = "b" * rng.randint(60, 70)
        address = f"{local}@{'.'.join(labels)}.{rng.choice(tlds)}"
        if rng.random() < 0.05:
            address = address.replace("@", "@@" if rng.random() < 0.5 else "")
        corpus.append(address)
    return corpus


def phone_corpus(count: int, seed: int) -> list[str]:
    """French-looking numbers in every written form, valid and invalid ranges alike."""
    rng = random.Random(seed)
    prefixes = ["0", "+33", "0033", "+33 ", "0033 ", "+330", "00", "", "+44 ", "+33 (0)"]
    separators = ["", " ", ".", "-", "  ", "/"]
    corpus = []
    for _ in range(count):
        digits = "".join(rng.choice(string.digits) for _ in range(rng.choice([8, 9, 9, 9, 10])))
        separator = rng.choice(separators)
        grouped = separator.join(digits[i : i + 2] for i in range(0, len(digits), 2))
        corpus.append(rng.choice(prefixes) + grouped)
    return corpus


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_email_path_agrees_with_email_validator_on_a_large_corpus(seed: int) -> None:
    corpus = email_corpus(15_000, seed) + [
        "Jean.Dupont@Exemple.FR", "a@b.co", "a..b@c.fr", ".a@b.fr", "a.@b.fr", "a@-b.fr",
        "a@b-.fr", "a@xn--bcher-kva.fr", "a@b--c.fr", "a@b.fr.", "a@localhost", "a@b.test",
    ]
    accepted = 0
    for value in corpus:
        fast = fast_email(value)
        if fast is not None:
            accepted += 1
            assert library_email(value) == fast, value
        assert _checked(checked_email, value) == library_email(value), value
    assert accepted > 500  # the fast path does serve common addresses


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_phone_path_agrees_with_phonenumbers_on_a_large_corpus(seed: int) -> None:
    corpus = phone_corpus(20_000, seed) + [
        "06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78",
        "06-12-34-56-78", "0012345678", "+33012345678", "06 39 00 00 00", "0590 12 34 56",
        "06 90 12 34 56", "+33 6 96 12 34 56", "0033 262 20 12 34", "06 39 80 00 00",
        "08 06 12 34 56", "07 08 45 12 34",
    ]
    accepted = 0
    for value in corpus:
        fast = fast_phone(value)
        if fast is not None:
            accepted += 1
            assert library_phone(value) == fast, value
        assert _checked(checked_phone, value) == library_phone(value), value
    assert accepted > 2000


def _checked(function, value: str) -> str | None:
    try:
        return function(value)
    except ContactError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9._+-]{1,20}@[a-z0-9.-]{1,20}\.[a-zA-Z]{2,6}", fullmatch=True))
def test_fast_email_never_accepts_what_the_library_refuses(value: str) -> None:
    fast = fast_email(value)
    if fast is not None:
        assert fast == library_email(value)


@settings(max_examples=400, deadline=None)
@given(st.from_regex(r"(\+33|0033|0)[ .-]?[0-9]([ .-]?[0-9]){7,9}", fullmatch=True))
def test_fast_phone_never_accepts_what_the_library_refuses(value: str) -> None:
    fast = fast_phone(value)
    if fast is not None:
        assert fast == library_phone(value)


def test_normalised_forms() -> None:
    assert checked_email(" Jean.Dupont@Exemple.FR ".strip()) == "jean.dupont@exemple.fr"
    assert checked_phone("06 12 34 56 78") == "+33612345678"
    assert checked_phone("+44 20 7946 0958") == "+442079460958"  # other countries: the library
    with pytest.raises(ContactError):
        checked_phone("06 39 80 00 00")  # 06 39 8 is not an allocated range (06 39 is Mayotte)
    with pytest.raises(ContactError):
        checked_email("jean@")


# National numbers of the overseas regions, as a French customer base writes them, and the
# E.164 numbers they are (ARCEP's plan; phonenumbers' metadata for each region).
OVERSEAS = [
    ("06 90 12 34 56", "+590690123456", True),  # Guadeloupe, Saint-Barthélemy, Saint-Martin
    ("06 91 23 45 67", "+590691234567", True),
    ("05 90 27 12 34", "+590590271234", False),
    ("06 96 12 34 56", "+596696123456", True),  # Martinique
    ("06 97 12 34 56", "+596697123456", True),
    ("05 96 61 23 45", "+596596612345", False),
    ("06 94 30 12 34", "+594694301234", True),  # Guyane
    ("05 94 30 12 34", "+594594301234", False),
    ("06 92 12 34 56", "+262692123456", True),  # La Réunion
    ("06 93 12 34 56", "+262693123456", True),
    ("02 62 20 12 34", "+262262201234", False),
    ("06 39 26 12 34", "+262639261234", True),  # Mayotte
    ("02 69 61 23 45", "+262269612345", False),
    ("07 08 45 12 34", "+508708451234", True),  # Saint-Pierre-et-Miquelon
    ("+33 6 90 12 34 56", "+590690123456", True),  # a CRM that prefixed +33 to everything
    ("0033 6 96 12 34 56", "+596696123456", True),
]


@pytest.mark.parametrize(("written", "e164", "mobile"), OVERSEAS, ids=[o[0] for o in OVERSEAS])
def test_overseas_numbers_take_their_regions_country_code(written, e164, mobile) -> None:
    assert checked_phone(written) == e164
    assert normalise_phone(written) == e164
    assert is_mobile(e164) is mobile


def test_shared_non_geographic_ranges_stay_metropolitan() -> None:
    assert checked_phone("08 06 12 34 56") == "+33806123456"
    assert checked_phone("06 12 34 56 78") == "+33612345678"


def test_mobile_numbers_are_told_apart_from_landlines() -> None:
    assert is_mobile("+33612345678")
    assert is_mobile("+33745678901")
    assert not is_mobile("+33142685300")
    assert is_mobile("+447911123456")


def test_masks_hide_the_person_but_keep_the_shape() -> None:
    assert mask_email("jean.dupont@exemple.fr") == "j***@e***.fr"
    assert mask_phone("+33 6 12 34 56 78") == "+33 6 ** ** ** 78"
    assert mask_phone("0612345678") == "06******78"
    assert "1234" not in mask_phone("0612")
