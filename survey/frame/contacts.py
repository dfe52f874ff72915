"""Contacts: validation and normalisation of emails and phone numbers, and masking for reports.

The reference is the libraries: an email is valid when `email-validator` accepts it (syntax
only, no network) and is stored as its normalised form lowercased; a phone number is valid when
`phonenumbers` parses it with France as the default region and `is_valid_number` holds, and is
stored in E.164.

Calling the libraries costs about 60 µs per value, a minute for a million customers, so the
import first tries *fast paths*: regular expressions that recognise the common forms
(``jean.dupont@exemple.fr``, ``06 12 34 56 78``, ``+33 6 12 34 56 78``) and produce what the
library would. A fast path only ever *accepts*; every value it does not
recognise goes to the library, which has the last word. `tests/frame/test_contacts.py` checks
on a large generated corpus that the fast paths accept and normalise exactly what the
libraries do.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

DEFAULT_REGION = "FR"


class ContactError(ValueError):
    """A contact that is not a valid email address or phone number; the message says why."""


# --- the libraries: the reference -----------------------------------------------------------


def normalise_email(value: str) -> str:
    """The normalised, lowercased address; raises `ContactError` when the syntax is invalid."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ContactError(str(exc)) from exc
    return result.normalized.lower()


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """The E.164 form of a valid number; raises `ContactError` otherwise.

    A French number in an overseas range (``06 90 …`` written nationally, or even as
    ``+33 6 90 …``) takes the country code of its region (`overseas_e164`).
    """
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ContactError(f"not a phone number ({exc._msg})") from exc
    if number.country_code == 33:
        overseas = overseas_e164(phonenumbers.national_significant_number(number))
        if overseas is not None:
            return overseas
    if not phonenumbers.is_valid_number(number):
        raise ContactError("not a valid phone number (no such number range)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# The parts of France numbered in the national plan (0Z ZZ ZZ ZZ ZZ) but reached abroad under a
# country code of their own: a customer file writes `06 90 12 34 56` for a Guadeloupe mobile,
# which is `+590 690 12 34 56`, not `+33 6 90…` (no such metropolitan range). Guadeloupe,
# Saint-Barthélemy and Saint-Martin share +590; La Réunion and Mayotte share +262.
OVERSEAS_REGIONS = ("GP", "BL", "MF", "MQ", "GF", "RE", "YT", "PM")


@lru_cache(maxsize=1)
def _overseas_numbers() -> re.Pattern[str]:
    """One pattern over the nine-digit national numbers of the overseas regions' fixed and
    mobile ranges (from the library's metadata), a named group per region.

    The `8…` numbers that the metadata also lists for these regions are France's shared
    non-geographic ranges (08 06…08 09), which stay metropolitan.
    """
    groups = []
    for region in OVERSEAS_REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        patterns = [d.national_number_pattern for d in (metadata.fixed_line, metadata.mobile)
                    if d is not None and d.national_number_pattern]
        groups.append(f"(?P<{region}>(?=[0-79]\\d{{8}}$)(?:{'|'.join(patterns)}))")
    return re.compile("|".join(groups))


def overseas_e164(national: str) -> str | None:
    """The E.164 form of a French national significant number (nine digits, without the
    leading 0) that belongs to an overseas range, else None."""
    match = _overseas_numbers().fullmatch(national)
    if match is None:
        return None
    code = phonenumbers.PhoneMetadata.metadata_for_region(match.lastgroup).country_code
    return f"+{code}{national}"


def is_mobile(e164: str) -> bool:
    """True when an E.164 number can receive SMS (mobile, or fixed-line-or-mobile)."""
    if e164.startswith("+33"):
        return _french_mobile().fullmatch(e164[3:]) is not None
    number_type = phonenumbers.number_type(phonenumbers.parse(e164))
    return number_type in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


# --- fast paths -----------------------------------------------------------------------------

# The common address form: a dot-atom of ASCII letters, digits and ._+- (no leading, trailing or
# doubled dot), at a domain of ASCII labels of at most 63 characters (no leading or trailing
# hyphen, no "--" so that no IDNA "xn--" label slips through) ending in an alphabetic top-level
# domain.
_FAST_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9]|-(?!-)){0,61}[a-z0-9]\.|[a-z0-9]\.)+[a-z]{2,24}",
)
_SPECIAL_USE_SUFFIXES = tuple(f".{name}" for name in SPECIAL_USE_DOMAIN_NAMES)


