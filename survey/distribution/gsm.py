"""SMS length: GSM 03.38 (GSM-7) or UCS-2 encoding, and the number of segments a text needs.

A text made only of the GSM-7 basic set and its extension table (each extension character
costs an escape plus itself, two septets) fits 160 septets in one segment, 153 per segment once
concatenated (the user-data header takes the rest). Any other character switches the whole
text to UCS-2: 70 UTF-16 code units in one segment, 67 per segment concatenated. Neither an
escape pair nor a surrogate pair is split across two segments.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_GSM7, MULTI_GSM7 = 160, 153
SINGLE_UCS2, MULTI_UCS2 = 70, 67


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    non_gsm_characters: tuple[str, ...]  # what forced UCS-2, for the preview


def _pack(costs: list[int], single: int, multi: int) -> int:
    """Segments needed for characters of these unit costs, never splitting one character."""
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return segments


def sms_length(text: str) -> SmsLength:
    non_gsm = tuple(sorted({c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION}))
    if not non_gsm:
        costs = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return SmsLength("GSM-7", sum(costs), _pack(costs, SINGLE_GSM7, MULTI_GSM7), ())
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SmsLength("UCS-2", sum(costs), _pack(costs, SINGLE_UCS2, MULTI_UCS2), non_gsm)
