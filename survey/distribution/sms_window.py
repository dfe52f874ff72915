"""When SMS may be sent, in local time (`BAROMETRE_TIMEZONE`); messages due outside wait for the
next opening.

The rule is configurable because it differs by country and by the centre's own commitments
(`BAROMETRE_SMS_HOURS`, `BAROMETRE_SMS_DAYS`, `BAROMETRE_SMS_HOLIDAYS`, read by
`survey.config`). The default is the French rule barometre always had: 9:00 to 20:00, Monday to
Saturday, not on French public holidays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MINUTES_PER_DAY = 24 * 60
# A window that opens on at least one day always finds that day within two weeks, holidays
# included; the bound only guards against a loop that could not end.
_SEARCH_DAYS = 400

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class SmsWindowError(ValueError):
    """A sending-window setting that cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class SmsWindow:
    """Opening minutes of the day [opens, closes), the weekdays (0 = Monday) and the public
    holidays (a `holidays` country code, optionally with a subdivision; None: holidays are
    ordinary days)."""

    opens: int = 9 * 60
    closes: int = 20 * 60
    days: frozenset[int] = frozenset(range(6))
    holiday_country: str | None = "FR"
    holiday_subdivision: str | None = None

    def is_sms_day(self, day: date) -> bool:
        if day.weekday() not in self.days:
            return False
        if self.holiday_country is None:
            return True
        return day not in _public_holidays(self.holiday_country, self.holiday_subdivision,
                                           day.year)

    def contains(self, moment: datetime, timezone: str) -> bool:
        local = moment.astimezone(ZoneInfo(timezone))
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return self.is_sms_day(local.date()) and self.opens <= minute < self.closes

    def next_opening(self, moment: datetime, timezone: str) -> datetime:
        """`moment` itself when SMS may go now, else the next opening (aware, in UTC)."""
        if self.contains(moment, timezone):
            return moment
        zone = ZoneInfo(timezone)
        local = moment.astimezone(zone)
        before_opening = local.hour * 60 + local.minute < self.opens
        day = local.date() if before_opening else local.date() + timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if self.is_sms_day(day):
                opening = time(self.opens // 60, self.opens % 60)
                return datetime.combine(day, opening, tzinfo=zone).astimezone(UTC)
            day += timedelta(days=1)
        raise SmsWindowError(f"the SMS window opens on no day in the {_SEARCH_DAYS} days "
                             f"after {local.date()}")

    def describe(self) -> str:
        """The rule in the words of its settings, e.g. `09:00-20:00 mon-sat, not FR holidays`."""
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        holidays_part = ("holidays included" if self.holiday_country is None else
                         f"not {self.holiday_region()} holidays")
        return f"{_clock(self.opens)}-{_clock(self.closes)} {days}, {holidays_part}"

    def holiday_region(self) -> str | None:
        if self.holiday_country is None:
            return None
        if self.holiday_subdivision:
            return f"{self.holiday_country}-{self.holiday_subdivision}"
        return self.holiday_country


DEFAULT_SMS_WINDOW = SmsWindow()


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=32)
def _public_holidays(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


def parse_hours(text: str) -> tuple[int, int]:
    """`HH:MM-HH:MM` → (opening, closing) minutes of the day; `24:00` closes at midnight."""
    match = _HOURS.match(text)
    if not match:
        raise SmsWindowError(f"{text!r} is not HH:MM-HH:MM (for example 09:00-20:00)")
    open_h, open_m, close_h, close_m = (int(part) for part in match.groups())
    for hour, minute in ((open_h, open_m), (close_h, close_m)):
        if minute > 59 or hour > 24 or (hour == 24 and minute):
            raise SmsWindowError(f"{text!r}: {hour:02d}:{minute:02d} is not a time of day")
    opens, closes = open_h * 60 + open_m, close_h * 60 + close_m
    if opens >= MINUTES_PER_DAY:
        raise SmsWindowError(f"{text!r}: the window cannot open at 24:00")
    if closes <= opens:
        raise SmsWindowError(f"{text!r}: the window must close after it opens, the same day "
                             "(use 00:00-24:00 for the whole day)")
    return opens, closes


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri`, `mon-fri,sun`, `fri-mon` (a range may wrap), `mon-sun`."""
    days: set[int] = set()
    for part in text.lower().split(","):
        part = part.strip()
        if not part:
            raise SmsWindowError(f"{text!r} has an empty item; list days such as mon-fri or "
                                 "mon,wed,fri")
        first, dash, last = (piece.strip() for piece in part.partition("-"))
        for name in (first, last) if dash else (first,):
            if name not in DAY_NAMES:
                raise SmsWindowError(f"{text!r}: {name!r} is not a day; use "
                                     f"{', '.join(DAY_NAMES)}")
        start = DAY_NAMES.index(first)
        end = DAY_NAMES.index(last) if dash else start
        days.update((start + offset) % 7 for offset in range((end - start) % 7 + 1))
    return frozenset(days)


def parse_holidays(text: str) -> tuple[str | None, str | None]:
    """`FR`, `DE-BY`, `FR-57` (a country and optionally one of its subdivisions, as the
    `holidays` library names them), or `none` → (country, subdivision)."""
    value = text.strip()
    if value.lower() == "none":
        return None, None
    country, _, subdivision = value.partition("-")
    country, subdivision = country.strip().upper(), subdivision.strip()
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise SmsWindowError(f"{text!r}: no public holidays are known for country {country!r} "
                             "(use an ISO 3166-1 code such as FR, BE, DE, or none)")
    if subdivision:
        known = {name.upper(): name for name in supported[country]}
        if subdivision.upper() not in known:
            raise SmsWindowError(f"{text!r}: {country} has no subdivision {subdivision!r} "
                                 f"(known: {', '.join(supported[country])})")
        subdivision = known[subdivision.upper()]
    return country, subdivision or None


def in_sms_window(moment: datetime, timezone: str,
                  window: SmsWindow = DEFAULT_SMS_WINDOW) -> bool:
    return window.contains(moment, timezone)


def next_sms_window(moment: datetime, timezone: str,
                    window: SmsWindow = DEFAULT_SMS_WINDOW) -> datetime:
    """`moment` itself when SMS may go now, else the next opening (aware, in UTC)."""
    return window.next_opening(moment, timezone)
