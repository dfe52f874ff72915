"""Numbers, percentages, intervals and dates written the way the page's language writes them.

Every page goes through these filters (`|number`, `|percent`, `|interval`, `|date`,
`|datetime`) instead of Python's `format`: French pages read `5 971` and `80,0 %`, English pages
`5,971` and `80.0%`, and dates follow the centre's time zone (`BAROMETRE_TIMEZONE`).
Babel does the work; a value that is missing prints as an en dash, never as `None`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

MISSING = "–"

__all__ = ["MISSING", "number", "percent", "interval", "p_value", "format_date",
           "format_datetime", "register_filters"]

#: Below this a p-value is written as a bound: three decimals would print "0,000", which reads
#: as an impossible "no chance at all" rather than "very small".
P_FLOOR = 0.001


def _locale() -> str:
    """The request's language, or French (the default language) outside a request."""
    try:
        from flask_babel import get_locale

        locale = get_locale()
    except (ImportError, RuntimeError):  # no application or request
        locale = None
    return str(locale or "fr")


def _timezone() -> ZoneInfo:
    try:
        from flask import current_app

        zone = current_app.config.get("TIMEZONE")
    except RuntimeError:  # outside the application
        zone = None
    if isinstance(zone, ZoneInfo):
        return zone
    return ZoneInfo(str(zone or "Europe/Paris"))


def number(value: Any, digits: int | None = None, locale: str | None = None) -> str:
    """`value` with the locale's separators; `digits` fixes the decimals (integers have none)."""
    if value is None or value == "":
        return MISSING
    locale = locale or _locale()
    if digits is None:
        if isinstance(value, int) or float(value).is_integer():
            return babel_numbers.format_decimal(value, format="#,##0", locale=locale)
        digits = 1
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=locale)


def percent(value: Any, digits: int = 1, locale: str | None = None) -> str:
    """A share (0.8) as a percentage (`80,0 %` in French, `80.0%` in English)."""
    if value is None or value == "":
        return MISSING
    locale = locale or _locale()
    # The locale's own pattern (French puts a no-break space before the sign), with the decimals
    # asked for.
    base = Locale.parse(locale).percent_formats[None].pattern
    pattern = base.replace("#,##0", "#,##0" + ("." + "0" * digits if digits else ""), 1)
    return babel_numbers.format_percent(value, format=pattern, locale=locale)


def interval(low: Any, high: Any = None, digits: int = 1, *, as_percent: bool = False,
             locale: str | None = None) -> str:
    """A confidence interval `[low ; high]` (French) or `[low, high]` (English).

    `low` may be a pair. With `as_percent`, both ends are shares written as percentages.
    """
    if high is None and isinstance(low, (tuple, list)):
        low, high = low
    if low is None or high is None:
        return MISSING
    locale = locale or _locale()
    write = percent if as_percent else number
    separator = " ; " if locale.startswith("fr") else ", "
    return f"[{write(low, digits, locale=locale)}{separator}{write(high, digits, locale=locale)}]"


def p_value(value: Any, digits: int = 3, locale: str | None = None) -> str:
    """A test's p-value with `digits` decimals; one below 0.001 reads `< 0,001` (French) or
    `< 0.001` (English), with a no-break space after the sign, never `0,000`."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return MISSING
    locale = locale or _locale()
    if float(value) < P_FLOOR:
        return "<\u00a0" + number(P_FLOOR, 3, locale=locale)
    return number(value, digits, locale=locale)


def format_date(value: Any, style: str = "medium", locale: str | None = None) -> str:
    """A date (`5 déc. 2026` / `Dec 5, 2026`); a datetime is first put in the centre's zone."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = _local(value).date()
    return babel_dates.format_date(value, format=style, locale=locale or _locale())


def format_datetime(value: Any, style: str = "medium", locale: str | None = None) -> str:
    """A moment in the centre's time zone (`5 déc. 2026, 09:30`)."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return format_date(value, style, locale)
    zone = _timezone()
    local = _local(value, zone)
    locale = locale or _locale()
    # Babel's datetime patterns join date and time with the locale's own words ("à"); a comma
    # reads better in a table, and the time is to the minute.
    day = babel_dates.format_date(local.date(), format=style, locale=locale)
    hour = babel_dates.format_time(local.time(), format="short", locale=locale)
    return f"{day}, {hour}"


def _local(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    zone = zone or _timezone()
    if value.tzinfo is None:  # stored datetimes are UTC
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


def register_filters(app: Any) -> None:
    """Install the filters on the application's templates."""
    app.jinja_env.filters.update(
        number=number,
        percent=percent,
        interval=interval,
        p_value=p_value,
        date=format_date,
        datetime=format_datetime,
    )