def fast_email(value: str) -> str | None:
    """The normalised address if the value has the common form, else None (ask the library).

    `value` is stripped. Case does not matter: the normalised form is lowercased.
    """
    lowered = value.lower()
    if (
        len(lowered) <= 254
        and _FAST_EMAIL.fullmatch(lowered)
        and not lowered.endswith(_SPECIAL_USE_SUFFIXES)
    ):
        return lowered
    return None


def checked_email(value: str) -> str:
    """`normalise_email`, through the fast path when it applies."""
    return fast_email(value) or normalise_email(value)


# French numbers written nationally (0X XX XX XX XX) or internationally (+33 X…, 0033 X…), with
# single spaces, dots or hyphens between digits. The nine digits are the national significant
# number; the library validates it against its metadata, which this module reads too.
_FAST_FRENCH_PHONE = re.compile(r"(?:\+33|0033|0)[ .-]?([1-9](?:[ .-]?\d){8})")
_SEPARATORS = str.maketrans("", "", " .-")


@lru_cache(maxsize=1)
def _french_valid_numbers() -> re.Pattern[str] | None:
    """The national numbers `phonenumbers.is_valid_number` accepts for France, as one pattern.

    Built from the library's own metadata: the general description and every number type.
    None (no fast path) if the metadata ever allows another length than nine digits, which
    the fast path's form assumes.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    descriptions = [
        getattr(metadata, name)
        for name in (
            "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
            "uan", "voicemail", "fixed_line", "mobile",
        )
    ]
    descriptions = [d for d in descriptions if d is not None and d.national_number_pattern]
    general = metadata.general_desc
    if any(tuple(d.possible_length or ()) not in ((), (9,)) for d in [general, *descriptions]):
        return None
    types = "|".join(f"(?:{d.national_number_pattern})" for d in descriptions)
    return re.compile(f"(?=(?:{general.national_number_pattern})$)(?:{types})")


@lru_cache(maxsize=1)
def _french_mobile() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    return re.compile(metadata.mobile.national_number_pattern)


def fast_phone(value: str) -> str | None:
    """The E.164 number if the value is a valid French number in a common form, else None."""
    valid_numbers = _french_valid_numbers()
    match = _FAST_FRENCH_PHONE.fullmatch(value)
    if match is None or valid_numbers is None:
        return None
    national = match.group(1).translate(_SEPARATORS)
    overseas = overseas_e164(national)
    if overseas is not None:
        return overseas
    return f"+33{national}" if valid_numbers.fullmatch(national) else None


def checked_phone(value: str) -> str:
    """`normalise_phone`, through the fast path when it applies."""
    return fast_phone(value) or normalise_phone(value)


# --- masking for reports --------------------------------------------------------------------


def mask_email(value: str) -> str:
    """``jean.dupont@exemple.fr`` → ``j***@e***.fr``: enough to find the row, not the person."""
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return mask_text(value)
    head, dot, tld = domain.rpartition(".")
    masked_domain = f"{head[:1]}***.{tld}" if dot else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def mask_phone(value: str) -> str:
    """``+33 6 12 34 56 78`` → ``+33 6* ** ** 78``: the prefix and the last two digits stay."""
    digits_seen = 0
    total_digits = sum(ch.isdigit() for ch in value)
    masked = []
    prefix_digits = 3 if value.strip().startswith("+") else 2
    if total_digits <= prefix_digits + 4:
        prefix_digits = 0  # too short to show more than its end
    for ch in value:
        if ch.isdigit():
            digits_seen += 1
            keep = digits_seen <= prefix_digits or digits_seen > total_digits - 2
            masked.append(ch if keep else "*")
        else:
            masked.append(ch)
    return "".join(masked)


def mask_text(value: str) -> str:
    """A name or other personal text: its first character."""
    value = value.strip()
    return f"{value[:1]}***" if value else ""
