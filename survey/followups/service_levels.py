"""Due dates of follow-ups: a number of working days of the centre's calendar.

The centre's calendar is the one the SMS window already knows (`BAROMETRE_SMS_DAYS`,
`BAROMETRE_SMS_HOLIDAYS`, `BAROMETRE_TIMEZONE`): the days on which someone can call a customer
back. A follow-up created on day D with a service level of N working days is due at the close
of the N-th working day after D (D itself does not count, whatever the hour: a request made at
8:00 or at 19:59 gets the same deadline, as the customer would expect).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from survey.distribution.sms_window import DEFAULT_SMS_WINDOW, SmsWindow
from survey.models import FollowUpKind

MAX_SERVICE_DAYS = 60
# A calendar with at least one working day a week finds 60 of them well within this bound.
_SEARCH_DAYS = 800


class ServiceLevelError(ValueError):
    """A service level that cannot be used; the message says which and why."""


def check_service_days(value: int, *, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SERVICE_DAYS:
        raise ServiceLevelError(
            f"{what} must be a whole number of working days from 0 to {MAX_SERVICE_DAYS}, "
            f"not {value!r}")
    return value


def service_days(programme, kind: str) -> int:  # noqa: ANN001 - a Programme or its row
    """The programme's service level for a follow-up of `kind`, in working days."""
    if kind == FollowUpKind.CALLBACK:
        return programme.callback_days
    return programme.detractor_days


def due_at(created: datetime, working_days: int, *, timezone: str,
           window: SmsWindow = DEFAULT_SMS_WINDOW) -> datetime:
    """When a follow-up created at `created` (aware) is due: the window's closing time, in
    local time, of the `working_days`-th working day after the local day of `created` (of that
    day itself when `working_days` is 0), returned in UTC.

    Raises `ServiceLevelError` when the calendar has no working day in sight.
    """
    if created.tzinfo is None:
        raise ServiceLevelError(f"naive datetime {created!r}: pass an aware time")
    check_service_days(working_days, what="the service level")
    zone = ZoneInfo(timezone)
    day = created.astimezone(zone).date()
    remaining, searched = working_days, 0
    while remaining:
        day += timedelta(days=1)
        searched += 1
        if searched > _SEARCH_DAYS:
            raise ServiceLevelError(
                f"the centre's calendar ({window.describe()}) has no {working_days} working "
                f"days in the {_SEARCH_DAYS} days after {created.date()}")
        if window.is_sms_day(day):
            remaining -= 1
    # The close of that day's window in local wall-clock time (24:00 is the next midnight).
    closing = datetime.combine(day, time(0)) + timedelta(minutes=window.closes)
    return closing.replace(tzinfo=zone).astimezone(UTC)
