"""Finding and hiding emails and phone numbers in free text (comments, open answers).

Customers write their contact details in comments in every shape: ``06 - 12 - 34 - 56 - 78``,
``zéro six 12 34 56 78``, ``jean.dupont(at)gmail.com``, ``jean at mail dot com``. Phone numbers
are found by the `phonenumbers` library's own matcher (France as the default region), run on a
copy of the text where spelled-out digits (``zéro six``, ``soixante-dix-huit``) are written as
digits; a long run of digits it does not recognise (a foreign number written oddly) is hidden
too. Emails are found in their plain form and in the usual obfuscations of ``@`` and ``.``.

Masking is idempotent (a masked text is masked again to itself), which is what lets the purge
store the masked text in place of the comment while every report and export stays identical.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

EMAIL_PLACEHOLDER = "[email masqué / hidden]"
PHONE_PLACEHOLDER = "[téléphone masqué / phone hidden]"
DEFAULT_REGION = "FR"

_AT_MARK = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|arobase|chez|@)\s*[)\]}>]\s*)"
_AT_WORD = r"\s+(?:at|arobase)\s+"
_DOT_WORD = r"(?:\s*[(\[{<]\s*(?:dot|point|\.)\s*[)\]}>]\s*|\s+(?:dot|point)\s+)"
_LABEL = r"[^\W_](?:[\w-]{0,62}[^\W_])?"


def _email_pattern(at: str, dot: str) -> str:
    return (rf"(?<![\w.+-])[\w.+-]*[^\W_]{at}{_LABEL}(?:{dot}{_LABEL})*{dot}"
            rf"[^\W\d_]{{2,24}}(?![\w])")


# With "@" or a bracketed "(at)", any dot separates the domain's labels; with a bare word
# ("jean at mail dot com") only a written "dot" or a dot without spaces does, so that a
# sentence like "see you at home. Thanks" stays as it is.
_EMAILS = (
    re.compile(_email_pattern(_AT_MARK, rf"(?:\s*\.\s*|{_DOT_WORD})"),
               re.IGNORECASE | re.UNICODE),
    re.compile(_email_pattern(_AT_WORD, rf"(?:\.|{_DOT_WORD})"), re.IGNORECASE | re.UNICODE),
)
# A number the matcher missed: nine or more digits with the usual separators between them.
_DIGIT_RUN = re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[\s.\-/()]{0,3}\d){8,14}(?!\w)")

_UNITS = {
    "zero": 0, "zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12,
    "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7,
    "eight": 8, "nine": 9,
}
_TENS = {"vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50,
         "soixante": 60}
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
# Between two spoken digits: spaces, hyphens, dots, commas, slashes, and the French "et".
_GLUE = re.compile(r"(?:[\s\-.,/]|\bet\b)*", re.IGNORECASE)


def _spoken_numbers(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, digits) of every run of two or more spoken numbers in `text`.

    ``zéro six`` → ``06``; ``soixante-dix-huit`` → ``78``; ``quatre-vingt-douze`` → ``92``.
    A single word (``un client``) is left alone: only runs can be a number someone dictated.
    """
    position = 0
    while True:
        match = _WORD.search(text, position)
        if match is None:
            return
        tokens: list[tuple[int, int, str]] = []
        scan = match
        while scan is not None:
            word = scan.group().lower()
            if not (word.isdigit() or word in _UNITS or word in _TENS):
                break
            tokens.append((scan.start(), scan.end(), word))
            glue = _GLUE.match(text, scan.end())
            scan = _WORD.match(text, glue.end()) if glue else None
        if sum(1 for *_, word in tokens if not word.isdigit()) >= 1 and len(tokens) >= 2:
            yield tokens[0][0], tokens[-1][1], _digits_of(word for *_, word in tokens)
            position = tokens[-1][1]
        else:
            position = match.end()


def _digits_of(words: Iterator[str]) -> str:
    groups: list[str] = []
    current: int | None = None
    for word in words:
        if word.isdigit():
            if current is not None:
                groups.append(str(current))
                current = None
            groups.append(word)
        elif word in _TENS:
            if current == 4 and word.startswith("vingt"):
                current = 80
            else:
                if current is not None:
                    groups.append(str(current))
                current = _TENS[word]
        else:
            value = _UNITS[word]
            if current is not None and current >= 20 and current % 10 == 0 and (
                (0 < value < 10) or (current in (60, 80) and value < 20)
            ):
                current += value
            else:
                if current is not None:
                    groups.append(str(current))
                current = value
    if current is not None:
        groups.append(str(current))
    return " ".join(groups)


def _normalised(text: str) -> tuple[str, list[int], list[int]]:
    """`text` with spoken numbers as digits, and where each of its characters came from."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for start, end, digits in _spoken_numbers(text):
        parts.append(text[position:start])
        starts += range(position, start)
        ends += range(position + 1, start + 1)
        parts.append(digits)
        starts += [start] * len(digits)
        ends += [end] * len(digits)
        position = end
    parts.append(text[position:])
    starts += range(position, len(text))
    ends += range(position + 1, len(text) + 1)
    return "".join(parts), starts, ends


def personal_spans(text: str, region: str = DEFAULT_REGION) -> list[tuple[int, int, str]]:
    """(start, end, "email" or "phone") of every email and phone number in `text`, in order,
    without overlaps."""
    # Each form on its own: "me at jane.doe@example.org" holds both, overlapping.
    spans: list[tuple[int, int, str]] = [
        (match.start(), match.end(), "email")
        for pattern in _EMAILS for match in pattern.finditer(text)
    ]
    normalised, starts, ends = _normalised(text)
    for match in phonenumbers.PhoneNumberMatcher(
        normalised, region, leniency=phonenumbers.Leniency.POSSIBLE
    ):
        spans.append((starts[match.start], ends[match.end - 1], "phone"))
    for match in _DIGIT_RUN.finditer(normalised):
        spans.append((starts[match.start()], ends[match.end() - 1], "phone"))
    spans.sort(key=lambda span: (span[0], -span[1]))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            last_start, last_end, last_kind = merged[-1]
            merged[-1] = (last_start, max(last_end, end), last_kind)
        else:
            merged.append((start, end, kind))
    return merged


def mask_personal_data(text: str, region: str = DEFAULT_REGION) -> str:
    """`text` with each email and phone number replaced by a placeholder (idempotent)."""
    if not text:
        return text
    spans = personal_spans(text, region)
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end, kind in spans:
        parts.append(text[position:start])
        parts.append(EMAIL_PLACEHOLDER if kind == "email" else PHONE_PLACEHOLDER)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def looks_personal(value: str, region: str = DEFAULT_REGION) -> str | None:
    """"email" or "phone" when the short value (a cell) holds one, else None."""
    spans = personal_spans(value, region)
    return spans[0][2] if spans else None
