"""The loop's periodic tasks, run by the workers' scheduler (`survey.worker.scheduler`).

- `followup_digest` (every 15 minutes, `BAROMETRE_SCHEDULE_FOLLOWUP_DIGEST`): on the centre's
  working days, from the opening of its day (the SMS window's days, holidays and opening time),
  queues the day's digest to each manager and admin. The digest's key makes it once a day per
  person whatever the number of workers or runs, so running often only makes it timely.
- `staff_notifications` (every minute, `BAROMETRE_SCHEDULE_STAFF_NOTIFICATIONS`): sends the
  staff emails that wait (digests, and assignment emails a relay refused when they were made).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from survey.followups.notifications import build_digest, deliver
from survey.followups.operations import Calendar
from survey.worker.registry import JobContext
from survey.worker.scheduler import PeriodicTask, register_periodic_task


def digest_day_has_begun(now: datetime, calendar: Calendar) -> bool:
    """Whether, at `now`, the centre's working day has opened: its staff read the digest then,
    not at midnight, and a closed day (Sunday, a public holiday) has no digest."""
    local = now.astimezone(ZoneInfo(calendar.timezone))
    if not calendar.window.is_sms_day(local.date()):
        return False
    return local.hour * 60 + local.minute >= calendar.window.opens


def queue_digest(ctx: JobContext) -> dict[str, Any]:
    config = ctx.app.config
    calendar = Calendar.from_config(config)
    if not digest_day_has_begun(ctx.now, calendar):
        return {"queued": 0, "reason": "outside the centre's working day"}
    result = build_digest(ctx.session, now=ctx.now, calendar=calendar,
                          base_url=config.get("BASE_URL") or "http://127.0.0.1:5000")
    # Its rows are committed with the run's end; `staff_notifications` sends them next.
    return {"day": result.day.isoformat(), "queued": result.queued, "already": result.already}


def send_staff_notifications(ctx: JobContext) -> dict[str, Any]:
    # Delivery commits around each email (a claim must be seen by the other workers before the
    # email leaves): it works in a session of its own, apart from the run's transaction.
    with Session(bind=ctx.session.get_bind()) as session:
        delivery = deliver(session, ctx.app.config, now=ctx.now)
    return {"sent": delivery.sent, "retrying": delivery.retrying, "failed": delivery.failed}


register_periodic_task(PeriodicTask("followup_digest", queue_digest, every=timedelta(minutes=15),
                                    variable="BAROMETRE_SCHEDULE_FOLLOWUP_DIGEST"))
register_periodic_task(PeriodicTask("staff_notifications", send_staff_notifications,
                                    every=timedelta(minutes=1),
                                    variable="BAROMETRE_SCHEDULE_STAFF_NOTIFICATIONS"))
