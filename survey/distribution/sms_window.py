"""When SMS may be sent: 9:00 to 20:00 local time on working days (not Sundays, not French
public holidays), in `BAROMETRE_TIMEZONE`. Messages due outside wait for the next opening."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

OPENS, CLOSES = time(9, 0), time(20, 0)
SUNDAY = 6


@lru_cache(maxsize=8)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.France(years=year)


def is_sms_day(day) -> bool:  # noqa: ANN001 - a datetime.date
    return day.weekday() != SUNDAY and day not in _french_holidays(day.year)


def in_sms_window(moment: datetime, timezone: str) -> bool:
    local = moment.astimezone(ZoneInfo(timezone))
    return is_sms_day(local.date()) and OPENS <= local.time() < CLOSES


def next_sms_window(moment: datetime, timezone: str) -> datetime:
    """`moment` itself when SMS may go now, else the next opening (aware, in UTC)."""
    if in_sms_window(moment, timezone):
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    day = local.date() if local.time() < OPENS else local.date() + timedelta(days=1)
    while not is_sms_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, OPENS, tzinfo=zone).astimezone(UTC)
