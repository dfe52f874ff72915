"""Why an imported row was rejected, as a sentence in the page's language.

The importer records each reject's reason as an English sentence of a known form (the command
line prints it as it is). `reason_code` recognises the form and its parameters; `reason_text`
writes the matching translated sentence. Rejects stored before any change keep working, since
the code is read from the sentence. A reason of no known form is shown as it is.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

# (code, pattern of the English reason, translated sentence with the pattern's named groups)
REASONS: list[tuple[str, re.Pattern[str], Any]] = [
    ("external_id_required", re.compile(r"the external id is required"),
     _l("The customer's identifier is missing.")),
    ("external_id_too_long", re.compile(r"the external id is longer than (?P<n>\d+) characters"),
     _l("The customer's identifier is longer than %(n)s characters.")),
    ("email_no_at", re.compile(r"invalid email: .*must have an @-sign.*"),
     _l("The email address has no @.")),
    ("email_domain", re.compile(r"invalid email: .*(domain|period|dot|after the @-sign).*",
                                re.IGNORECASE),
     _l("The email address's domain (after the @) is not valid.")),
    ("email_invalid", re.compile(r"invalid email: .*"),
     _l("The email address is not valid.")),
    ("phone_not_a_number", re.compile(r"invalid phone number: not a phone number.*"),
     _l("This is not a phone number.")),
    ("phone_no_range", re.compile(r"invalid phone number: .*no such number range.*"),
     _l("This phone number does not exist (no such number range).")),
    ("phone_invalid", re.compile(r"invalid phone number: .*"),
     _l("The phone number is not valid.")),
    ("name_too_long", re.compile(r"the name is longer than (?P<n>\d+) characters"),
     _l("The name is longer than %(n)s characters.")),
    ("language", re.compile(r"the language must be French \(fr\) or English \(en\)"),
     _l("The language must be French (fr) or English (en).")),
    ("date_format", re.compile(r"not a date: write .*"),
     _l("This is not a date: write 2025-04-25 or 25/04/2025 (day first).")),
    ("date_no_such_day", re.compile(r"not a date: no such day"),
     _l("This day does not exist.")),
    ("date_future", re.compile(r"the date is in the future"),
     _l("The date is in the future.")),
    ("duplicate", re.compile(r"duplicate (?P<what>external id|email|phone): already on line "
                             r"(?P<line>\d+).*"),
     _l("Already on line %(line)s of the file (the first row is kept).")),
    ("field_count", re.compile(r"the line has (?P<found>\d+) fields, the header (?P<width>\d+)"),
     _l("The line has %(found)s fields where the header has %(width)s.")),
    ("variable_value", re.compile(r"'(?P<value>.*)' is not a value of survey variable "
                                  r"'(?P<variable>.*)' \(allowed: (?P<allowed>.*)\)"),
     _l("“%(value)s” is not a value of the survey variable %(variable)s (allowed: %(allowed)s).")),
    ("belongs_to_another", re.compile(r"this (?P<what>\w+) belongs to customer (?P<owner>.+), "
                                      r"already in the base and absent from the file"),
     _l("Already the contact of customer %(owner)s, who is in the base and not in this file.")),
]


def reason_code(reason: str) -> tuple[str | None, dict[str, str]]:
    """(the reason's code, its parameters), or (None, {}) for a reason of no known form."""
    for code, pattern, _text in REASONS:
        match = pattern.fullmatch(reason or "")
        if match:
            return code, match.groupdict()
    return None, {}


def reason_text(reason: str) -> str:
    """The reason as a sentence in the current language."""
    for _code, pattern, text in REASONS:
        match = pattern.fullmatch(reason or "")
        if match:
            groups = match.groupdict()
            return str(text) % groups if groups else str(text)
    return reason
