"""SMS segments (GSM 03.38 / UCS-2) and the sending window (working days, 9:00-20:00)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from survey.distribution.gsm import sms_length
from survey.distribution.sms_window import in_sms_window, next_sms_window


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", "GSM-7", 0, 0),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two septets
    ("a" * 152 + "€" + "a" * 10, "GSM-7", 164, 2),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # an escape pair is never split
    ("é à è ù ì ò Ç É Ñ ü", "GSM-7", 19, 1),
    ("ê" * 70, "UCS-2", 70, 1),
    ("ê" * 71, "UCS-2", 71, 2),
    ("😀" * 35, "UCS-2", 70, 1),  # surrogate pairs count twice
])
def test_segments(text, encoding, units, segments):
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


def test_non_gsm_characters_are_named():
    assert sms_length("Votre enquête ç").non_gsm_characters == ("ç", "ê")


PARIS_CASES = [
    (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), True),  # Monday 9:00 Paris
    (datetime(2026, 3, 2, 7, 59, tzinfo=UTC), False),
    (datetime(2026, 3, 2, 18, 59, tzinfo=UTC), True),  # 19:59
    (datetime(2026, 3, 2, 19, 0, tzinfo=UTC), False),  # 20:00
    (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), True),  # Saturday
    (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), False),  # Sunday
    (datetime(2026, 7, 14, 10, 0, tzinfo=UTC), False),  # Bastille Day, a Tuesday
    (datetime(2026, 7, 1, 6, 30, tzinfo=UTC), False),  # 8:30 in summer time
    (datetime(2026, 7, 1, 7, 0, tzinfo=UTC), True),  # 9:00 in summer time
]


@pytest.mark.parametrize(("moment", "inside"), PARIS_CASES)
def test_window(moment, inside):
    assert in_sms_window(moment, "Europe/Paris") is inside


def test_next_window_skips_sundays_and_holidays():
    inside = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert next_sms_window(inside, "Europe/Paris") == inside
    # Saturday 13 July 2026, 21:00 Paris → Sunday 14 (holiday too) → Monday 15, 9:00 Paris.
    assert next_sms_window(datetime(2026, 7, 11, 19, 0, tzinfo=UTC), "Europe/Paris") == \
        datetime(2026, 7, 13, 7, 0, tzinfo=UTC)
    # Christmas Eve evening → 25 December is a holiday → 26 December, 9:00.
    assert next_sms_window(datetime(2026, 12, 24, 20, 0, tzinfo=UTC), "Europe/Paris") == \
        datetime(2026, 12, 26, 8, 0, tzinfo=UTC)
